/* test_room.c - the waiting room: call races, doctor busy, visibility,
 * decline/cancel back to the same place, doctor drop to the head, patient
 * drop/back inside the grace period, expiry with injected time, cancel,
 * and positions changing as others leave; takeover, due visits and the
 * memory of ended visits; the patient's device check (readiness) and
 * positions reported with an estimated wait. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/room.h"
#include "core/queue.h"

#define D1 101
#define D2 102
#define D3 103

static int patients[32]; /* fake patient sessions */

/* visits 1..n, appointment 1000+i, appt_time 10000+i*60 unless given */
static consult_visit *join(consult_room *r, int64_t id, int64_t doctor, int64_t appt_time)
{
	consult_visit_init in = { .id = id,
		.appointment_id = 1000 + id,
		.doctor_id = doctor,
		.appt_time = appt_time,
		.joined_at = 500,
		.patient = &patients[id % 32] };
	consult_visit *v = NULL;
	assert_int_equal(consult_room_join(r, &in, &v), CONSULT_OK);
	assert_non_null(v);
	assert_int_equal(v->state, CONSULT_VISIT_WAITING);
	return v;
}

static consult_err apply(consult_room *r, int64_t id, consult_visit_event ev, int64_t doc, consult_room_change *ch)
{
	consult_room_change tmp;
	return consult_room_apply(r, id, ev, doc, 100, 120, NULL, ch ? ch : &tmp);
}

typedef struct list {
	int64_t id[32];
	uint32_t idx[32];
	size_t n;
} list;
static void collect(const consult_visit *v, uint32_t index, void *ud)
{
	list *l = ud;
	l->id[l->n] = v->id;
	l->idx[l->n++] = index;
}

static void order_is(consult_room *r, int64_t doctor, const int64_t *want, size_t n)
{
	list l = { .n = 0 };
	consult_room_foreach_waiting(r, doctor, collect, &l);
	assert_int_equal(l.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(l.id[i], want[i]);
		assert_int_equal(l.idx[i], i);
	}
}

static void test_join_conflict_and_lookup(void **st)
{
	consult_room *r = consult_room_new(7);
	assert_int_equal(consult_room_practice(r), 7);
	consult_visit *v = join(r, 1, D1, 10000);
	assert_ptr_equal(consult_room_visit(r, 1), v);
	assert_ptr_equal(consult_room_visit_of_appointment(r, 1001), v);
	assert_ptr_equal(v->patient, &patients[1]);
	consult_visit_init dup_id = { .id = 1, .appointment_id = 5555, .doctor_id = D1 };
	consult_visit_init dup_appt = { .id = 2, .appointment_id = 1001, .doctor_id = D1 };
	assert_int_equal(consult_room_join(r, &dup_id, NULL), CONSULT_ERR_CONFLICT);
	assert_int_equal(consult_room_join(r, &dup_appt, NULL), CONSULT_ERR_CONFLICT);
	assert_null(consult_room_visit(r, 2));
	assert_int_equal(apply(r, 77, CONSULT_EV_LEAVE, 0, NULL), CONSULT_ERR_NOT_FOUND);
	consult_room_free(r);
}

static void test_two_doctors_one_patient(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, 0, 10000); /* any doctor */
	consult_room_change ch;
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, &ch), CONSULT_OK);
	assert_int_equal(ch.from, CONSULT_VISIT_WAITING);
	assert_int_equal(ch.step.next, CONSULT_VISIT_RINGING);
	assert_int_equal(ch.doctor_id, D1);
	assert_int_equal(ch.visit.call_doctor_id, D1);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D2, NULL), CONSULT_ERR_ALREADY_CALLED);
	assert_int_equal(consult_room_visit(r, 1)->call_doctor_id, D1);
	assert_ptr_equal(consult_room_doctor_visit(r, D1), consult_room_visit(r, 1));
	assert_null(consult_room_doctor_visit(r, D2));
	/* in a call: still already_called */
	assert_int_equal(apply(r, 1, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D2, NULL), CONSULT_ERR_ALREADY_CALLED);
	/* not in the queue while ringing / in a call */
	assert_int_equal(consult_room_ahead(r, 1), CONSULT_AHEAD_UNKNOWN);
	order_is(r, 0, NULL, 0);
	consult_room_free(r);
}

