/* snapshot.h - when a copy of store data held in memory may still be used.
 *
 * Contract: pure; times are arguments (milliseconds of a monotonic clock).
 * A copy (the glue's per-practice snapshot of practice flags and staff
 * names) is fresh while it is younger than ttl_ms: loaded_ms <= now_ms
 * and now_ms - loaded_ms < ttl_ms. A clock that went back (now_ms before
 * loaded_ms), a ttl of 0 or less, or a copy never loaded (loaded_ms < 0)
 * are stale, so the caller reads the store again. The TTL bounds how long
 * a change written by ANOTHER instance sharing the store stays unseen; the
 * instance's own writes drop the copy at once (the glue's business).
 */
#ifndef CONSULT_SNAPSHOT_H
#define CONSULT_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

/* How long a practice's snapshot is used before the store is read again. */
#define CONSULT_SNAPSHOT_TTL_MS 3000

bool consult_snapshot_fresh(int64_t loaded_ms, int64_t now_ms, int64_t ttl_ms);

#endif
