/* test_store_calls.c - the store's lengths of connected calls (store.h,
 * store_calls.c), against store.h only: the visits that were connected and
 * ended inside the day, with practice, last caller and length; not those
 * never connected, still live, ended outside the day; a visit's
 * connected_at. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/store.h"
#define STORE_FIXTURE_PEOPLE
#include "store_fixture.h"

/* A visit of practice called by doctor at called (< 0: never), connected
 * at connected (< 0: never), ended at ended (< 0: live). */
static int64_t call(
        fixture *f, int seed, int64_t practice, int64_t doctor, int64_t called, int64_t connected, int64_t ended)
{
	uint8_t h[CONSULT_CODE_HASH_LEN];
	int64_t a = 0, v = 0;
	hash_of(h, seed);
	assert_int_equal(consult_store_add_appointment(f->s, practice, 0, 900, 800, 5000, h, 0, 1, &a), CONSULT_OK);
	assert_int_equal(consult_store_visit_begin(f->s, a, "P", "Q", 850, &v), CONSULT_OK);
	if (called >= 0)
		assert_int_equal(consult_store_visit_ring(f->s, v, doctor, called), CONSULT_OK);
	if (connected >= 0)
		assert_int_equal(consult_store_visit_connected(f->s, v, connected), CONSULT_OK);
	if (ended >= 0)
		assert_int_equal(consult_store_visit_end(f->s, v, CONSULT_END_DOCTOR_HANGUP, ended), CONSULT_OK);
	return v;
}

typedef struct seen {
	consult_call_row c[8];
	size_t n;
} seen;
static void see(const consult_call_row *c, void *ud)
{
	seen *s = ud;
	assert_true(s->n < 8);
	s->c[s->n++] = *c;
}

static const consult_call_row *by_length(const seen *s, int64_t seconds)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].seconds == seconds)
			return &s->c[i];
	return NULL;
}

static void test_calls_ended(void **state)
{
	fixture *f = *state;
	seen s = { .n = 0 };
	assert_int_equal(consult_store_calls_ended(f->s, 1000, 2000, see, &s), CONSULT_OK);
	assert_int_equal(s.n, 0);
	/* the day is [1000, 2000) */
	call(f, 1, f->practice, f->doctor, 1000, 1010, 1610);           /* 600 s */
	call(f, 2, f->practice, f->doctor2, 1100, 1120, 1420);          /* 300 s */
	call(f, 3, f->other_practice, f->other_doctor, 950, 990, 1890); /* 900 s, began before the day */
	call(f, 4, f->practice, f->doctor, 1200, -1, 1300);             /* never connected */
	call(f, 5, f->practice, f->doctor, 1300, 1310, -1);             /* still in a call */
	call(f, 6, f->practice, f->doctor, 500, 510, 990);              /* ended before the day */
	call(f, 7, f->practice, f->doctor, 1900, 1910, 2000);           /* ended after it */
	int64_t live = call(f, 8, f->practice, f->doctor, -1, -1, -1);  /* waiting */
	assert_int_equal(consult_store_calls_ended(f->s, 1000, 2000, see, &s), CONSULT_OK);
	assert_int_equal(s.n, 3);
	const consult_call_row *a = by_length(&s, 600), *b = by_length(&s, 300), *c = by_length(&s, 900);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(a->practice_id, f->practice);
	assert_int_equal(a->doctor_id, f->doctor);
	assert_int_equal(a->ended_at, 1610);
	assert_int_equal(b->doctor_id, f->doctor2);
	assert_int_equal(c->practice_id, f->other_practice);
	assert_int_equal(c->doctor_id, f->other_doctor);
	/* connected_at of one visit */
	int64_t at = -1;
	assert_int_equal(consult_store_visit_connected_at(f->s, live, &at), CONSULT_OK);
	assert_int_equal(at, 0);
	assert_int_equal(consult_store_visit_connected_at(f->s, live - 3, &at), CONSULT_OK); /* seed 5 */
	assert_int_equal(at, 1310);
	assert_int_equal(consult_store_visit_connected_at(f->s, 99999, &at), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(at, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_calls_ended, setup_people, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
