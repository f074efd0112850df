/* test_compose.c - message composition: German date and time across the
 * DST changes of Europe/Berlin (offset given), midnight crossing, times at
 * the ends of int64, HTML escaping of a hostile practice name (raw in
 * text/subject, escaped in HTML), unknown/malformed placeholders with the
 * part and name reported, one-line subjects, required values, the .ics
 * (UID, SEQUENCE, DTSTART, STATUS for cancel), the SMS length limits, the
 * greeting by the booked name (and without one; escaped in HTML; an SMS
 * too long with the name goes without it), and the shipped templates in
 * conf/messages (all valid, every kind greets by the booked name, says
 * "Warteraum"; the invitation without a name fits one GSM-7 SMS). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/compose.h"

#ifndef CONSULT_MESSAGES_DIR
#define CONSULT_MESSAGES_DIR "conf/messages"
#endif

#define LINK70 "https://video.hautarzt.example/patient.html?p=hautarzt1#ABCD-EFGH-JKMN"

static const consult_msg_templates simple = {
	.subject = "Termin {{date}} {{time}} {{practice_name}}\n",
	.txt = "Hallo, {{practice_name}} {{date}} um {{time}}: {{link}} Code {{code}} Tel {{practice_phone}} Dr "
	       "{{doctor}}.\n",
	.html = "<p>{{practice_name}} <a href=\"{{link}}\">{{link}}</a> {{code}} {{doctor}}</p>\n",
	.sms = "{{practice_name}}: {{date}}, {{time}} Uhr: {{link}}\n",
};

static consult_msg_values values(int64_t t, int off)
{
	return (consult_msg_values){
		.kind = CONSULT_MSG_INVITE,
		.practice_name = "Praxis am Markt",
		.practice_phone = "0721 5163690",
		.starts_at = t,
		.tz_offset_min = off,
		.doctor = NULL,
		.link = LINK70,
		.code = "ABCD-EFGH-JKMN",
	};
}

/* {{date}} and {{time}} as an SMS template renders them for t and off;
 * false (both "") if the values are refused. */
static bool rendered(int64_t t, int off, char d[CONSULT_COMPOSE_DATE_LEN], char tm[CONSULT_COMPOSE_TIME_LEN])
{
	static const consult_msg_templates dt = { .sms = "{{date}}|{{time}}" };
	consult_msg_values v = values(t, off);
	char *s = NULL;
	d[0] = tm[0] = '\0';
	if (consult_compose_sms(&dt, &v, &s, NULL, NULL) != CONSULT_OK)
		return false;
	char *bar = strchr(s, '|');
	assert_non_null(bar);
	*bar = '\0';
	assert_true(strlen(s) < CONSULT_COMPOSE_DATE_LEN && strlen(bar + 1) < CONSULT_COMPOSE_TIME_LEN);
	strcpy(d, s);
	strcpy(tm, bar + 1);
	free(s);
	return true;
}
static bool date_de(int64_t t, int off, char d[CONSULT_COMPOSE_DATE_LEN])
{
	char tm[CONSULT_COMPOSE_TIME_LEN];
	return rendered(t, off, d, tm);
}
static bool time_of(int64_t t, int off, char tm[CONSULT_COMPOSE_TIME_LEN])
{
	char d[CONSULT_COMPOSE_DATE_LEN];
	return rendered(t, off, d, tm);
}

