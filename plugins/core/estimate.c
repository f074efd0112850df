/* estimate.c - the estimated wait (see estimate.h). */
#include <stdlib.h>
#include "estimate.h"

#define STEP_S ((int64_t)CONSULT_WAIT_STEP_MIN * 60)
#define CAP_S  ((int64_t)CONSULT_WAIT_CAP_MIN * 60)

consult_wait consult_wait_estimate(const consult_wait_basis *b)
{
	consult_wait w = { false, 0, 0 };
	if (b->practice_calls < CONSULT_WAIT_MIN_CALLS || b->practice_median_s <= 0)
		return w;
	bool own = !b->any_doctor && b->doctor_calls >= CONSULT_WAIT_MIN_CALLS && b->doctor_median_s > 0;
	int64_t m = own ? b->doctor_median_s : b->practice_median_s;
	if (m > CAP_S) /* bounds every product below */
		m = CAP_S;
	int64_t est;
	if (b->any_doctor) {
		int64_t k = b->practice_doctors ? b->practice_doctors : 1;
		est = (int64_t)b->ahead * m / k;
	} else {
		est = (int64_t)b->ahead * m + (b->doctor_busy ? m / 2 : 0);
	}
	if (est > CAP_S)
		est = CAP_S;
	int64_t lo = est - m / 2, hi = est + m / 2;
	if (lo < 0)
		lo = 0;
	int64_t lo_min = lo / STEP_S * CONSULT_WAIT_STEP_MIN;
	int64_t hi_min = (hi + STEP_S - 1) / STEP_S * CONSULT_WAIT_STEP_MIN;
	if (hi_min > CONSULT_WAIT_CAP_MIN)
		hi_min = CONSULT_WAIT_CAP_MIN;
	if (lo_min > CONSULT_WAIT_CAP_MIN - CONSULT_WAIT_STEP_MIN)
		lo_min = CONSULT_WAIT_CAP_MIN - CONSULT_WAIT_STEP_MIN;
	if (hi_min < lo_min + CONSULT_WAIT_STEP_MIN)
		hi_min = lo_min + CONSULT_WAIT_STEP_MIN;
	w.known = true;
	w.min_minutes = (uint32_t)lo_min;
	w.max_minutes = (uint32_t)hi_min;
	return w;
}

uint64_t consult_wait_pack(consult_wait w)
{
	if (!w.known)
		return 0;
	return (1ULL << 63) | ((uint64_t)w.min_minutes << 32) | w.max_minutes;
}

consult_wait consult_wait_unpack(uint64_t x)
{
	consult_wait w = { false, 0, 0 };
	if (!(x >> 63))
		return w;
	w.known = true;
	w.min_minutes = (uint32_t)((x >> 32) & 0x7fffffffu);
	w.max_minutes = (uint32_t)x;
	return w;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static bool counted(const consult_call_len *c, int64_t doctor_id, int64_t from, int64_t to)
{
	return c->ended_at >= from && c->ended_at < to && (doctor_id == 0 || c->doctor_id == doctor_id);
}

size_t consult_call_median(const consult_call_len *calls, size_t n, int64_t doctor_id, int64_t from, int64_t to,
        int64_t *scratch, int64_t *median_s)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (counted(&calls[i], doctor_id, from, to))
			scratch[k++] = calls[i].seconds;
	*median_s = 0;
	if (k == 0)
		return 0;
	qsort(scratch, k, sizeof scratch[0], cmp_i64);
	*median_s = k % 2 ? scratch[k / 2] : (scratch[k / 2 - 1] + scratch[k / 2]) / 2;
	return k;
}

uint32_t consult_call_doctors(const consult_call_len *calls, size_t n, int64_t from, int64_t to)
{
	uint32_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (calls[i].doctor_id <= 0 || !counted(&calls[i], 0, from, to))
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = calls[j].doctor_id == calls[i].doctor_id && counted(&calls[j], 0, from, to);
		if (!seen)
			k++;
	}
	return k;
}
