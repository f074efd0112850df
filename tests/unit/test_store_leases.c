/* test_store_leases.c - the leases contract (store.h, "leases") with two
 * store handles on one database, as two instances would have: only one
 * holds a practice; the holder renews, another cannot; after expiry
 * another claims and the old holder's late renewal fails; release lets
 * another claim at once and never removes another holder's row; claims
 * racing from two threads at the same instant: at most one wins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <cmocka.h>
#include "store_fixture.h"

#define NOW   1765000000000LL
#define LEASE 5000

typedef struct two {
	store_test_two h; /* first: the handles a and b */
	consult_store *a, *b;
	int64_t p1, p2;
} two;

static int setup_two(void **state)
{
	two *t = calloc(1, sizeof *t);
	if (!t || !store_test_two_open(&t->h))
		return -1;
	t->a = t->h.a;
	t->b = t->h.b;
	if (consult_store_add_practice(t->a, "eins", "Praxis Eins", NULL, 1, &t->p1) != CONSULT_OK ||
	        consult_store_add_practice(t->a, "zwei", "Praxis Zwei", NULL, 1, &t->p2) != CONSULT_OK)
		return -1;
	*state = t;
	return 0;
}

static int teardown_two(void **state)
{
	two *t = *state;
	store_test_two_close(&t->h);
	free(t);
	return 0;
}

static bool claim(consult_store *s, int64_t practice, const char *me, int64_t now)
{
	bool held = true;
	assert_int_equal(consult_store_lease_claim(s, practice, me, now, now + LEASE, &held), CONSULT_OK);
	return held;
}

typedef struct seen {
	int n;
	int64_t practice[4];
	char holder[4][16];
	int64_t expires[4];
} seen;

static void see(const consult_lease *l, void *ud)
{
	seen *v = ud;
	if (v->n < 4) {
		v->practice[v->n] = l->practice_id;
		snprintf(v->holder[v->n], sizeof v->holder[0], "%s", l->holder);
		v->expires[v->n] = l->expires_at_ms;
	}
	v->n++;
}

static seen list(consult_store *s)
{
	seen v;
	memset(&v, 0, sizeof v);
	assert_int_equal(consult_store_list_leases(s, see, &v), CONSULT_OK);
	return v;
}

static void test_only_one_holds(void **state)
{
	two *t = *state;
	assert_int_equal(list(t->b).n, 0);
	assert_true(claim(t->a, t->p1, "a", NOW));
	assert_false(claim(t->b, t->p1, "b", NOW + 10));
	assert_false(claim(t->b, t->p1, "b", NOW + LEASE)); /* at expires_at: not yet */
	assert_true(claim(t->a, t->p1, "a", NOW + 1000));   /* renewal */
	assert_true(claim(t->b, t->p2, "b", NOW));          /* the other practice is free */
	assert_false(claim(t->a, t->p2, "a", NOW + 20));
	seen v = list(t->b);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.practice[0], t->p1);
	assert_string_equal(v.holder[0], "a");
	assert_int_equal(v.expires[0], NOW + 1000 + LEASE);
	assert_int_equal(v.practice[1], t->p2);
	assert_string_equal(v.holder[1], "b");
	/* a refused claim changed nothing */
	assert_int_equal(v.expires[1], NOW + LEASE);
	/* no such practice; no name */
	bool held = true;
	assert_int_equal(consult_store_lease_claim(t->a, 999999, "a", NOW, NOW + LEASE, &held), CONSULT_ERR_NOT_FOUND);
	assert_false(held);
	assert_int_equal(
	        consult_store_lease_claim(t->a, t->p1, "", NOW, NOW + LEASE, &held), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(list(t->a).n, 2);
}

static void test_expiry(void **state)
{
	two *t = *state;
	assert_true(claim(t->a, t->p1, "a", NOW));
	/* a's renewals stop; once its expires_at has passed, b claims */
	assert_true(claim(t->b, t->p1, "b", NOW + LEASE + 1));
	/* a's late renewal, sent before b's claim, cannot take it back */
	assert_false(claim(t->a, t->p1, "a", NOW + 3000));
	assert_false(claim(t->a, t->p1, "a", NOW + LEASE + 2));
	seen v = list(t->a);
	assert_string_equal(v.holder[0], "b");
	assert_int_equal(v.expires[0], NOW + LEASE + 1 + LEASE);
	/* b dies in turn: a claims after b's lease */
	assert_true(claim(t->a, t->p1, "a", NOW + 2 * LEASE + 2));
}

