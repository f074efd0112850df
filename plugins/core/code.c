/* code.c - patient access codes.
 *
 * Contract: generation takes the 8 random bytes as one big-endian 64-bit
 * number and uses its top 60 bits, 5 bits per symbol, most significant
 * first, in Crockford's alphabet 0-9 A-Z without I L O U. Normalisation is
 * case-insensitive, skips ' ' and '-', reads O as 0 and I/L as 1 and needs
 * exactly 12 symbols. The hash is HMAC-SHA256(key, be64(practice_id) ||
 * 12 symbols) via libsodium. Pure: no clock, no RNG, no I/O.
 */
#include <string.h>
#include <sodium.h>
#include "code.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void consult_code_generate(const uint8_t random[CONSULT_CODE_RANDOM], char out[CONSULT_CODE_SHOW_LEN])
{
	uint64_t v = 0;
	for (int i = 0; i < CONSULT_CODE_RANDOM; i++)
		v = (v << 8) | random[i];
	v >>= 4; /* keep the top 60 bits */
	size_t o = 0;
	for (int i = 0; i < CONSULT_CODE_SYMBOLS; i++) {
		if (i == 4 || i == 8)
			out[o++] = '-';
		out[o++] = alphabet[(v >> (5 * (CONSULT_CODE_SYMBOLS - 1 - i))) & 31];
	}
	out[o] = '\0';
}

/* The canonical symbol for one input character: a symbol, 0 to skip, -1 bad. */
static int map_char(unsigned char c)
{
	if (c == ' ' || c == '-')
		return 0;
	if (c >= 'a' && c <= 'z')
		c = (unsigned char)(c - 'a' + 'A');
	if (c >= '0' && c <= '9')
		return c;
	switch (c) {
	case 'O':
		return '0';
	case 'I':
	case 'L':
		return '1';
	case 'U':
		return -1;
	default:
		break;
	}
	if (c >= 'A' && c <= 'Z')
		return c;
	return -1;
}

bool consult_code_normalise(const char *input, char out[CONSULT_CODE_NORM_LEN])
{
	char buf[CONSULT_CODE_NORM_LEN];
	size_t n = 0;
	if (!input)
		return false;
	for (const unsigned char *p = (const unsigned char *)input; *p; p++) {
		int m = map_char(*p);
		if (m < 0)
			return false;
		if (m == 0)
			continue;
		if (n >= CONSULT_CODE_SYMBOLS)
			return false;
		buf[n++] = (char)m;
	}
	if (n != CONSULT_CODE_SYMBOLS)
		return false;
	buf[n] = '\0';
	memcpy(out, buf, sizeof buf);
	return true;
}

void consult_code_hash(const uint8_t key[CONSULT_CODE_KEY_LEN], int64_t practice_id,
        const char norm[CONSULT_CODE_NORM_LEN], uint8_t out[CONSULT_CODE_HASH_LEN])
{
	crypto_auth_hmacsha256_state st;
	uint8_t be[8];
	uint64_t p = (uint64_t)practice_id;
	for (int i = 7; i >= 0; i--) {
		be[i] = (uint8_t)(p & 0xff);
		p >>= 8;
	}
	crypto_auth_hmacsha256_init(&st, key, CONSULT_CODE_KEY_LEN);
	crypto_auth_hmacsha256_update(&st, be, sizeof be);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)norm, CONSULT_CODE_SYMBOLS);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

consult_window consult_code_window(int64_t now, int64_t valid_from, int64_t valid_until)
{
	if (now < valid_from)
		return CONSULT_WINDOW_TOO_EARLY;
	if (now > valid_until)
		return CONSULT_WINDOW_EXPIRED;
	return CONSULT_WINDOW_OPEN;
}