static void test_doctor_busy_and_visibility(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, D1, 10060);
	join(r, 3, D2, 10120);
	join(r, 4, 0, 10180);
	/* visibility: D1 cannot call D2's patient, nobody with actor 0 */
	assert_int_equal(apply(r, 3, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, 0, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D3, NULL), CONSULT_ERR_NOT_FOUND);
	/* D3 sees only the any-doctor patient */
	int64_t w3[] = { 4 };
	order_is(r, D3, w3, 1);
	int64_t w1[] = { 1, 2, 4 };
	order_is(r, D1, w1, 3);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	/* busy for another own patient and for an any-doctor patient */
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_DOCTOR_BUSY);
	assert_int_equal(apply(r, 4, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_DOCTOR_BUSY);
	assert_int_equal(consult_room_visit(r, 2)->state, CONSULT_VISIT_WAITING);
	/* documented order: visibility, then visit state, then busy */
	assert_int_equal(apply(r, 3, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(apply(r, 4, CONSULT_EV_CALL, D2, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 4, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_ALREADY_CALLED);
	/* doctor events by someone else than the calling doctor: not found */
	assert_int_equal(apply(r, 1, CONSULT_EV_CANCEL_RING, D2, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(apply(r, 1, CONSULT_EV_DOCTOR_DROP, D2, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(apply(r, 2, CONSULT_EV_CANCEL_RING, D1, NULL), CONSULT_ERR_NOT_FOUND);
	/* hangup while ringing is not allowed: cancel_ring */
	assert_int_equal(apply(r, 1, CONSULT_EV_HANGUP_DOCTOR, D1, NULL), CONSULT_ERR_WRONG_STATE);
	size_t counts[CONSULT_VISIT_STATE_COUNT];
	consult_room_counts(r, counts);
	assert_int_equal(counts[CONSULT_VISIT_WAITING], 2);
	assert_int_equal(counts[CONSULT_VISIT_RINGING], 2);
	assert_int_equal(counts[CONSULT_VISIT_IN_CALL], 0);
	/* after the call ends the doctor may call again */
	assert_int_equal(apply(r, 1, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_DOCTOR_BUSY);
	consult_room_change ch;
	assert_int_equal(apply(r, 1, CONSULT_EV_HANGUP_DOCTOR, D1, &ch), CONSULT_OK);
	assert_int_equal(ch.step.next, CONSULT_VISIT_ENDED);
	assert_int_equal(ch.step.reason, CONSULT_END_DOCTOR_HANGUP);
	assert_int_equal(ch.doctor_id, D1);
	assert_int_equal(ch.visit.id, 1);
	assert_int_equal(ch.visit.state, CONSULT_VISIT_ENDED);
	assert_null(consult_room_visit(r, 1));
	assert_null(consult_room_visit_of_appointment(r, 1001));
	assert_null(consult_room_doctor_visit(r, D1));
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	consult_room_free(r);
}

static void test_decline_and_cancel_keep_place(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, D1, 10060);
	join(r, 3, D1, 10120);
	join(r, 4, D1, 10000); /* same appointment time as 1, arrived later */
	int64_t w[] = { 1, 4, 2, 3 };
	order_is(r, D1, w, 4);
	assert_int_equal(consult_room_ahead(r, 2), 2);
	consult_room_change ch;
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	assert_int_equal(consult_room_ahead(r, 3), 2);
	/* a later arrival meanwhile, same appointment time as 2 */
	join(r, 5, D1, 10060);
	assert_int_equal(apply(r, 2, CONSULT_EV_DECLINE, 0, &ch), CONSULT_OK);
	assert_int_equal(ch.step.next, CONSULT_VISIT_WAITING);
	assert_int_equal(ch.doctor_id, D1);
	assert_int_equal(ch.visit.call_doctor_id, 0);
	assert_false(ch.step.to_head);
	int64_t w2[] = { 1, 4, 2, 5, 3 };
	order_is(r, D1, w2, 5);
	assert_null(consult_room_doctor_visit(r, D1));
	/* cancel_ring the same */
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 2, CONSULT_EV_CANCEL_RING, D1, &ch), CONSULT_OK);
	assert_int_equal(ch.doctor_id, D1);
	order_is(r, D1, w2, 5);
	assert_int_equal(consult_room_ahead(r, 2), 2);
	/* decline when not ringing: wrong state */
	assert_int_equal(apply(r, 2, CONSULT_EV_DECLINE, 0, NULL), CONSULT_ERR_WRONG_STATE);
	consult_room_free(r);
}

static void test_doctor_drop_to_head(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, 0, 10060);
	join(r, 3, D1, 10120);
	consult_room_change ch;
	assert_int_equal(apply(r, 3, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 3, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 3, CONSULT_EV_DOCTOR_DROP, D1, &ch), CONSULT_OK);
	assert_true(ch.step.to_head);
	assert_int_equal(ch.from, CONSULT_VISIT_IN_CALL);
	assert_int_equal(ch.doctor_id, D1);
	assert_int_equal(ch.visit.state, CONSULT_VISIT_WAITING);
	int64_t w[] = { 3, 1, 2 };
	order_is(r, 0, w, 3);
	assert_int_equal(consult_room_ahead(r, 3), 0);
	assert_null(consult_room_doctor_visit(r, D1));
	/* dropping from ringing also goes to the head; among the head
	 * entries the appointment time decides (2 is earlier than 3) */
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D2, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 2, CONSULT_EV_DOCTOR_DROP, D2, &ch), CONSULT_OK);
	int64_t w2[] = { 2, 3, 1 };
	order_is(r, 0, w2, 3);
	consult_room_free(r);
}

typedef struct poslog {
	int64_t id[32];
	uint32_t ahead[32];
	size_t n;
} poslog;
static void on_pos(consult_visit *v, uint32_t ahead, void *ud)
{
	poslog *p = ud;
	p->id[p->n] = v->id;
	p->ahead[p->n++] = ahead;
}

static void test_patient_drop_back_and_expire(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, D1, 10060);
	join(r, 3, D1, 10120);
	assert_int_equal(consult_room_positions(r, NULL, NULL), 3);
	consult_room_change ch;
	assert_int_equal(consult_room_apply(r, 2, CONSULT_EV_PATIENT_DROP, 0, 1000, 120, NULL, &ch), CONSULT_OK);
	consult_visit *v = consult_room_visit(r, 2);
	assert_int_equal(v->state, CONSULT_VISIT_AWAY);
	assert_null(v->patient);
	assert_int_equal(v->away_until, 1120);
	/* away patients keep their place, cannot be called and count in
	 * nobody's position: 3 moves up, 2 keeps its own */
	assert_int_equal(consult_room_ahead(r, 3), 1);
	assert_int_equal(consult_room_ahead(r, 2), 1);
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_PATIENT_AWAY);
	poslog p = { .n = 0 };
	assert_int_equal(consult_room_positions(r, on_pos, &p), 1);
	assert_int_equal(p.id[0], 3);
	assert_int_equal(p.ahead[0], 1);
	int64_t w[] = { 1, 2, 3 };
	order_is(r, D1, w, 3);
	/* not expired one second before the deadline */
	assert_int_equal(consult_room_expire(r, 1119, NULL, NULL), 0);
	int newp;
	assert_int_equal(consult_room_apply(r, 2, CONSULT_EV_PATIENT_BACK, 0, 1100, 120, &newp, &ch), CONSULT_OK);
	assert_int_equal(ch.step.next, CONSULT_VISIT_WAITING);
	assert_ptr_equal(consult_room_visit(r, 2)->patient, &newp);
	order_is(r, D1, w, 3);
	assert_int_equal(consult_room_ahead(r, 2), 1);
	/* back: counted again */
	assert_int_equal(consult_room_ahead(r, 3), 2);
	p.n = 0;
	assert_int_equal(consult_room_positions(r, on_pos, &p), 1);
	assert_int_equal(p.id[0], 3);
	assert_int_equal(p.ahead[0], 2);
	/* ringing patient drops: away, doctor free, the change names the doctor */
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	assert_int_equal(consult_room_apply(r, 1, CONSULT_EV_PATIENT_DROP, 0, 2000, 120, NULL, &ch), CONSULT_OK);
	assert_int_equal(ch.from, CONSULT_VISIT_RINGING);
	assert_int_equal(ch.step.next, CONSULT_VISIT_AWAY);
	assert_int_equal(ch.doctor_id, D1);
	assert_null(consult_room_doctor_visit(r, D1));
	order_is(r, D1, w, 3);
	/* back in the queue after ringing: re-reported (its entry is new, even
	 * though AWAY); the others count it no more while it is away */
	p.n = 0;
	assert_int_equal(consult_room_positions(r, on_pos, &p), 3);
	assert_int_equal(p.id[0], 1);
	assert_int_equal(p.ahead[0], 0);
	assert_int_equal(p.id[1], 2);
	assert_int_equal(p.ahead[1], 0);
	assert_int_equal(p.id[2], 3);
	assert_int_equal(p.ahead[2], 1);
	/* expire exactly at the deadline: the others' positions stay */
	assert_int_equal(consult_room_expire(r, 2119, NULL, NULL), 0);
	assert_int_equal(consult_room_expire(r, 2120, NULL, NULL), 1);
	assert_null(consult_room_visit(r, 1));
	assert_int_equal(consult_room_ahead(r, 2), 0);
	assert_int_equal(consult_room_ahead(r, 3), 1);
	assert_int_equal(consult_room_positions(r, NULL, NULL), 0);
	consult_room_free(r);
}