static void test_date_time(void **st)
{
	char d[CONSULT_COMPOSE_DATE_LEN], t[CONSULT_COMPOSE_TIME_LEN];
	/* 29 March 2026: CEST from 01:00 UTC, 10:30 local = 08:30 UTC, offset 120 */
	assert_true(date_de(1774773000, 120, d));
	assert_true(time_of(1774773000, 120, t));
	assert_string_equal(d, "Sonntag, 29. M\xc3\xa4rz 2026");
	assert_string_equal(t, "10:30");
	/* 25 October 2026: back to CET, 10:30 local = 09:30 UTC, offset 60 */
	assert_true(date_de(1792920600, 60, d));
	assert_true(time_of(1792920600, 60, t));
	assert_string_equal(d, "Sonntag, 25. Oktober 2026");
	assert_string_equal(t, "10:30");
	/* the same instant with the wrong offset is an hour off: the offset is used */
	assert_true(time_of(1792920600, 120, t));
	assert_string_equal(t, "11:30");
	/* crossing midnight: 23:30 UTC on the 28th is 00:30 on the 29th in CET */
	assert_true(date_de(1774740600, 60, d));
	assert_true(time_of(1774740600, 60, t));
	assert_string_equal(d, "Sonntag, 29. M\xc3\xa4rz 2026");
	assert_string_equal(t, "00:30");
	assert_true(date_de(1792881000, 120, d));
	assert_string_equal(d, "Sonntag, 25. Oktober 2026");
	/* the example of the design, and a single-digit day */
	assert_true(date_de(1796031000, 60, d));
	assert_string_equal(d, "Montag, 30. November 2026");
	assert_true(date_de(1796031000 + 2 * 86400, 60, d));
	assert_string_equal(d, "Mittwoch, 2. Dezember 2026");
	/* out of range */
	assert_false(date_de(1796031000, 1440, d));
	assert_string_equal(d, "");
	assert_false(time_of(1796031000, -1440, t));
	assert_false(date_de(-100000, 0, d));
	assert_false(date_de(253402300800LL, 0, d));
}

/* Times at the ends of int64 with an offset: refused, no signed overflow
 * (found by tests/fuzz/fuzz_compose; fails under UBSan without the range
 * check in local_tm). */
static void test_date_time_extremes(void **st)
{
	char d[CONSULT_COMPOSE_DATE_LEN], t[CONSULT_COMPOSE_TIME_LEN];
	assert_false(date_de(INT64_MAX, 60, d));
	assert_string_equal(d, "");
	assert_false(time_of(INT64_MAX - 1000, 1439, t));
	assert_string_equal(t, "");
	assert_false(date_de(INT64_MIN, -60, d));
	assert_false(time_of(INT64_MIN + 1000, -1439, t));
	/* the last valid second, reached through the offset */
	assert_true(time_of(253402300799LL - 3600, 60, t));
	assert_string_equal(t, "23:59");
}

static void test_mail_and_escaping(void **st)
{
	consult_msg_values v = values(1774773000, 120);
	v.practice_name = "<script>alert(1)</script> & \"Co\"";
	v.doctor = "Dr. O'Neil";
	consult_msg_ics ics = { .uid = "appt-42@praxis.example", .sequence = 0, .dtstamp = 1774000000 };
	consult_composed_mail m;
	const char *part = "x";
	char bad[CONSULT_TPL_NAME_MAX + 1] = "x";
	assert_int_equal(consult_compose_mail(&simple, &v, &ics, &m, &part, bad), CONSULT_OK);
	assert_null(part);
	/* subject: one line, trailing newline gone, raw value */
	assert_string_equal(m.subject, "Termin Sonntag, 29. M\xc3\xa4rz 2026 10:30 <script>alert(1)</script> & \"Co\"");
	/* text: raw values, NULL doctor as "" */
	assert_non_null(strstr(m.text,
	        "<script>alert(1)</script> & \"Co\" Sonntag, 29. M\xc3\xa4rz 2026 um 10:30: " LINK70
	        " Code ABCD-EFGH-JKMN Tel 0721 5163690 Dr Dr. O'Neil."));
	/* html: escaped, no raw tag */
	assert_null(strstr(m.html, "<script>"));
	assert_non_null(strstr(m.html, "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot; "));
	assert_non_null(strstr(m.html, "Dr. O&#39;Neil"));
	assert_non_null(strstr(m.html, "<a href=\"" LINK70 "\">"));
	/* ics */
	assert_non_null(m.ics);
	assert_int_equal(m.ics_len, strlen(m.ics));
	assert_non_null(strstr(m.ics, "BEGIN:VCALENDAR\r\n"));
	assert_non_null(strstr(m.ics, "UID:appt-42@praxis.example\r\n"));
	assert_non_null(strstr(m.ics, "SEQUENCE:0\r\n"));
	assert_non_null(strstr(m.ics, "DTSTART:20260329T083000Z\r\n"));
	assert_non_null(strstr(m.ics, "DTEND:20260329T084500Z\r\n"));
	assert_non_null(strstr(m.ics, "STATUS:CONFIRMED\r\n"));
	assert_non_null(strstr(m.ics, "END:VCALENDAR\r\n"));

	/* apply hands the strings to a consult_mail */
	consult_mail mail = { 0 };
	consult_composed_mail_apply(&m, &mail);
	assert_ptr_equal(mail.subject, m.subject);
	assert_ptr_equal(mail.html, m.html);
	assert_ptr_equal(mail.ics, m.ics);
	assert_int_equal(mail.ics_len, m.ics_len);
	consult_composed_mail_free(&m);
	assert_null(m.subject);

	/* no .ics requested */
	v = values(1774773000, 120);
	assert_int_equal(consult_compose_mail(&simple, &v, NULL, &m, NULL, NULL), CONSULT_OK);
	assert_null(m.ics);
	assert_int_equal(m.ics_len, 0);
	consult_composed_mail_free(&m);
}

