/* compose.c - render outbox messages from templates, see compose.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "compose.h"
#include "ics.h"

static const char *const placeholders[] = {
	"practice_name",
	"practice_phone",
	"date",
	"time",
	"doctor",
	"link",
	"code",
	"greeting",
	"name_greeting",
	"patient_name",
};
#define N_PH (sizeof placeholders / sizeof placeholders[0])

static const char *const kinds[] = { "invite", "reminder", "cancel" };

const char *consult_msg_kind_name(consult_msg_kind k)
{
	return (unsigned)k < 3 ? kinds[k] : NULL;
}

bool consult_msg_kind_parse(const char *s, consult_msg_kind *out)
{
	for (unsigned i = 0; s && i < 3; i++)
		if (strcmp(s, kinds[i]) == 0) {
			*out = (consult_msg_kind)i;
			return true;
		}
	return false;
}

static bool local_tm(int64_t t, int off, struct tm *tm)
{
	if (off < -1439 || off > 1439)
		return false;
	/* |off| < 1 day: a t further out cannot come into range (and t + off
	 * must not overflow) */
	if (t < -86400 || t > 253402300799LL + 86400)
		return false;
	int64_t l = t + (int64_t)off * 60;
	/* 1970-01-01 .. 9999-12-31T23:59:59 */
	if (l < 0 || l > 253402300799LL)
		return false;
	time_t tt = (time_t)l;
	return gmtime_r(&tt, tm) != NULL;
}

/* German date "Montag, 30. November 2026" and time "10:30" of t shifted by
 * tz_offset_min. False if the offset or the year (1970..9999) is out of range. */
static bool date_de(int64_t t, int tz_offset_min, char out[CONSULT_COMPOSE_DATE_LEN])
{
	static const char *const wd[] = { "Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag",
		"Samstag" };
	static const char *const mon[] = { "Januar", "Februar", "M\xc3\xa4rz", "April", "Mai", "Juni", "Juli", "August",
		"September", "Oktober", "November", "Dezember" };
	struct tm tm;
	out[0] = '\0';
	if (!local_tm(t, tz_offset_min, &tm))
		return false;
	snprintf(out, CONSULT_COMPOSE_DATE_LEN, "%s, %d. %s %d", wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
	        tm.tm_year + 1900);
	return true;
}

static bool time_hm(int64_t t, int tz_offset_min, char out[CONSULT_COMPOSE_TIME_LEN])
{
	struct tm tm;
	out[0] = '\0';
	if (!local_tm(t, tz_offset_min, &tm))
		return false;
	snprintf(out, CONSULT_COMPOSE_TIME_LEN, "%02u:%02u", (unsigned)tm.tm_hour % 24u, (unsigned)tm.tm_min % 60u);
	return true;
}

/* Subject: a line break anywhere but in trailing white space. */
static bool one_line(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return memchr(s, '\n', n) == NULL && memchr(s, '\r', n) == NULL;
}

static void rtrim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static void set_part(const char **part, const char *name)
{
	if (part)
		*part = name;
}

consult_err consult_compose_check(const consult_msg_templates *t, const char **part, char bad[CONSULT_TPL_NAME_MAX + 1])
{
	set_part(part, NULL);
	if (bad)
		bad[0] = '\0';
	if (!t)
		return CONSULT_ERR_MISSING_FIELD;
	const struct {
		const char *name, *tpl;
	} parts[] = {
		{ "subject", t->subject },
		{ "txt", t->txt },
		{ "html", t->html },
		{ "sms", t->sms },
	};
	for (size_t i = 0; i < 4; i++) {
		set_part(part, parts[i].name);
		if (!parts[i].tpl)
			return CONSULT_ERR_MISSING_FIELD;
		consult_err e = consult_tpl_validate(parts[i].tpl, placeholders, N_PH, bad);
		if (e != CONSULT_OK)
			return e;
	}
	set_part(part, "subject");
	if (!one_line(t->subject))
		return CONSULT_ERR_INVALID_FIELD;
	set_part(part, NULL);
	return CONSULT_OK;
}

/* The values in placeholder order; `esc` pass them through the HTML
 * escaper (the strings are then owned by vars and freed by free_vars). */
typedef struct vals {
	char date[CONSULT_COMPOSE_DATE_LEN], time[CONSULT_COMPOSE_TIME_LEN];
	char *greeting; /* "Guten Tag <name>," (owned) or NULL without a name */
	consult_tpl_var vars[N_PH];
	bool owned;
} vals;

static void free_vals(vals *x)
{
	free(x->greeting);
	x->greeting = NULL;
	if (!x->owned)
		return;
	for (size_t i = 0; i < N_PH; i++)
		free((char *)x->vars[i].value);
	x->owned = false;
}