static void on_change(const consult_room_change *c, void *ud)
{
	consult_room_change *out = ud;
	*out = *c;
}

static void test_expire_callback(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, D1, 10060);
	consult_room_change ch;
	assert_int_equal(consult_room_apply(r, 1, CONSULT_EV_PATIENT_DROP, 0, 50, 10, NULL, &ch), CONSULT_OK);
	memset(&ch, 0, sizeof ch);
	assert_int_equal(consult_room_expire(r, 60, on_change, &ch), 1);
	assert_int_equal(ch.from, CONSULT_VISIT_AWAY);
	assert_int_equal(ch.step.next, CONSULT_VISIT_ENDED);
	assert_int_equal(ch.step.reason, CONSULT_END_GRACE_EXPIRED);
	assert_int_equal(ch.visit.id, 1);
	assert_int_equal(ch.visit.appointment_id, 1001);
	/* the appointment can be joined again with a new visit */
	consult_visit_init in = { .id = 9, .appointment_id = 1001, .doctor_id = D1, .appt_time = 10000 };
	assert_int_equal(consult_room_join(r, &in, NULL), CONSULT_OK);
	/* grace expired on a waiting visit is a wrong state */
	assert_int_equal(apply(r, 2, CONSULT_EV_GRACE_EXPIRED, 0, NULL), CONSULT_ERR_WRONG_STATE);
	consult_room_free(r);
}

