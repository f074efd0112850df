/* backoff.c - retry delays and result classification, see backoff.h. */
#include "backoff.h"

consult_backoff consult_backoff_default(void)
{
	return (consult_backoff){ CONSULT_BACKOFF_BASE_DEFAULT, CONSULT_BACKOFF_CAP_DEFAULT,
		CONSULT_BACKOFF_ATTEMPTS_DEFAULT, CONSULT_BACKOFF_JITTER_DEFAULT };
}

/* Delay in seconds after the failures-th failure (values below 1 count as 1). */
static int64_t delay(const consult_backoff *p, int failures, uint32_t rnd)
{
	int64_t d = p->base_s;
	for (int i = 1; i < failures && d < p->cap_s; i++)
		d *= 2;
	if (d > p->cap_s)
		d = p->cap_s;
	/* d <= 86400, jitter_pct <= 50, rnd < 2^32: the product fits in int64 */
	int64_t cut = (d * p->jitter_pct * (int64_t)rnd) / (100LL << 32);
	d -= cut;
	return d < 1 ? 1 : d;
}

bool consult_backoff_next(
        const consult_backoff *p, int64_t now, int failures, uint32_t rnd, int64_t deadline, int64_t *next_at)
{
	*next_at = 0;
	if (failures >= p->max_attempts)
		return false;
	int64_t d = delay(p, failures, rnd);
	if (now > INT64_MAX - d)
		return false;
	int64_t t = now + d;
	if (deadline > 0 && t > deadline)
		return false;
	*next_at = t;
	return true;
}

consult_delivery consult_smtp_classify(int code)
{
	if (code >= 200 && code <= 399)
		return CONSULT_DELIVERY_OK;
	if (code >= 500 && code <= 599)
		return CONSULT_DELIVERY_PERMANENT;
	return CONSULT_DELIVERY_TEMPORARY;
}

consult_delivery consult_http_classify(int status)
{
	if (status >= 200 && status <= 299)
		return CONSULT_DELIVERY_OK;
	if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		return CONSULT_DELIVERY_TEMPORARY;
	if (status >= 300 && status <= 499)
		return CONSULT_DELIVERY_PERMANENT;
	return CONSULT_DELIVERY_TEMPORARY;
}
