/* estimate.h - the estimated wait of a waiting patient, from the lengths of
 * the day's consultations.
 *
 * Contract: only with enough history: at least CONSULT_WAIT_MIN_CALLS calls
 * of the practice that ended today and were connected. Their length runs
 * from the first "connected" report to the end. m is the median length of
 * today's calls of the visit's doctor if that doctor has at least
 * CONSULT_WAIT_MIN_CALLS of them, else of all the practice's calls.
 *   doctor's visit:     est = ahead * m + (the doctor is ringing or in a call ? m / 2 : 0)
 *   "any doctor" visit: est = ahead * m / k, k = doctors among today's calls (at least 1)
 * (ahead: the connected patients before it, queue.h; a call in progress has
 * half its length left on average). The range is est - m/2 .. est + m/2,
 * not below 0, widened to whole 5 minutes (min rounded down, max up; max
 * at least min + 5) and capped at CONSULT_WAIT_CAP_MIN. Without enough
 * history the estimate is unknown and the page shows the count only.
 * Pure: no clock, no allocation.
 */
#ifndef CONSULT_ESTIMATE_H
#define CONSULT_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSULT_WAIT_MIN_CALLS 3
#define CONSULT_WAIT_STEP_MIN  5
#define CONSULT_WAIT_CAP_MIN   1440 /* a day */

typedef struct consult_wait {
	bool known;           /* false: not enough history today */
	uint32_t min_minutes; /* multiple of 5, may be 0 */
	uint32_t max_minutes; /* multiple of 5, >= min_minutes + 5 */
} consult_wait;

/* What one estimate is computed from. */
typedef struct consult_wait_basis {
	uint32_t ahead;
	bool any_doctor;         /* the visit is for any doctor of the practice */
	bool doctor_busy;        /* a doctor's visit: that doctor is ringing or in a call */
	size_t doctor_calls;     /* today's connected calls of the visit's doctor ... */
	int64_t doctor_median_s; /* ... and their median length (seconds) */
	size_t practice_calls;   /* today's connected calls of the practice ... */
	int64_t practice_median_s;
	uint32_t practice_doctors; /* distinct doctors among them */
} consult_wait_basis;

consult_wait consult_wait_estimate(const consult_wait_basis *b);

/* A whole estimate as one number and back (0 = unknown), so the queue can
 * notice when a patient's estimate changed (queue.h, extra value). */
uint64_t consult_wait_pack(consult_wait w);
consult_wait consult_wait_unpack(uint64_t x);

/* One connected call that ended: its doctor, when it ended, its length. */
typedef struct consult_call_len {
	int64_t doctor_id;
	int64_t ended_at;
	int64_t seconds;
} consult_call_len;

/* The calls of calls[0..n) that ended in [from, to) and were taken by
 * doctor_id (0: by anyone): returns how many, and *median_s their median
 * length (the mean of the two middle ones for an even count; 0 if none).
 * scratch must hold n values; calls is not changed. */
size_t consult_call_median(const consult_call_len *calls, size_t n, int64_t doctor_id, int64_t from, int64_t to,
        int64_t *scratch, int64_t *median_s);

/* Distinct doctors (> 0) among the calls that ended in [from, to). O(n^2)
 * in the worst case; n is one practice's calls of one day. */
uint32_t consult_call_doctors(const consult_call_len *calls, size_t n, int64_t from, int64_t to);

#endif
