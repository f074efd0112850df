/* sha1.c - SHA-1 and HMAC-SHA1, straight from FIPS 180-4 section 6.1 and
 * RFC 2104. Pure: no allocation, no I/O. Key material and contexts are
 * wiped with sodium_memzero.
 */
#include <string.h>
#include <sodium.h>
#include "sha1.h"

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void block(uint32_t h[5], const uint8_t p[CONSULT_SHA1_BLOCK])
{
	uint32_t w[80];
	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
		        (uint32_t)p[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999u;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1u;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdcu;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6u;
		}
		uint32_t tmp = rol(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	sodium_memzero(w, sizeof w);
}

void consult_sha1_init(consult_sha1_ctx *ctx)
{
	static const uint32_t iv[5] = { 0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u };
	memcpy(ctx->h, iv, sizeof iv);
	ctx->total = 0;
	ctx->used = 0;
}

void consult_sha1_update(consult_sha1_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	ctx->total += len;
	while (len > 0) {
		size_t take = CONSULT_SHA1_BLOCK - ctx->used;
		if (take > len)
			take = len;
		memcpy(ctx->buf + ctx->used, p, take);
		ctx->used += take;
		p += take;
		len -= take;
		if (ctx->used == CONSULT_SHA1_BLOCK) {
			block(ctx->h, ctx->buf);
			ctx->used = 0;
		}
	}
}

void consult_sha1_final(consult_sha1_ctx *ctx, uint8_t out[CONSULT_SHA1_LEN])
{
	uint64_t bits = ctx->total * 8;
	ctx->buf[ctx->used++] = 0x80;
	if (ctx->used > CONSULT_SHA1_BLOCK - 8) {
		memset(ctx->buf + ctx->used, 0, CONSULT_SHA1_BLOCK - ctx->used);
		block(ctx->h, ctx->buf);
		ctx->used = 0;
	}
	memset(ctx->buf + ctx->used, 0, CONSULT_SHA1_BLOCK - 8 - ctx->used);
	for (int i = 0; i < 8; i++)
		ctx->buf[CONSULT_SHA1_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
	block(ctx->h, ctx->buf);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(ctx->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(ctx->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(ctx->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)ctx->h[i];
	}
	sodium_memzero(ctx, sizeof *ctx);
}

void consult_sha1(const void *data, size_t len, uint8_t out[CONSULT_SHA1_LEN])
{
	consult_sha1_ctx ctx;
	consult_sha1_init(&ctx);
	consult_sha1_update(&ctx, data, len);
	consult_sha1_final(&ctx, out);
}

void consult_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[CONSULT_SHA1_LEN])
{
	uint8_t k[CONSULT_SHA1_BLOCK] = { 0 }, pad[CONSULT_SHA1_BLOCK], inner[CONSULT_SHA1_LEN];
	consult_sha1_ctx ctx;
	if (key_len > CONSULT_SHA1_BLOCK)
		consult_sha1(key, key_len, k);
	else if (key_len > 0)
		memcpy(k, key, key_len);

	for (int i = 0; i < CONSULT_SHA1_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	consult_sha1_init(&ctx);
	consult_sha1_update(&ctx, pad, sizeof pad);
	consult_sha1_update(&ctx, msg, msg_len);
	consult_sha1_final(&ctx, inner);

	for (int i = 0; i < CONSULT_SHA1_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	consult_sha1_init(&ctx);
	consult_sha1_update(&ctx, pad, sizeof pad);
	consult_sha1_update(&ctx, inner, sizeof inner);
	consult_sha1_final(&ctx, out);

	sodium_memzero(k, sizeof k);
	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
}
