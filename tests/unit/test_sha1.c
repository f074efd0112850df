/* test_sha1.c - SHA-1 against the FIPS 180 examples plus padding edge
 * lengths, incremental updates, and HMAC-SHA1 against all seven RFC 2202
 * test cases. Extra vectors computed independently with python3 hashlib/hmac. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/sha1.h"

static void hex(const uint8_t d[CONSULT_SHA1_LEN], char out[2 * CONSULT_SHA1_LEN + 1])
{
	for (int i = 0; i < CONSULT_SHA1_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_sha1(const void *msg, size_t len, const char *expect)
{
	uint8_t d[CONSULT_SHA1_LEN];
	char h[2 * CONSULT_SHA1_LEN + 1];
	consult_sha1(msg, len, d);
	hex(d, h);
	assert_string_equal(h, expect);
}

static void test_fips_vectors(void **st)
{
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check_sha1(m448, strlen(m448), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	                   "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	check_sha1(m896, strlen(m896), "a49b2446a02c645bf419f995b67091253a04a259");
}

static void test_million_a(void **st)
{
	char *m = malloc(1000000);
	assert_non_null(m);
	memset(m, 'a', 1000000);
	check_sha1(m, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(m);
}

static void test_padding_edges(void **st)
{
	/* 55 fits one block with the length; 56 and 64 need a second; 119 two+ */
	static const struct {
		size_t n;
		const char *h;
	} v[] = {
		{ 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a" },
		{ 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699" },
		{ 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d" },
		{ 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56" },
	};
	char m[128];
	memset(m, 'a', sizeof m);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		check_sha1(m, v[i].n, v[i].h);
}

static void test_incremental_equals_oneshot(void **st)
{
	const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	size_t n = strlen(m);
	uint8_t one[CONSULT_SHA1_LEN];
	consult_sha1(m, n, one);
	for (size_t step = 1; step <= n; step += 7) {
		consult_sha1_ctx ctx;
		uint8_t inc[CONSULT_SHA1_LEN];
		consult_sha1_init(&ctx);
		for (size_t off = 0; off < n; off += step)
			consult_sha1_update(&ctx, m + off, off + step > n ? n - off : step);
		consult_sha1_final(&ctx, inc);
		assert_memory_equal(one, inc, sizeof one);
	}
}

static void check_hmac(const void *key, size_t kl, const void *msg, size_t ml, const char *expect)
{
	uint8_t d[CONSULT_SHA1_LEN];
	char h[2 * CONSULT_SHA1_LEN + 1];
	consult_hmac_sha1(key, kl, msg, ml, d);
	hex(d, h);
	assert_string_equal(h, expect);
}

static void test_rfc2202(void **st)
{
	uint8_t k[80], m[80];
	memset(k, 0x0b, 20);
	check_hmac(k, 20, "Hi There", 8, "b617318655057264e28bc0b6fb378c8ef146be00");
	check_hmac("Jefe", 4, "what do ya want for nothing?", 28, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	memset(k, 0xaa, 20);
	memset(m, 0xdd, 50);
	check_hmac(k, 20, m, 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
	for (int i = 0; i < 25; i++)
		k[i] = (uint8_t)(i + 1);
	memset(m, 0xcd, 50);
	check_hmac(k, 25, m, 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
	memset(k, 0x0c, 20);
	check_hmac(k, 20, "Test With Truncation", 20, "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04");
	memset(k, 0xaa, 80);
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	check_hmac(k, 80, m6, strlen(m6), "aa4ae5e15272d00e95705637ce8a3b55ed402112");
	const char *m7 = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
	check_hmac(k, 80, m7, strlen(m7), "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

static void test_hmac_block_sized_key(void **st)
{
	/* exactly 64 bytes: used as is, not hashed (python3 hmac) */
	uint8_t k[64];
	memset(k, 'k', sizeof k);
	check_hmac(k, sizeof k, "", 0, "b6b10bf17b16d7347adb5e4149102761dbb3bcbd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_padding_edges),
		cmocka_unit_test(test_incremental_equals_oneshot),
		cmocka_unit_test(test_rfc2202),
		cmocka_unit_test(test_hmac_block_sized_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
