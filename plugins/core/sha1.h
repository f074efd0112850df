/* sha1.h - SHA-1 (FIPS 180-4) and HMAC-SHA1 (RFC 2104).
 *
 * Contract: pure, no allocation, no I/O. Exists only because the TURN REST
 * API (coturn use-auth-secret) needs HMAC-SHA1 and libsodium has none.
 * Do not use it for anything new: SHA-1 is not collision resistant (HMAC-SHA1
 * as a MAC is still sound). Tested against FIPS 180 and RFC 2202 vectors.
 */
#ifndef CONSULT_SHA1_H
#define CONSULT_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define CONSULT_SHA1_LEN   20
#define CONSULT_SHA1_BLOCK 64

typedef struct consult_sha1_ctx {
	uint32_t h[5];
	uint64_t total; /* bytes hashed so far */
	uint8_t buf[CONSULT_SHA1_BLOCK];
	size_t used; /* bytes waiting in buf */
} consult_sha1_ctx;

void consult_sha1_init(consult_sha1_ctx *ctx);
void consult_sha1_update(consult_sha1_ctx *ctx, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void consult_sha1_final(consult_sha1_ctx *ctx, uint8_t out[CONSULT_SHA1_LEN]);
void consult_sha1(const void *data, size_t len, uint8_t out[CONSULT_SHA1_LEN]);

/* HMAC-SHA1(key, msg). Keys longer than 64 bytes are hashed first (RFC 2104).
 * Intermediate key material is wiped before returning. */
void consult_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[CONSULT_SHA1_LEN]);

#endif
