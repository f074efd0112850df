/* test_addressees.c - who receives a message to waiting patients
 * (core/addressees.h): one visit, one appointment's visit or a doctor's
 * whole list (own and "any doctor" visits, waiting, away and ringing; never
 * in a call or ended); reception addresses the whole practice, a doctor
 * only what they see and only their own list; everything else not_found
 * with nobody called. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/addressees.h"

#define D1 101
#define D2 102

static int handles[16];

static void join(consult_room *r, int64_t id, int64_t doctor)
{
	consult_visit_init in = { .id = id,
		.appointment_id = 1000 + id,
		.doctor_id = doctor,
		.appt_time = 10000 + id * 60,
		.joined_at = 500,
		.patient = &handles[id] };
	assert_int_equal(consult_room_join(r, &in, NULL), CONSULT_OK);
}

static consult_err step(consult_room *r, int64_t id, consult_visit_event ev, int64_t doctor)
{
	consult_room_change ch;
	return consult_room_apply(r, id, ev, doctor, 100, 120, NULL, &ch);
}

typedef struct got {
	int64_t ids[16];
	size_t n;
} got;

static void collect(const consult_visit *v, void *ud)
{
	got *g = ud;
	g->ids[g->n++] = v->id;
}

/* The addressees' ids, sorted, or the error (then g->n must be 0). */
static consult_err to(consult_room *r, consult_msg_target t, int64_t id, int64_t sender, bool known, got *g)
{
	size_t n = 99;
	memset(g, 0, sizeof *g);
	consult_err e = consult_message_addressees(r, t, id, sender, known, collect, g, &n);
	if (e != CONSULT_OK) {
		assert_int_equal(g->n, 0);
		assert_int_equal(n, 0);
		return e;
	}
	assert_int_equal(n, g->n);
	for (size_t i = 1; i < g->n; i++)
		for (size_t j = i; j > 0 && g->ids[j - 1] > g->ids[j]; j--) {
			int64_t x = g->ids[j];
			g->ids[j] = g->ids[j - 1];
			g->ids[j - 1] = x;
		}
	return e;
}

static void is(const got *g, const int64_t *want, size_t n)
{
	assert_int_equal(g->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g->ids[i], want[i]);
}

/* 1 D1 waiting, 2 any waiting, 3 D2 waiting, 4 D1 away, 5 D1 ringing (D1),
 * 6 any in a call with D2, 7 D1 ended */
static consult_room *room(void)
{
	consult_room *r = consult_room_new(1);
	int64_t doc[] = { 0, D1, 0, D2, D1, D1, 0, D1 };
	for (int64_t i = 1; i <= 7; i++)
		join(r, i, doc[i]);
	assert_int_equal(step(r, 4, CONSULT_EV_PATIENT_DROP, 0), CONSULT_OK);
	assert_int_equal(step(r, 5, CONSULT_EV_CALL, D1), CONSULT_OK);
	assert_int_equal(step(r, 6, CONSULT_EV_CALL, D2), CONSULT_OK);
	assert_int_equal(step(r, 6, CONSULT_EV_ACCEPT, 0), CONSULT_OK);
	assert_int_equal(step(r, 7, CONSULT_EV_LEAVE, 0), CONSULT_OK);
	return r;
}

static void test_reception(void **st)
{
	consult_room *r = room();
	got g;
	/* one visit: waiting, away and ringing ones; never in a call or ended */
	for (int64_t id = 1; id <= 5; id++) {
		assert_int_equal(to(r, CONSULT_MSG_VISIT, id, 0, false, &g), CONSULT_OK);
		is(&g, (int64_t[]){ id }, 1);
	}
	assert_int_equal(to(r, CONSULT_MSG_VISIT, 6, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, CONSULT_MSG_VISIT, 7, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, CONSULT_MSG_VISIT, 99, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	/* by appointment */
	assert_int_equal(to(r, CONSULT_MSG_APPOINTMENT, 1003, 0, false, &g), CONSULT_OK);
	is(&g, (int64_t[]){ 3 }, 1);
	assert_int_equal(to(r, CONSULT_MSG_APPOINTMENT, 1006, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, CONSULT_MSG_APPOINTMENT, 1007, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, CONSULT_MSG_APPOINTMENT, 3, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	/* a doctor's list: own and "any doctor" visits */
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, D1, 0, true, &g), CONSULT_OK);
	is(&g, (int64_t[]){ 1, 2, 4, 5 }, 4);
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, D2, 0, true, &g), CONSULT_OK);
	is(&g, (int64_t[]){ 2, 3 }, 2);
	/* not a doctor of this practice (the caller looked it up) */
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, D2, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	/* a doctor without own patients: the "any doctor" ones */
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, 103, 0, true, &g), CONSULT_OK);
	is(&g, (int64_t[]){ 2 }, 1);
	/* nobody waiting for anyone: delivered to none */
	assert_int_equal(step(r, 2, CONSULT_EV_LEAVE, 0), CONSULT_OK);
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, 103, 0, true, &g), CONSULT_OK);
	is(&g, NULL, 0);
	consult_room_free(r);
}

static void test_doctor(void **st)
{
	consult_room *r = room();
	got g;
	/* D2 sees its own (3) and "any doctor" (2) visits, not D1's */
	assert_int_equal(to(r, CONSULT_MSG_VISIT, 3, D2, false, &g), CONSULT_OK);
	assert_int_equal(to(r, CONSULT_MSG_VISIT, 2, D2, false, &g), CONSULT_OK);
	assert_int_equal(to(r, CONSULT_MSG_VISIT, 1, D2, false, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, CONSULT_MSG_APPOINTMENT, 1001, D2, false, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, CONSULT_MSG_APPOINTMENT, 1002, D2, false, &g), CONSULT_OK);
	is(&g, (int64_t[]){ 2 }, 1);
	/* own list only; doctor_known does not widen it */
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, D2, D2, false, &g), CONSULT_OK);
	is(&g, (int64_t[]){ 2, 3 }, 2);
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, D1, D2, true, &g), CONSULT_ERR_NOT_FOUND);
	/* bad ids and targets */
	assert_int_equal(to(r, CONSULT_MSG_VISIT, 0, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, CONSULT_MSG_DOCTOR, -1, 0, true, &g), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(to(r, (consult_msg_target)0, 1, 0, false, &g), CONSULT_ERR_NOT_FOUND);
	/* nothing changed in the room */
	assert_int_equal(consult_room_visit(r, 1)->state, CONSULT_VISIT_WAITING);
	assert_int_equal(consult_room_visit(r, 5)->state, CONSULT_VISIT_RINGING);
	size_t n = 99;
	assert_int_equal(consult_message_addressees(r, CONSULT_MSG_DOCTOR, D1, 0, true, NULL, NULL, &n), CONSULT_OK);
	assert_int_equal(n, 4);
	consult_room_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reception),
		cmocka_unit_test(test_doctor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
