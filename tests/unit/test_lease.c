/* test_lease.c - the lease decision: claim only what is free, renew in
 * time, stop before anyone else may claim (also with a slow renewal and
 * with clocks apart by less than the margin), and the timings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/lease.h"

#define T0 1765000000000LL /* some wall time in ms */

static consult_lease_cfg cfg5(void)
{
	consult_lease_cfg c;
	assert_true(consult_lease_cfg_of(5, &c));
	return c;
}

static void test_cfg(void **st)
{
	(void)st;
	consult_lease_cfg c = { 1, 2, 3 };
	assert_false(consult_lease_cfg_of(0, &c));
	assert_false(consult_lease_cfg_of(CONSULT_LEASE_SECONDS_MIN - 1, &c));
	assert_false(consult_lease_cfg_of(CONSULT_LEASE_SECONDS_MAX + 1, &c));
	assert_int_equal(c.lease_ms, 1); /* unchanged */
	c = cfg5();
	assert_int_equal(c.lease_ms, 5000);
	assert_int_equal(c.renew_ms, 1666);
	assert_int_equal(c.margin_ms, 1250);
	assert_true(consult_lease_cfg_of(3, &c));
	assert_true(c.margin_ms >= 750);
	assert_true(c.renew_ms + 1000 < c.lease_ms - c.margin_ms); /* a 1 s timer renews in time */
}

static void test_not_serving(void **st)
{
	(void)st;
	consult_lease_cfg c = cfg5();
	consult_lease_mine idle = { false, 0 };
	consult_lease_row none = { NULL, 0 };
	consult_lease_row mine = { "a", T0 + 4000 };
	consult_lease_row other = { "b", T0 + 4000 };
	consult_lease_row other_now = { "b", T0 };
	consult_lease_row other_past = { "b", T0 - 1 };
	assert_int_equal(consult_lease_decide(&c, T0, "a", &none, &idle), CONSULT_LEASE_CLAIM);
	assert_int_equal(consult_lease_decide(&c, T0, "a", &mine, &idle), CONSULT_LEASE_CLAIM);
	assert_int_equal(consult_lease_decide(&c, T0, "a", &other, &idle), CONSULT_LEASE_WAIT);
	assert_int_equal(consult_lease_decide(&c, T0, "a", &other_now, &idle), CONSULT_LEASE_WAIT); /* strictly after */
	assert_int_equal(consult_lease_decide(&c, T0, "a", &other_past, &idle), CONSULT_LEASE_CLAIM);
	/* a prefix of a name is another name */
	consult_lease_row longer = { "ab", T0 + 4000 };
	assert_int_equal(consult_lease_decide(&c, T0, "a", &longer, &idle), CONSULT_LEASE_WAIT);
	assert_false(consult_lease_serves(&c, T0, &idle));
}

static void test_serving(void **st)
{
	(void)st;
	consult_lease_cfg c = cfg5();
	consult_lease_mine m = { true, T0 };
	consult_lease_row row = { "a", consult_lease_expires(&c, T0) };
	assert_int_equal(row.expires_at_ms, T0 + 5000);
	assert_int_equal(consult_lease_serve_until(&c, T0), T0 + 3750);
	assert_int_equal(consult_lease_serve_until(&c, 0), 0);
	assert_int_equal(consult_lease_decide(&c, T0 + 1000, "a", &row, &m), CONSULT_LEASE_SERVE);
	assert_int_equal(consult_lease_decide(&c, T0 + 1666, "a", &row, &m), CONSULT_LEASE_RENEW);
	assert_int_equal(consult_lease_decide(&c, T0 + 3749, "a", &row, &m), CONSULT_LEASE_RENEW);
	assert_true(consult_lease_serves(&c, T0 + 3749, &m));
	assert_false(consult_lease_serves(&c, T0 + 3750, &m));
	assert_int_equal(consult_lease_decide(&c, T0 + 3750, "a", &row, &m), CONSULT_LEASE_STOP);
	/* the row says another instance holds it: stop at once */
	consult_lease_row taken = { "b", T0 + 9000 };
	assert_int_equal(consult_lease_decide(&c, T0 + 10, "a", &taken, &m), CONSULT_LEASE_STOP);
	/* the row is gone (released by an operator): keep serving, renew re-inserts */
	consult_lease_row none = { NULL, 0 };
	assert_int_equal(consult_lease_decide(&c, T0 + 2000, "a", &none, &m), CONSULT_LEASE_RENEW);
	/* serving without any successful claim is not serving */
	consult_lease_mine never = { true, 0 };
	assert_false(consult_lease_serves(&c, T0, &never));
	assert_int_equal(consult_lease_decide(&c, T0, "a", &none, &never), CONSULT_LEASE_STOP);
}

