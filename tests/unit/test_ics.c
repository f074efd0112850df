/* test_ics.c - the iCalendar builder: a complete known file byte for byte,
 * the cancelled variant, TEXT escaping, folding at 75 octets that never
 * splits a UTF-8 character (checked line by line and by unfolding back),
 * CRLF everywhere, UTC time formatting and every refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/ics.h"

static consult_ics_event base(void)
{
	consult_ics_event e = { 0 };
	e.uid = "appt-3f9a2c@praxis.example";
	e.dtstamp = 1738000000;   /* 2025-01-27T17:46:40Z */
	e.starts_at = 1738333800; /* 2025-01-31T14:30:00Z */
	e.ends_at = 1738335600;   /* 2025-01-31T15:00:00Z */
	e.summary = "Videosprechstunde";
	e.location = "https://praxis.example/p/dr-x";
	return e;
}

static void test_known_file(void **st)
{
	consult_ics_event e = base();
	e.description = "Code: ABCD-EFGH-JKMN";
	e.organizer_name = "Praxis Dr. X";
	e.organizer_email = "praxis@praxis.example";
	char *out;
	size_t len;
	assert_int_equal(consult_ics_build(&e, &out, &len), CONSULT_OK);
	const char *want = "BEGIN:VCALENDAR\r\n"
	                   "PRODID:-//consult//Videosprechstunde//DE\r\n"
	                   "VERSION:2.0\r\n"
	                   "CALSCALE:GREGORIAN\r\n"
	                   "METHOD:PUBLISH\r\n"
	                   "BEGIN:VEVENT\r\n"
	                   "UID:appt-3f9a2c@praxis.example\r\n"
	                   "SEQUENCE:0\r\n"
	                   "DTSTAMP:20250127T174640Z\r\n"
	                   "DTSTART:20250131T143000Z\r\n"
	                   "DTEND:20250131T150000Z\r\n"
	                   "SUMMARY:Videosprechstunde\r\n"
	                   "LOCATION:https://praxis.example/p/dr-x\r\n"
	                   "DESCRIPTION:Code: ABCD-EFGH-JKMN\r\n"
	                   "ORGANIZER;CN=\"Praxis Dr. X\":mailto:praxis@praxis.example\r\n"
	                   "STATUS:CONFIRMED\r\n"
	                   "TRANSP:OPAQUE\r\n"
	                   "END:VEVENT\r\n"
	                   "END:VCALENDAR\r\n";
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);

	/* cancellation: same UID, higher sequence, STATUS:CANCELLED */
	e = base();
	e.cancelled = true;
	e.sequence = 2;
	assert_int_equal(consult_ics_build(&e, &out, &len), CONSULT_OK);
	assert_non_null(strstr(out, "\r\nUID:appt-3f9a2c@praxis.example\r\n"));
	assert_non_null(strstr(out, "\r\nSEQUENCE:2\r\n"));
	assert_non_null(strstr(out, "\r\nSTATUS:CANCELLED\r\n"));
	assert_null(strstr(out, "CONFIRMED"));
	assert_null(strstr(out, "DESCRIPTION"));
	assert_null(strstr(out, "ORGANIZER"));
	assert_non_null(strstr(out, "\r\nMETHOD:PUBLISH\r\n"));
	free(out);
}

static void test_escaping(void **st)
{
	consult_ics_event e = base();
	e.summary = "a\\b;c,d";
	e.description = "Zeile 1\nZeile 2\r\nZeile 3\rEnde";
	char *out;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_OK);
	assert_non_null(strstr(out, "\r\nSUMMARY:a\\\\b\\;c\\,d\r\n"));
	assert_non_null(strstr(out, "\r\nDESCRIPTION:Zeile 1\\nZeile 2\\nZeile 3\\nEnde\r\n"));
	free(out);
}

/* Checks CRLF-only line ends and the 75-octet limit; returns the unfolded
 * text (caller frees). */
static char *check_and_unfold(const char *s)
{
	size_t n = strlen(s);
	char *u = malloc(n + 1);
	size_t k = 0, col = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			fail_msg("bare LF at %zu", i);
		if (s[i] == '\r') {
			assert_int_equal(s[i + 1], '\n');
			assert_true(col <= 75);
			/* a continuation line must not start inside a UTF-8
			 * character (so the previous one did not end inside one) */
			if (s[i + 2] == ' ') {
				assert_true(((unsigned char)s[i + 3] & 0xc0) != 0x80);
				i += 2; /* unfold: drop CRLF SP */
				col = 1;
				continue;
			}
			u[k++] = '\n';
			i++;
			col = 0;
			continue;
		}
		u[k++] = s[i];
		col++;
	}
	u[k] = '\0';
	return u;
}

