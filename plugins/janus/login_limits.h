/* login_limits.h - failed logins counted once across the instances that
 * share the store.
 *
 * Contract: each instance keeps its own limiter (auth.h) for attempts in
 * flight and its handles; these calls add the store's shared count of a
 * user-name or device key, so guesses spread over several instances lock
 * the key as soon as they reach the limit together, and a lock survives a
 * restart or a failover. The store sees only a BLAKE2b digest of the key,
 * keyed with a subkey of code_secret (the same on every instance), never a
 * user name. A failing store never locks anybody out (the local limiter
 * still applies); its failure is counted by the store's error hook.
 */
#ifndef CONSULT_GLUE_LOGIN_LIMITS_H
#define CONSULT_GLUE_LOGIN_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include "core/ratelimit.h"
#include "store/store.h"

/* True if key is locked in the store; *retry_after = seconds left. */
bool glue_login_limit_locked(consult_store *s, const char *key, int64_t now, int64_t *retry_after);
/* Records an attempt's outcome: a failure counts under the login
 * limiter's policy, a success forgets the key, a cancel changes nothing. */
void glue_login_limit_settle(consult_store *s, const char *key, int64_t now, consult_rl_outcome outcome);
/* Forgets key (a new password, enabled again). */
void glue_login_limit_clear(consult_store *s, const char *key);
/* Removes keys with nothing left to keep (the timer, with the purge). */
void glue_login_limit_prune(consult_store *s, int64_t now);

#endif
