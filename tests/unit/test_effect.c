/* test_effect.c - the effect list: appending up to CONSULT_FX_MAX, the
 * overflow flag beyond it, and the wire names of pushed events (events.def). */
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

/* The names are events.def's rows: every event once, as on the wire. */
static void test_names(void **st)
{
	assert_string_equal(consult_push_event_name(CONSULT_PUSH_ringing), "ringing");
	assert_string_equal(consult_push_event_name(CONSULT_PUSH_call_ended), "call_ended");
	assert_string_equal(consult_push_event_name(CONSULT_PUSH_taken_over), "taken_over");
	assert_string_equal(consult_push_event_name(CONSULT_PUSH_appointment), "appointment");
	for (int i = 0; i < CONSULT_PUSH_EVENT_COUNT; i++) {
		const char *a = consult_push_event_name((consult_push_event)i);
		assert_true(a[0] != '\0');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, consult_push_event_name((consult_push_event)j));
	}
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
