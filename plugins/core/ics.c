/* ics.c - iCalendar builder, see ics.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "ics.h"
#include "email.h"
#include "strbuf.h"
#include "text.h"

#define ICS_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define FOLD         75

/* 20250131T143000Z for a unix time (buffer of 17). False if out of range. */
static bool utc(int64_t t, char out[17])
{
	out[0] = '\0';
	if (t < 0 || t > ICS_TIME_MAX)
		return false;
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		return false;
	char tmp[96];
	int n = snprintf(tmp, sizeof tmp, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	        tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n != 16)
		return false;
	memcpy(out, tmp, 17);
	return true;
}

/* Appends one content line, folded at FOLD octets, never inside a UTF-8
 * sequence (continuation bytes 10xxxxxx stay with their lead byte). */
static void line(consult_strbuf *b, const char *s, size_t n)
{
	size_t room = FOLD, i = 0;
	while (n - i > room) {
		size_t cut = i + room;
		while (cut > i && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
		if (cut == i) /* not UTF-8: cut anyway, never loop */
			cut = i + room;
		consult_sb_add(b, s + i, cut - i);
		consult_sb_add(b, "\r\n ", 3);
		i = cut;
		room = FOLD - 1; /* the leading space counts */
	}
	consult_sb_add(b, s + i, n - i);
	consult_sb_add(b, "\r\n", 2);
}

/* Validates a TEXT value (bad UTF-8 or controls other than CR/LF/TAB). */
static consult_err text_ok(const char *v)
{
	size_t n = strlen(v);
	if (n > CONSULT_ICS_TEXT_MAX)
		return CONSULT_ERR_TOO_LONG;
	return consult_text_clean(v, n, true) ? CONSULT_OK : CONSULT_ERR_INVALID_UTF8;
}

/* name:escaped(value) as one folded line. */
static void text_prop(consult_strbuf *b, const char *name, const char *v)
{
	consult_strbuf l;
	consult_sb_init(&l, 4 * CONSULT_ICS_TEXT_MAX);
	consult_sb_str(&l, name);
	consult_sb_char(&l, ':');
	for (const char *p = v; *p; p++) {
		switch (*p) {
		case '\\':
			consult_sb_add(&l, "\\\\", 2);
			break;
		case ';':
			consult_sb_add(&l, "\\;", 2);
			break;
		case ',':
			consult_sb_add(&l, "\\,", 2);
			break;
		case '\r':
			if (p[1] == '\n')
				p++;
			/* fall through */
		case '\n':
			consult_sb_add(&l, "\\n", 2);
			break;
		default:
			consult_sb_char(&l, *p);
			break;
		}
	}
	if (l.err != CONSULT_OK)
		b->err = l.err;
	else
		line(b, l.data, l.len);
	consult_sb_free(&l);
}

static void raw_prop(consult_strbuf *b, const char *name, const char *v)
{
	consult_strbuf l;
	consult_sb_init(&l, 1024);
	consult_sb_str(&l, name);
	consult_sb_str(&l, v);
	if (l.err != CONSULT_OK)
		b->err = l.err;
	else
		line(b, l.data, l.len);
	consult_sb_free(&l);
}

static bool uid_ok(const char *u)
{
	size_t n = strlen(u);
	if (n == 0 || n > CONSULT_ICS_UID_MAX)
		return false;
	for (; *u; u++) {
		char c = *u;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' ||
		            c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* ORGANIZER's CN is a quoted parameter value: no '"', no controls. */
static bool cn_ok(const char *s)
{
	return consult_text_clean(s, strlen(s), false) && !strchr(s, '"') && strlen(s) <= 200;
}

consult_err consult_ics_build(const consult_ics_event *ev, char **out, size_t *out_len)
{
	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (!ev || !ev->uid || !ev->summary || !ev->location)
		return CONSULT_ERR_MISSING_FIELD;
	char stamp[17], start[17], end[17];
	if (!uid_ok(ev->uid) || ev->sequence < 0 || ev->ends_at < ev->starts_at || !utc(ev->dtstamp, stamp) ||
	        !utc(ev->starts_at, start) || !utc(ev->ends_at, end))
		return CONSULT_ERR_INVALID_FIELD;
	const char *texts[] = { ev->summary, ev->location, ev->description ? ev->description : "" };
	for (size_t i = 0; i < 3; i++) {
		consult_err e = text_ok(texts[i]);
		if (e != CONSULT_OK)
			return e;
	}
	if (ev->organizer_email) {
		consult_err e = consult_email_check(ev->organizer_email);
		if (e != CONSULT_OK)
			return e;
		if (ev->organizer_name && !cn_ok(ev->organizer_name))
			return CONSULT_ERR_INVALID_FIELD;
	}

	consult_strbuf b;
	consult_sb_init(&b, 16 * CONSULT_ICS_TEXT_MAX);
	char seq[16];
	snprintf(seq, sizeof seq, "%d", ev->sequence);
	raw_prop(&b, "BEGIN:", "VCALENDAR");
	raw_prop(&b, "PRODID:", CONSULT_ICS_PRODID);
	raw_prop(&b, "VERSION:", "2.0");
	raw_prop(&b, "CALSCALE:", "GREGORIAN");
	raw_prop(&b, "METHOD:", CONSULT_ICS_METHOD);
	raw_prop(&b, "BEGIN:", "VEVENT");
	raw_prop(&b, "UID:", ev->uid);
	raw_prop(&b, "SEQUENCE:", seq);
	raw_prop(&b, "DTSTAMP:", stamp);
	raw_prop(&b, "DTSTART:", start);
	raw_prop(&b, "DTEND:", end);
	text_prop(&b, "SUMMARY", ev->summary);
	text_prop(&b, "LOCATION", ev->location);
	if (ev->description && ev->description[0])
		text_prop(&b, "DESCRIPTION", ev->description);
	if (ev->organizer_email) {
		consult_strbuf o;
		consult_sb_init(&o, 1024);
		consult_sb_str(&o, "ORGANIZER");
		if (ev->organizer_name && ev->organizer_name[0]) {
			consult_sb_str(&o, ";CN=\"");
			consult_sb_str(&o, ev->organizer_name);
			consult_sb_char(&o, '"');
		}
		consult_sb_str(&o, ":mailto:");
		consult_sb_str(&o, ev->organizer_email);
		if (o.err != CONSULT_OK)
			b.err = o.err;
		else
			line(&b, o.data, o.len);
		consult_sb_free(&o);
	}
	raw_prop(&b, "STATUS:", ev->cancelled ? "CANCELLED" : "CONFIRMED");
	raw_prop(&b, "TRANSP:", "OPAQUE");
	raw_prop(&b, "END:", "VEVENT");
	raw_prop(&b, "END:", "VCALENDAR");
	return consult_sb_finish(&b, out, out_len);
}
