/* test_visit.c - every (state, event) pair of the visit state machine
 * against an expected table written out independently of visit.c, plus
 * the names and the visibility rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/visit.h"

typedef struct expect {
	consult_err err;
	consult_visit_state next;
	consult_end_reason reason;
	bool head;
} expect;

#define W CONSULT_VISIT_WAITING
#define A CONSULT_VISIT_AWAY
#define R CONSULT_VISIT_RINGING
#define C CONSULT_VISIT_IN_CALL
#define E CONSULT_VISIT_ENDED

static expect expected(consult_visit_state s, consult_visit_event ev)
{
	expect x = { CONSULT_ERR_WRONG_STATE, 0, CONSULT_END_NONE, false };
#define OK(n, r, h)                 \
	do {                        \
		x.err = CONSULT_OK; \
		x.next = (n);       \
		x.reason = (r);     \
		x.head = (h);       \
		return x;           \
	} while (0)
	switch (ev) {
	case CONSULT_EV_CALL:
		if (s == W)
			OK(R, CONSULT_END_NONE, false);
		x.err = s == A ? CONSULT_ERR_PATIENT_AWAY : CONSULT_ERR_ALREADY_CALLED;
		return x;
	case CONSULT_EV_ACCEPT:
		if (s == R)
			OK(C, CONSULT_END_NONE, false);
		return x;
	case CONSULT_EV_DECLINE:
	case CONSULT_EV_CANCEL_RING:
		if (s == R)
			OK(W, CONSULT_END_NONE, false);
		return x;
	case CONSULT_EV_HANGUP_DOCTOR:
		if (s == C)
			OK(E, CONSULT_END_DOCTOR_HANGUP, false);
		return x;
	case CONSULT_EV_HANGUP_PATIENT:
		if (s == C)
			OK(E, CONSULT_END_PATIENT_HANGUP, false);
		return x;
	case CONSULT_EV_PATIENT_DROP:
		if (s == W || s == R)
			OK(A, CONSULT_END_NONE, false);
		if (s == C)
			OK(E, CONSULT_END_PATIENT_DROPPED, false);
		return x;
	case CONSULT_EV_PATIENT_BACK:
		if (s == A)
			OK(W, CONSULT_END_NONE, false);
		return x;
	case CONSULT_EV_DOCTOR_DROP:
		if (s == R || s == C)
			OK(W, CONSULT_END_NONE, true);
		return x;
	case CONSULT_EV_GRACE_EXPIRED:
		if (s == A)
			OK(E, CONSULT_END_GRACE_EXPIRED, false);
		return x;
	case CONSULT_EV_LEAVE:
		if (s != E)
			OK(E, CONSULT_END_LEFT, false);
		return x;
	case CONSULT_EV_CANCELLED:
		if (s != E)
			OK(E, CONSULT_END_CANCELLED, false);
		return x;
	case CONSULT_EV_CONNECTION_LOST:
		if (s == C)
			OK(E, CONSULT_END_CONNECTION_LOST, false);
		return x;
	case CONSULT_EV_NO_PATH:
		if (s == C)
			OK(E, CONSULT_END_NO_PATH, false);
		return x;
	case CONSULT_EV_PATIENT_HOLD:
	case CONSULT_EV_PATIENT_RESUME:
	case CONSULT_EV_DOCTOR_HOLD:
	case CONSULT_EV_DOCTOR_RESUME:
		if (s == C)
			OK(C, CONSULT_END_NONE, false);
		return x;
	case CONSULT_EV_COUNT:
		break;
	}
#undef OK
	return x;
}

static void test_every_pair(void **st)
{
	int ok_count = 0;
	for (int s = 0; s < CONSULT_VISIT_STATE_COUNT; s++) {
		for (int ev = 0; ev < CONSULT_EV_COUNT; ev++) {
			expect x = expected(s, ev);
			consult_visit_step step = { .next = 99, .reason = 99, .to_head = false };
			consult_err err = consult_visit_step_for(s, ev, &step);
			if (err != x.err)
				print_message("mismatch: %s + %s\n", consult_visit_state_name(s),
				        consult_visit_event_name(ev));
			assert_int_equal(err, x.err);
			if (err != CONSULT_OK)
				continue;
			ok_count++;
			assert_int_equal(step.next, x.next);
			assert_int_equal(step.reason, x.reason);
			assert_int_equal(step.to_head, x.head);
			/* a reason exactly when the visit ends */
			assert_int_equal(step.next == CONSULT_VISIT_ENDED, step.reason != CONSULT_END_NONE);
		}
	}
	assert_int_equal(ok_count, 27);
}

static void test_out_of_range(void **st)
{
	consult_visit_step step;
	assert_int_equal(
	        consult_visit_step_for(CONSULT_VISIT_STATE_COUNT, CONSULT_EV_CALL, &step), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(
	        consult_visit_step_for(CONSULT_VISIT_WAITING, CONSULT_EV_COUNT, &step), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_visit_step_for(CONSULT_VISIT_WAITING, CONSULT_EV_CALL, NULL), CONSULT_OK);
}

static void test_names(void **st)
{
	static const char *const states[] = { "waiting", "away", "ringing", "in_call", "ended" };
	for (int s = 0; s < CONSULT_VISIT_STATE_COUNT; s++)
		assert_string_equal(consult_visit_state_name(s), states[s]);
	static const char *const reasons[] = { "", "left", "doctor_hangup", "patient_hangup", "patient_dropped",
		"grace_expired", "cancelled", "connection_lost", "no_path", "server_restart" };
	assert_int_equal(CONSULT_END_REASON_COUNT, sizeof reasons / sizeof reasons[0]);
	for (int r = 0; r < CONSULT_END_REASON_COUNT; r++)
		assert_string_equal(consult_end_reason_name(r), reasons[r]);
	for (int ev = 0; ev < CONSULT_EV_COUNT; ev++)
		assert_true(strlen(consult_visit_event_name(ev)) > 0);
	assert_string_equal(consult_visit_event_name(CONSULT_EV_CANCEL_RING), "cancel_ring");
	assert_string_equal(consult_visit_event_name(CONSULT_EV_CONNECTION_LOST), "connection_lost");
	assert_string_equal(consult_visit_event_name(CONSULT_EV_NO_PATH), "no_path");
	assert_string_equal(consult_end_reason_name(CONSULT_END_NO_PATH), "no_path");
	assert_string_equal(consult_visit_state_name(CONSULT_VISIT_STATE_COUNT), "");
	assert_string_equal(consult_end_reason_name(CONSULT_END_REASON_COUNT), "");
}

/* A doctor sees own and "any doctor" visits; nobody else sees anything. */
static void test_doctor_sees(void **st)
{
	assert_true(consult_doctor_sees(0, 7));
	assert_true(consult_doctor_sees(7, 7));
	assert_false(consult_doctor_sees(8, 7));
	assert_false(consult_doctor_sees(0, 0));
	assert_false(consult_doctor_sees(7, 0));
	assert_false(consult_doctor_sees(0, -1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_pair),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_doctor_sees),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
