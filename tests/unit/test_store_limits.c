/* test_store_limits.c - the shared login limits (store.h, "login limits")
 * with two store handles on one database, as two instances would have:
 * failures counted through either handle add up and lock the key for
 * both, exactly as the in-memory limiter would count them; clear forgets
 * a key; prune removes only keys with nothing left to keep; failures
 * racing from two threads are all counted; bad input changes nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <cmocka.h>
#include "store_fixture.h"

#define NOW 1765000000LL

static const consult_ratelimit_cfg CFG = {
	.max_failures = 5, .window_s = 86400, .lockout_s = 60, .max_lockout_s = 3600, .max_keys = 16
};

typedef store_test_two two;

static int setup_two(void **state)
{
	two *t = calloc(1, sizeof *t);
	if (!t || !store_test_two_open(t))
		return -1;
	*state = t;
	return 0;
}

static int teardown_two(void **state)
{
	store_test_two_close(*state);
	free(*state);
	return 0;
}

static void key_of(uint8_t k[CONSULT_LIMIT_KEY_LEN], uint8_t fill)
{
	memset(k, fill, CONSULT_LIMIT_KEY_LEN);
}

static bool locked(consult_store *s, const uint8_t *k, int64_t now, int64_t *wait)
{
	consult_rl_state st;
	consult_err e = consult_store_limit_get(s, k, &st);
	if (e == CONSULT_ERR_NOT_FOUND)
		return false;
	assert_int_equal(e, CONSULT_OK);
	return consult_rl_state_locked(&st, now, wait);
}

/* Failures alternate between the handles; the store's state equals the
 * in-memory limiter's after every step, through two locks. */
static void test_shared_count(void **state)
{
	two *t = *state;
	uint8_t k[CONSULT_LIMIT_KEY_LEN], other[CONSULT_LIMIT_KEY_LEN];
	key_of(k, 0xa1);
	key_of(other, 0xb2);
	consult_ratelimit *rl = consult_ratelimit_new(&CFG);
	assert_non_null(rl);
	int64_t now = NOW;
	for (int i = 0; i < 12; i++, now += 7) {
		consult_store *s = i % 2 ? t->b : t->a;
		int64_t w1 = 0, w2 = 0;
		bool mem_locked = !consult_ratelimit_allowed(rl, "k", now, &w1);
		assert_int_equal(locked(t->a, k, now, &w2), mem_locked);
		assert_int_equal(locked(t->b, k, now, NULL), mem_locked);
		if (mem_locked) {
			assert_int_equal(w1, w2);
			now += w1; /* a guesser waits out the lock */
		}
		consult_rl_state after;
		assert_int_equal(consult_store_limit_fail(s, k, &CFG, now, &after), CONSULT_OK);
		consult_ratelimit_failure(rl, "k", now);
		int64_t wm = 0, ws = 0;
		assert_int_equal(
		        consult_rl_state_locked(&after, now, &ws), !consult_ratelimit_allowed(rl, "k", now, &wm));
		assert_int_equal(wm, ws);
	}
	/* 12 failures: locked after the 5th (60 s) and the 10th (120 s) */
	consult_rl_state st;
	assert_int_equal(consult_store_limit_get(t->b, k, &st), CONSULT_OK);
	assert_int_equal(st.lockouts, 2);
	assert_int_equal(st.failures, 2);
	assert_int_equal(consult_store_limit_get(t->a, other, &st), CONSULT_ERR_NOT_FOUND);
	consult_ratelimit_free(rl);
}

static void test_clear(void **state)
{
	two *t = *state;
	uint8_t k[CONSULT_LIMIT_KEY_LEN];
	key_of(k, 0x11);
	for (int i = 0; i < 5; i++)
		assert_int_equal(consult_store_limit_fail(i % 2 ? t->a : t->b, k, &CFG, NOW + i, NULL), CONSULT_OK);
	int64_t wait = 0;
	assert_true(locked(t->a, k, NOW + 5, &wait));
	assert_int_equal(wait, 59);
	assert_int_equal(consult_store_limit_clear(t->b, k), CONSULT_OK);
	assert_false(locked(t->a, k, NOW + 5, NULL));
	assert_int_equal(consult_store_limit_clear(t->b, k), CONSULT_OK); /* none: still OK */
}

