/* auth.h - staff passwords (argon2id via libsodium) and the rate limiters.
 *
 * Contract: glue_auth_init() picks the cost (config password_cost) and
 * prepares a dummy hash so that a login for an unknown user costs the same
 * time as one for a known user. glue_auth_verify() never touches glue.lock
 * (callers verify outside it). Rate limiter keys are built here; they are
 * never logged.
 */
#ifndef CONSULT_GLUE_AUTH_H
#define CONSULT_GLUE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
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

/* The limiters of protocol.md (5 failures / 10 min -> 60 s doubling to 1 h;
 * practice-wide join: 50 failures / 10 min). */
consult_ratelimit *glue_rl_new_login(void);
consult_ratelimit *glue_rl_new_practice(void);
/* Checks every key; false if any is locked, *retry_after = the longest wait. */
bool glue_rl_allowed(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, int64_t *retry_after);
void glue_rl_fail(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now);
void glue_rl_ok(consult_ratelimit *rl, const char *const *keys, size_t n);

#endif
