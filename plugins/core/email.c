/* email.c - e-mail address validation, see email.h. */
#include <string.h>
#include "email.h"

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_atext(unsigned char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool domain_ok_n(const char *d, size_t len)
{
	if (len == 0 || len > CONSULT_EMAIL_DOMAIN_MAX)
		return false;
	size_t labels = 0, i = 0;
	bool top_digits = true;
	while (i <= len) {
		size_t start = i;
		bool digits = true;
		while (i < len && d[i] != '.') {
			unsigned char c = (unsigned char)d[i];
			if (!is_alnum(c) && c != '-')
				return false;
			if (!(c >= '0' && c <= '9'))
				digits = false;
			i++;
		}
		size_t n = i - start;
		if (n == 0 || n > 63 || d[start] == '-' || d[i - 1] == '-')
			return false;
		labels++;
		top_digits = digits;
		i++; /* skip the dot (or step past the end) */
	}
	return labels >= 2 && !top_digits;
}

bool consult_email_domain_ok(const char *domain)
{
	return domain && domain_ok_n(domain, strlen(domain));
}

consult_err consult_email_check(const char *addr)
{
	if (!addr)
		return CONSULT_ERR_MISSING_FIELD;
	size_t len = strlen(addr);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)addr[i];
		if (c < 0x20 || c == 0x7f)
			return CONSULT_ERR_INVALID_UTF8;
	}
	if (len > CONSULT_EMAIL_MAX)
		return CONSULT_ERR_TOO_LONG;
	const char *at = strchr(addr, '@');
	if (!at || strchr(at + 1, '@'))
		return CONSULT_ERR_INVALID_FIELD;
	size_t local = (size_t)(at - addr);
	if (local == 0 || local > CONSULT_EMAIL_LOCAL_MAX)
		return CONSULT_ERR_INVALID_FIELD;
	if (addr[0] == '.' || addr[local - 1] == '.')
		return CONSULT_ERR_INVALID_FIELD;
	for (size_t i = 0; i < local; i++) {
		unsigned char c = (unsigned char)addr[i];
		if (c == '.') {
			if (addr[i + 1] == '.')
				return CONSULT_ERR_INVALID_FIELD;
		} else if (!is_atext(c)) {
			return CONSULT_ERR_INVALID_FIELD;
		}
	}
	return domain_ok_n(at + 1, len - local - 1) ? CONSULT_OK : CONSULT_ERR_INVALID_FIELD;
}