static void test_prune(void **state)
{
	two *t = *state;
	uint8_t old[CONSULT_LIMIT_KEY_LEN], recent[CONSULT_LIMIT_KEY_LEN], lock[CONSULT_LIMIT_KEY_LEN];
	key_of(old, 1);
	key_of(recent, 2);
	key_of(lock, 3);
	int64_t now = NOW + 10 * CFG.window_s;
	assert_int_equal(consult_store_limit_fail(t->a, old, &CFG, now - CFG.window_s, NULL), CONSULT_OK);
	assert_int_equal(consult_store_limit_fail(t->a, recent, &CFG, now - CFG.window_s + 1, NULL), CONSULT_OK);
	for (int i = 0; i < 5; i++) /* locked from now - window - 1 + 4 ... */
		assert_int_equal(
		        consult_store_limit_fail(t->b, lock, &CFG, now - CFG.window_s - 10 + i, NULL), CONSULT_OK);
	int64_t removed = -1;
	assert_int_equal(consult_store_limit_prune(t->b, &CFG, now, &removed), CONSULT_OK);
	assert_int_equal(removed, 1); /* only "old": its window passed; the lock's end + window has not */
	consult_rl_state st;
	assert_int_equal(consult_store_limit_get(t->a, old, &st), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_limit_get(t->a, recent, &st), CONSULT_OK);
	assert_int_equal(consult_store_limit_get(t->a, lock, &st), CONSULT_OK);
	assert_int_equal(consult_store_limit_prune(t->a, &CFG, now + 60, &removed), CONSULT_OK);
	assert_int_equal(removed, 2);
}

static void test_bad_input(void **state)
{
	two *t = *state;
	uint8_t k[CONSULT_LIMIT_KEY_LEN];
	key_of(k, 9);
	consult_rl_state st;
	consult_ratelimit_cfg zero = CFG;
	zero.max_failures = 0;
	assert_int_equal(consult_store_limit_fail(t->a, NULL, &CFG, NOW, &st), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_store_limit_fail(t->a, k, NULL, NOW, &st), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_store_limit_fail(t->a, k, &zero, NOW, &st), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_store_limit_get(t->a, NULL, &st), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_store_limit_clear(t->a, NULL), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_store_limit_prune(t->a, NULL, NOW, NULL), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_store_limit_get(t->a, k, &st), CONSULT_ERR_NOT_FOUND);
}

typedef struct racer {
	consult_store *s;
	const uint8_t *key;
	pthread_barrier_t *go;
	int errors;
} racer;

#define ROUNDS 100

static void *race(void *arg)
{
	racer *r = arg;
	static const consult_ratelimit_cfg many = {
		.max_failures = 1000, .window_s = 86400, .lockout_s = 60, .max_lockout_s = 3600, .max_keys = 16
	};
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(r->go);
		if (consult_store_limit_fail(r->s, r->key, &many, NOW + i, NULL) != CONSULT_OK)
			r->errors++;
	}
	return NULL;
}

static void test_race(void **state)
{
	two *t = *state;
	uint8_t k[CONSULT_LIMIT_KEY_LEN];
	key_of(k, 0x77);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	racer ra = { t->a, k, &go, 0 }, rb = { t->b, k, &go, 0 };
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, race, &ra), 0);
	assert_int_equal(pthread_create(&tb, NULL, race, &rb), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(ra.errors + rb.errors, 0);
	consult_rl_state st;
	assert_int_equal(consult_store_limit_get(t->a, k, &st), CONSULT_OK);
	assert_int_equal(st.failures, 2 * ROUNDS); /* none lost */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_count, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_clear, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_prune, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_bad_input, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_race, setup_two, teardown_two),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
