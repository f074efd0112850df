/* text.c - UTF-8 validation and control-character checks, see text.h,
 * plus consult_text_trim() of request.h. */
#include <stdint.h>
#include <string.h>
#include "text.h"
#include "request.h"

bool consult_utf8_next(const char *str, size_t len, size_t *i, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[*i];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return true;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		v = c & 0x07;
		min = 0x10000;
	} else
		return false;
	if (len - *i <= n)
		return false;
	for (size_t k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return false;
		v = (v << 6) | (s[*i + k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return false;
	*cp = v;
	*i += n + 1;
	return true;
}

static bool utf8_valid(const char *str, size_t len)
{
	uint32_t cp;
	for (size_t i = 0; i < len;)
		if (!consult_utf8_next(str, len, &i, &cp))
			return false;
	return true;
}

bool consult_text_clean(const char *str, size_t len, bool lines)
{
	const unsigned char *s = (const unsigned char *)str;
	if (!utf8_valid(str, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c < 0x20 || c == 0x7f) {
			if (lines && (c == '\r' || c == '\n' || c == '\t'))
				continue;
			return false;
		}
		/* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F */
		if (c == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

bool consult_ascii_only(const char *s, size_t len, bool (*ok)(unsigned char c))
{
	for (size_t i = 0; i < len; i++)
		if (!ok((unsigned char)s[i]))
			return false;
	return true;
}

const char *consult_text_trim(const char *s, size_t *len)
{
	size_t n = strlen(s);
	while (n && *s == ' ') {
		s++;
		n--;
	}
	while (n && s[n - 1] == ' ')
		n--;
	if (len)
		*len = n;
	return s;
}