/* A renewal sent at T2 that is answered only after D: service is counted
 * from T2, so the answer cannot extend it past T2 + lease - margin. */
static void test_slow_renewal(void **st)
{
	(void)st;
	consult_lease_cfg c = cfg5();
	int64_t t2 = T0 + 1700;
	for (int64_t d = 0; d <= 8000; d += 250) {
		int64_t answered = t2 + d;
		consult_lease_mine m = { true, t2 }; /* the renewal succeeded */
		consult_lease_row row = { "a", consult_lease_expires(&c, t2) };
		bool serves = consult_lease_serves(&c, answered, &m);
		assert_true(serves == (d < c.lease_ms - c.margin_ms));
		if (!serves)
			assert_int_equal(consult_lease_decide(&c, answered, "a", &row, &m), CONSULT_LEASE_STOP);
	}
}

/* A holds the lease from a renewal sent at T; B's clock is skew ms ahead
 * of A's. Is there a moment at which A serves and B may claim? */
static bool overlap(const consult_lease_cfg *c, int64_t t, int64_t skew)
{
	consult_lease_mine a = { true, t };
	consult_lease_row row = { "a", consult_lease_expires(c, t) };
	consult_lease_mine b = { false, 0 };
	for (int64_t real = t; real <= t + c->lease_ms + 2000; real += 1) {
		bool a_serves = consult_lease_serves(c, real, &a);
		bool b_claims = consult_lease_decide(c, real + skew, "b", &row, &b) == CONSULT_LEASE_CLAIM;
		if (a_serves && b_claims)
			return true;
	}
	return false;
}

static void test_never_two(void **st)
{
	(void)st;
	for (int64_t s = CONSULT_LEASE_SECONDS_MIN; s <= 12; s += 3) {
		consult_lease_cfg c;
		assert_true(consult_lease_cfg_of(s, &c));
		for (int64_t skew = -(c.margin_ms - 1); skew < c.margin_ms; skew += c.margin_ms / 4)
			assert_false(overlap(&c, T0 + s, skew));
		assert_false(overlap(&c, T0, c.margin_ms - 1));
		/* the margin is what keeps them apart: a larger skew would not be safe */
		assert_true(overlap(&c, T0, c.margin_ms + 10));
	}
}

static void test_names(void **st)
{
	(void)st;
	assert_string_equal(consult_lease_action_name(CONSULT_LEASE_SERVE), "serve");
	assert_string_equal(consult_lease_action_name(CONSULT_LEASE_RENEW), "renew");
	assert_string_equal(consult_lease_action_name(CONSULT_LEASE_STOP), "stop");
	assert_string_equal(consult_lease_action_name(CONSULT_LEASE_CLAIM), "claim");
	assert_string_equal(consult_lease_action_name(CONSULT_LEASE_WAIT), "wait");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg),
		cmocka_unit_test(test_not_serving),
		cmocka_unit_test(test_serving),
		cmocka_unit_test(test_slow_renewal),
		cmocka_unit_test(test_never_two),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
