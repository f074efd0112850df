/* fuzz_ics.c - the iCalendar builder (ics.c) with the output's own
 * invariants.
 *
 * Input: a flag byte (which fields come from the input, the rest are valid
 * defaults), times, sequence, then the strings. On success:
 *   - every line ends in CRLF, no bare CR or LF, no control character but
 *     TAB; physical lines <= 75 octets; continuation lines start with one
 *     space; folding never splits a UTF-8 character (every physical line is
 *     valid UTF-8 on its own);
 *   - unfolded: BEGIN:VCALENDAR first, END:VCALENDAR last, exactly one of
 *     each required property, at most one DESCRIPTION and ORGANIZER;
 *   - SUMMARY, LOCATION and DESCRIPTION unescape to the input (line ends as
 *     LF), UID is the input, DTSTART/DTEND/DTSTAMP are the UTC forms, STATUS
 *     says CANCELLED exactly for a cancelled event, no unescaped ';' or ','
 *     in a TEXT value.
 * On failure: no output, and the error is one of the documented codes.
 */
#include "fuzz.h"
#include "core/ics.h"
#include "core/errors.h"
#include <time.h>

/* Reference: 20250131T143000Z for a unix time in 1970..9999, else false. */
static bool utc_ref(int64_t t, char out[17])
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t < 0 || t > 253402300799LL || !gmtime_r(&tt, &tm))
		return false;
	return strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 16;
}

static const char *const REQ[] = {
	"BEGIN:VCALENDAR",
	"END:VCALENDAR",
	"BEGIN:VEVENT",
	"END:VEVENT",
	"PRODID",
	"VERSION",
	"CALSCALE",
	"METHOD",
	"UID",
	"SEQUENCE",
	"DTSTAMP",
	"DTSTART",
	"DTEND",
	"SUMMARY",
	"LOCATION",
	"STATUS",
	"TRANSP",
};
#define NREQ (sizeof REQ / sizeof REQ[0])

/* The property's key: "BEGIN:X"/"END:X" whole, else the name before ':'/';'. */
static size_t key_of(const char *l, char *key, size_t max)
{
	size_t k = strcspn(l, ":;");
	if ((k == 5 && strncmp(l, "BEGIN", 5) == 0) || (k == 3 && strncmp(l, "END", 3) == 0))
		k = strlen(l);
	if (k >= max)
		k = max - 1;
	memcpy(key, l, k);
	key[k] = '\0';
	return k;
}

/* Unescapes a TEXT value; false on an unescaped ';' or ',' or a bad escape. */
static bool unescape(const char *v, char *out)
{
	for (; *v; v++) {
		if (*v == ';' || *v == ',')
			return false;
		if (*v != '\\') {
			*out++ = *v;
			continue;
		}
		v++;
		if (*v == 'n')
			*out++ = '\n';
		else if (*v == '\\' || *v == ';' || *v == ',')
			*out++ = *v;
		else
			return false;
	}
	*out = '\0';
	return true;
}