static void test_cancel(void **st)
{
	consult_msg_values v = values(1792920600, 60);
	v.kind = CONSULT_MSG_CANCEL;
	v.link = NULL; /* a cancellation needs no link */
	v.code = NULL;
	consult_msg_ics ics = {
		.uid = "appt-42@praxis.example", .sequence = 1, .dtstamp = 1792000000, .duration_min = 30
	};
	consult_composed_mail m;
	assert_int_equal(consult_compose_mail(&simple, &v, &ics, &m, NULL, NULL), CONSULT_OK);
	assert_non_null(strstr(m.ics, "STATUS:CANCELLED\r\n"));
	assert_non_null(strstr(m.ics, "SEQUENCE:1\r\n"));
	assert_non_null(strstr(m.ics, "DTEND:20261025T100000Z\r\n"));
	assert_non_null(strstr(m.text, "Code  Tel"));
	consult_composed_mail_free(&m);
	/* an invitation without a link is refused */
	v.kind = CONSULT_MSG_INVITE;
	assert_int_equal(consult_compose_mail(&simple, &v, &ics, &m, NULL, NULL), CONSULT_ERR_MISSING_FIELD);
	assert_null(m.subject);
	/* bad ics input */
	v = values(1792920600, 60);
	ics.uid = "bad uid";
	assert_int_equal(consult_compose_mail(&simple, &v, &ics, &m, NULL, NULL), CONSULT_ERR_INVALID_FIELD);
	assert_null(m.subject);
	ics.uid = "ok@x";
	ics.duration_min = 2000;
	assert_int_equal(consult_compose_mail(&simple, &v, &ics, &m, NULL, NULL), CONSULT_ERR_INVALID_FIELD);
}