static void test_cancel_leave_and_positions(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, D2, 10060);
	join(r, 3, D1, 10120);
	join(r, 4, 0, 10180);
	join(r, 5, D2, 10240);
	poslog p = { .n = 0 };
	assert_int_equal(consult_room_positions(r, on_pos, &p), 5);
	/* 1:0, 2:0, 3:1 (1), 4:3 (everyone), 5:2 (2 and 4) */
	uint32_t want[] = { 0, 0, 1, 3, 2 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(p.id[i], i + 1);
		assert_int_equal(p.ahead[i], want[i]);
	}
	consult_room_change ch;
	assert_int_equal(apply(r, 1, CONSULT_EV_CANCELLED, 0, &ch), CONSULT_OK);
	assert_int_equal(ch.step.reason, CONSULT_END_CANCELLED);
	assert_int_equal(ch.doctor_id, 0);
	assert_null(consult_room_visit_of_appointment(r, 1001));
	/* only D1's 3 and the any-doctor 4 move */
	p.n = 0;
	assert_int_equal(consult_room_positions(r, on_pos, &p), 2);
	assert_int_equal(p.id[0], 3);
	assert_int_equal(p.ahead[0], 0);
	assert_int_equal(p.id[1], 4);
	assert_int_equal(p.ahead[1], 2);
	/* 2 (D2) is called: 5 (D2) and 4 (any) move up, 3 (D1) does not */
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D2, NULL), CONSULT_OK);
	p.n = 0;
	assert_int_equal(consult_room_positions(r, on_pos, &p), 2);
	assert_int_equal(p.id[0], 4);
	assert_int_equal(p.ahead[0], 1);
	assert_int_equal(p.id[1], 5);
	assert_int_equal(p.ahead[1], 1);
	/* in a call, patient leaves: ended left, doctor freed */
	assert_int_equal(apply(r, 2, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 2, CONSULT_EV_LEAVE, 0, &ch), CONSULT_OK);
	assert_int_equal(ch.step.reason, CONSULT_END_LEFT);
	assert_int_equal(ch.doctor_id, D2);
	assert_null(consult_room_doctor_visit(r, D2));
	/* patient hangs up / drops in a call */
	assert_int_equal(apply(r, 5, CONSULT_EV_CALL, D2, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 5, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 5, CONSULT_EV_PATIENT_DROP, 0, &ch), CONSULT_OK);
	assert_int_equal(ch.step.reason, CONSULT_END_PATIENT_DROPPED);
	assert_int_equal(ch.doctor_id, D2);
	assert_int_equal(apply(r, 4, CONSULT_EV_CALL, D2, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 4, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 4, CONSULT_EV_HANGUP_PATIENT, 0, &ch), CONSULT_OK);
	assert_int_equal(ch.step.reason, CONSULT_END_PATIENT_HANGUP);
	/* the rest: leave while waiting */
	assert_int_equal(apply(r, 3, CONSULT_EV_LEAVE, 0, &ch), CONSULT_OK);
	size_t counts[CONSULT_VISIT_STATE_COUNT];
	consult_room_counts(r, counts);
	for (int s = 0; s < CONSULT_VISIT_STATE_COUNT; s++)
		assert_int_equal(counts[s], 0);
	list l = { .n = 0 };
	consult_room_foreach(r, collect, &l);
	assert_int_equal(l.n, 0);
	consult_room_free(r);
}

