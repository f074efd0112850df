/* fuzz_phone.c - consult_phone_normalise() and consult_phone_e164_ok().
 *
 * Input: one byte picks the default country (NULL, the table, unknown and
 * lower-case codes), the rest is the number as typed. Checks: a result is
 * E.164 ('+', first digit 1-9, 8..15 digits) and normalising it again gives
 * itself; its digits appear in the input in order; on failure out is "" and
 * the code is missing_field/too_long/invalid_utf8/invalid_field; input with
 * a control character or over 32 bytes never succeeds.
 */
#include "fuzz.h"
#include "core/phone.h"
#include "core/limits.h"

static const char *const countries[] = {
	NULL,
	"DE",
	"AT",
	"CH",
	"FR",
	"NL",
	"BE",
	"GB",
	"LU",
	"IT",
	"DK",
	"PL",
	"de",
	"XX",
	"",
	"D",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	const char *iso = countries[fz_u8(&in) % (sizeof countries / sizeof countries[0])];
	char *s = fz_str(&in, 4096);
	size_t n = strlen(s);
	char out[CONSULT_PHONE_E164_LEN];
	memset(out, 'x', sizeof out);
	consult_err e = consult_phone_normalise(s, iso, out);
	if (e == CONSULT_OK) {
		FZ_CHECK(consult_phone_e164_ok(out));
		size_t k = strlen(out);
		FZ_CHECK(k >= 1 + CONSULT_PHONE_E164_DIGITS_MIN && k <= 1 + CONSULT_PHONE_E164_DIGITS_MAX);
		FZ_CHECK(out[0] == '+' && out[1] >= '1' && out[1] <= '9');
		for (size_t i = 1; i < k; i++)
			FZ_CHECK(out[i] >= '0' && out[i] <= '9');
		FZ_CHECK(n <= CONSULT_MAX_PHONE && !fz_has_ctl(s, n, ""));
		/* the national digits of the input end the result, in order */
		const char *p = s + n;
		for (size_t i = k; i > 1; i--) {
			while (p > s && !(p[-1] >= '0' && p[-1] <= '9'))
				p--;
			if (p == s)
				break; /* the country code may come from the table */
			FZ_CHECK(p[-1] == out[i - 1] || (i <= 4 && p[-1] == '0'));
			if (p[-1] != out[i - 1])
				break;
			p--;
		}
		char again[CONSULT_PHONE_E164_LEN];
		FZ_CHECK(consult_phone_normalise(out, iso, again) == CONSULT_OK ||
		        !consult_phone_country_find(iso ? iso : "DE"));
		if (consult_phone_country_find(iso ? iso : "DE"))
			FZ_CHECK(strcmp(again, out) == 0);
	} else {
		FZ_CHECK(out[0] == '\0');
		FZ_CHECK(e == CONSULT_ERR_MISSING_FIELD || e == CONSULT_ERR_TOO_LONG || e == CONSULT_ERR_INVALID_UTF8 ||
		        e == CONSULT_ERR_INVALID_FIELD);
	}
	if (consult_phone_e164_ok(s)) {
		FZ_CHECK(s[0] == '+' && n >= 9 && n <= 16);
	}
	free(s);
	return 0;
}
