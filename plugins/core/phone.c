/* phone.c - E.164 normalisation, see phone.h. */
#include <string.h>
#include "phone.h"
#include "limits.h"

static const consult_phone_country countries[] = {
	{ "DE", "49", "0" },
	{ "AT", "43", "0" },
	{ "CH", "41", "0" },
	{ "FR", "33", "0" },
	{ "NL", "31", "0" },
	{ "BE", "32", "0" },
	{ "GB", "44", "0" },
	{ "LU", "352", NULL },
	{ "IT", "39", NULL }, /* the leading 0 of Italian numbers is kept */
	{ "DK", "45", NULL },
	{ "PL", "48", NULL },
};
#define N_COUNTRIES (sizeof countries / sizeof countries[0])

static char upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

const consult_phone_country *consult_phone_country_find(const char *iso)
{
	if (!iso || strlen(iso) != 2)
		return NULL;
	for (size_t i = 0; i < N_COUNTRIES; i++)
		if (upper(iso[0]) == countries[i].iso[0] && upper(iso[1]) == countries[i].iso[1])
			return &countries[i];
	return NULL;
}

/* The table entry whose calling code prefixes the international digits. */
static const consult_phone_country *country_of(const char *digits)
{
	for (size_t i = 0; i < N_COUNTRIES; i++) {
		size_t n = strlen(countries[i].cc);
		if (strncmp(digits, countries[i].cc, n) == 0)
			return &countries[i];
	}
	return NULL;
}

bool consult_phone_e164_ok(const char *s)
{
	if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	size_t n = 0;
	for (const char *p = s + 1; *p; p++, n++)
		if (*p < '0' || *p > '9')
			return false;
	return n >= CONSULT_PHONE_E164_DIGITS_MIN && n <= CONSULT_PHONE_E164_DIGITS_MAX;
}

/* Strips separators. Writes the digits to d (NUL-terminated, at most
 * CONSULT_MAX_PHONE) and whether a leading '+' was seen. */
static consult_err strip(const char *in, char *d, bool *plus)
{
	size_t n = 0;
	int open = 0, pairs = 0;
	bool any = false;
	*plus = false;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		unsigned char c = *p;
		if (c < 0x20 || c == 0x7f)
			return CONSULT_ERR_INVALID_UTF8;
		if (c >= '0' && c <= '9') {
			d[n++] = (char)c;
			any = true;
		} else if (c == '+') {
			if (any || *plus || open)
				return CONSULT_ERR_INVALID_FIELD;
			*plus = true;
		} else if (c == '(') {
			if (open || pairs)
				return CONSULT_ERR_INVALID_FIELD;
			open = 1;
		} else if (c == ')') {
			if (!open)
				return CONSULT_ERR_INVALID_FIELD;
			open = 0;
			pairs++;
		} else if (c != ' ' && c != '-' && c != '/' && c != '.') {
			return CONSULT_ERR_INVALID_FIELD;
		}
	}
	if (open)
		return CONSULT_ERR_INVALID_FIELD;
	d[n] = '\0';
	return n ? CONSULT_OK : CONSULT_ERR_INVALID_FIELD;
}

consult_err consult_phone_normalise(const char *input, const char *default_iso, char out[CONSULT_PHONE_E164_LEN])
{
	out[0] = '\0';
	if (!input)
		return CONSULT_ERR_MISSING_FIELD;
	if (strlen(input) > CONSULT_MAX_PHONE)
		return CONSULT_ERR_TOO_LONG;
	const consult_phone_country *def = consult_phone_country_find(default_iso ? default_iso : "DE");
	if (!def)
		return CONSULT_ERR_INVALID_FIELD;
	char d[CONSULT_MAX_PHONE + 1];
	bool plus;
	consult_err e = strip(input, d, &plus);
	if (e != CONSULT_OK)
		return e;

	char intl[CONSULT_MAX_PHONE + 8]; /* international digits: cc + national */
	if (plus) {
		strcpy(intl, d);
	} else if (d[0] == '0' && d[1] == '0') {
		strcpy(intl, d + 2);
	} else if (def->trunk) {
		size_t t = strlen(def->trunk);
		if (strncmp(d, def->trunk, t) != 0)
			return CONSULT_ERR_INVALID_FIELD; /* no area code: cannot be dialled from abroad */
		strcpy(intl, def->cc);
		strcat(intl, d + t);
	} else {
		strcpy(intl, def->cc);
		strcat(intl, d);
	}

	size_t n = strlen(intl);
	if (intl[0] < '1' || intl[0] > '9')
		return CONSULT_ERR_INVALID_FIELD;
	if (n < CONSULT_PHONE_E164_DIGITS_MIN || n > CONSULT_PHONE_E164_DIGITS_MAX)
		return CONSULT_ERR_INVALID_FIELD;
	const consult_phone_country *c = country_of(intl);
	if (c && c->trunk && strncmp(intl + strlen(c->cc), c->trunk, strlen(c->trunk)) == 0)
		return CONSULT_ERR_INVALID_FIELD;
	out[0] = '+';
	memcpy(out + 1, intl, n + 1);
	return CONSULT_OK;
}