static void test_many_and_free_live(void **st)
{
	consult_room *r = consult_room_new(1);
	for (int i = 1; i <= 3000; i++)
		join(r, i, (i % 5) ? 100 + (i % 5) : 0, 10000 + (i % 97));
	assert_int_equal(consult_room_positions(r, NULL, NULL), 3000);
	for (int i = 1; i <= 3000; i += 7)
		assert_int_equal(apply(r, i, CONSULT_EV_LEAVE, 0, NULL), CONSULT_OK);
	/* one call per doctor, some away, then free with everything live */
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, 102, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 3, CONSULT_EV_CALL, 103, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 3, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 4, CONSULT_EV_PATIENT_DROP, 0, NULL), CONSULT_OK);
	size_t counts[CONSULT_VISIT_STATE_COUNT];
	consult_room_counts(r, counts);
	assert_int_equal(counts[CONSULT_VISIT_WAITING] + counts[CONSULT_VISIT_AWAY] + counts[CONSULT_VISIT_RINGING] +
	                counts[CONSULT_VISIT_IN_CALL],
	        3000 - 429);
	assert_int_equal(counts[CONSULT_VISIT_AWAY], 1);
	assert_int_equal(counts[CONSULT_VISIT_RINGING], 1);
	assert_int_equal(counts[CONSULT_VISIT_IN_CALL], 1);
	consult_room_free(r);
	consult_room_free(NULL);
}

static void test_take_over_due_and_ended(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, 0, 10060);
	join(r, 3, D2, 10120);
	/* a new handle takes a waiting or ringing visit, nothing else */
	assert_int_equal(consult_room_take_over(r, 1, &patients[20]), CONSULT_OK);
	assert_ptr_equal(consult_room_visit(r, 1)->patient, &patients[20]);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	assert_int_equal(consult_room_take_over(r, 1, &patients[21]), CONSULT_OK);
	assert_int_equal(apply(r, 1, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(consult_room_take_over(r, 1, &patients[22]), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_room_take_over(r, 9, &patients[22]), CONSULT_ERR_NOT_FOUND);
	assert_ptr_equal(consult_room_visit(r, 1)->patient, &patients[21]);
	/* due: AWAY visits whose grace is over, in queue order; apply() uses now=100, grace 120 */
	assert_int_equal(apply(r, 3, CONSULT_EV_PATIENT_DROP, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 2, CONSULT_EV_PATIENT_DROP, 0, NULL), CONSULT_OK);
	int64_t ids[2] = { 0, 0 };
	assert_int_equal(consult_room_due(r, 219, ids, 2), 0);
	assert_int_equal(consult_room_due(r, 220, NULL, 0), 2);
	assert_int_equal(consult_room_due(r, 220, ids, 1), 2);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 0);
	assert_int_equal(consult_room_due(r, 220, ids, 2), 2);
	assert_int_equal(ids[1], 3);
	/* ended visits are remembered: a late call by a doctor who saw it */
	assert_int_equal(consult_room_ended_count(r), 0);
	assert_int_equal(apply(r, 1, CONSULT_EV_HANGUP_DOCTOR, D1, NULL), CONSULT_OK);
	assert_int_equal(consult_room_expire(r, 220, NULL, NULL), 2);
	assert_int_equal(consult_room_ended_count(r), 3);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_ALREADY_CALLED);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D2, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D2, NULL), CONSULT_ERR_ALREADY_CALLED);
	assert_int_equal(apply(r, 3, CONSULT_EV_LEAVE, 0, NULL), CONSULT_ERR_NOT_FOUND);
	/* ended at 100 (hangup) and 220 (expiry), each kept CONSULT_ENDED_KEEP_S */
	assert_int_equal(consult_room_ended_prune(r, 100 + 900), 1);
	assert_int_equal(consult_room_ended_count(r), 2);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_room_ended_prune(r, 220 + 899), 0);
	assert_int_equal(consult_room_ended_prune(r, 220 + 900), 2);
	assert_int_equal(consult_room_ended_count(r), 0);
	consult_room_free(r); /* frees remembered visits too (ASan) */
}

/* A call is held while a side's signalling is away, and ends or requeues
 * when its deadline passes. */
