/* fuzz.h - shared helpers of the libFuzzer harnesses in tests/fuzz.
 *
 * Contract: FZ_CHECK aborts (a libFuzzer finding) when an invariant fails;
 * fz_in decodes structured values from the fuzz input (past the end every
 * read gives zeros/empty strings, so every input is a valid program);
 * fz_utf8 is an independent strict UTF-8 check (no overlong forms, no
 * surrogates, nothing above U+10FFFF) so harnesses do not trust the core's
 * own checker. Harnesses include only public headers of plugins/core.
 */
#ifndef CONSULT_FUZZ_H
#define CONSULT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(c)                                                                                \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

typedef struct fz_in {
	const uint8_t *p;
	size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint32_t fz_u32(fz_in *in)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | fz_u8(in);
	return v;
}

static inline int64_t fz_i64(fz_in *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | fz_u8(in);
	return (int64_t)v;
}

/* The bytes up to the next separator byte 0x00 (not included) or the end,
 * at most max, as a malloc'ed NUL-terminated string. */
static inline char *fz_str(fz_in *in, size_t max)
{
	size_t k = 0;
	while (k < in->n && k < max && in->p[k] != 0)
		k++;
	char *s = malloc(k + 1);
	if (!s)
		abort();
	memcpy(s, in->p, k);
	s[k] = '\0';
	in->p += k;
	in->n -= k;
	if (in->n && in->p[0] == 0) {
		in->p++;
		in->n--;
	}
	return s;
}

/* Decodes one UTF-8 sequence at s[0..n): its length, or 0 if invalid. */
static inline size_t fz_utf8_one(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static inline bool fz_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = fz_utf8_one(p + i, n - i, &cp);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* True if s[0..n) has a C0 control character or DEL other than those in allow. */
static inline bool fz_has_ctl(const char *s, size_t n, const char *allow)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 || c == 0x7f) && !(c && strchr(allow, c)))
			return true;
	}
	return false;
}

/* True if s[0..n) has a C1 control character (U+0080..U+009F, C2 80..C2 9F). */
static inline bool fz_has_c1(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f)
			return true;
	return false;
}

#endif
