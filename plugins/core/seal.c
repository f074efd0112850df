/* seal.c - seal/unseal the access code for storage, see seal.h. */
#include <string.h>
#include <sodium.h>
#include "seal.h"

_Static_assert(CONSULT_SEAL_NONCE_LEN == crypto_secretbox_NONCEBYTES, "nonce size");
_Static_assert(CONSULT_SEAL_MAC_LEN == crypto_secretbox_MACBYTES, "mac size");
_Static_assert(CONSULT_SEAL_SECRET_LEN == crypto_secretbox_KEYBYTES, "key size");

static int derive(const uint8_t secret[CONSULT_SEAL_SECRET_LEN], uint8_t key[crypto_secretbox_KEYBYTES])
{
	return crypto_generichash(key, crypto_secretbox_KEYBYTES, (const unsigned char *)CONSULT_SEAL_CONTEXT,
	        sizeof(CONSULT_SEAL_CONTEXT) - 1, secret, CONSULT_SEAL_SECRET_LEN);
}

static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

consult_err consult_seal(const uint8_t secret[CONSULT_SEAL_SECRET_LEN], const uint8_t nonce[CONSULT_SEAL_NONCE_LEN],
        const char *plain, uint8_t box[CONSULT_SEAL_BOX_MAX], size_t *box_len)
{
	if (box_len)
		*box_len = 0;
	if (!secret || !nonce || !plain || !box || !box_len)
		return CONSULT_ERR_MISSING_FIELD;
	size_t n = strnlen(plain, CONSULT_SEAL_PLAIN_MAX + 1);
	if (n > CONSULT_SEAL_PLAIN_MAX)
		return CONSULT_ERR_TOO_LONG;
	if (n == 0 || !printable(plain, n))
		return CONSULT_ERR_INVALID_FIELD;
	uint8_t key[crypto_secretbox_KEYBYTES];
	if (derive(secret, key) != 0) {
		sodium_memzero(key, sizeof key);
		return CONSULT_ERR_INTERNAL;
	}
	memcpy(box, nonce, CONSULT_SEAL_NONCE_LEN);
	int rc = crypto_secretbox_easy(box + CONSULT_SEAL_NONCE_LEN, (const unsigned char *)plain, n, nonce, key);
	sodium_memzero(key, sizeof key);
	if (rc != 0)
		return CONSULT_ERR_INTERNAL;
	*box_len = CONSULT_SEAL_OVERHEAD + n;
	return CONSULT_OK;
}

consult_err consult_unseal(const uint8_t secret[CONSULT_SEAL_SECRET_LEN], const uint8_t *box, size_t box_len,
        char out[CONSULT_SEAL_PLAIN_MAX + 1])
{
	if (out)
		out[0] = '\0';
	if (!secret || !box || !out)
		return CONSULT_ERR_MISSING_FIELD;
	if (box_len <= CONSULT_SEAL_OVERHEAD || box_len > CONSULT_SEAL_BOX_MAX)
		return CONSULT_ERR_INVALID_FIELD;
	uint8_t key[crypto_secretbox_KEYBYTES];
	if (derive(secret, key) != 0) {
		sodium_memzero(key, sizeof key);
		return CONSULT_ERR_INTERNAL;
	}
	size_t n = box_len - CONSULT_SEAL_OVERHEAD;
	unsigned char plain[CONSULT_SEAL_PLAIN_MAX];
	int rc = crypto_secretbox_open_easy(
	        plain, box + CONSULT_SEAL_NONCE_LEN, box_len - CONSULT_SEAL_NONCE_LEN, box, key);
	sodium_memzero(key, sizeof key);
	if (rc != 0 || !printable((const char *)plain, n)) {
		sodium_memzero(plain, sizeof plain);
		return CONSULT_ERR_INVALID_FIELD;
	}
	memcpy(out, plain, n);
	out[n] = '\0';
	sodium_memzero(plain, sizeof plain);
	return CONSULT_OK;
}