static void test_held_calls(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, 0, 10060);
	join(r, 2, 0, 10120);
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 1, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	/* patient side held: still IN_CALL, detached, deadline 100 + 120 */
	consult_room_change ch;
	assert_int_equal(apply(r, 1, CONSULT_EV_PATIENT_HOLD, 0, &ch), CONSULT_OK);
	consult_visit *v = consult_room_visit(r, 1);
	assert_int_equal(v->state, CONSULT_VISIT_IN_CALL);
	assert_null(v->patient);
	assert_int_equal(v->away_since, 100);
	assert_int_equal(v->away_until, 220);
	assert_int_equal(apply(r, 1, CONSULT_EV_PATIENT_HOLD, 0, NULL), CONSULT_ERR_WRONG_STATE); /* once */
	consult_room_due_item due[4];
	assert_int_equal(consult_room_held_due(r, 219, due, 4), 0);
	assert_int_equal(consult_room_held_due(r, 220, due, 4), 1);
	assert_int_equal(due[0].visit_id, 1);
	assert_int_equal(due[0].ev, CONSULT_EV_PATIENT_DROP);
	/* the patient comes back on a new handle: attached again */
	assert_int_equal(
	        consult_room_apply(r, 1, CONSULT_EV_PATIENT_RESUME, 0, 150, 120, &patients[9], NULL), CONSULT_OK);
	assert_ptr_equal(v->patient, &patients[9]);
	assert_int_equal(v->away_since, 0);
	assert_int_equal(consult_room_held_due(r, 1000, due, 4), 0);
	/* doctor side held: only the call's doctor, once, resumed only while held */
	assert_int_equal(apply(r, 1, CONSULT_EV_DOCTOR_HOLD, D2, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(apply(r, 1, CONSULT_EV_DOCTOR_RESUME, D1, NULL), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(apply(r, 1, CONSULT_EV_DOCTOR_HOLD, D1, NULL), CONSULT_OK);
	assert_int_equal(v->doctor_until, 220);
	assert_ptr_equal(consult_room_doctor_visit(r, D1), v); /* still the doctor's call */
	assert_int_equal(apply(r, 2, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_DOCTOR_BUSY);
	assert_int_equal(consult_room_held_due(r, 220, due, 4), 1);
	assert_int_equal(due[0].ev, CONSULT_EV_DOCTOR_DROP);
	assert_int_equal(due[0].doctor_id, D1);
	assert_int_equal(apply(r, 1, CONSULT_EV_DOCTOR_RESUME, D1, NULL), CONSULT_OK);
	assert_int_equal(v->doctor_until, 0);
	/* both sides held, the doctor's deadline passes: the patient is AWAY at the head */
	assert_int_equal(apply(r, 1, CONSULT_EV_PATIENT_HOLD, 0, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 1, CONSULT_EV_DOCTOR_HOLD, D1, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 1, CONSULT_EV_DOCTOR_DROP, D1, &ch), CONSULT_OK);
	assert_int_equal(ch.step.next, CONSULT_VISIT_AWAY);
	assert_true(ch.visit.head);
	assert_int_equal(v->state, CONSULT_VISIT_AWAY);
	assert_int_equal(v->doctor_until, 0);
	assert_null(consult_room_doctor_visit(r, D1));
	order_is(r, 0, (int64_t[]){ 1, 2 }, 2);
	consult_room_free(r);
}

static consult_err restore(consult_room *r, int64_t id, consult_visit_state s, int64_t by, bool head, int64_t away)
{
	consult_visit_restore in = { .id = id,
		.appointment_id = 1000 + id,
		.doctor_id = 0,
		.appt_time = 10000,
		.joined_at = 400 + id,
		.state = s,
		.called_by = by,
		.head = head,
		.away_since = away,
		.gone_at = 900,
		.until = 1020 };
	return consult_room_restore(r, &in, NULL);
}

/* Stored live visits come back: same order (head flags, appointment time,
 * visit id), ringing at the head, calls held on both sides. */
static void test_restore(void **st)
{
	consult_room *r = consult_room_new(1);
	assert_int_equal(restore(r, 3, CONSULT_VISIT_WAITING, 0, false, 0), CONSULT_OK);
	assert_int_equal(restore(r, 4, CONSULT_VISIT_AWAY, 0, false, 850), CONSULT_OK);
	assert_int_equal(restore(r, 5, CONSULT_VISIT_RINGING, D1, false, 0), CONSULT_OK);
	assert_int_equal(restore(r, 6, CONSULT_VISIT_WAITING, 0, true, 0), CONSULT_OK);
	assert_int_equal(restore(r, 7, CONSULT_VISIT_IN_CALL, D2, false, 0), CONSULT_OK);
	assert_int_equal(restore(r, 8, CONSULT_VISIT_IN_CALL, D2, false, 0), CONSULT_OK); /* D2 holds 7 */
	assert_int_equal(restore(r, 9, CONSULT_VISIT_ENDED, 0, false, 0), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(restore(r, 3, CONSULT_VISIT_WAITING, 0, false, 0), CONSULT_ERR_CONFLICT);
	order_is(r, 0, (int64_t[]){ 5, 6, 8, 3, 4 }, 5);
	consult_visit *v = consult_room_visit(r, 3);
	assert_int_equal(v->state, CONSULT_VISIT_AWAY);
	assert_null(v->patient);
	assert_int_equal(v->joined_at, 403);
	assert_int_equal(v->away_since, 900); /* when the server went */
	assert_int_equal(v->away_until, 1020);
	assert_int_equal(consult_room_visit(r, 4)->away_since, 850); /* as stored */
	v = consult_room_visit(r, 7);
	assert_int_equal(v->state, CONSULT_VISIT_IN_CALL);
	assert_int_equal(v->call_doctor_id, D2);
	assert_int_equal(v->doctor_until, 1020);
	assert_int_equal(v->away_until, 1020);
	assert_ptr_equal(consult_room_doctor_visit(r, D2), v);
	assert_int_equal(consult_room_ahead(r, 3), 0); /* 5, 6, 8 are ahead but away */
	/* nobody back: the AWAY ones expire, the call ends on its patient side */
	assert_int_equal(consult_room_due(r, 1020, NULL, 0), 5);
	consult_room_due_item due[2];
	assert_int_equal(consult_room_held_due(r, 1020, due, 2), 1);
	assert_int_equal(due[0].ev, CONSULT_EV_PATIENT_DROP);
	/* a patient back in a restored visit */
	assert_int_equal(
	        consult_room_apply(r, 3, CONSULT_EV_PATIENT_BACK, 0, 950, 120, &patients[3], NULL), CONSULT_OK);
	assert_int_equal(consult_room_visit(r, 3)->state, CONSULT_VISIT_WAITING);
	assert_int_equal(consult_room_ahead(r, 3), 0);
	assert_int_equal(
	        consult_room_apply(r, 6, CONSULT_EV_PATIENT_BACK, 0, 950, 120, &patients[6], NULL), CONSULT_OK);
	assert_int_equal(consult_room_ahead(r, 3), 1);
	consult_room_free(r);
}

/* The device check: reported while waiting or ringing, refused otherwise,
 * and unchecked again whenever a (new) handle takes the visit. */
static void test_readiness(void **st)
{
	consult_room *r = consult_room_new(1);
	consult_visit *v = join(r, 1, D1, 10000);
	join(r, 2, D1, 10060);
	assert_int_equal(v->camera, CONSULT_READY_UNCHECKED);
	assert_int_equal(v->microphone, CONSULT_READY_UNCHECKED);
	bool changed = true;
	assert_int_equal(consult_room_set_readiness(r, 1, CONSULT_READY_UNCHECKED, CONSULT_READY_UNCHECKED, &changed),
	        CONSULT_OK);
	assert_false(changed);
	assert_int_equal(
	        consult_room_set_readiness(r, 1, CONSULT_READY_BLOCKED, CONSULT_READY_OK, &changed), CONSULT_OK);
	assert_true(changed);
	assert_int_equal(v->camera, CONSULT_READY_BLOCKED);
	assert_int_equal(v->microphone, CONSULT_READY_OK);
	assert_int_equal(
	        consult_room_set_readiness(r, 1, CONSULT_READY_BLOCKED, CONSULT_READY_OK, &changed), CONSULT_OK);
	assert_false(changed);
	/* out of range or unknown visit: nothing changes */
	assert_int_equal(consult_room_set_readiness(r, 1, CONSULT_READINESS_COUNT, CONSULT_READY_OK, &changed),
	        CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(
	        consult_room_set_readiness(r, 9, CONSULT_READY_OK, CONSULT_READY_OK, &changed), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(v->camera, CONSULT_READY_BLOCKED);
	/* a takeover starts unchecked */
	assert_int_equal(consult_room_take_over(r, 1, &patients[20]), CONSULT_OK);
	assert_int_equal(v->camera, CONSULT_READY_UNCHECKED);
	assert_int_equal(v->microphone, CONSULT_READY_UNCHECKED);
	/* ringing: allowed; in a call: wrong_state */
	assert_int_equal(apply(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_OK);
	assert_int_equal(
	        consult_room_set_readiness(r, 1, CONSULT_READY_OK, CONSULT_READY_MISSING, &changed), CONSULT_OK);
	assert_true(changed);
	assert_int_equal(v->microphone, CONSULT_READY_MISSING);
	assert_int_equal(apply(r, 1, CONSULT_EV_ACCEPT, 0, NULL), CONSULT_OK);
	assert_int_equal(consult_room_set_readiness(r, 1, CONSULT_READY_OK, CONSULT_READY_OK, &changed),
	        CONSULT_ERR_WRONG_STATE);
	assert_false(changed);
	assert_int_equal(v->microphone, CONSULT_READY_MISSING);
	/* the patient's handle goes and comes back: unchecked again */
	assert_int_equal(apply(r, 1, CONSULT_EV_PATIENT_HOLD, 0, NULL), CONSULT_OK);
	assert_int_equal(
	        consult_room_apply(r, 1, CONSULT_EV_PATIENT_RESUME, 0, 110, 120, &patients[21], NULL), CONSULT_OK);
	assert_int_equal(v->microphone, CONSULT_READY_UNCHECKED);
	/* away: wrong_state; back: unchecked */
	consult_visit *w = consult_room_visit(r, 2);
	assert_int_equal(consult_room_set_readiness(r, 2, CONSULT_READY_OK, CONSULT_READY_OK, NULL), CONSULT_OK);
	assert_int_equal(apply(r, 2, CONSULT_EV_PATIENT_DROP, 0, NULL), CONSULT_OK);
	assert_int_equal(w->camera, CONSULT_READY_OK); /* the list keeps showing the last check */
	assert_int_equal(consult_room_set_readiness(r, 2, CONSULT_READY_BLOCKED, CONSULT_READY_OK, &changed),
	        CONSULT_ERR_WRONG_STATE);
	assert_int_equal(
	        consult_room_apply(r, 2, CONSULT_EV_PATIENT_BACK, 0, 110, 120, &patients[22], NULL), CONSULT_OK);
	assert_int_equal(w->camera, CONSULT_READY_UNCHECKED);
	consult_room_free(r);
}

typedef struct waitlog {
	int64_t id[32];
	uint32_t ahead[32];
	consult_wait wait[32];
	size_t n;
	uint32_t minutes_per_ahead; /* the fake estimate: ahead * this .. + 5 */
	size_t asked;
} waitlog;

static consult_wait fake_wait(const consult_visit *v, uint32_t ahead, void *ud)
{
	waitlog *l = ud;
	l->asked++;
	consult_wait w = { l->minutes_per_ahead > 0, ahead * l->minutes_per_ahead, ahead * l->minutes_per_ahead + 5 };
	return w;
}

static void on_told(consult_visit *v, uint32_t ahead, consult_wait wait, void *ud)
{
	waitlog *l = ud;
	l->id[l->n] = v->id;
	l->ahead[l->n] = ahead;
	l->wait[l->n++] = wait;
}

/* Positions with the estimate: a visit is reported when its position or
 * its estimate changed, with the estimate computed for that position. */
static void test_positions_with_wait(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1, 10000);
	join(r, 2, D1, 10060);
	join(r, 3, D1, 10120);
	waitlog l = { .n = 0, .minutes_per_ahead = 0 };
	assert_int_equal(consult_room_positions_wait(r, fake_wait, on_told, &l), 3);
	assert_false(l.wait[2].known);
	/* only the estimate changes (history arrived): all three again */
	l.n = 0;
	l.minutes_per_ahead = 10;
	assert_int_equal(consult_room_positions_wait(r, fake_wait, on_told, &l), 3);
	assert_int_equal(l.id[2], 3);
	assert_int_equal(l.ahead[2], 2);
	assert_true(l.wait[2].known);
	assert_int_equal(l.wait[2].min_minutes, 20);
	assert_int_equal(l.wait[2].max_minutes, 25);
	/* nothing changed: nothing reported, every visit asked */
	l.n = 0;
	l.asked = 0;
	assert_int_equal(consult_room_positions_wait(r, fake_wait, on_told, &l), 0);
	assert_int_equal(l.asked, 3);
	/* the first goes away: the others move up with their estimates */
	assert_int_equal(apply(r, 1, CONSULT_EV_PATIENT_DROP, 0, NULL), CONSULT_OK);
	assert_int_equal(consult_room_positions_wait(r, fake_wait, on_told, &l), 2);
	assert_int_equal(l.id[0], 2);
	assert_int_equal(l.ahead[0], 0);
	assert_int_equal(l.wait[0].min_minutes, 0);
	assert_int_equal(l.id[1], 3);
	assert_int_equal(l.wait[1].min_minutes, 10);
	/* without a wait callback: unknown for all, reported as a change */
	l.n = 0;
	assert_int_equal(consult_room_positions_wait(r, NULL, on_told, &l), 3);
	assert_false(l.wait[0].known);
	consult_room_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_positions_with_wait),
		cmocka_unit_test(test_held_calls),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_join_conflict_and_lookup),
		cmocka_unit_test(test_two_doctors_one_patient),
		cmocka_unit_test(test_doctor_busy_and_visibility),
		cmocka_unit_test(test_decline_and_cancel_keep_place),
		cmocka_unit_test(test_doctor_drop_to_head),
		cmocka_unit_test(test_patient_drop_back_and_expire),
		cmocka_unit_test(test_expire_callback),
		cmocka_unit_test(test_cancel_leave_and_positions),
		cmocka_unit_test(test_many_and_free_live),
		cmocka_unit_test(test_take_over_due_and_ended),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
