/* clock.h - the glue's one clock.
 *
 * Contract: glue_now() is the wall clock (seconds since the epoch) plus an
 * offset that is 0 in production. Every time the glue hands to the core or
 * the store (requests, the timer's grace/idle/ring expiry, destroy_session,
 * the outbox, the admin API) comes from here. Only when Janus runs with
 * CONSULT_TEST=1 in its environment (read once at init, glue_clock_init)
 * may the admin request test_clock set the offset, so a test advances time
 * instead of sleeping through a timer; otherwise the request is refused.
 * Thread-safe (the offset is atomic).
 */
#ifndef CONSULT_GLUE_CLOCK_H
#define CONSULT_GLUE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Reads CONSULT_TEST once and resets the offset to 0 (plugin init). */
void glue_clock_init(void);
/* true when Janus runs with CONSULT_TEST=1 (test-only keys and requests). */
bool glue_test_mode(void);
/* Wall time plus the test offset, in seconds. */
int64_t glue_now(void);
/* The current offset in seconds (0 unless a test set it). */
int64_t glue_clock_offset(void);
/* Sets the offset (|seconds| <= CONSULT_TEST_CLOCK_MAX_OFFSET); false
 * without changing anything unless glue_test_mode(). */
bool glue_clock_set_offset(int64_t seconds);

#endif