/* The renewer and a claim of one instance run on two connections: a
 * renewal sent before a claim but written after it must not move the
 * lease's end back (another instance would claim while the claim's
 * service still runs). */
static void test_late_renewal_keeps_end(void **state)
{
	two *t = *state;
	assert_true(claim(t->a, t->p1, "a", NOW + 2000)); /* the newer claim, written first */
	bool held = false;
	assert_int_equal(consult_store_lease_claim(t->a, t->p1, "a", NOW, NOW + LEASE, &held), CONSULT_OK);
	assert_true(held); /* still a's */
	seen v = list(t->b);
	assert_string_equal(v.holder[0], "a");
	assert_int_equal(v.expires[0], NOW + 2000 + LEASE);
	/* so b may not claim before the newer end */
	assert_false(claim(t->b, t->p1, "b", NOW + LEASE + 1));
	assert_true(claim(t->b, t->p1, "b", NOW + 2000 + LEASE + 1));
}

static void test_release(void **state)
{
	two *t = *state;
	int64_t n = -1;
	assert_true(claim(t->a, t->p1, "a", NOW));
	assert_true(claim(t->a, t->p2, "a", NOW));
	/* b cannot release a's lease */
	assert_int_equal(consult_store_lease_release(t->b, t->p1, "b", &n), CONSULT_OK);
	assert_int_equal(n, 0);
	assert_false(claim(t->b, t->p1, "b", NOW + 1));
	/* a releases one: b claims it at once, the other stays a's */
	assert_int_equal(consult_store_lease_release(t->a, t->p1, "a", &n), CONSULT_OK);
	assert_int_equal(n, 1);
	assert_true(claim(t->b, t->p1, "b", NOW + 2));
	assert_false(claim(t->b, t->p2, "b", NOW + 2));
	/* all of a's: only a's rows go */
	assert_int_equal(consult_store_lease_release(t->a, 0, "a", &n), CONSULT_OK);
	assert_int_equal(n, 1);
	seen v = list(t->a);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.holder[0], "b");
	assert_true(claim(t->b, t->p2, "b", NOW + 3));
	assert_int_equal(consult_store_lease_release(t->a, 0, "a", NULL), CONSULT_OK);
	assert_int_equal(consult_store_lease_release(t->a, 0, NULL, NULL), CONSULT_ERR_INVALID_FIELD);
}

/* Two threads, each with its own handle (as two processes), claim the same
 * free lease at the same instant, round after round. */
typedef struct racer {
	consult_store *s;
	const char *me;
	int64_t practice;
	pthread_barrier_t *go;
	int wins, errors;
} racer;

#define ROUNDS 200

static void *race(void *arg)
{
	racer *r = arg;
	for (int i = 0; i < ROUNDS; i++) {
		int64_t now = NOW + (int64_t)i * 10 * LEASE; /* every round: the previous lease has expired */
		bool held = false;
		pthread_barrier_wait(r->go);
		if (consult_store_lease_claim(r->s, r->practice, r->me, now, now + LEASE, &held) != CONSULT_OK)
			r->errors++;
		else if (held)
			r->wins++;
		pthread_barrier_wait(r->go);
	}
	return NULL;
}

static void test_race(void **state)
{
	two *t = *state;
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	racer ra = { t->a, "a", t->p1, &go, 0, 0 }, rb = { t->b, "b", t->p1, &go, 0, 0 };
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, race, &ra), 0);
	assert_int_equal(pthread_create(&tb, NULL, race, &rb), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(ra.errors + rb.errors, 0);
	/* each round exactly one: the first claims the expired lease, the
	 * second then finds it held by the first and unexpired */
	assert_int_equal(ra.wins + rb.wins, ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_one_holds, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_expiry, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_late_renewal_keeps_end, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_release, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_race, setup_two, teardown_two),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
