/* test_seal.c - the sealed access code: round trip, box layout (nonce
 * first, fixed overhead), a different nonce gives a different box, every
 * flipped byte and every truncation is refused, a foreign secret is
 * refused, the derived key is not the raw secret, bad inputs. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include "core/seal.h"

static uint8_t secret[CONSULT_SEAL_SECRET_LEN], other[CONSULT_SEAL_SECRET_LEN];
static uint8_t nonce1[CONSULT_SEAL_NONCE_LEN], nonce2[CONSULT_SEAL_NONCE_LEN];

static int setup(void **st)
{
	(void)st;
	if (sodium_init() < 0)
		return -1;
	for (int i = 0; i < CONSULT_SEAL_SECRET_LEN; i++) {
		secret[i] = (uint8_t)(i + 1);
		other[i] = (uint8_t)(i + 1);
	}
	other[31] ^= 1; /* one bit apart */
	memset(nonce1, 0xa5, sizeof nonce1);
	memset(nonce2, 0x5a, sizeof nonce2);
	return 0;
}

static void test_roundtrip(void **st)
{
	uint8_t box[CONSULT_SEAL_BOX_MAX];
	size_t len = 0;
	char out[CONSULT_SEAL_PLAIN_MAX + 1];
	assert_int_equal(consult_seal(secret, nonce1, "ABCD-EFGH-JKMN", box, &len), CONSULT_OK);
	assert_int_equal(len, CONSULT_SEAL_OVERHEAD + 14);
	assert_memory_equal(box, nonce1, CONSULT_SEAL_NONCE_LEN);
	/* the code does not appear in clear */
	assert_null(memmem(box, len, "ABCD", 4));
	assert_int_equal(consult_unseal(secret, box, len, out), CONSULT_OK);
	assert_string_equal(out, "ABCD-EFGH-JKMN");

	/* another nonce: another box, same plain text */
	uint8_t box2[CONSULT_SEAL_BOX_MAX];
	size_t len2 = 0;
	assert_int_equal(consult_seal(secret, nonce2, "ABCD-EFGH-JKMN", box2, &len2), CONSULT_OK);
	assert_int_equal(len2, len);
	assert_memory_not_equal(
	        box + CONSULT_SEAL_NONCE_LEN, box2 + CONSULT_SEAL_NONCE_LEN, len - CONSULT_SEAL_NONCE_LEN);
	assert_int_equal(consult_unseal(secret, box2, len2, out), CONSULT_OK);
	assert_string_equal(out, "ABCD-EFGH-JKMN");

	/* the maximum length */
	char big[CONSULT_SEAL_PLAIN_MAX + 1];
	memset(big, 'Z', CONSULT_SEAL_PLAIN_MAX);
	big[CONSULT_SEAL_PLAIN_MAX] = '\0';
	assert_int_equal(consult_seal(secret, nonce1, big, box, &len), CONSULT_OK);
	assert_int_equal(len, CONSULT_SEAL_BOX_MAX);
	assert_int_equal(consult_unseal(secret, box, len, out), CONSULT_OK);
	assert_string_equal(out, big);
}

/* The key is BLAKE2b(key=secret, "consult seal v1"), not the secret itself. */
static void test_key_derivation(void **st)
{
	uint8_t box[CONSULT_SEAL_BOX_MAX];
	size_t len = 0;
	assert_int_equal(consult_seal(secret, nonce1, "ABCD-EFGH-JKMN", box, &len), CONSULT_OK);
	uint8_t key[32], plain[16];
	crypto_generichash(key, sizeof key, (const unsigned char *)"consult seal v1", 15, secret, sizeof secret);
	assert_int_equal(crypto_secretbox_open_easy(plain, box + 24, len - 24, box, key), 0);
	assert_memory_equal(plain, "ABCD-EFGH-JKMN", 14);
	/* the raw secret as key does not open it */
	assert_int_not_equal(crypto_secretbox_open_easy(plain, box + 24, len - 24, box, secret), 0);
}

static void test_tamper(void **st)
{
	uint8_t box[CONSULT_SEAL_BOX_MAX];
	size_t len = 0;
	char out[CONSULT_SEAL_PLAIN_MAX + 1];
	assert_int_equal(consult_seal(secret, nonce1, "ABCD-EFGH-JKMN", box, &len), CONSULT_OK);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			box[i] ^= (uint8_t)(1u << bit);
			strcpy(out, "x");
			assert_int_equal(consult_unseal(secret, box, len, out), CONSULT_ERR_INVALID_FIELD);
			assert_string_equal(out, "");
			box[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (size_t n = 0; n < len; n++)
		assert_int_equal(consult_unseal(secret, box, n, out), CONSULT_ERR_INVALID_FIELD);
	/* one byte more than sealed (garbage appended) */
	box[len] = 0;
	assert_int_equal(consult_unseal(secret, box, len + 1, out), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_unseal(secret, box, len, out), CONSULT_OK);
}

static void test_wrong_key(void **st)
{
	uint8_t box[CONSULT_SEAL_BOX_MAX];
	size_t len = 0;
	char out[CONSULT_SEAL_PLAIN_MAX + 1];
	assert_int_equal(consult_seal(other, nonce1, "ABCD-EFGH-JKMN", box, &len), CONSULT_OK);
	assert_int_equal(consult_unseal(secret, box, len, out), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(out, "");
	assert_int_equal(consult_unseal(other, box, len, out), CONSULT_OK);
}

static void test_bad_input(void **st)
{
	uint8_t box[CONSULT_SEAL_BOX_MAX];
	size_t len = 99;
	char out[CONSULT_SEAL_PLAIN_MAX + 1];
	char big[CONSULT_SEAL_PLAIN_MAX + 2];
	memset(big, 'Z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(consult_seal(secret, nonce1, big, box, &len), CONSULT_ERR_TOO_LONG);
	assert_int_equal(len, 0);
	assert_int_equal(consult_seal(secret, nonce1, "", box, &len), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_seal(secret, nonce1, "AB\nCD", box, &len), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_seal(secret, nonce1, "AB CD", box, &len), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_seal(NULL, nonce1, "X", box, &len), CONSULT_ERR_MISSING_FIELD);
	assert_int_equal(consult_seal(secret, NULL, "X", box, &len), CONSULT_ERR_MISSING_FIELD);
	assert_int_equal(consult_seal(secret, nonce1, NULL, box, &len), CONSULT_ERR_MISSING_FIELD);
	assert_int_equal(consult_unseal(secret, NULL, 40, out), CONSULT_ERR_MISSING_FIELD);
	uint8_t huge[CONSULT_SEAL_BOX_MAX + 1] = { 0 };
	assert_int_equal(consult_unseal(secret, huge, sizeof huge, out), CONSULT_ERR_INVALID_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_key_derivation),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
