/* ratelimit.h - failure counting with lockout, keyed by an opaque string.
 *
 * Contract: after max_failures failures of one key inside window_s seconds,
 * that key is locked for lockout_s seconds, doubling with every further
 * lockout up to max_lockout_s. Success clears the key. Memory is bounded by
 * max_keys (oldest entries evicted first). Time is an argument. The caller
 * chooses keys (user name, handle, "global"); keys are never logged here.
 *
 * Attempts in flight: a caller whose check is slow (a password hash) first
 * reserves the attempt and settles it when the outcome is known. A key
 * whose failures plus attempts in flight reach max_failures refuses new
 * reservations until they settle, so N simultaneous attempts can never run
 * more than max_failures checks.
 */
#ifndef CONSULT_RATELIMIT_H
#define CONSULT_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct consult_ratelimit consult_ratelimit;

typedef struct consult_ratelimit_cfg {
	unsigned max_failures;
	int64_t window_s;
	int64_t lockout_s;
	int64_t max_lockout_s;
	size_t max_keys;
} consult_ratelimit_cfg;

consult_ratelimit *consult_ratelimit_new(const consult_ratelimit_cfg *cfg);
void consult_ratelimit_free(consult_ratelimit *rl);

/* True if the key may try now; else *retry_after (if given) = seconds to wait (>=1). */
bool consult_ratelimit_allowed(consult_ratelimit *rl, const char *key, int64_t now, int64_t *retry_after);
void consult_ratelimit_failure(consult_ratelimit *rl, const char *key, int64_t now);
void consult_ratelimit_success(consult_ratelimit *rl, const char *key);
/* Reserves one attempt of key: false if the key is locked (*retry_after =
 * the rest of the lock) or if its failures in the current window plus the
 * attempts already in flight reach max_failures (*retry_after = 1: they
 * settle soon). Else true, and the caller must settle it exactly once. */
bool consult_ratelimit_reserve(consult_ratelimit *rl, const char *key, int64_t now, int64_t *retry_after);
typedef enum consult_rl_outcome {
	CONSULT_RL_FAILED = 0, /* counts as consult_ratelimit_failure */
	CONSULT_RL_SUCCEEDED,  /* as consult_ratelimit_success */
	CONSULT_RL_CANCELLED   /* no outcome (e.g. the attempt was not made): only the reservation ends */
} consult_rl_outcome;
void consult_ratelimit_settle(consult_ratelimit *rl, const char *key, int64_t now, consult_rl_outcome outcome);
/* One key's failures and lock as values, so a store can keep them for
 * all instances that share it (the limiter above keeps the same per key
 * in memory). The functions apply this file's policy to a state. */
typedef struct consult_rl_state {
	unsigned failures;    /* in the current window */
	unsigned lockouts;    /* locks so far: the next one lasts twice as long */
	int64_t window_start; /* seconds, as every time here */
	int64_t last_failure;
	int64_t locked_until;
} consult_rl_state;
/* A key without failures, as of now. */
void consult_rl_state_init(consult_rl_state *st, int64_t now);
/* Counts one failure at now (nothing while locked); the max_failures-th in
 * a window locks. */
void consult_rl_state_fail(const consult_ratelimit_cfg *cfg, consult_rl_state *st, int64_t now);
/* True while locked; then *retry_after (if given) = seconds left (>=1). */
bool consult_rl_state_locked(const consult_rl_state *st, int64_t now, int64_t *retry_after);
/* From this time on the state holds nothing worth keeping. */
int64_t consult_rl_state_forget_at(const consult_ratelimit_cfg *cfg, const consult_rl_state *st);
/* The limiter's configuration as it applies it (bounds filled in). */
const consult_ratelimit_cfg *consult_ratelimit_cfg_of(const consult_ratelimit *rl);

/* Drops entries that are neither locked nor inside their window nor in flight. */
void consult_ratelimit_prune(consult_ratelimit *rl, int64_t now);
size_t consult_ratelimit_size(const consult_ratelimit *rl);

#endif
