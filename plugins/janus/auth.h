/* auth.h - staff passwords (argon2id via libsodium) and the rate limiters.
 *
 * Contract: glue_auth_init() picks the cost (config password_cost) and
 * prepares a dummy hash so that a login for an unknown user costs the same
 * time as one for a known user. glue_auth_verify() never touches glue.lock
 * (callers verify outside it). Rate limiter keys are built here; they are
 * never logged.
 *
 * At most password_checks login checks run at once (glue_auth_slot_take;
 * one slot more for a login with a valid device token); the rest are
 * answered `busy`. Device tokens: 32 random bytes, base64url (43
 * characters), stored only as BLAKE2b-256 of a domain string and the token.
 * Session tokens likewise, under their own domain string.
 */
#ifndef CONSULT_GLUE_AUTH_H
#define CONSULT_GLUE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
#include <jansson.h>
#include "cfg.h"
#include "core/ratelimit.h"

#define GLUE_HASH_LEN crypto_pwhash_STRBYTES

int glue_auth_init(glue_pw_cost cost);
void glue_auth_deinit(void);
/* argon2id string of password into out; false on failure (out of memory). */
bool glue_auth_hash(const char *password, char out[GLUE_HASH_LEN]);
/* True if password matches hash. hash NULL: verifies against the dummy and
 * returns false. */
bool glue_auth_verify(const char *hash, const char *password);
/* Login password checks run since start (admin stats "logins"). */
int64_t glue_auth_verifications(void);

/* The cap on password checks at once (config password_checks). */
void glue_auth_slots_init(int64_t max);
/* Takes a slot (trusted: may use the one kept for valid device tokens);
 * false = all busy (counted). Every true needs one glue_auth_slot_give. */
bool glue_auth_slot_take(bool trusted);
void glue_auth_slot_give(void);
void glue_auth_count_rate_limited(void);
/* Admin stats "logins": {verifications, active, limit, busy, rate_limited}. */
json_t *glue_auth_stats(void);

/* Device tokens (docs/protocol.md, "Login protection"). */
#define GLUE_DEVICE_TOKEN_LEN 43
#define GLUE_DEVICE_HASH_LEN  32
#define GLUE_DEVICE_TTL_DAYS  90 /* unused this long: invalid, and purged */
#define GLUE_DEVICE_KEEP      10 /* devices kept per staff member */
void glue_device_token_new(char token[GLUE_DEVICE_TOKEN_LEN + 1], uint8_t hash[GLUE_DEVICE_HASH_LEN]);
void glue_device_token_hash(const char *token, uint8_t hash[GLUE_DEVICE_HASH_LEN]);

/* Session tokens (docs/protocol.md, `resume`): one per login, 32 random
 * bytes, base64url (43 characters), stored only as BLAKE2b-256 of another
 * domain string and the token. A session is valid while it was used within
 * staff_idle_minutes; its use is written at most every
 * GLUE_SESSION_TOUCH_S, so a token stays valid up to that much longer. */
#define GLUE_SESSION_TOKEN_LEN 43
#define GLUE_SESSION_HASH_LEN  32
#define GLUE_SESSION_TOUCH_S   60
void glue_session_token_new(char token[GLUE_SESSION_TOKEN_LEN + 1], uint8_t hash[GLUE_SESSION_HASH_LEN]);
void glue_session_token_hash(const char *token, uint8_t hash[GLUE_SESSION_HASH_LEN]);

/* The limiters of protocol.md: logins 5 failures / 24 h -> 60 s doubling
 * to 1 h (level kept 24 h); joins 5 failures / 10 min, same locks;
 * practice-wide join: 50 failures / 10 min. */
consult_ratelimit *glue_rl_new_login(void);
consult_ratelimit *glue_rl_new_join(void);
consult_ratelimit *glue_rl_new_practice(void);
/* Checks every key; false if any is locked, *retry_after = the longest wait. */
bool glue_rl_allowed(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, int64_t *retry_after);
void glue_rl_fail(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now);
void glue_rl_ok(consult_ratelimit *rl, const char *const *keys, size_t n);
/* Reserves an attempt on every key or on none (core/ratelimit.h): false if
 * any is locked or has max_failures attempts failed or in flight;
 * *retry_after = the longest wait. Each true needs one glue_rl_settle. */
bool glue_rl_reserve(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, int64_t *retry_after);
void glue_rl_settle(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, consult_rl_outcome outcome);

#endif