#define GREETING "Guten Tag"

/* "Guten Tag Erika Muster," into x->greeting, or NULL without a name. */
static consult_err make_greeting(const char *name, vals *x)
{
	x->greeting = NULL;
	if (!name || !name[0])
		return CONSULT_OK;
	size_t n = sizeof GREETING + strlen(name) + 2;
	x->greeting = malloc(n);
	if (!x->greeting)
		return CONSULT_ERR_INTERNAL;
	snprintf(x->greeting, n, GREETING " %s,", name);
	return CONSULT_OK;
}

static consult_err make_vals(const consult_msg_values *v, bool esc, vals *x)
{
	memset(x, 0, sizeof *x);
	if (!v->practice_name)
		return CONSULT_ERR_MISSING_FIELD;
	if (!v->link && v->kind != CONSULT_MSG_CANCEL)
		return CONSULT_ERR_MISSING_FIELD;
	if (!consult_msg_kind_name(v->kind))
		return CONSULT_ERR_INVALID_FIELD;
	if (!date_de(v->starts_at, v->tz_offset_min, x->date) || !time_hm(v->starts_at, v->tz_offset_min, x->time))
		return CONSULT_ERR_INVALID_FIELD;
	if (make_greeting(v->patient_name, x) != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	const char *raw[N_PH] = { v->practice_name, v->practice_phone, x->date, x->time, v->doctor, v->link, v->code,
		x->greeting ? x->greeting : GREETING ",", x->greeting, x->greeting ? v->patient_name : NULL };
	for (size_t i = 0; i < N_PH; i++) {
		x->vars[i].name = placeholders[i];
		x->vars[i].value = raw[i] ? raw[i] : "";
	}
	if (!esc)
		return CONSULT_OK;
	x->owned = true;
	for (size_t i = 0; i < N_PH; i++)
		x->vars[i].value = NULL;
	for (size_t i = 0; i < N_PH; i++) {
		char *e = consult_html_escape(raw[i] ? raw[i] : "");
		if (!e) {
			free_vals(x);
			return CONSULT_ERR_INTERNAL;
		}
		x->vars[i].value = e;
	}
	return CONSULT_OK;
}

void consult_composed_mail_free(consult_composed_mail *m)
{
	if (!m)
		return;
	free(m->subject);
	free(m->text);
	free(m->html);
	free(m->ics);
	memset(m, 0, sizeof *m);
}

void consult_composed_mail_apply(const consult_composed_mail *c, consult_mail *m)
{
	m->subject = c->subject;
	m->text = c->text;
	m->html = c->html;
	m->ics = c->ics;
	m->ics_len = c->ics_len;
}

/* The calendar entry: summary "Videosprechstunde – <practice>", location
 * the link, a short German description with link, code and phone. */
static consult_err make_ics(const consult_msg_values *v, const consult_msg_ics *p, consult_composed_mail *out)
{
	int dur = p->duration_min ? p->duration_min : CONSULT_COMPOSE_DURATION_DEFAULT;
	if (dur < 1 || dur > 1440)
		return CONSULT_ERR_INVALID_FIELD;
	size_t sn = strlen(v->practice_name) + 64;
	char *summary = malloc(sn);
	if (!summary)
		return CONSULT_ERR_INTERNAL;
	snprintf(summary, sn, "Videosprechstunde \xe2\x80\x93 %s", v->practice_name);
	const char *link = v->link && v->link[0] ? v->link : "Videosprechstunde";
	const char *code = v->code ? v->code : "";
	const char *phone = v->practice_phone ? v->practice_phone : "";
	size_t dn = strlen(link) + strlen(code) + strlen(phone) + 256;
	char *desc = malloc(dn);
	if (!desc) {
		free(summary);
		return CONSULT_ERR_INTERNAL;
	}
	if (v->kind == CONSULT_MSG_CANCEL)
		snprintf(desc, dn, "Dieser Termin wurde abgesagt.%s%s", phone[0] ? "\nFragen: Telefon " : "", phone);
	else
		snprintf(desc, dn, "Link: %s%s%s%s%s", link, code[0] ? "\nZugangscode: " : "", code,
		        phone[0] ? "\nFragen: Telefon " : "", phone);
	consult_ics_event ev = {
		.uid = p->uid,
		.dtstamp = p->dtstamp,
		.starts_at = v->starts_at,
		.ends_at = v->starts_at + (int64_t)dur * 60,
		.sequence = p->sequence,
		.cancelled = v->kind == CONSULT_MSG_CANCEL,
		.summary = summary,
		.location = link,
		.description = desc,
		.organizer_name = p->organizer_email ? v->practice_name : NULL,
		.organizer_email = p->organizer_email,
	};
	consult_err e = consult_ics_build(&ev, &out->ics, &out->ics_len);
	free(summary);
	free(desc);
	return e;
}

consult_err consult_compose_mail(const consult_msg_templates *t, const consult_msg_values *v,
        const consult_msg_ics *ics, consult_composed_mail *out, const char **part, char bad[CONSULT_TPL_NAME_MAX + 1])
{
	set_part(part, NULL);
	if (bad)
		bad[0] = '\0';
	if (!out)
		return CONSULT_ERR_MISSING_FIELD;
	memset(out, 0, sizeof *out);
	if (!t || !v)
		return CONSULT_ERR_MISSING_FIELD;
	consult_err e = consult_compose_check(t, part, bad);
	if (e != CONSULT_OK)
		return e;
	vals plain, html;
	e = make_vals(v, false, &plain);
	if (e != CONSULT_OK)
		return e;
	e = make_vals(v, true, &html);
	if (e != CONSULT_OK) {
		free_vals(&plain);
		return e;
	}
	set_part(part, "subject");
	e = consult_tpl_render(t->subject, plain.vars, N_PH, CONSULT_MIME_SUBJECT_MAX, &out->subject, NULL, bad);
	if (e == CONSULT_OK) {
		rtrim(out->subject);
		if (!one_line(out->subject))
			e = CONSULT_ERR_INVALID_FIELD;
	}
	if (e == CONSULT_OK) {
		set_part(part, "txt");
		e = consult_tpl_render(t->txt, plain.vars, N_PH, CONSULT_MIME_BODY_MAX, &out->text, NULL, bad);
	}
	if (e == CONSULT_OK) {
		set_part(part, "html");
		e = consult_tpl_render(t->html, html.vars, N_PH, CONSULT_MIME_BODY_MAX, &out->html, NULL, bad);
	}
	if (e == CONSULT_OK && ics) {
		set_part(part, "ics");
		e = make_ics(v, ics, out);
	}
	free_vals(&html);
	free_vals(&plain);
	if (e != CONSULT_OK) {
		consult_composed_mail_free(out);
		return e;
	}
	set_part(part, NULL);
	return CONSULT_OK;
}

/* The SMS for v: rendered, trimmed at both ends and analysed; refused if
 * empty or over the parts limit. */
static consult_err sms_once(const consult_msg_templates *t, const consult_msg_values *v, char **out,
        consult_sms_info *si, char bad[CONSULT_TPL_NAME_MAX + 1])
{
	vals plain;
	consult_err e = make_vals(v, false, &plain);
	if (e != CONSULT_OK)
		return e;
	char *s = NULL;
	e = consult_tpl_render(t->sms, plain.vars, N_PH, CONSULT_COMPOSE_SMS_MAX, &s, NULL, bad);
	free_vals(&plain);
	if (e != CONSULT_OK)
		return e;
	rtrim(s);
	size_t lead = strspn(s, " \t\r\n");
	memmove(s, s + lead, strlen(s + lead) + 1);
	e = consult_sms_analyse(s, strlen(s), si);
	if (e == CONSULT_OK && (si->parts > CONSULT_COMPOSE_SMS_MAX_PARTS || si->parts == 0))
		e = si->parts == 0 ? CONSULT_ERR_INVALID_FIELD : CONSULT_ERR_TOO_LONG;
	if (e != CONSULT_OK) {
		free(s);
		return e;
	}
	*out = s;
	return CONSULT_OK;
}

consult_err consult_compose_sms(const consult_msg_templates *t, const consult_msg_values *v, char **out,
        consult_sms_info *info, char bad[CONSULT_TPL_NAME_MAX + 1])
{
	if (bad)
		bad[0] = '\0';
	if (info)
		memset(info, 0, sizeof *info);
	if (!out)
		return CONSULT_ERR_MISSING_FIELD;
	*out = NULL;
	if (!t || !v || !t->sms)
		return CONSULT_ERR_MISSING_FIELD;
	char *s = NULL;
	consult_sms_info si;
	consult_err e = sms_once(t, v, &s, &si, bad);
	if (e == CONSULT_ERR_TOO_LONG && v->patient_name && v->patient_name[0]) {
		/* too long only with the booked name: greet without it */
		consult_msg_values anon = *v;
		anon.patient_name = NULL;
		e = sms_once(t, &anon, &s, &si, bad);
	}
	if (e != CONSULT_OK)
		return e;
	if (info)
		*info = si;
	*out = s;
	return CONSULT_OK;
}
