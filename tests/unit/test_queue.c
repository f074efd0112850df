/* test_queue.c - queue order (head, appointment time, arrival), positions
 * with the "any doctor" rules, away entries counted in nobody's position,
 * "only changed positions (or extra values) are reported", and a
 * randomised cross-check of the O(n) positions against a naive count. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include "core/queue.h"

static consult_queue_entry E(int64_t id, int64_t doc, int64_t t, uint64_t seq, bool head)
{
	consult_queue_entry e = { .visit_id = id,
		.doctor_id = doc,
		.appt_time = t,
		.arrival_seq = seq,
		.head = head,
		.told_ahead = 7,
		.user = NULL };
	return e;
}

typedef struct ids {
	int64_t id[64];
	uint32_t ahead[64];
	size_t n;
} ids;

static void collect(const consult_queue_entry *e, void *ud)
{
	ids *c = ud;
	c->id[c->n++] = e->visit_id;
}

static void collect_pos(consult_queue_entry *e, uint32_t ahead, void *ud)
{
	ids *c = ud;
	/* told_ahead is stored after the callback */
	assert_int_not_equal(e->told_ahead, ahead);
	c->id[c->n] = e->visit_id;
	c->ahead[c->n++] = ahead;
}

static void test_order(void **st)
{
	consult_queue *q = consult_queue_new();
	consult_queue_entry e;
	e = E(1, 0, 1000, 5, false);
	assert_true(consult_queue_insert(q, &e));
	e = E(2, 0, 900, 6, false);
	assert_true(consult_queue_insert(q, &e));
	e = E(3, 0, 1000, 4, false);
	assert_true(consult_queue_insert(q, &e));
	e = E(4, 0, 2000, 7, true);
	assert_true(consult_queue_insert(q, &e));
	e = E(5, 0, 1500, 8, true);
	assert_true(consult_queue_insert(q, &e));
	e = E(6, 0, 500, 9, false);
	assert_true(consult_queue_insert(q, &e));
	e = E(3, 0, 1, 1, true);
	assert_false(consult_queue_insert(q, &e)); /* duplicate id */
	assert_int_equal(consult_queue_len(q), 6);
	ids c = { .n = 0 };
	consult_queue_foreach(q, 0, collect, &c);
	int64_t want[] = { 5, 4, 6, 2, 3, 1 };
	assert_int_equal(c.n, 6);
	assert_memory_equal(c.id, want, sizeof want);
	/* insert copies and resets told_ahead */
	assert_int_equal(consult_queue_find(q, 1)->told_ahead, CONSULT_AHEAD_UNKNOWN);
	assert_true(consult_queue_remove(q, 6));
	assert_false(consult_queue_remove(q, 6));
	assert_null(consult_queue_find(q, 6));
	assert_int_equal(consult_queue_ahead(q, 6), CONSULT_AHEAD_UNKNOWN);
	assert_int_equal(consult_queue_ahead(q, 1), 4);
	assert_int_equal(consult_queue_ahead(q, 5), 0);
	consult_queue_free(q);
}

/* queue: a(D1) b(any) c(D2) d(D1) e(any) f(D2) */
static consult_queue *mixed(void)
{
	consult_queue *q = consult_queue_new();
	consult_queue_entry e;
	int64_t doc[] = { 1, 0, 2, 1, 0, 2 };
	for (int i = 0; i < 6; i++) {
		e = E(10 + i, doc[i], 1000, (uint64_t)i, false);
		assert_true(consult_queue_insert(q, &e));
	}
	return q;
}