static void test_folding(void **st)
{
	consult_ics_event e = base();
	/* 3-byte and 2-byte characters at every offset against the fold */
	char desc[2048] = "";
	for (int i = 0; i < 60; i++)
		strcat(desc,
		        i % 3 ? "\xe2\x82\xac"
		                "\xc3\xa4"
		                "x"
		              : "ab\xf0\x9f\x98\x80");
	e.description = desc;
	char loc[300] = "https://praxis.example/p/";
	memset(loc + strlen(loc), 'q', 200);
	loc[225] = '\0';
	e.location = loc;
	char *out;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_OK);
	char *u = check_and_unfold(out);
	char want[2200] = "\nDESCRIPTION:";
	strcat(want, desc);
	strcat(want, "\n");
	assert_non_null(strstr(u, want));
	char wl[400] = "\nLOCATION:";
	strcat(wl, loc);
	strcat(wl, "\n");
	assert_non_null(strstr(u, wl));
	free(u);

	/* exact fold points on ASCII: 75, then 74 + leading space */
	char *p = strstr(out, "LOCATION:");
	assert_non_null(p);
	assert_memory_equal(p + 75, "\r\n q", 4);
	assert_memory_equal(p + 75 + 3 + 74, "\r\n q", 4);
	free(out);

	/* a line of exactly 75 octets is not folded, 76 is */
	e = base();
	char s75[80] = "SUMMARY:";
	memset(s75 + 8, 's', 67);
	s75[75] = '\0';
	e.summary = s75 + 8;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_OK);
	char w[90];
	strcpy(w, "\r\n");
	strcat(w, s75);
	strcat(w, "\r\nLOCATION");
	assert_non_null(strstr(out, w));
	free(out);
	s75[75] = 's';
	s75[76] = '\0';
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_OK);
	assert_null(strstr(out, s75));
	assert_non_null(strstr(out, "sss\r\n s\r\nLOCATION"));
	free(out);
}

/* The DTSTAMP line of the file built with dtstamp t ("" if refused). */
static consult_err stamp_of(int64_t t, char out[17])
{
	consult_ics_event e = base();
	char *ics = NULL;
	e.dtstamp = t;
	out[0] = '\0';
	consult_err r = consult_ics_build(&e, &ics, NULL);
	if (r != CONSULT_OK)
		return r;
	const char *v = strstr(ics, "\r\nDTSTAMP:");
	assert_non_null(v);
	v += strlen("\r\nDTSTAMP:");
	assert_true(strcspn(v, "\r") == 16);
	memcpy(out, v, 16);
	out[16] = '\0';
	free(ics);
	return CONSULT_OK;
}

static void test_utc(void **st)
{
	char b[17];
	assert_int_equal(stamp_of(0, b), CONSULT_OK);
	assert_string_equal(b, "19700101T000000Z");
	assert_int_equal(stamp_of(951782400, b), CONSULT_OK); /* leap day 2000 */
	assert_string_equal(b, "20000229T000000Z");
	assert_int_equal(stamp_of(253402300799LL, b), CONSULT_OK);
	assert_string_equal(b, "99991231T235959Z");
	assert_int_equal(stamp_of(253402300800LL, b), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(stamp_of(-1, b), CONSULT_ERR_INVALID_FIELD);
}

static void test_refusals(void **st)
{
	char *out = (char *)1;
	consult_ics_event e = base();
	e.uid = NULL;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_MISSING_FIELD);
	assert_null(out);
	e = base();
	e.location = NULL;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_MISSING_FIELD);
	e = base();
	e.uid = "a b";
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_FIELD);
	e = base();
	e.uid = "x\r\nATTENDEE:mailto:x@example.org";
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_FIELD);
	e = base();
	e.ends_at = e.starts_at - 1;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_FIELD);
	e = base();
	e.starts_at = -5;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_FIELD);
	e = base();
	e.sequence = -1;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_FIELD);
	e = base();
	e.summary = "a\x01"
	            "b";
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_UTF8);
	e = base();
	e.description = "bad \xc3";
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_UTF8);
	e = base();
	e.organizer_email = "praxis@example.org\r\nX: y";
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_UTF8);
	e = base();
	e.organizer_email = "praxis@example.org";
	e.organizer_name = "Dr \"X\"";
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_FIELD);
	e = base();
	e.organizer_email = "praxis@example.org";
	e.organizer_name = "Dr\nX";
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_INVALID_FIELD);
	char *big = malloc(CONSULT_ICS_TEXT_MAX + 2);
	memset(big, 'b', CONSULT_ICS_TEXT_MAX + 1);
	big[CONSULT_ICS_TEXT_MAX + 1] = '\0';
	e = base();
	e.description = big;
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_ERR_TOO_LONG);
	assert_null(out);
	/* the largest text, all of it escaped (doubling), still builds */
	memset(big, ',', CONSULT_ICS_TEXT_MAX);
	big[CONSULT_ICS_TEXT_MAX] = '\0';
	assert_int_equal(consult_ics_build(&e, &out, NULL), CONSULT_OK);
	free(out);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_file),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
