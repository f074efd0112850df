/* fuzz_code.c - access codes (code.c) and their sealed copy (seal.c).
 *
 * Input: a mode byte, then data. Modes:
 *   normalise: an accepted input gives 12 symbols of the Crockford alphabet
 *     (no I L O U), normalising the result gives itself, and the keyed hash
 *     is deterministic and differs for another practice;
 *   generate: 8 random bytes give "XXXX-XXXX-XXXX" that normalises (also in
 *     lower case, without dashes) to the same 12 symbols;
 *   unseal: a box of any bytes under the real secret fails with
 *     invalid_field and an empty output (a forged box never opens);
 *   seal: any plain text seals only if it is 1..64 visible ASCII bytes,
 *     the box is 40 + len bytes, opens to the same text, and one flipped
 *     bit (chosen by the input) makes it fail.
 */
#include "fuzz.h"
#include <ctype.h>
#include <sodium.h>
#include "core/code.h"
#include "core/seal.h"

static const char ALPHA[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const uint8_t SECRET[CONSULT_SEAL_SECRET_LEN] = "0123456789abcdef0123456789abcdef";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void norm_ok(const char *norm)
{
	FZ_CHECK(strlen(norm) == CONSULT_CODE_SYMBOLS);
	for (const char *p = norm; *p; p++)
		FZ_CHECK(strchr(ALPHA, *p) && *p);
	char again[CONSULT_CODE_NORM_LEN];
	FZ_CHECK(consult_code_normalise(norm, again) && strcmp(again, norm) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	uint8_t mode = fz_u8(&in);
	switch (mode % 4) {
	case 0: {
		char *s = fz_str(&in, 256);
		char out[CONSULT_CODE_NORM_LEN];
		memset(out, 'x', sizeof out);
		if (consult_code_normalise(s, out)) {
			norm_ok(out);
			uint8_t h1[CONSULT_CODE_HASH_LEN], h2[CONSULT_CODE_HASH_LEN], h3[CONSULT_CODE_HASH_LEN];
			consult_code_hash(SECRET, 7, out, h1);
			consult_code_hash(SECRET, 7, out, h2);
			consult_code_hash(SECRET, 8, out, h3);
			FZ_CHECK(memcmp(h1, h2, sizeof h1) == 0);
			FZ_CHECK(memcmp(h1, h3, sizeof h1) != 0);
		} else {
			FZ_CHECK(memchr(out, 'x', sizeof out) == out); /* untouched */
		}
		free(s);
		break;
	}
	case 1: {
		uint8_t rnd[CONSULT_CODE_RANDOM];
		for (size_t i = 0; i < sizeof rnd; i++)
			rnd[i] = fz_u8(&in);
		char show[CONSULT_CODE_SHOW_LEN], norm[CONSULT_CODE_NORM_LEN], low[CONSULT_CODE_SHOW_LEN];
		consult_code_generate(rnd, show);
		FZ_CHECK(strlen(show) == 14 && show[4] == '-' && show[9] == '-');
		FZ_CHECK(consult_code_normalise(show, norm));
		norm_ok(norm);
		FZ_CHECK(memcmp(norm, show, 4) == 0 && memcmp(norm + 4, show + 5, 4) == 0 &&
		        memcmp(norm + 8, show + 10, 4) == 0);
		for (size_t i = 0; i < sizeof show; i++)
			low[i] = (char)tolower((unsigned char)show[i]);
		char norm2[CONSULT_CODE_NORM_LEN];
		FZ_CHECK(consult_code_normalise(low, norm2) && strcmp(norm, norm2) == 0);
		break;
	}
	case 2: {
		char out[CONSULT_SEAL_PLAIN_MAX + 1];
		memset(out, 'x', sizeof out);
		consult_err e = consult_unseal(SECRET, in.p, in.n, out);
		FZ_CHECK(e == CONSULT_ERR_INVALID_FIELD);
		FZ_CHECK(out[0] == '\0');
		break;
	}
	case 3: {
		uint8_t nonce[CONSULT_SEAL_NONCE_LEN];
		for (size_t i = 0; i < sizeof nonce; i++)
			nonce[i] = fz_u8(&in);
		uint8_t flip = fz_u8(&in);
		char *plain = fz_str(&in, 256);
		size_t n = strlen(plain);
		uint8_t box[CONSULT_SEAL_BOX_MAX];
		size_t box_len = 0;
		consult_err e = consult_seal(SECRET, nonce, plain, box, &box_len);
		bool printable = n >= 1;
		for (size_t i = 0; i < n; i++)
			printable &= plain[i] > 0x20 && plain[i] < 0x7f; /* visible ASCII, no space */
		if (e == CONSULT_OK) {
			FZ_CHECK(printable && n <= CONSULT_SEAL_PLAIN_MAX);
			FZ_CHECK(box_len == CONSULT_SEAL_OVERHEAD + n);
			FZ_CHECK(memcmp(box, nonce, sizeof nonce) == 0);
			char out[CONSULT_SEAL_PLAIN_MAX + 1];
			FZ_CHECK(consult_unseal(SECRET, box, box_len, out) == CONSULT_OK && strcmp(out, plain) == 0);
			box[(flip >> 3) % box_len] ^= (uint8_t)(1u << (flip & 7));
			FZ_CHECK(consult_unseal(SECRET, box, box_len, out) == CONSULT_ERR_INVALID_FIELD &&
			        out[0] == '\0');
			FZ_CHECK(consult_unseal(SECRET, box, box_len - 1, out) == CONSULT_ERR_INVALID_FIELD);
		} else {
			FZ_CHECK(!printable || n > CONSULT_SEAL_PLAIN_MAX);
			FZ_CHECK(e == (n > CONSULT_SEAL_PLAIN_MAX ? CONSULT_ERR_TOO_LONG : CONSULT_ERR_INVALID_FIELD));
		}
		free(plain);
		break;
	}
	}
	return 0;
}