static void test_positions_any_doctor(void **st)
{
	consult_queue *q = mixed();
	/* D patients: own + any before; any patients: everyone before */
	uint32_t want[] = { 0, 1, 1, 2, 4, 3 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(consult_queue_ahead(q, 10 + i), want[i]);
	ids c = { .n = 0 };
	assert_int_equal(consult_queue_positions(q, collect_pos, &c), 6);
	assert_int_equal(c.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(c.id[i], 10 + i);
		assert_int_equal(c.ahead[i], want[i]);
		assert_int_equal(consult_queue_find(q, 10 + i)->told_ahead, want[i]);
	}
	/* foreach by doctor: own and any-doctor patients only */
	ids d1 = { .n = 0 }, d2 = { .n = 0 }, d3 = { .n = 0 };
	consult_queue_foreach(q, 1, collect, &d1);
	consult_queue_foreach(q, 2, collect, &d2);
	consult_queue_foreach(q, 3, collect, &d3);
	int64_t w1[] = { 10, 11, 13, 14 }, w2[] = { 11, 12, 14, 15 }, w3[] = { 11, 14 };
	assert_int_equal(d1.n, 4);
	assert_memory_equal(d1.id, w1, sizeof w1);
	assert_int_equal(d2.n, 4);
	assert_memory_equal(d2.id, w2, sizeof w2);
	assert_int_equal(d3.n, 2);
	assert_memory_equal(d3.id, w3, sizeof w3);
	consult_queue_free(q);
}

static void test_only_changed_reported(void **st)
{
	consult_queue *q = mixed();
	assert_int_equal(consult_queue_positions(q, NULL, NULL), 6);
	/* nothing changed: nothing reported */
	ids c = { .n = 0 };
	assert_int_equal(consult_queue_positions(q, collect_pos, &c), 0);
	assert_int_equal(c.n, 0);
	/* D2 patient c (12) leaves: only f (15, D2) and e (14, any) move */
	assert_true(consult_queue_remove(q, 12));
	assert_int_equal(consult_queue_positions(q, collect_pos, &c), 2);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.id[0], 14);
	assert_int_equal(c.ahead[0], 3);
	assert_int_equal(c.id[1], 15);
	assert_int_equal(c.ahead[1], 2);
	/* any patient b (11) leaves: everyone after it moves */
	c.n = 0;
	assert_true(consult_queue_remove(q, 11));
	assert_int_equal(consult_queue_positions(q, collect_pos, &c), 3);
	int64_t w[] = { 13, 14, 15 };
	uint32_t wa[] = { 1, 2, 1 };
	assert_memory_equal(c.id, w, sizeof w);
	assert_memory_equal(c.ahead, wa, sizeof wa);
	/* a new entry gets reported (told_ahead unknown), the others do not */
	c.n = 0;
	consult_queue_entry e = E(99, 1, 5000, 100, false);
	assert_true(consult_queue_insert(q, &e));
	assert_int_equal(consult_queue_positions(q, collect_pos, &c), 1);
	assert_int_equal(c.id[0], 99);
	assert_int_equal(c.ahead[0], 3); /* 10, 13 (D1), 14 (any) */
	consult_queue_free(q);
}

