/* ratelimit.h - failure counting with lockout, keyed by an opaque string.
 *
 * Contract: after max_failures failures of one key inside window_s seconds,
 * that key is locked for lockout_s seconds, doubling with every further
 * lockout up to max_lockout_s. Success clears the key. Memory is bounded by
 * max_keys (oldest entries evicted first). Time is an argument. The caller
 * chooses keys (user name, handle, "global"); keys are never logged here.
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
/* Drops entries that are neither locked nor inside their window. */
void consult_ratelimit_prune(consult_ratelimit *rl, int64_t now);
size_t consult_ratelimit_size(const consult_ratelimit *rl);

#endif
