/* fuzz_compose.c - message composition (compose.c): templates plus the
 * appointment's values give the e-mail parts and the SMS text.
 *
 * Input: a flag byte (which templates and values come from the input; the
 * others are the shipped German invite texts and a valid appointment),
 * kind, time zone offset, start time, .ics options, then the strings.
 * Checks against a reference built from the public template API
 * (placeholders practice_name, practice_phone, date, time, doctor, link,
 * code, greeting, name_greeting, patient_name; date/time from a reference
 * formatter here, the greeting "Guten Tag <booked name>," or "Guten Tag,"):
 *   - compose_mail succeeds exactly when the reference renders (subject on
 *     one line after trailing white space is cut), and then subject, text
 *     and HTML equal the reference byte for byte: values raw in subject and
 *     text, through consult_html_escape in HTML;
 *   - the .ics is there exactly when asked for, is a VCALENDAR and says
 *     STATUS:CANCELLED exactly for a cancellation;
 *   - compose_sms gives the rendering trimmed at both ends when it has 1..3
 *     parts (and the same analysis), else, with a booked name, the
 *     rendering without it, too_long above, and nothing is left allocated
 *     on any error (LeakSanitizer).
 */
#include "fuzz.h"
#include "core/compose.h"
#include "core/template.h"
#include "core/sms.h"
#include "core/errors.h"
#include <time.h>

static const char SUBJECT[] = "Ihre Videosprechstunde am {{date}} um {{time}} Uhr \xe2\x80\x93 {{practice_name}}\n";
static const char TXT[] = "Guten Tag,\n\nbei {{practice_name}} ({{practice_phone}}) am {{date}} um {{time}} Uhr\n"
                          "mit {{doctor}}: {{ link }}\nCode: {{code}}\n";
static const char HTML[] = "<p>Guten Tag,</p>\n<p>{{practice_name}}, {{date}} {{time}}, {{doctor}}</p>\n"
                           "<p><a href=\"{{link}}\">{{link}}</a> {{code}}</p>\n";
static const char SMS[] = "{{practice_name}}: Videosprechstunde {{date}}, {{time}} Uhr: {{link}}\n";

/* Reference German date and time of t shifted by off minutes; false if
 * the offset or the year (1970..9999) is out of range. */
static bool date_time_ref(
        int64_t t, int off, char date[CONSULT_COMPOSE_DATE_LEN], char tm_out[CONSULT_COMPOSE_TIME_LEN])
{
	static const char *const wd[] = { "Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag",
		"Samstag" };
	static const char *const mon[] = { "Januar", "Februar", "M\xc3\xa4rz", "April", "Mai", "Juni", "Juli", "August",
		"September", "Oktober", "November", "Dezember" };
	date[0] = tm_out[0] = '\0';
	if (off < -1439 || off > 1439 || t < INT64_MIN / 2 || t > INT64_MAX / 2)
		return false;
	int64_t l = t + (int64_t)off * 60;
	struct tm tm;
	time_t tt = (time_t)l;
	if (l < 0 || l > 253402300799LL || !gmtime_r(&tt, &tm))
		return false;
	snprintf(date, CONSULT_COMPOSE_DATE_LEN, "%s, %d. %s %d", wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
	        tm.tm_year + 1900);
	snprintf(tm_out, CONSULT_COMPOSE_TIME_LEN, "%02d:%02d", tm.tm_hour, tm.tm_min);
	return true;
}

static void rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static void trim(char *s)
{
	rtrim(s);
	size_t lead = 0;
	while (s[lead] == '\n' || s[lead] == '\r' || s[lead] == ' ' || s[lead] == '\t')
		lead++;
	memmove(s, s + lead, strlen(s + lead) + 1);
}

#define N_NAMES 10
static const char *const names[N_NAMES] = { "practice_name", "practice_phone", "date", "time", "doctor", "link", "code",
	"greeting", "name_greeting", "patient_name" };

