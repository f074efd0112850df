/* phone.h - normalise a phone number as typed at reception to E.164.
 *
 * Contract: pure, no allocation. Input: digits with optional separators
 * (space, '-', '/', '.', one pair of parentheses), either international
 * ("+49 ...", "0049 ...") or national with the default country's trunk
 * prefix ("0721 ..." -> +49 721 ...). Output: "+" and 8..15 digits,
 * e.g. "+4917112345678". Refused: empty, letters or other characters,
 * a '+' anywhere but first, control characters (CR/LF: header/body
 * injection), a national number after the country code that starts with
 * the trunk prefix ("+49 0721 ..." and "+49 (0) 721 ..." are ambiguous in
 * practice and refused), national input without trunk prefix for countries
 * that have one, more than 15 or fewer than 8 digits in total.
 * Errors: CONSULT_ERR_MISSING_FIELD (NULL), CONSULT_ERR_TOO_LONG (input over
 * CONSULT_MAX_PHONE bytes), CONSULT_ERR_INVALID_UTF8 (control characters),
 * CONSULT_ERR_INVALID_FIELD (everything else, including an unknown default
 * country). On error `out` is "".
 */
#ifndef CONSULT_PHONE_H
#define CONSULT_PHONE_H

#include <stdbool.h>
#include "errors.h"

#define CONSULT_PHONE_E164_DIGITS_MAX 15
#define CONSULT_PHONE_E164_DIGITS_MIN 8
#define CONSULT_PHONE_E164_LEN        (1 + CONSULT_PHONE_E164_DIGITS_MAX + 1) /* '+', digits, NUL */

typedef struct consult_phone_country {
	const char *iso;   /* "DE" */
	const char *cc;    /* country calling code, "49" */
	const char *trunk; /* national trunk prefix ("0") or NULL (none: IT, DK, LU, PL) */
} consult_phone_country;

/* The country table entry for an ISO 3166 alpha-2 code (case-insensitive):
 * DE, AT, CH, FR, NL, BE, GB (trunk 0), LU, IT, DK, PL (none). NULL if
 * not in the table. The trunk-after-country-code check applies to the
 * countries with a trunk prefix in this table only. */
const consult_phone_country *consult_phone_country_find(const char *iso);

/* Normalises `input` with `default_iso` (NULL means "DE") for national
 * numbers. See the contract above. */
consult_err consult_phone_normalise(const char *input, const char *default_iso, char out[CONSULT_PHONE_E164_LEN]);

/* True if s is already a normalised number: '+', first digit 1-9,
 * 8..15 digits in total, nothing else. */
bool consult_phone_e164_ok(const char *s);

#endif