/* queue: a(D1) b(any) c(D2) d(D1) e(any) f(D2); b goes away and comes back */
static void test_away_not_counted(void **st)
{
	consult_queue *q = mixed();
	assert_int_equal(consult_queue_positions(q, NULL, NULL), 6);
	assert_true(consult_queue_set_away(q, 11, true));
	assert_false(consult_queue_set_away(q, 77, true));
	/* b keeps its place and its own count; everyone behind it moves up */
	uint32_t want[] = { 0, 1, 0, 1, 3, 2 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(consult_queue_ahead(q, 10 + i), want[i]);
	ids c = { .n = 0 };
	assert_int_equal(consult_queue_positions(q, collect_pos, &c), 4);
	int64_t w[] = { 12, 13, 14, 15 };
	uint32_t wa[] = { 0, 1, 3, 2 };
	assert_memory_equal(c.id, w, sizeof w);
	assert_memory_equal(c.ahead, wa, sizeof wa);
	ids d1 = { .n = 0 };
	consult_queue_foreach(q, 1, collect, &d1); /* still listed at its place */
	int64_t w1[] = { 10, 11, 13, 14 };
	assert_memory_equal(d1.id, w1, sizeof w1);
	/* a second away entry ahead of others: a (D1) */
	assert_true(consult_queue_set_away(q, 10, true));
	assert_int_equal(consult_queue_ahead(q, 13), 0);
	assert_int_equal(consult_queue_ahead(q, 14), 2);
	/* both back: the first counts again */
	assert_true(consult_queue_set_away(q, 10, false));
	assert_true(consult_queue_set_away(q, 11, false));
	uint32_t back[] = { 0, 1, 1, 2, 4, 3 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(consult_queue_ahead(q, 10 + i), back[i]);
	c.n = 0;
	assert_int_equal(consult_queue_positions(q, collect_pos, &c), 4);
	consult_queue_free(q);
}

typedef struct extras {
	uint64_t value[64]; /* by visit id - 10 */
	int64_t asked[64];
	size_t n_asked;
	ids got;
} extras;

static uint64_t extra_of(const consult_queue_entry *e, uint32_t ahead, void *ud)
{
	extras *x = ud;
	x->asked[x->n_asked++] = e->visit_id;
	return x->value[e->visit_id - 10];
}

static void got_pos(consult_queue_entry *e, uint32_t ahead, void *ud)
{
	extras *x = ud;
	/* the extra value was asked for this entry just before */
	assert_int_equal(x->asked[x->n_asked - 1], e->visit_id);
	x->got.id[x->got.n] = e->visit_id;
	x->got.ahead[x->got.n++] = ahead;
}

/* An entry whose extra value (an estimate) changed is reported even if its
 * position did not; told_extra keeps the reported value. */
static void test_extra_reported(void **st)
{
	consult_queue *q = mixed();
	extras x = { .n_asked = 0 };
	assert_int_equal(consult_queue_positions_with(q, extra_of, got_pos, &x), 6);
	assert_int_equal(x.n_asked, 6); /* asked for every entry */
	x.got.n = 0;
	x.n_asked = 0;
	assert_int_equal(consult_queue_positions_with(q, extra_of, got_pos, &x), 0);
	assert_int_equal(x.n_asked, 6);
	x.value[3] = 42; /* d's estimate changed, its position did not */
	x.value[5] = 7;
	assert_int_equal(consult_queue_positions_with(q, extra_of, got_pos, &x), 2);
	assert_int_equal(x.got.id[0], 13);
	assert_int_equal(x.got.ahead[0], 2);
	assert_int_equal(x.got.id[1], 15);
	assert_int_equal(consult_queue_find(q, 13)->told_extra, 42);
	/* the plain pass treats the extra as 0: those two are reported again */
	x.got.n = 0;
	assert_int_equal(consult_queue_positions(q, NULL, NULL), 2);
	assert_int_equal(consult_queue_find(q, 13)->told_extra, 0);
	consult_queue_free(q);
}

static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void count_pos(consult_queue_entry *e, uint32_t ahead, void *ud)
{
	(*(size_t *)ud)++;
}

typedef struct entries {
	consult_queue_entry *e;
	size_t n;
} entries;

static void copy_entry(const consult_queue_entry *e, void *ud)
{
	entries *l = ud;
	l->e[l->n++] = *e;
}

static void test_random_against_naive(void **st)
{
	consult_queue *q = consult_queue_new();
	enum { N = 3000 };
	for (int i = 0; i < N; i++) {
		consult_queue_entry e =
		        E(i + 1, (int64_t)(rnd() % 6), (int64_t)(rnd() % 50), (uint64_t)i, rnd() % 20 == 0);
		assert_true(consult_queue_insert(q, &e));
	}
	for (int round = 0; round < 3; round++) {
		size_t n = 0;
		for (int k = 0; k < 300; k++) /* some go away, some come back */
			consult_queue_set_away(q, (int64_t)(rnd() % N) + 1, rnd() % 2 == 0);
		consult_queue_positions(q, count_pos, &n);
		/* compare every told_ahead with ahead and with a naive count over
		 * the queue order (connected competitors before) */
		entries all = { .e = calloc(N, sizeof(consult_queue_entry)), .n = 0 };
		assert_non_null(all.e);
		consult_queue_foreach(q, 0, copy_entry, &all);
		for (size_t i = 0; i < all.n; i++) {
			const consult_queue_entry *e = &all.e[i];
			uint32_t naive = 0;
			for (size_t j = 0; j < i; j++) {
				const consult_queue_entry *b = &all.e[j];
				if (!b->away &&
				        (e->doctor_id == 0 || b->doctor_id == 0 || b->doctor_id == e->doctor_id))
					naive++;
			}
			assert_int_equal(e->told_ahead, naive);
			assert_int_equal(e->told_ahead, consult_queue_ahead(q, e->visit_id));
		}
		free(all.e);
		for (int k = 0; k < 200; k++)
			consult_queue_remove(q, (int64_t)(rnd() % N) + 1);
	}
	size_t seen = 0;
	for (int i = 1; i <= N; i++)
		if (consult_queue_find(q, i))
			seen++;
	assert_int_equal(seen, consult_queue_len(q));
	consult_queue_free(q);
}

typedef struct order_chk {
	bool first;
	consult_queue_entry last;
} order_chk;
static void check_order(const consult_queue_entry *e, void *ud)
{
	order_chk *o = ud;
	if (!o->first) {
		const consult_queue_entry *a = &o->last;
		bool ok = (a->head && !e->head) ||
		        (a->head == e->head &&
		                (a->appt_time < e->appt_time ||
		                        (a->appt_time == e->appt_time && a->arrival_seq < e->arrival_seq)));
		assert_true(ok);
	}
	o->first = false;
	o->last = *e;
}

static void test_random_order(void **st)
{
	consult_queue *q = consult_queue_new();
	for (int i = 0; i < 2000; i++) {
		consult_queue_entry e =
		        E(i + 1, (int64_t)(rnd() % 3), (int64_t)(rnd() % 30), (uint64_t)i, rnd() % 10 == 0);
		assert_true(consult_queue_insert(q, &e));
		if (i % 3 == 0)
			consult_queue_remove(q, (int64_t)(rnd() % (uint64_t)(i + 1)) + 1);
	}
	order_chk o = { .first = true };
	consult_queue_foreach(q, 0, check_order, &o);
	assert_true(consult_queue_reserve(q, 10000));
	assert_true(consult_queue_len(q) > 1000);
	consult_queue_free(q);
	consult_queue_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_positions_any_doctor),
		cmocka_unit_test(test_only_changed_reported),
		cmocka_unit_test(test_away_not_counted),
		cmocka_unit_test(test_extra_reported),
		cmocka_unit_test(test_random_against_naive),
		cmocka_unit_test(test_random_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
