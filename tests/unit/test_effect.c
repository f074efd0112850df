/* test_effect.c - the effect list: appending up to CONSULT_FX_MAX, the
 * overflow flag beyond it, and the wire names of pushed events. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/effect.h"

static void test_add_and_overflow(void **st)
{
	consult_effects l;
	memset(&l, 0, sizeof l);
	for (int i = 0; i < CONSULT_FX_MAX; i++) {
		consult_effect e = { .kind = CONSULT_FX_PUSH, .visit_id = i };
		consult_effects_add(&l, &e);
	}
	assert_int_equal(l.n, CONSULT_FX_MAX);
	assert_false(l.overflow);
	assert_int_equal(l.fx[CONSULT_FX_MAX - 1].visit_id, CONSULT_FX_MAX - 1);
	consult_effect more = { .kind = CONSULT_FX_NOTIFY, .visit_id = 999 };
	consult_effects_add(&l, &more);
	assert_int_equal(l.n, CONSULT_FX_MAX);
	assert_true(l.overflow);
}

static void test_names(void **st)
{
	static const char *const want[CONSULT_PUSH_EVENT_COUNT] = {
		"ringing", "call_accepted", "call_declined", "ring_cancelled", "call_ended", "patient_away",
		"doctor_left", "visit_ended", "taken_over", "patient_arrived", "waiting", "appointment",
	};
	for (int i = 0; i < CONSULT_PUSH_EVENT_COUNT; i++)
		assert_string_equal(consult_push_event_name((consult_push_event)i), want[i]);
	assert_string_equal(consult_push_event_name(CONSULT_PUSH_EVENT_COUNT), "");
	assert_string_equal(consult_push_event_name((consult_push_event)-1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_overflow),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