static void lf_only(const char *s, char *out)
{
	for (; *s; s++) {
		if (*s == '\r') {
			if (s[1] == '\n')
				s++;
			*out++ = '\n';
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static void text_is(const char *value, const char *input)
{
	char *a = malloc(strlen(value) + 1), *b = malloc(strlen(input) + 1);
	FZ_CHECK(a && b);
	FZ_CHECK(unescape(value, a));
	lf_only(input, b);
	FZ_CHECK(strcmp(a, b) == 0);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	uint8_t f = fz_u8(&in);
	consult_ics_event ev;
	memset(&ev, 0, sizeof ev);
	ev.dtstamp = 1764234000 + (int64_t)(int32_t)fz_u32(&in);
	ev.starts_at = f & 0x80 ? fz_i64(&in) : 1764320400 + (int64_t)(fz_u32(&in) % 100000000);
	/* wrapping (unsigned) addition: any start, any end, no overflow here */
	ev.ends_at =
	        (int64_t)((uint64_t)ev.starts_at + (uint64_t)((int64_t)(int16_t)(fz_u8(&in) << 8 | fz_u8(&in)) * 60));
	ev.sequence = (int)(int8_t)fz_u8(&in);
	ev.cancelled = f & 0x40;
	char *s[6];
	for (int i = 0; i < 6; i++)
		s[i] = fz_str(&in, 12000);
	ev.uid = f & 1 ? s[0] : "appt-4f2a9c@praxis.example.org";
	ev.summary = f & 2 ? s[1] : "Videosprechstunde Hautärzte am Marktplatz";
	ev.location = f & 4 ? s[2] : "https://praxis.example.org/patient.html?p=am-marktplatz#ABCD-EFGH-JKMN";
	ev.description = f & 8 ? s[3] : (f & 0x20 ? NULL : "Bitte 5 Minuten vorher; Kamera, Mikrofon.\nDanke");
	ev.organizer_name = f & 0x10 ? s[4] : "Hautärzte \"am\" Marktplatz";
	ev.organizer_email = f & 0x20 ? (f & 0x10 ? s[5] : "praxis@example.org") : NULL;
	if (!(f & 0x10) && ev.organizer_email)
		ev.organizer_name = "Hautärzte am Marktplatz";

	char *out = (char *)1;
	size_t len = 0;
	consult_err e = consult_ics_build(&ev, &out, &len);
	if (e != CONSULT_OK) {
		FZ_CHECK(out == NULL);
		FZ_CHECK(e == CONSULT_ERR_INVALID_FIELD || e == CONSULT_ERR_INVALID_UTF8 || e == CONSULT_ERR_TOO_LONG);
		goto done;
	}
	FZ_CHECK(out && len == strlen(out) && len > 2);
	FZ_CHECK(out[len - 2] == '\r' && out[len - 1] == '\n');
	/* physical lines */
	char *unf = malloc(len + 1);
	FZ_CHECK(unf);
	size_t u = 0;
	for (size_t i = 0; i < len;) {
		const char *crlf = strstr(out + i, "\r\n");
		FZ_CHECK(crlf);
		size_t n = (size_t)(crlf - (out + i));
		FZ_CHECK(n <= 75 && n > 0);
		FZ_CHECK(!memchr(out + i, '\r', n) && !memchr(out + i, '\n', n));
		FZ_CHECK(!fz_has_ctl(out + i, n, "\t"));
		FZ_CHECK(fz_utf8(out + i, n));
		bool cont = out[i] == ' ';
		if (cont) {
			FZ_CHECK(i > 0 && n > 1);
			memcpy(unf + u - 1, out + i + 1, n - 1); /* replace the previous '\n' */
			u += n - 2;
			unf[u++] = '\n';
		} else {
			memcpy(unf + u, out + i, n);
			u += n;
			unf[u++] = '\n';
		}
		i += n + 2;
	}
	unf[u] = '\0';
	/* logical lines */
	int count[NREQ] = { 0 }, desc = 0, org = 0, lines = 0;
	char first[64] = "", last[64] = "", key[64];
	char stamp[17], start[17], end[17];
	FZ_CHECK(utc_ref(ev.dtstamp, stamp) && utc_ref(ev.starts_at, start) && utc_ref(ev.ends_at, end));
	for (char *l = unf, *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		*nl = '\0';
		size_t k = key_of(l, key, sizeof key);
		const char *v = l[k] ? l + k + 1 : "";
		if (!lines++)
			snprintf(first, sizeof first, "%s", key);
		snprintf(last, sizeof last, "%s", key);
		size_t j;
		for (j = 0; j < NREQ; j++)
			if (strcmp(key, REQ[j]) == 0)
				break;
		if (j < NREQ)
			count[j]++;
		else if (strcmp(key, "DESCRIPTION") == 0)
			desc++;
		else if (strcmp(key, "ORGANIZER") == 0)
			org++;
		else
			FZ_CHECK(!"unknown property");
		if (strcmp(key, "SUMMARY") == 0)
			text_is(v, ev.summary);
		else if (strcmp(key, "LOCATION") == 0)
			text_is(v, ev.location);
		else if (strcmp(key, "DESCRIPTION") == 0)
			text_is(v, ev.description);
		else if (strcmp(key, "UID") == 0)
			FZ_CHECK(strcmp(v, ev.uid) == 0);
		else if (strcmp(key, "DTSTAMP") == 0)
			FZ_CHECK(strcmp(v, stamp) == 0);
		else if (strcmp(key, "DTSTART") == 0)
			FZ_CHECK(strcmp(v, start) == 0);
		else if (strcmp(key, "DTEND") == 0)
			FZ_CHECK(strcmp(v, end) == 0);
		else if (strcmp(key, "STATUS") == 0)
			FZ_CHECK(strcmp(v, ev.cancelled ? "CANCELLED" : "CONFIRMED") == 0);
		else if (strcmp(key, "ORGANIZER") == 0)
			FZ_CHECK(strlen(v) > 7 &&
			        strcmp(v + strlen(v) - strlen(ev.organizer_email), ev.organizer_email) == 0);
	}
	for (size_t j = 0; j < NREQ; j++)
		FZ_CHECK(count[j] == 1);
	FZ_CHECK(desc == (ev.description && ev.description[0] ? 1 : 0));
	FZ_CHECK(org == (ev.organizer_email ? 1 : 0));
	FZ_CHECK(strcmp(first, "BEGIN:VCALENDAR") == 0 && strcmp(last, "END:VCALENDAR") == 0);
	free(unf);
	free(out);
done:
	for (int i = 0; i < 6; i++)
		free(s[i]);
	return 0;
}
