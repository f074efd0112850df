/* rejoin.h - bounds on what one valid access code can make the server do.
 *
 * Contract: a consult_rejoin counts successful joins per appointment (an
 * int64 key) in a sliding window: at most max_joins inside any window_s
 * seconds. consult_rejoin_allowed() says whether one more may happen now
 * and, if not, in how many seconds the oldest counted join leaves the
 * window (>= 1). Only consult_rejoin_note() counts. Memory is bounded by
 * max_keys appointments: when full, the key whose newest join is oldest is
 * dropped. prune() forgets keys without a join inside the window.
 * consult_ended_kept() is the rule for the memory of ended visits (so a late
 * `call` is answered already_called): kept for CONSULT_ENDED_KEEP_S after
 * the end, then forgotten. Time is an argument; nothing here logs.
 */
#ifndef CONSULT_REJOIN_H
#define CONSULT_REJOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSULT_REJOIN_MAX       10  /* successful joins per appointment ... */
#define CONSULT_REJOIN_WINDOW_S  60  /* ... within any 60 s */
#define CONSULT_REJOIN_MAX_LIMIT 32  /* largest max_joins accepted by consult_rejoin_new */
#define CONSULT_ENDED_KEEP_S     900 /* ended visits remembered for 15 min */

typedef struct consult_rejoin consult_rejoin;

/* NULL if max_joins is 0 or above CONSULT_REJOIN_MAX_LIMIT, window_s < 1,
 * max_keys 0, or out of memory. */
consult_rejoin *consult_rejoin_new(unsigned max_joins, int64_t window_s, size_t max_keys);
void consult_rejoin_free(consult_rejoin *r);

bool consult_rejoin_allowed(consult_rejoin *r, int64_t key, int64_t now, int64_t *retry_after);
void consult_rejoin_note(consult_rejoin *r, int64_t key, int64_t now);
void consult_rejoin_prune(consult_rejoin *r, int64_t now);
size_t consult_rejoin_size(const consult_rejoin *r);

/* True while an ended visit (ended at ended_at) is still remembered at now. */
bool consult_ended_kept(int64_t ended_at, int64_t now);

#endif
