/* fuzz_email.c - consult_email_check() and consult_email_domain_ok().
 *
 * Checks an accepted address against an independent reading of the
 * contract: one '@', local part 1..64 of atext and dots (not first, last or
 * doubled), domain accepted by the domain rule, at most 254 octets, ASCII
 * only, nothing that could break a header or an SMTP command (no control
 * character, space, '<', '>', '"', '\\', ','); CR/LF never pass; an accepted
 * domain is 2+ labels of [A-Za-z0-9-]{1,63} without hyphen at either end, a
 * top label that is not all digits, <= 255 octets.
 */
#include "fuzz.h"
#include "core/email.h"

static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	        (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static void domain_rule(const char *d)
{
	size_t n = strlen(d), labels = 0;
	FZ_CHECK(n >= 3 && n <= 255);
	const char *p = d, *last = d;
	while (1) {
		const char *e = strchr(p, '.');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		FZ_CHECK(len >= 1 && len <= 63);
		FZ_CHECK(p[0] != '-' && p[len - 1] != '-');
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];
			FZ_CHECK(
			        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-');
		}
		labels++;
		last = p;
		if (!e)
			break;
		p = e + 1;
	}
	FZ_CHECK(labels >= 2);
	bool digits = true;
	for (const char *q = last; *q; q++)
		digits &= *q >= '0' && *q <= '9';
	FZ_CHECK(!digits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	char *s = fz_str(&in, 1024);
	size_t n = strlen(s);
	consult_err e = consult_email_check(s);
	if (e == CONSULT_OK) {
		FZ_CHECK(n <= CONSULT_EMAIL_MAX);
		const char *at = strchr(s, '@');
		FZ_CHECK(at && strchr(at + 1, '@') == NULL);
		size_t local = (size_t)(at - s);
		FZ_CHECK(local >= 1 && local <= CONSULT_EMAIL_LOCAL_MAX);
		FZ_CHECK(s[0] != '.' && at[-1] != '.');
		for (size_t i = 0; i < local; i++) {
			FZ_CHECK(atext((unsigned char)s[i]) || s[i] == '.');
			FZ_CHECK(!(s[i] == '.' && s[i + 1] == '.'));
		}
		FZ_CHECK(consult_email_domain_ok(at + 1));
		domain_rule(at + 1);
	} else {
		FZ_CHECK(e == CONSULT_ERR_TOO_LONG || e == CONSULT_ERR_INVALID_UTF8 || e == CONSULT_ERR_INVALID_FIELD);
	}
	if (fz_has_ctl(s, n, ""))
		FZ_CHECK(e != CONSULT_OK);
	if (consult_email_domain_ok(s))
		domain_rule(s);
	FZ_CHECK(consult_email_check(NULL) == CONSULT_ERR_MISSING_FIELD);
	free(s);
	return 0;
}