static void test_check(void **st)
{
	const char *part = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	assert_int_equal(consult_compose_check(&simple, &part, bad), CONSULT_OK);

	consult_msg_templates t = simple;
	t.html = "<p>{{practice_name}} {{patient_phone}}</p>";
	assert_int_equal(consult_compose_check(&t, &part, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(part, "html");
	assert_string_equal(bad, "patient_phone");
	/* the greeting placeholders are known */
	t = simple;
	t.txt = "{{greeting}} {{name_greeting}} {{patient_name}}";
	assert_int_equal(consult_compose_check(&t, &part, bad), CONSULT_OK);

	t = simple;
	t.sms = "{{link}} {{requirements}}";
	assert_int_equal(consult_compose_check(&t, &part, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(part, "sms");
	assert_string_equal(bad, "requirements");

	t = simple;
	t.txt = "{{link";
	assert_int_equal(consult_compose_check(&t, &part, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(part, "txt");
	assert_string_equal(bad, "");

	t = simple;
	t.subject = "Termin\nBcc: victim@example.org\n";
	assert_int_equal(consult_compose_check(&t, &part, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(part, "subject");

	t = simple;
	t.txt = NULL;
	assert_int_equal(consult_compose_check(&t, &part, bad), CONSULT_ERR_MISSING_FIELD);
	assert_string_equal(part, "txt");

	/* compose refuses the same, naming it, and leaves nothing allocated */
	t = simple;
	t.subject = "{{name}}";
	consult_msg_values v = values(1774773000, 120);
	consult_composed_mail m;
	assert_int_equal(consult_compose_mail(&t, &v, NULL, &m, &part, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(part, "subject");
	assert_string_equal(bad, "name");
	assert_null(m.subject);

	/* a value with a line break cannot smuggle a header into the subject */
	v.practice_name = "Praxis\r\nBcc: x@example.org";
	assert_int_equal(consult_compose_mail(&simple, &v, NULL, &m, &part, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(part, "subject");
	assert_null(m.text);
	/* bad offset */
	v = values(1774773000, 2000);
	assert_int_equal(consult_compose_mail(&simple, &v, NULL, &m, &part, bad), CONSULT_ERR_INVALID_FIELD);
	v = values(1774773000, 60);
	v.practice_name = NULL;
	assert_int_equal(consult_compose_mail(&simple, &v, NULL, &m, &part, bad), CONSULT_ERR_MISSING_FIELD);

	/* kinds */
	consult_msg_kind k;
	assert_true(consult_msg_kind_parse("reminder", &k));
	assert_int_equal(k, CONSULT_MSG_REMINDER);
	assert_false(consult_msg_kind_parse("Invite", &k));
	assert_string_equal(consult_msg_kind_name(CONSULT_MSG_CANCEL), "cancel");
	assert_null(consult_msg_kind_name((consult_msg_kind)7));
}

static void test_sms(void **st)
{
	consult_msg_values v = values(1790238600, 120); /* Donnerstag, 24. September 2026 */
	char *s = NULL;
	consult_sms_info info;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	assert_int_equal(consult_compose_sms(&simple, &v, &s, &info, bad), CONSULT_OK);
	assert_string_equal(s, "Praxis am Markt: Donnerstag, 24. September 2026, 10:30 Uhr: " LINK70);
	assert_int_equal(info.encoding, CONSULT_SMS_GSM7);
	assert_int_equal(info.units, strlen(s));
	assert_int_equal(info.parts, 1);
	free(s);

	/* 3 parts are allowed, 4 are refused */
	char tpl[1024];
	memset(tpl, 'a', 3 * 153);
	tpl[3 * 153] = '\0';
	consult_msg_templates t = simple;
	t.sms = tpl;
	assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_OK);
	assert_int_equal(info.parts, 3);
	free(s);
	tpl[3 * 153] = 'a';
	tpl[3 * 153 + 1] = '\0';
	s = (char *)1;
	assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_ERR_TOO_LONG);
	assert_null(s);
	/* UCS-2: an emoji makes 70 units the limit for one part */
	t.sms = "\xf0\x9f\x93\x85 {{link}}";
	assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_OK);
	assert_int_equal(info.encoding, CONSULT_SMS_UCS2);
	assert_int_equal(info.parts, 2);
	free(s);
	/* an unknown placeholder and an empty text */
	t.sms = "{{patient}}";
	assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(bad, "patient");
	t.sms = "\n";
	assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_ERR_INVALID_FIELD);
}

static const consult_msg_templates greet = {
	.subject = "Termin {{patient_name}}\n",
	.txt = "{{greeting}}\n[{{name_greeting}}][{{patient_name}}]\n",
	.html = "<p>{{greeting}}</p><p>[{{name_greeting}}][{{patient_name}}]</p>\n",
	.sms = "{{name_greeting}} {{practice_name}}: {{link}}\n",
};

static void test_greeting(void **st)
{
	consult_msg_values v = values(1790238600, 120);
	consult_composed_mail m;
	/* no booked name (NULL or ""): "Guten Tag," and nothing else */
	const char *none[] = { NULL, "" };
	for (int i = 0; i < 2; i++) {
		v.patient_name = none[i];
		assert_int_equal(consult_compose_mail(&greet, &v, NULL, &m, NULL, NULL), CONSULT_OK);
		assert_string_equal(m.text, "Guten Tag,\n[][]\n");
		assert_string_equal(m.html, "<p>Guten Tag,</p><p>[][]</p>\n");
		assert_string_equal(m.subject, "Termin");
		consult_composed_mail_free(&m);
	}
	/* a booked name: raw in the text, escaped in the HTML */
	v.patient_name = "Erika <b>Muster</b> & \"Co\"";
	assert_int_equal(consult_compose_mail(&greet, &v, NULL, &m, NULL, NULL), CONSULT_OK);
	assert_string_equal(m.text,
	        "Guten Tag Erika <b>Muster</b> & \"Co\",\n[Guten Tag Erika <b>Muster</b> & \"Co\",][Erika "
	        "<b>Muster</b> & "
	        "\"Co\"]\n");
	assert_null(strstr(m.html, "<b>"));
	assert_non_null(strstr(m.html, "<p>Guten Tag Erika &lt;b&gt;Muster&lt;/b&gt; &amp; &quot;Co&quot;,</p>"));
	assert_string_equal(m.subject, "Termin Erika <b>Muster</b> & \"Co\"");
	consult_composed_mail_free(&m);

	/* SMS: without a name it starts with the practice (leading blank dropped) */
	char *s = NULL;
	consult_sms_info info;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	v.patient_name = NULL;
	assert_int_equal(consult_compose_sms(&greet, &v, &s, &info, bad), CONSULT_OK);
	assert_string_equal(s, "Praxis am Markt: " LINK70);
	free(s);
	v.patient_name = "Erika Muster";
	assert_int_equal(consult_compose_sms(&greet, &v, &s, &info, bad), CONSULT_OK);
	assert_string_equal(s, "Guten Tag Erika Muster, Praxis am Markt: " LINK70);
	assert_int_equal(info.parts, 1);
	free(s);
	/* a name outside GSM-7 makes it UCS-2: still within 3 parts, with the name */
	v.patient_name = "\xc5\x9e\xc3\xbckr\xc3\xbc Y\xc4\xb1lmaz"; /* Şükrü Yılmaz */
	assert_int_equal(consult_compose_sms(&greet, &v, &s, &info, bad), CONSULT_OK);
	assert_int_equal(info.encoding, CONSULT_SMS_UCS2);
	assert_int_equal(info.parts, 2);
	assert_non_null(strstr(s, "Y\xc4\xb1lmaz"));
	free(s);
	/* 3 GSM-7 parts without the name, 4 with it: sent without the name */
	char tpl[600];
	size_t n = 3 * 153 - strlen("Praxis am Markt: ") - strlen(LINK70);
	memcpy(tpl, "{{name_greeting}} {{practice_name}}: ", 37);
	memset(tpl + 37, 'a', n);
	strcpy(tpl + 37 + n, "{{link}}");
	consult_msg_templates t = greet;
	t.sms = tpl;
	v.patient_name = "Erika Muster";
	assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_OK);
	assert_int_equal(info.parts, 3);
	assert_int_equal(strlen(s), 3 * 153);
	assert_null(strstr(s, "Erika"));
	assert_non_null(strstr(s, LINK70));
	free(s);
	/* too long even without the name: refused */
	tpl[37 + n] = 'a';
	strcpy(tpl + 38 + n, "{{link}}");
	s = (char *)1;
	assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_ERR_TOO_LONG);
	assert_null(s);
}

static char *slurp(const char *kind, const char *ext)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s.%s", CONSULT_MESSAGES_DIR, kind, ext);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, CONSULT_TPL_MAX + 2);
	if (buf)
		fread(buf, 1, CONSULT_TPL_MAX + 1, f);
	fclose(f);
	return buf;
}

/* The shipped templates: valid, German content present, invitation and
 * reminder SMS in one GSM-7 part with a 23-character practice name, a
 * 70-character link and the longest date of the year. */
static void test_shipped_templates(void **st)
{
	static const char *const kinds[] = { "invite", "reminder", "cancel" };
	for (int k = 0; k < 3; k++) {
		char *f[4] = { slurp(kinds[k], "subject"), slurp(kinds[k], "txt"), slurp(kinds[k], "html"),
			slurp(kinds[k], "sms") };
		for (int i = 0; i < 4; i++)
			assert_non_null(f[i]);
		consult_msg_templates t = { f[0], f[1], f[2], f[3] };
		const char *part = NULL;
		char bad[CONSULT_TPL_NAME_MAX + 1];
		assert_int_equal(consult_compose_check(&t, &part, bad), CONSULT_OK);
		consult_msg_values v = values(1790238600, 120);
		v.kind = (consult_msg_kind)k;
		v.practice_name = "Haut\xc3\xa4rzte am Marktplatz"; /* 23 characters */
		assert_int_equal(strlen(LINK70), 70);
		consult_composed_mail m;
		/* with a booked name: greeted by it in every part and the SMS */
		v.patient_name = "Erika Muster";
		assert_int_equal(consult_compose_mail(&t, &v, NULL, &m, &part, bad), CONSULT_OK);
		assert_int_equal(strncmp(m.text, "Guten Tag Erika Muster,\n", 24), 0);
		assert_non_null(strstr(m.html, "<p>Guten Tag Erika Muster,</p>"));
		consult_composed_mail_free(&m);
		char *named = NULL;
		assert_int_equal(consult_compose_sms(&t, &v, &named, NULL, bad), CONSULT_OK);
		assert_int_equal(strncmp(named, "Guten Tag Erika Muster, Haut\xc3\xa4rzte am Marktplatz", 48), 0);
		free(named);
		v.patient_name = NULL;
		consult_msg_ics ics = { .uid = "appt-1@x.example", .sequence = k == 2, .dtstamp = 1790000000 };
		assert_int_equal(consult_compose_mail(&t, &v, &ics, &m, &part, bad), CONSULT_OK);
		assert_non_null(strstr(m.text, "Donnerstag, 24. September 2026"));
		/* without one: "Guten Tag," and no trace of a name; the room is the Warteraum */
		assert_int_equal(strncmp(m.text, "Guten Tag,\n", 11), 0);
		assert_non_null(strstr(m.html, "<p>Guten Tag,</p>"));
		assert_null(strstr(m.text, "Erika"));
		assert_null(strstr(m.text, "Wartezimmer"));
		assert_null(strstr(m.html, "Wartezimmer"));
		if (k < 2)
			assert_non_null(strstr(m.text, "Warteraum"));
		assert_non_null(strstr(m.text, "10:30"));
		assert_non_null(strstr(m.html, "Haut\xc3\xa4rzte am Marktplatz"));
		assert_non_null(strstr(m.text, "0721 5163690"));
		if (k < 2) {
			assert_non_null(strstr(m.text, LINK70));
			assert_non_null(strstr(m.text, "ABCD-EFGH-JKMN"));
			assert_non_null(strstr(m.html, "href=\"" LINK70 "\""));
			assert_non_null(strstr(m.text, "Chrome, Firefox oder Safari"));
			assert_non_null(strstr(m.text, "Kamera, Mikrofon und"));
		} else {
			assert_non_null(strstr(m.text, "abgesagt"));
			assert_non_null(strstr(m.ics, "STATUS:CANCELLED"));
		}
		assert_null(strchr(m.subject, '\n'));
		consult_composed_mail_free(&m);
		char *s = NULL;
		consult_sms_info info;
		assert_int_equal(consult_compose_sms(&t, &v, &s, &info, bad), CONSULT_OK);
		assert_int_equal(info.encoding, CONSULT_SMS_GSM7);
		assert_int_equal(strncmp(s, "Haut\xc3\xa4rzte am Marktplatz", 24), 0); /* no greeting without a name */
		if (k < 2) {
			assert_non_null(strstr(s, LINK70));
			assert_int_equal(info.parts, 1);
		}
		free(s);
		for (int i = 0; i < 4; i++)
			free(f[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date_time),
		cmocka_unit_test(test_date_time_extremes),
		cmocka_unit_test(test_mail_and_escaping),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_sms),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_shipped_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
