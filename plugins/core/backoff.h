/* backoff.h - the outbox retry policy and the classification of delivery
 * results.
 *
 * Contract: pure; `now` and the random value are arguments. After the
 * n-th failed attempt (n >= 1) the delay is min(cap, base * 2^(n-1)),
 * minus a jitter of up to jitter_pct percent chosen by `rnd`
 * (delay * (100 - jitter_pct * rnd / 2^32) / 100, at least 1 s): with the
 * defaults 30 s, 1 min, 2 min, 4 min, ... capped at 1 h, never above the
 * cap. After max_attempts attempts in total, or when the next attempt
 * would fall after a deadline (e.g. the appointment's start), the message
 * fails permanently.
 * Classification: SMTP 2xx/3xx ok, 4xx temporary, 5xx permanent; no reply
 * (0: connection refused, timeout, dropped) and anything else temporary.
 * HTTP 2xx ok; 408, 429, 5xx and 0 (network error) temporary; 3xx (the
 * gateway URL is wrong, redirects are not followed) and other 4xx
 * permanent; anything else (1xx, garbage) temporary.
 */
#ifndef CONSULT_BACKOFF_H
#define CONSULT_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>
#include "errors.h"

#define CONSULT_BACKOFF_BASE_DEFAULT     30 /* seconds */
#define CONSULT_BACKOFF_CAP_DEFAULT      3600
#define CONSULT_BACKOFF_ATTEMPTS_DEFAULT 10 /* ~3 h from first to last attempt */
#define CONSULT_BACKOFF_JITTER_DEFAULT   20 /* percent */
/* The configurable ranges (delivery_backoff_base_seconds, delivery_max_attempts). */
#define CONSULT_BACKOFF_BASE_MIN     1
#define CONSULT_BACKOFF_BASE_MAX     3600
#define CONSULT_BACKOFF_ATTEMPTS_MIN 1
#define CONSULT_BACKOFF_ATTEMPTS_MAX 100

typedef struct consult_backoff {
	int64_t base_s;   /* CONSULT_BACKOFF_BASE_MIN..MAX */
	int64_t cap_s;    /* >= base_s */
	int max_attempts; /* CONSULT_BACKOFF_ATTEMPTS_MIN..MAX, attempts in total including the first */
	int jitter_pct;   /* 0..50 */
} consult_backoff;

typedef enum consult_delivery {
	CONSULT_DELIVERY_OK = 0,
	CONSULT_DELIVERY_TEMPORARY = 1,
	CONSULT_DELIVERY_PERMANENT = 2,
} consult_delivery;

/* The defaults above. */
consult_backoff consult_backoff_default(void);

/* After `failures` failed attempts: true and *next_at = now + delay if
 * another attempt is allowed; false (permanent failure, *next_at = 0) if
 * failures >= max_attempts or next_at would be after `deadline`
 * (deadline <= 0: none). */
bool consult_backoff_next(
        const consult_backoff *p, int64_t now, int failures, uint32_t rnd, int64_t deadline, int64_t *next_at);

consult_delivery consult_smtp_classify(int reply_code);
consult_delivery consult_http_classify(int status);

#endif