/* The reference SMS of vars: rendered, trimmed, analysed; false where
 * compose_sms must refuse it (*too_long: because it is too long). */
static bool sms_ref(const char *tpl, const consult_tpl_var *vars, char **out, consult_sms_info *ri, bool *too_long)
{
	*out = NULL;
	*too_long = false;
	consult_err e = consult_tpl_render(tpl, vars, N_NAMES, CONSULT_COMPOSE_SMS_MAX, out, NULL, NULL);
	if (e != CONSULT_OK) {
		*too_long = e == CONSULT_ERR_TOO_LONG;
		return false;
	}
	trim(*out);
	if (consult_sms_analyse(*out, strlen(*out), ri) != CONSULT_OK)
		return false;
	*too_long = ri->parts > CONSULT_COMPOSE_SMS_MAX_PARTS;
	return ri->parts >= 1 && !*too_long;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	uint8_t f = fz_u8(&in), g = fz_u8(&in);
	consult_msg_values v;
	memset(&v, 0, sizeof v);
	v.kind = (consult_msg_kind)(g % 4); /* 3: not a kind */
	v.tz_offset_min = g & 4 ? (int)(int16_t)(fz_u8(&in) << 8 | fz_u8(&in)) : 60;
	v.starts_at = g & 8 ? fz_i64(&in) : 1764320400 + (int64_t)(fz_u32(&in) % 100000000);
	consult_msg_ics ics = { .uid = "appt-4f2a9c@praxis.example.org",
		.sequence = g >> 6,
		.dtstamp = 1764234000,
		.duration_min = (int)(fz_u8(&in) % 32) * 15 };
	char *s[11];
	for (int i = 0; i < 11; i++)
		s[i] = fz_str(&in, 2048);
	consult_msg_templates t = {
		.subject = f & 1 ? s[0] : SUBJECT,
		.txt = f & 2 ? s[1] : TXT,
		.html = f & 4 ? s[2] : HTML,
		.sms = f & 8 ? s[3] : SMS,
	};
	v.practice_name = f & 0x10 ? s[4] : "Haut\xc3\xa4rzte am Marktplatz";
	v.practice_phone = f & 0x10 ? s[5] : "0721-5163690";
	v.doctor = f & 0x20 ? s[6] : "Dr. Weber";
	v.link = f & 0x40 ? (s[7][0] ? s[7] : NULL)
	                  : "https://praxis.example.org/patient.html?p=am-marktplatz#ABCD-EFGH-JKMN";
	v.code = f & 0x40 ? s[8] : "ABCD-EFGH-JKMN";
	v.patient_name = s[10][0] ? s[10] : NULL; /* "" = no booked name */
	ics.organizer_email = g & 0x10 ? (f & 0x80 ? s[9] : "praxis@example.org") : NULL;
	bool want_ics = g & 0x20;

	/* the reference */
	char date[CONSULT_COMPOSE_DATE_LEN], tm[CONSULT_COMPOSE_TIME_LEN];
	bool vals_ok = v.kind <= CONSULT_MSG_CANCEL && (v.link || v.kind == CONSULT_MSG_CANCEL) &&
	        date_time_ref(v.starts_at, v.tz_offset_min, date, tm);
	char greeting[2200];
	if (v.patient_name)
		snprintf(greeting, sizeof greeting, "Guten Tag %s,", v.patient_name);
	const char *raw[N_NAMES] = { v.practice_name, v.practice_phone, date, tm, v.doctor, v.link, v.code,
		v.patient_name ? greeting : "Guten Tag,", v.patient_name ? greeting : "", v.patient_name };
	consult_tpl_var plain[N_NAMES], esc[N_NAMES], anon[N_NAMES];
	for (size_t i = 0; i < N_NAMES; i++) {
		plain[i].name = esc[i].name = anon[i].name = names[i];
		plain[i].value = vals_ok && raw[i] ? raw[i] : "";
		anon[i].value = i == 7 ? "Guten Tag," : i > 7 ? "" : plain[i].value;
		esc[i].value = consult_html_escape(plain[i].value);
		FZ_CHECK(esc[i].value);
	}
	char *rs = NULL, *rt = NULL, *rh = NULL, *rsms = NULL;
	bool ref_ok = vals_ok &&
	        consult_tpl_render(t.subject, plain, N_NAMES, CONSULT_MIME_SUBJECT_MAX, &rs, NULL, NULL) ==
	                CONSULT_OK &&
	        consult_tpl_render(t.txt, plain, N_NAMES, CONSULT_MIME_BODY_MAX, &rt, NULL, NULL) == CONSULT_OK &&
	        consult_tpl_render(t.html, esc, N_NAMES, CONSULT_MIME_BODY_MAX, &rh, NULL, NULL) == CONSULT_OK &&
	        consult_tpl_validate(t.sms, names, N_NAMES, NULL) == CONSULT_OK;
	if (ref_ok) {
		/* the contract refuses a subject TEMPLATE with a line break inside,
		 * even where the values would render it on one line */
		size_t n = strlen(t.subject);
		while (n &&
		        (t.subject[n - 1] == '\n' || t.subject[n - 1] == '\r' || t.subject[n - 1] == ' ' ||
		                t.subject[n - 1] == '\t'))
			n--;
		rtrim(rs);
		ref_ok = !strchr(rs, '\n') && !strchr(rs, '\r') && !memchr(t.subject, '\n', n) &&
		        !memchr(t.subject, '\r', n);
	}

	consult_composed_mail m;
	const char *part = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	consult_err e = consult_compose_mail(&t, &v, want_ics ? &ics : NULL, &m, &part, bad);
	if (e == CONSULT_OK) {
		FZ_CHECK(ref_ok);
		FZ_CHECK(strcmp(m.subject, rs) == 0 && strcmp(m.text, rt) == 0 && strcmp(m.html, rh) == 0);
		FZ_CHECK((m.ics != NULL) == want_ics);
		if (m.ics) {
			FZ_CHECK(m.ics_len == strlen(m.ics) && strncmp(m.ics, "BEGIN:VCALENDAR\r\n", 17) == 0);
			FZ_CHECK((strstr(m.ics, "\r\nSTATUS:CANCELLED\r\n") != NULL) == (v.kind == CONSULT_MSG_CANCEL));
		}
		consult_composed_mail_free(&m);
	} else {
		FZ_CHECK(!ref_ok || (want_ics && part && strcmp(part, "ics") == 0));
		FZ_CHECK(!m.subject && !m.text && !m.html && !m.ics);
	}

	char *sms = (char *)1;
	consult_sms_info info;
	e = consult_compose_sms(&t, &v, &sms, &info, bad);
	consult_sms_info ri = { 0 };
	bool too_long = false, sms_ok = vals_ok && sms_ref(t.sms, plain, &rsms, &ri, &too_long);
	if (vals_ok && !sms_ok && too_long && v.patient_name) { /* too long with the name: without it */
		free(rsms);
		sms_ok = sms_ref(t.sms, anon, &rsms, &ri, &too_long);
	}
	if (e == CONSULT_OK) {
		FZ_CHECK(sms_ok && strcmp(sms, rsms) == 0);
		FZ_CHECK(info.parts >= 1 && info.parts <= CONSULT_COMPOSE_SMS_MAX_PARTS);
		FZ_CHECK(info.parts == ri.parts && info.units == ri.units && info.encoding == ri.encoding);
		free(sms);
	} else {
		FZ_CHECK(sms == NULL);
		FZ_CHECK(!sms_ok);
		if (vals_ok && too_long)
			FZ_CHECK(e == CONSULT_ERR_TOO_LONG);
	}
	free(rs);
	free(rt);
	free(rh);
	free(rsms);
	for (size_t i = 0; i < N_NAMES; i++)
		free((char *)esc[i].value);
	for (int i = 0; i < 11; i++)
		free(s[i]);
	return 0;
}
