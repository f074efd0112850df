/* queue.c - the waiting queue as a sorted array.
 *
 * Contract: see queue.h. Entries are kept sorted by (head desc, appt_time,
 * arrival_seq, visit_id); insert/remove are a binary search plus memmove,
 * lookups a linear scan, positions one pass with per-doctor counters kept
 * in a preallocated hash table (so positions never allocate). A counter
 * belongs to the current pass when its pass number matches the queue's, so a
 * pass does not clear the table first (it is twice the queue's capacity and
 * is recomputed after every join). Entries marked away take part in the
 * pass (they get their own position) but add to no counter. O(n) per
 * operation, no O(n^2) anywhere.
 */
#include <stdlib.h>
#include <string.h>
#include "queue.h"
#include "visit.h"

typedef struct dcount {
	int64_t doctor;
	uint32_t n;
	uint32_t pass; /* in use in the pass numbered so; 0: never used */
} dcount;

struct consult_queue {
	consult_queue_entry *e;
	size_t len, cap;
	dcount *dc;    /* per-doctor counters for positions(), dcap >= 2*cap */
	size_t dcap;   /* power of two */
	uint32_t pass; /* number of the current positions() pass, never 0 in one */
};

consult_queue *consult_queue_new(void)
{
	return calloc(1, sizeof(consult_queue));
}

void consult_queue_free(consult_queue *q)
{
	if (!q)
		return;
	free(q->e);
	free(q->dc);
	free(q);
}

size_t consult_queue_len(const consult_queue *q)
{
	return q->len;
}

bool consult_queue_reserve(consult_queue *q, size_t n)
{
	if (n <= q->cap)
		return true;
	size_t cap = q->cap ? q->cap : 16;
	while (cap < n)
		cap *= 2;
	size_t dcap = cap * 2;
	consult_queue_entry *e = realloc(q->e, cap * sizeof *e);
	if (!e)
		return false;
	q->e = e;
	dcount *dc = calloc(dcap, sizeof *dc);
	if (!dc)
		return false; /* entries grew, counters did not: cap stays */
	free(q->dc);
	q->dc = dc;
	q->dcap = dcap;
	q->cap = cap;
	return true;
}

/* <0 if a goes before b */
static int cmp(const consult_queue_entry *a, const consult_queue_entry *b)
{
	if (a->head != b->head)
		return a->head ? -1 : 1;
	if (a->appt_time != b->appt_time)
		return a->appt_time < b->appt_time ? -1 : 1;
	if (a->arrival_seq != b->arrival_seq)
		return a->arrival_seq < b->arrival_seq ? -1 : 1;
	if (a->visit_id != b->visit_id)
		return a->visit_id < b->visit_id ? -1 : 1;
	return 0;
}

static size_t index_of(const consult_queue *q, int64_t visit_id)
{
	for (size_t i = 0; i < q->len; i++)
		if (q->e[i].visit_id == visit_id)
			return i;
	return SIZE_MAX;
}

bool consult_queue_insert(consult_queue *q, const consult_queue_entry *e)
{
	if (index_of(q, e->visit_id) != SIZE_MAX)
		return false;
	if (!consult_queue_reserve(q, q->len + 1))
		return false;
	size_t lo = 0, hi = q->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp(&q->e[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&q->e[lo + 1], &q->e[lo], (q->len - lo) * sizeof *q->e);
	q->e[lo] = *e;
	q->e[lo].told_ahead = CONSULT_AHEAD_UNKNOWN;
	q->e[lo].told_extra = 0;
	q->len++;
	return true;
}

bool consult_queue_remove(consult_queue *q, int64_t visit_id)
{
	size_t i = index_of(q, visit_id);
	if (i == SIZE_MAX)
		return false;
	memmove(&q->e[i], &q->e[i + 1], (q->len - i - 1) * sizeof *q->e);
	q->len--;
	return true;
}

consult_queue_entry *consult_queue_find(consult_queue *q, int64_t visit_id)
{
	size_t i = index_of(q, visit_id);
	return i == SIZE_MAX ? NULL : &q->e[i];
}

/* Does a waiting patient of doctor `other` compete with one of doctor `me`? */
static bool competes(int64_t me, int64_t other)
{
	return me == 0 || other == 0 || other == me;
}

bool consult_queue_set_away(consult_queue *q, int64_t visit_id, bool away)
{
	size_t i = index_of(q, visit_id);
	if (i == SIZE_MAX)
		return false;
	q->e[i].away = away;
	return true;
}

uint32_t consult_queue_ahead(const consult_queue *q, int64_t visit_id)
{
	size_t i = index_of(q, visit_id);
	if (i == SIZE_MAX)
		return CONSULT_AHEAD_UNKNOWN;
	uint32_t n = 0;
	for (size_t j = 0; j < i; j++)
		if (!q->e[j].away && competes(q->e[i].doctor_id, q->e[j].doctor_id))
			n++;
	return n;
}

void consult_queue_foreach(const consult_queue *q, int64_t doctor_id, consult_queue_each_cb cb, void *ud)
{
	for (size_t i = 0; i < q->len; i++)
		if (doctor_id == 0 || consult_doctor_sees(q->e[i].doctor_id, doctor_id))
			cb(&q->e[i], ud);
}

static uint32_t *counter(consult_queue *q, int64_t doctor)
{
	uint64_t h = (uint64_t)doctor * 0x9e3779b97f4a7c15ULL;
	size_t i = (size_t)(h >> 17) & (q->dcap - 1);
	while (q->dc[i].pass == q->pass && q->dc[i].doctor != doctor)
		i = (i + 1) & (q->dcap - 1);
	if (q->dc[i].pass != q->pass) {
		q->dc[i].pass = q->pass;
		q->dc[i].doctor = doctor;
		q->dc[i].n = 0;
	}
	return &q->dc[i].n;
}

size_t consult_queue_positions(consult_queue *q, consult_queue_pos_cb cb, void *ud)
{
	return consult_queue_positions_with(q, NULL, cb, ud);
}

size_t consult_queue_positions_with(consult_queue *q, consult_queue_extra_cb extra, consult_queue_pos_cb cb, void *ud)
{
	if (!q->len)
		return 0;
	if (++q->pass == 0) { /* wrapped: forget every pass before */
		memset(q->dc, 0, q->dcap * sizeof *q->dc);
		q->pass = 1;
	}
	uint32_t all = 0, any = 0;
	size_t changed = 0;
	for (size_t i = 0; i < q->len; i++) {
		consult_queue_entry *e = &q->e[i];
		uint32_t ahead;
		uint32_t counts = e->away ? 0 : 1; /* an away entry is nobody's ahead */
		if (e->doctor_id == 0) {
			ahead = all;
			any += counts;
		} else {
			uint32_t *c = counter(q, e->doctor_id);
			ahead = *c + any;
			*c += counts;
		}
		all += counts;
		uint64_t x = extra ? extra(e, ahead, ud) : 0;
		if (ahead != e->told_ahead || x != e->told_extra) {
			changed++;
			if (cb)
				cb(e, ahead, ud);
			e->told_ahead = ahead;
			e->told_extra = x;
		}
	}
	return changed;
}
