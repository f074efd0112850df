/* test_decide.c - the room's decisions (core/decide.h): the effect list of
 * every visit event, the join policy (resume, take over, end the call),
 * arrival, a doctor leaving, the ended-visit memory; that deciding changes
 * nothing; and a property test: random event sequences from a seeded PRNG
 * (CONSULT_SEED=n to replay; the seed is printed on failure), executed
 * effect by effect by a model glue, with invariants checked after every
 * step:
 *   - one call per doctor; the model's doctor bindings equal the room's;
 *   - positions: every doctor's list indexed 0..n-1 without gaps, each
 *     patient's "ahead" its place among the visits competing with it, and
 *     the last position told to every waiting patient is the current one;
 *   - no visit in two states, the model's state of every visit = the room's;
 *   - ended visits never reappear as live (and a late call is refused);
 *   - a patient handle only hears about its own visit: every push to a
 *     patient names the visit bound to that handle, no list, name or
 *     appointment event ever goes to a patient, retired handles hear nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "core/decide.h"
#include "core/queue.h"
#include "core/rejoin.h"

#define D1 101
#define D2 102

static int handles[64]; /* fake patient handles */
#define H(i) ((void *)&handles[i])

static consult_actor doctor(int64_t id)
{
	return (consult_actor){ CONSULT_ACTOR_DOCTOR, id };
}
static consult_actor patient_actor(void)
{
	return (consult_actor){ CONSULT_ACTOR_PATIENT, 0 };
}
static consult_actor nobody(void)
{
	return (consult_actor){ CONSULT_ACTOR_NONE, 0 };
}

static void join(consult_room *r, int64_t id, int64_t doc)
{
	consult_visit_init in = { .id = id,
		.appointment_id = 1000 + id,
		.doctor_id = doc,
		.appt_time = 10000 + id * 60,
		.joined_at = 500,
		.patient = H(id) };
	assert_int_equal(consult_room_join(r, &in, NULL), CONSULT_OK);
}

static consult_err decide_ev(consult_room *r, int64_t id, consult_visit_event ev, consult_actor a, consult_decision *d)
{
	consult_room_event in = { .in = CONSULT_IN_VISIT, .ev = ev, .visit_id = id, .grace_s = 120 };
	return consult_room_decide(r, &in, &a, 100, d);
}

/* The room changes of a decision, as the glue runs them (no store, no pushes). */
static void run_room(consult_room *r, const consult_decision *d)
{
	for (size_t i = 0; i < d->fx.n; i++) {
		const consult_effect *f = &d->fx.fx[i];
		if (f->kind == CONSULT_FX_APPLY) {
			assert_int_equal(consult_room_apply(r, f->visit_id, f->ev, f->doctor_id, f->at, f->grace_s,
			                         f->patient, NULL),
			        CONSULT_OK);
		} else if (f->kind == CONSULT_FX_JOIN) {
			consult_visit_init in = { .id = f->visit_id,
				.appointment_id = f->appointment_id,
				.doctor_id = f->doctor_id,
				.appt_time = f->appt_time,
				.joined_at = f->joined_at,
				.patient = f->patient };
			assert_int_equal(consult_room_join(r, &in, NULL), CONSULT_OK);
		} else if (f->kind == CONSULT_FX_TAKE_OVER) {
			assert_int_equal(consult_room_take_over(r, f->visit_id, f->patient), CONSULT_OK);
		}
	}
}

static void step(consult_room *r, int64_t id, consult_visit_event ev, consult_actor a)
{
	consult_decision d;
	assert_int_equal(decide_ev(r, id, ev, a, &d), CONSULT_OK);
	run_room(r, &d);
}

/* The effect list as a compact string: kinds, push events and recipients. */
static const char *shape(const consult_decision *d)
{
	static char buf[1024];
	static const char *const kind[CONSULT_FX_KIND_COUNT] = {
		"store_ring",
		"store_end",
		"store_state",
		"apply",
		"join",
		"take_over",
		"bind_doctor",
		"unbind_doctor",
		"bind_patient",
		"unbind_patient",
		"retire",
		"call_over",
		"forget",
		"notify",
		"push",
		"positions",
	};
	static const char *const to[] = { "patient", "doctor", "doctors", "staff" };
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < d->fx.n; i++) {
		const consult_effect *f = &d->fx.fx[i];
		if (f->kind == CONSULT_FX_PUSH)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s>%s", i ? " " : "",
			        consult_push_event_name(f->event), to[f->to]);
		else
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "", kind[f->kind]);
	}
	return buf;
}

static const consult_effect *find_push(const consult_decision *d, consult_push_event ev, consult_fx_to to)
{
	for (size_t i = 0; i < d->fx.n; i++)
		if (d->fx.fx[i].kind == CONSULT_FX_PUSH && d->fx.fx[i].event == ev && d->fx.fx[i].to == to)
			return &d->fx.fx[i];
	return NULL;
}

static const consult_effect *find_kind(const consult_decision *d, consult_fx_kind k)
{
	for (size_t i = 0; i < d->fx.n; i++)
		if (d->fx.fx[i].kind == k)
			return &d->fx.fx[i];
	return NULL;
}

static void test_call(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, 0);
	consult_decision d;
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CALL, doctor(D1), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_ring apply bind_doctor ringing>patient appointment>staff notify "
	        "waiting>doctors positions");
	/* deciding changed nothing */
	assert_int_equal(consult_room_visit(r, 1)->state, CONSULT_VISIT_WAITING);
	assert_null(consult_room_doctor_visit(r, D1));
	assert_true(d.has_step);
	assert_int_equal(d.step.next, CONSULT_VISIT_RINGING);
	assert_int_equal(d.fx.fx[0].doctor_id, D1);
	assert_int_equal(d.fx.fx[0].at, 100);
	assert_int_equal(d.changed, 2); /* store write and room change */
	const consult_effect *p = find_push(&d, CONSULT_PUSH_ringing, CONSULT_TO_PATIENT);
	assert_ptr_equal(p->patient, H(1));
	assert_int_equal(p->fields, CONSULT_PF_DOCTOR | CONSULT_PF_ICE | CONSULT_PF_POLICY);
	assert_int_equal(p->doctor_id, D1);
	assert_string_equal(find_push(&d, CONSULT_PUSH_appointment, CONSULT_TO_STAFF)->status, "ringing");
	assert_int_equal(find_push(&d, CONSULT_PUSH_waiting, CONSULT_TO_DOCTORS)->doctor_id, 0);
	run_room(r, &d);
	assert_int_equal(consult_room_visit(r, 1)->call_doctor_id, D1);
	consult_room_free(r);
}

static void test_call_refused(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	join(r, 2, 0);
	join(r, 3, 0);
	consult_decision d;
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CALL, doctor(D2), &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(d.fx.n, 0);
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CALL, nobody(), &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(decide_ev(r, 9, CONSULT_EV_CALL, doctor(D1), &d), CONSULT_ERR_NOT_FOUND);
	step(r, 2, CONSULT_EV_CALL, doctor(D1));
	assert_int_equal(decide_ev(r, 2, CONSULT_EV_CALL, doctor(D2), &d), CONSULT_ERR_ALREADY_CALLED);
	assert_int_equal(decide_ev(r, 3, CONSULT_EV_CALL, doctor(D1), &d), CONSULT_ERR_DOCTOR_BUSY);
	/* only the call's doctor may cancel it */
	assert_int_equal(decide_ev(r, 2, CONSULT_EV_CANCEL_RING, doctor(D2), &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(decide_ev(r, 2, CONSULT_EV_HANGUP_DOCTOR, doctor(D1), &d), CONSULT_ERR_WRONG_STATE);
	consult_room_free(r);
}

static void test_accept_decline_cancel(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	consult_decision d;
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_DECLINE, patient_actor(), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_state apply call_declined>doctor unbind_doctor appointment>staff notify "
	        "waiting>doctors positions");
	assert_int_equal(d.fx.fx[0].state, CONSULT_VISIT_WAITING);
	const consult_effect *dec = find_push(&d, CONSULT_PUSH_call_declined, CONSULT_TO_DOCTOR);
	assert_int_equal(dec->fields, CONSULT_PF_VISIT | CONSULT_PF_DECLINE);
	assert_int_equal(dec->decline, CONSULT_DECLINE_DECLINED); /* no reason given */
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CANCEL_RING, doctor(D1), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_state apply ring_cancelled>patient unbind_doctor appointment>staff notify "
	        "waiting>doctors positions");
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_ACCEPT, patient_actor(), &d), CONSULT_OK);
	assert_string_equal(shape(&d), "store_state apply call_accepted>doctor appointment>staff notify positions");
	const consult_effect *a = find_push(&d, CONSULT_PUSH_call_accepted, CONSULT_TO_DOCTOR);
	assert_int_equal(a->fields, CONSULT_PF_VISIT | CONSULT_PF_ICE | CONSULT_PF_AUDIO);
	assert_false(a->audio_only);
	assert_int_equal(a->doctor_id, D1);
	assert_string_equal(find_push(&d, CONSULT_PUSH_appointment, CONSULT_TO_STAFF)->status, "in_call");
	consult_room_free(r);
}

/* The patient's answer with what the doctor hears: decline's reason,
 * accept with audio only, refused (nothing to do, still ringing) where the
 * practice's policy is "never". */
static consult_err answer(consult_room *r, consult_visit_event ev, consult_decline_reason why, bool audio, bool never,
        consult_decision *d)
{
	consult_room_event in = { .in = CONSULT_IN_VISIT,
		.ev = ev,
		.visit_id = 1,
		.grace_s = 120,
		.decline = why,
		.audio_only = audio,
		.audio_never = never };
	consult_actor a = patient_actor();
	return consult_room_decide(r, &in, &a, 100, d);
}

static void test_answer_reason_and_audio_only(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	consult_decision d;
	/* not ringing: wrong_state comes first, whatever the policy */
	assert_int_equal(answer(r, CONSULT_EV_ACCEPT, 0, true, true, &d), CONSULT_ERR_WRONG_STATE);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	static const consult_decline_reason why[] = { CONSULT_DECLINE_CAMERA_BLOCKED,
		CONSULT_DECLINE_MICROPHONE_BLOCKED, CONSULT_DECLINE_NO_DEVICES, CONSULT_DECLINE_DECLINED };
	for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
		assert_int_equal(answer(r, CONSULT_EV_DECLINE, why[i], false, false, &d), CONSULT_OK);
		const consult_effect *dec = find_push(&d, CONSULT_PUSH_call_declined, CONSULT_TO_DOCTOR);
		assert_int_equal(dec->decline, why[i]);
		assert_int_equal(dec->fields, CONSULT_PF_VISIT | CONSULT_PF_DECLINE);
	}
	assert_string_equal(consult_decline_reason_name(CONSULT_DECLINE_CAMERA_BLOCKED), "camera_blocked");
	assert_string_equal(consult_decline_reason_name(CONSULT_DECLINE_REASON_COUNT), "");
	/* a reason out of range reaches the doctor as "declined" */
	assert_int_equal(answer(r, CONSULT_EV_DECLINE, (consult_decline_reason)77, false, false, &d), CONSULT_OK);
	assert_int_equal(
	        find_push(&d, CONSULT_PUSH_call_declined, CONSULT_TO_DOCTOR)->decline, CONSULT_DECLINE_DECLINED);
	/* audio only where the practice says never: forbidden, nothing to do */
	assert_int_equal(answer(r, CONSULT_EV_ACCEPT, 0, true, true, &d), CONSULT_ERR_FORBIDDEN);
	assert_int_equal(d.fx.n, 0);
	assert_false(d.has_step);
	assert_int_equal(consult_room_visit(r, 1)->state, CONSULT_VISIT_RINGING);
	/* with the camera the policy does not matter */
	assert_int_equal(answer(r, CONSULT_EV_ACCEPT, 0, false, true, &d), CONSULT_OK);
	assert_false(find_push(&d, CONSULT_PUSH_call_accepted, CONSULT_TO_DOCTOR)->audio_only);
	/* audio only where allowed: the doctor hears audio_only */
	assert_int_equal(answer(r, CONSULT_EV_ACCEPT, 0, true, false, &d), CONSULT_OK);
	const consult_effect *acc = find_push(&d, CONSULT_PUSH_call_accepted, CONSULT_TO_DOCTOR);
	assert_true(acc->audio_only);
	assert_int_equal(acc->fields, CONSULT_PF_VISIT | CONSULT_PF_ICE | CONSULT_PF_AUDIO);
	run_room(r, &d);
	assert_int_equal(consult_room_visit(r, 1)->state, CONSULT_VISIT_IN_CALL);
	/* the flags of the answer do not leak into other events */
	assert_int_equal(answer(r, CONSULT_EV_HANGUP_PATIENT, CONSULT_DECLINE_NO_DEVICES, true, true, &d), CONSULT_OK);
	const consult_effect *end = find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_DOCTOR);
	assert_int_equal(end->fields, CONSULT_PF_VISIT | CONSULT_PF_REASON);
	assert_false(end->audio_only);
	assert_int_equal(end->decline, CONSULT_DECLINE_DECLINED);
	consult_room_free(r);
}

static void test_hangups_end_the_visit(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	step(r, 1, CONSULT_EV_ACCEPT, patient_actor());
	consult_decision d;
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_HANGUP_DOCTOR, doctor(D1), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_end apply call_ended>patient unbind_doctor call_over appointment>staff "
	        "notify unbind_patient forget positions");
	assert_int_equal(d.fx.fx[0].reason, CONSULT_END_DOCTOR_HANGUP);
	assert_string_equal(find_push(&d, CONSULT_PUSH_appointment, CONSULT_TO_STAFF)->status, "ended");
	assert_ptr_equal(find_kind(&d, CONSULT_FX_CALL_OVER)->patient, H(1));
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_HANGUP_PATIENT, patient_actor(), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_end apply call_ended>doctor unbind_doctor call_over appointment>staff "
	        "notify unbind_patient forget positions");
	/* the patient drops out of the call: the call ends for the doctor */
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_PATIENT_DROP, nobody(), &d), CONSULT_OK);
	assert_int_equal(d.step.reason, CONSULT_END_PATIENT_DROPPED);
	assert_non_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_DOCTOR));
	assert_null(find_push(&d, CONSULT_PUSH_patient_away, CONSULT_TO_DOCTOR));
	run_room(r, &d);
	assert_null(consult_room_visit(r, 1));
	assert_int_equal(consult_room_check(r, 1, CONSULT_EV_CALL, D1, NULL), CONSULT_ERR_ALREADY_CALLED);
	consult_room_free(r);
}

static void test_connection_lost_skips_the_sender(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	step(r, 1, CONSULT_EV_ACCEPT, patient_actor());
	consult_decision d;
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CONNECTION_LOST, patient_actor(), &d), CONSULT_OK);
	assert_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_PATIENT));
	assert_non_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_DOCTOR));
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CONNECTION_LOST, doctor(D1), &d), CONSULT_OK);
	assert_non_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_PATIENT));
	assert_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_DOCTOR));
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_NO_PATH, nobody(), &d), CONSULT_OK);
	assert_non_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_PATIENT));
	assert_non_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_DOCTOR));
	assert_int_equal(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_DOCTOR)->reason, CONSULT_END_NO_PATH);
	consult_room_free(r);
}

static void test_drop_back_expire_cancel(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	consult_decision d;
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_PATIENT_DROP, nobody(), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_state apply patient_away>doctor unbind_doctor appointment>staff notify "
	        "unbind_patient waiting>doctors positions");
	assert_int_equal(find_kind(&d, CONSULT_FX_APPLY)->grace_s, 120);
	run_room(r, &d);
	assert_int_equal(consult_room_visit(r, 1)->away_until, 220);
	assert_null(consult_room_visit(r, 1)->patient);
	/* back on a new handle */
	consult_room_event in = {
		.in = CONSULT_IN_VISIT, .ev = CONSULT_EV_PATIENT_BACK, .visit_id = 1, .patient = H(7)
	};
	consult_actor none = nobody();
	assert_int_equal(consult_room_decide(r, &in, &none, 150, &d), CONSULT_OK);
	assert_string_equal(shape(&d), "store_state apply appointment>staff notify waiting>doctors positions");
	assert_ptr_equal(find_kind(&d, CONSULT_FX_APPLY)->patient, H(7));
	/* grace over: ended, nobody to tell but the staff and the doctors' lists */
	int64_t due[4];
	assert_int_equal(consult_room_due(r, 219, due, 4), 0);
	assert_int_equal(consult_room_due(r, 220, due, 4), 1);
	assert_int_equal(due[0], 1);
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_GRACE_EXPIRED, nobody(), &d), CONSULT_OK);
	assert_string_equal(shape(&d), "store_end apply appointment>staff notify forget waiting>doctors positions");
	/* cancelled while waiting: the patient hears visit_ended, reception "cancelled" */
	join(r, 2, D1);
	assert_int_equal(decide_ev(r, 2, CONSULT_EV_CANCELLED, nobody(), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_end apply visit_ended>patient appointment>staff notify unbind_patient forget "
	        "waiting>doctors positions");
	assert_non_null(find_push(&d, CONSULT_PUSH_visit_ended, CONSULT_TO_PATIENT));
	assert_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_DOCTOR));
	assert_string_equal(find_push(&d, CONSULT_PUSH_appointment, CONSULT_TO_STAFF)->status, "cancelled");
	consult_room_free(r);
}

static void test_doctor_drop_requeues(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	step(r, 1, CONSULT_EV_ACCEPT, patient_actor());
	consult_decision d;
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_DOCTOR_DROP, doctor(D1), &d), CONSULT_OK);
	assert_string_equal(shape(&d),
	        "store_state apply doctor_left>patient unbind_doctor call_over appointment>staff "
	        "notify waiting>doctors positions");
	assert_int_equal(find_push(&d, CONSULT_PUSH_doctor_left, CONSULT_TO_PATIENT)->fields, CONSULT_PF_REQUEUED);
	assert_true(d.step.to_head);
	consult_room_free(r);
}

static consult_err decide_leave(consult_room *r, int64_t visit_id, int64_t doc, bool gone, consult_decision *d)
{
	consult_room_event in = { .in = CONSULT_IN_DOCTOR_LEAVE, .visit_id = visit_id, .handle_gone = gone };
	consult_actor a = doctor(doc);
	return consult_room_decide(r, &in, &a, 100, d);
}

static void test_doctor_leaving(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	consult_decision d;
	assert_int_equal(decide_leave(r, 1, D1, false, &d), CONSULT_OK); /* holds no call */
	assert_int_equal(d.fx.n, 0);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	assert_int_equal(decide_leave(r, 1, D2, false, &d), CONSULT_OK);
	assert_int_equal(d.fx.n, 0);
	assert_int_equal(decide_leave(r, 1, D1, false, &d), CONSULT_OK);
	assert_int_equal(d.ev, CONSULT_EV_CANCEL_RING);
	assert_int_equal(decide_leave(r, 1, D1, true, &d), CONSULT_OK);
	assert_int_equal(d.ev, CONSULT_EV_DOCTOR_DROP);
	step(r, 1, CONSULT_EV_ACCEPT, patient_actor());
	assert_int_equal(decide_leave(r, 1, D1, false, &d), CONSULT_OK);
	assert_int_equal(d.ev, CONSULT_EV_HANGUP_DOCTOR);
	assert_int_equal(d.step.next, CONSULT_VISIT_ENDED);
	consult_room_free(r);
}

static consult_err decide_join(consult_room *r, int64_t appointment_id, void *h, consult_decision *d)
{
	consult_room_event in = {
		.in = CONSULT_IN_JOIN, .appointment_id = appointment_id, .patient = h, .grace_s = 120
	};
	return consult_room_decide(r, &in, NULL, 100, d);
}

static void test_join_policy(void **st)
{
	consult_room *r = consult_room_new(1);
	consult_decision d;
	/* no live visit: a new one */
	assert_int_equal(decide_join(r, 1001, H(20), &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_NEW);
	assert_int_equal(d.fx.n, 0);
	/* waiting on another handle: taken over, no ringing */
	join(r, 1, D1);
	assert_int_equal(decide_join(r, 1001, H(20), &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_RESUMED);
	assert_string_equal(shape(&d), "taken_over>patient retire take_over bind_patient");
	assert_ptr_equal(d.fx.fx[0].patient, H(1));
	assert_ptr_equal(d.fx.fx[1].patient, H(1));
	assert_ptr_equal(d.fx.fx[2].patient, H(20));
	assert_int_equal(d.fx.fx[3].appointment_id, 1001);
	run_room(r, &d);
	assert_ptr_equal(consult_room_visit(r, 1)->patient, H(20));
	/* ringing: the new handle rings */
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	assert_int_equal(decide_join(r, 1001, H(21), &d), CONSULT_OK);
	assert_string_equal(shape(&d), "taken_over>patient retire take_over bind_patient ringing>patient");
	const consult_effect *ring = find_push(&d, CONSULT_PUSH_ringing, CONSULT_TO_PATIENT);
	assert_ptr_equal(ring->patient, H(21));
	assert_int_equal(ring->doctor_id, D1);
	assert_int_equal(ring->fields, CONSULT_PF_DOCTOR | CONSULT_PF_ICE | CONSULT_PF_POLICY);
	run_room(r, &d);
	/* in a call: the call ends, the old handle is retired, a new visit begins */
	step(r, 1, CONSULT_EV_ACCEPT, patient_actor());
	assert_int_equal(decide_join(r, 1001, H(22), &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_NEW);
	assert_int_equal(d.ev, CONSULT_EV_PATIENT_DROP);
	assert_string_equal(shape(&d),
	        "store_end apply call_ended>doctor unbind_doctor call_over appointment>staff notify "
	        "unbind_patient forget positions taken_over>patient retire");
	run_room(r, &d);
	assert_null(consult_room_visit_of_appointment(r, 1001));
	/* away: it comes back */
	join(r, 2, 0);
	step(r, 2, CONSULT_EV_PATIENT_DROP, nobody());
	assert_int_equal(decide_join(r, 1002, H(23), &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_RESUMED);
	assert_int_equal(d.ev, CONSULT_EV_PATIENT_BACK);
	assert_string_equal(
	        shape(&d), "store_state apply appointment>staff notify waiting>doctors positions bind_patient");
	consult_room_free(r);
}

/* A new handle of a waiting visit checks its devices anew: a reported
 * readiness goes back to unchecked, and the doctors get a fresh list; a
 * ringing visit is in no list. */
static void test_join_resets_readiness(void **st)
{
	consult_room *r = consult_room_new(1);
	consult_decision d;
	join(r, 1, D1);
	assert_int_equal(consult_room_set_readiness(r, 1, CONSULT_READY_OK, CONSULT_READY_BLOCKED, NULL), CONSULT_OK);
	assert_int_equal(decide_join(r, 1001, H(20), &d), CONSULT_OK);
	assert_string_equal(shape(&d), "taken_over>patient retire take_over bind_patient waiting>doctors");
	assert_int_equal(find_push(&d, CONSULT_PUSH_waiting, CONSULT_TO_DOCTORS)->doctor_id, D1);
	run_room(r, &d);
	assert_int_equal(consult_room_visit(r, 1)->camera, CONSULT_READY_UNCHECKED);
	assert_int_equal(consult_room_visit(r, 1)->microphone, CONSULT_READY_UNCHECKED);
	/* unchecked already: nothing to tell */
	assert_int_equal(decide_join(r, 1001, H(21), &d), CONSULT_OK);
	assert_string_equal(shape(&d), "taken_over>patient retire take_over bind_patient");
	run_room(r, &d);
	/* ringing: the list does not show it */
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	assert_int_equal(consult_room_set_readiness(r, 1, CONSULT_READY_OK, CONSULT_READY_OK, NULL), CONSULT_OK);
	assert_int_equal(decide_join(r, 1001, H(22), &d), CONSULT_OK);
	assert_string_equal(shape(&d), "taken_over>patient retire take_over bind_patient ringing>patient");
	run_room(r, &d);
	assert_int_equal(consult_room_visit(r, 1)->camera, CONSULT_READY_UNCHECKED);
	consult_room_free(r);
}

/* A call whose participant's handle vanishes is held: the other side hears
 * nothing; the patient takes it back with resume_call; when nobody comes
 * back the visit ends as of when the patient went. */
static void test_held_call(void **st)
{
	consult_room *r = consult_room_new(1);
	consult_decision d;
	join(r, 1, 0);
	step(r, 1, CONSULT_EV_CALL, doctor(D1));
	step(r, 1, CONSULT_EV_ACCEPT, patient_actor());
	consult_room_event gone = { .in = CONSULT_IN_PATIENT_GONE, .visit_id = 1, .grace_s = 120 };
	assert_int_equal(consult_room_decide(r, &gone, NULL, 100, &d), CONSULT_OK);
	assert_int_equal(d.ev, CONSULT_EV_PATIENT_HOLD);
	assert_string_equal(shape(&d), "store_state apply unbind_patient positions");
	assert_int_equal(d.fx.fx[0].state, CONSULT_VISIT_IN_CALL);
	assert_int_equal(d.fx.fx[0].away_since, 100);
	run_room(r, &d);
	/* the doctor hangs up meanwhile: the visit ends, no one to tell on the patient side */
	consult_room *r2 = consult_room_new(1);
	join(r2, 1, 0);
	step(r2, 1, CONSULT_EV_CALL, doctor(D1));
	step(r2, 1, CONSULT_EV_ACCEPT, patient_actor());
	assert_int_equal(consult_room_decide(r2, &gone, NULL, 100, &d), CONSULT_OK);
	run_room(r2, &d);
	assert_int_equal(decide_ev(r2, 1, CONSULT_EV_HANGUP_DOCTOR, doctor(D1), &d), CONSULT_OK);
	assert_null(find_push(&d, CONSULT_PUSH_call_ended, CONSULT_TO_PATIENT));
	run_room(r2, &d);
	/* the page comes back to the ended call: told so, nothing joined; another
	 * appointment's page naming that visit learns nothing */
	consult_room_event back = {
		.in = CONSULT_IN_JOIN, .appointment_id = 1001, .patient = H(40), .grace_s = 120, .resume_call = 1
	};
	assert_int_equal(consult_room_decide(r2, &back, NULL, 140, &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_ENDED);
	assert_int_equal(d.fx.n, 0);
	back.appointment_id = 1002;
	assert_int_equal(consult_room_decide(r2, &back, NULL, 140, &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_NEW);
	back.appointment_id = 1001;
	back.resume_call = 0;
	assert_int_equal(consult_room_decide(r2, &back, NULL, 140, &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_NEW);
	consult_room_free(r2);
	/* join without resume_call: the call ends as before */
	consult_room_event j = { .in = CONSULT_IN_JOIN, .appointment_id = 1001, .patient = H(30), .grace_s = 120 };
	assert_int_equal(consult_room_decide(r, &j, NULL, 130, &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_NEW);
	assert_int_equal(d.ev, CONSULT_EV_PATIENT_DROP);
	assert_int_equal(d.fx.fx[0].kind, CONSULT_FX_STORE_END);
	assert_int_equal(d.fx.fx[0].at, 100); /* ended when the patient went */
	/* join with resume_call: the new handle holds the call, the doctor hears nothing */
	j.resume_call = 1;
	assert_int_equal(consult_room_decide(r, &j, NULL, 130, &d), CONSULT_OK);
	assert_int_equal(d.join, CONSULT_JOIN_RESUMED);
	assert_int_equal(d.ev, CONSULT_EV_PATIENT_RESUME);
	assert_string_equal(shape(&d), "store_state apply positions bind_patient");
	assert_int_equal(d.fx.fx[0].away_since, 0);
	run_room(r, &d);
	assert_ptr_equal(consult_room_visit(r, 1)->patient, H(30));
	assert_int_equal(consult_room_visit(r, 1)->state, CONSULT_VISIT_IN_CALL);
	/* a second page with resume_call takes it over: the old handle is retired */
	j.patient = H(31);
	assert_int_equal(consult_room_decide(r, &j, NULL, 140, &d), CONSULT_OK);
	assert_string_equal(shape(&d), "store_state apply positions taken_over>patient retire bind_patient");
	assert_ptr_equal(find_push(&d, CONSULT_PUSH_taken_over, CONSULT_TO_PATIENT)->patient, H(30));
	run_room(r, &d);
	/* the doctor's handle vanishes: held, the patient hears nothing; a second
	 * report of the same doctor changes nothing */
	consult_room_event leave = {
		.in = CONSULT_IN_DOCTOR_LEAVE, .visit_id = 1, .handle_gone = true, .grace_s = 120
	};
	consult_actor a = doctor(D1);
	assert_int_equal(consult_room_decide(r, &leave, &a, 150, &d), CONSULT_OK);
	assert_int_equal(d.ev, CONSULT_EV_DOCTOR_HOLD);
	assert_null(find_push(&d, CONSULT_PUSH_doctor_left, CONSULT_TO_PATIENT));
	run_room(r, &d);
	assert_int_equal(consult_room_decide(r, &leave, &a, 151, &d), CONSULT_OK);
	assert_int_equal(d.fx.n, 0);
	/* its deadline passes: as a doctor drop, the patient hears doctor_left */
	consult_room_due_item due[1];
	assert_int_equal(consult_room_held_due(r, 270, due, 1), 1);
	assert_int_equal(due[0].ev, CONSULT_EV_DOCTOR_DROP);
	assert_int_equal(decide_ev(r, 1, due[0].ev, doctor(due[0].doctor_id), &d), CONSULT_OK);
	assert_ptr_equal(find_push(&d, CONSULT_PUSH_doctor_left, CONSULT_TO_PATIENT)->patient, H(31));
	assert_int_equal(d.fx.fx[0].kind, CONSULT_FX_STORE_STATE);
	assert_true(d.fx.fx[0].head);
	assert_int_equal(d.step.next, CONSULT_VISIT_WAITING);
	consult_room_free(r);
}

/* An AWAY visit nobody came back to ends as of when the patient went. */
static void test_grace_end_time(void **st)
{
	consult_room *r = consult_room_new(1);
	consult_decision d;
	join(r, 1, 0);
	consult_room_event gone = { .in = CONSULT_IN_PATIENT_GONE, .visit_id = 1, .grace_s = 120 };
	assert_int_equal(consult_room_decide(r, &gone, NULL, 100, &d), CONSULT_OK);
	assert_int_equal(d.ev, CONSULT_EV_PATIENT_DROP);
	assert_int_equal(d.fx.fx[0].state, CONSULT_VISIT_AWAY);
	assert_int_equal(d.fx.fx[0].away_since, 100);
	run_room(r, &d);
	consult_room_event in = { .in = CONSULT_IN_VISIT, .ev = CONSULT_EV_GRACE_EXPIRED, .visit_id = 1 };
	assert_int_equal(consult_room_decide(r, &in, NULL, 220, &d), CONSULT_OK);
	assert_int_equal(d.fx.fx[0].kind, CONSULT_FX_STORE_END);
	assert_int_equal(d.fx.fx[0].at, 100);
	consult_room_free(r);
}

static void test_arrive(void **st)
{
	consult_room *r = consult_room_new(1);
	consult_room_event in = { .in = CONSULT_IN_ARRIVE,
		.arrive = { .id = 5,
		        .appointment_id = 1005,
		        .doctor_id = D2,
		        .appt_time = 10000,
		        .joined_at = 90,
		        .patient = H(5) } };
	consult_decision d;
	assert_int_equal(consult_room_decide(r, &in, NULL, 100, &d), CONSULT_OK);
	assert_string_equal(
	        shape(&d), "join bind_patient patient_arrived>doctors waiting>doctors appointment>staff notify");
	assert_int_equal(d.changed, 1);
	assert_int_equal(find_push(&d, CONSULT_PUSH_patient_arrived, CONSULT_TO_DOCTORS)->doctor_id, D2);
	assert_string_equal(find_push(&d, CONSULT_PUSH_appointment, CONSULT_TO_STAFF)->status, "waiting");
	assert_null(consult_room_visit(r, 5));
	run_room(r, &d);
	assert_int_equal(consult_room_visit(r, 5)->joined_at, 90);
	assert_int_equal(consult_room_decide(r, &in, NULL, 100, &d), CONSULT_ERR_CONFLICT);
	in.arrive.id = 6; /* same appointment */
	assert_int_equal(consult_room_decide(r, &in, NULL, 100, &d), CONSULT_ERR_CONFLICT);
	consult_room_free(r);
}

static void test_ended_memory(void **st)
{
	consult_room *r = consult_room_new(1);
	join(r, 1, D1);
	join(r, 2, 0);
	step(r, 1, CONSULT_EV_LEAVE, patient_actor());
	step(r, 2, CONSULT_EV_LEAVE, patient_actor());
	assert_int_equal(consult_room_ended_count(r), 2);
	consult_decision d;
	/* a late call by a doctor who saw it: already_called; by another: not_found */
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CALL, doctor(D1), &d), CONSULT_ERR_ALREADY_CALLED);
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CALL, doctor(D2), &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(decide_ev(r, 2, CONSULT_EV_CALL, doctor(D2), &d), CONSULT_ERR_ALREADY_CALLED);
	assert_int_equal(decide_ev(r, 2, CONSULT_EV_LEAVE, patient_actor(), &d), CONSULT_ERR_NOT_FOUND);
	/* kept CONSULT_ENDED_KEEP_S after the end (100), then forgotten */
	assert_int_equal(consult_room_ended_prune(r, 100 + CONSULT_ENDED_KEEP_S - 1), 0);
	assert_int_equal(consult_room_ended_prune(r, 100 + CONSULT_ENDED_KEEP_S), 2);
	assert_int_equal(consult_room_ended_count(r), 0);
	assert_int_equal(decide_ev(r, 1, CONSULT_EV_CALL, doctor(D1), &d), CONSULT_ERR_NOT_FOUND);
	consult_room_free(r);
}

/* ------------------------------------------------------------------ */
/* property test                                                        */

#define NDOC  3
#define NAPPT 8
#define NH    64
#define MAXID 4096

static unsigned seed;
static int step_no;
#define CHECK(c)                                                                                \
	do {                                                                                    \
		if (!(c))                                                                       \
			fail_msg("seed %u step %d: %s (line %d)", seed, step_no, #c, __LINE__); \
	} while (0)

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

typedef struct world {
	consult_room *r;
	int64_t now, next_id;
	int64_t bound[NH]; /* handle -> visit id, 0 none */
	bool retired[NH];
	int next_handle;
	int64_t holds[NDOC + 1];          /* doctor -> visit of the call it holds */
	consult_visit_state state[MAXID]; /* model state per visit id (ENDED once ended) */
	bool known[MAXID];
	int64_t appt[MAXID], doc[MAXID];
	uint32_t told[MAXID]; /* last position pushed */
	size_t pushes;
} world;

static int handle_index(void *h)
{
	return (int)((int *)h - handles);
}

typedef struct pos_ud {
	world *w;
} pos_ud;

static void on_position(consult_visit *v, uint32_t ahead, void *ud)
{
	world *w = ((pos_ud *)ud)->w;
	if (!v->patient)
		return; /* AWAY: nobody to tell */
	int h = handle_index(v->patient);
	CHECK(!w->retired[h] && w->bound[h] == v->id); /* a patient's own position only */
	w->told[v->id] = ahead;
	w->pushes++;
}

static void check_push(world *w, const consult_effect *f)
{
	w->pushes++;
	switch (f->to) {
	case CONSULT_TO_PATIENT: {
		int h = handle_index(f->patient);
		CHECK(h >= 0 && h < NH && !w->retired[h]);
		CHECK(w->bound[h] == f->visit_id);
		CHECK(f->event != CONSULT_PUSH_waiting && f->event != CONSULT_PUSH_patient_arrived &&
		        f->event != CONSULT_PUSH_appointment && f->event != CONSULT_PUSH_call_accepted &&
		        f->event != CONSULT_PUSH_call_declined && f->event != CONSULT_PUSH_patient_away);
		break;
	}
	case CONSULT_TO_DOCTOR:
		CHECK(f->doctor_id >= 1 && f->doctor_id <= NDOC && w->holds[f->doctor_id] == f->visit_id);
		break;
	case CONSULT_TO_DOCTORS:
		CHECK(f->event == CONSULT_PUSH_waiting || f->event == CONSULT_PUSH_patient_arrived);
		CHECK(f->doctor_id == w->doc[f->visit_id]);
		break;
	case CONSULT_TO_STAFF:
		CHECK(f->event == CONSULT_PUSH_appointment && f->appointment_id == w->appt[f->visit_id]);
		break;
	}
}

typedef struct snap {
	int64_t id;
	consult_visit_state st;
	int64_t cd;
	void *p;
} snap;
typedef struct snaps {
	snap s[MAXID];
	size_t n;
} snaps;
static void snap_cb(const consult_visit *v, uint32_t i, void *ud)
{
	snaps *s = ud;
	s->s[s->n++] = (snap){ v->id, v->state, v->call_doctor_id, v->patient };
}
static int snap_cmp(const void *a, const void *b)
{
	const snap *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}
static void take(consult_room *r, snaps *s)
{
	s->n = 0;
	consult_room_foreach(r, snap_cb, s);
	qsort(s->s, s->n, sizeof s->s[0], snap_cmp);
}

/* Runs a decision as the glue would; a store write fails now and then
 * (unless forced): then nothing may have changed. */
static void run(world *w, const consult_decision *d, consult_actor a, bool force)
{
	static snaps before, after;
	take(w->r, &before);
	for (size_t i = 0; i < d->fx.n; i++) {
		const consult_effect *f = &d->fx.fx[i];
		int h = f->patient ? handle_index(f->patient) : -1;
		switch (f->kind) {
		case CONSULT_FX_STORE_RING:
		case CONSULT_FX_STORE_END:
		case CONSULT_FX_STORE_STATE:
			if (!force && rnd(10) == 0) {
				take(w->r, &after);
				CHECK(after.n == before.n &&
				        memcmp(after.s, before.s, after.n * sizeof after.s[0]) == 0);
				return;
			}
			break;
		case CONSULT_FX_APPLY: {
			consult_room_change c;
			CHECK(consult_room_apply(w->r, f->visit_id, f->ev, f->doctor_id, f->at, f->grace_s, f->patient,
			              &c) == CONSULT_OK);
			CHECK(w->state[f->visit_id] == c.from);
			w->state[f->visit_id] = c.step.next;
			break;
		}
		case CONSULT_FX_JOIN: {
			consult_visit_init in = { .id = f->visit_id,
				.appointment_id = f->appointment_id,
				.doctor_id = f->doctor_id,
				.appt_time = f->appt_time,
				.joined_at = f->joined_at,
				.patient = f->patient };
			CHECK(consult_room_join(w->r, &in, NULL) == CONSULT_OK);
			w->state[f->visit_id] = CONSULT_VISIT_WAITING;
			break;
		}
		case CONSULT_FX_TAKE_OVER:
			CHECK(consult_room_take_over(w->r, f->visit_id, f->patient) == CONSULT_OK);
			break;
		case CONSULT_FX_BIND_DOCTOR:
			CHECK(a.kind == CONSULT_ACTOR_DOCTOR && w->holds[a.doctor_id] == 0);
			w->holds[a.doctor_id] = f->visit_id;
			break;
		case CONSULT_FX_UNBIND_DOCTOR:
			CHECK(w->holds[f->doctor_id] == f->visit_id);
			w->holds[f->doctor_id] = 0;
			break;
		case CONSULT_FX_BIND_PATIENT:
			CHECK(w->bound[h] == 0 && !w->retired[h]);
			w->bound[h] = f->visit_id;
			break;
		case CONSULT_FX_UNBIND_PATIENT:
			CHECK(w->bound[h] == f->visit_id);
			w->bound[h] = 0;
			break;
		case CONSULT_FX_RETIRE_PATIENT:
			w->retired[h] = true;
			w->bound[h] = 0;
			break;
		case CONSULT_FX_PUSH:
			if (f->event == CONSULT_PUSH_taken_over) { /* the old handle, before it is retired */
				CHECK(d->fx.fx[i + 1].kind == CONSULT_FX_RETIRE_PATIENT &&
				        d->fx.fx[i + 1].patient == f->patient);
				CHECK(!w->retired[h] && (w->bound[h] == f->visit_id || w->bound[h] == 0));
				break;
			}
			check_push(w, f);
			break;
		case CONSULT_FX_POSITIONS: {
			pos_ud u = { w };
			consult_room_positions(w->r, on_position, &u);
			break;
		}
		default:
			break;
		}
	}
}

typedef struct lst {
	const consult_visit *v[MAXID];
	uint32_t idx[MAXID];
	size_t n;
} lst;

static void collect(const consult_visit *v, uint32_t i, void *ud)
{
	lst *l = ud;
	l->v[l->n] = v;
	l->idx[l->n++] = i;
}

static void check_world(world *w)
{
	static snaps s;
	take(w->r, &s);
	size_t live = 0, ended = 0;
	for (int64_t id = 1; id < w->next_id; id++) {
		consult_visit *v = consult_room_visit(w->r, id);
		if (w->state[id] == CONSULT_VISIT_ENDED) {
			CHECK(v == NULL); /* ended visits never reappear */
			ended++;
			continue;
		}
		live++;
		CHECK(v != NULL && v->state == w->state[id]);
		bool with_doc = v->state == CONSULT_VISIT_RINGING || v->state == CONSULT_VISIT_IN_CALL;
		CHECK(with_doc == (v->call_doctor_id > 0));
		if (with_doc) {
			CHECK(w->holds[v->call_doctor_id] == id);
			CHECK(consult_doctor_sees(v->doctor_id, v->call_doctor_id));
		}
		/* no handle: AWAY, or a call whose patient side is held */
		CHECK((v->patient == NULL) ==
		        (v->state == CONSULT_VISIT_AWAY || (v->state == CONSULT_VISIT_IN_CALL && v->away_since > 0)));
		CHECK(v->state == CONSULT_VISIT_IN_CALL || v->doctor_until == 0); /* only calls are held */
		if (v->patient) {
			int h = handle_index(v->patient);
			CHECK(!w->retired[h] && w->bound[h] == id);
		}
		if (v->state == CONSULT_VISIT_WAITING && v->patient)
			CHECK(w->told[id] == consult_room_ahead(w->r, id)); /* told the current position */
	}
	CHECK(s.n == live);
	CHECK(consult_room_ended_count(w->r) <= ended); /* only ended visits are remembered */
	for (size_t i = 1; i < s.n; i++)
		CHECK(s.s[i - 1].id != s.s[i].id); /* no visit twice (in two states) */
	for (int64_t d = 1; d <= NDOC; d++) {
		consult_visit *v = consult_room_doctor_visit(w->r, d);
		CHECK(v ? w->holds[d] == v->id : w->holds[d] == 0); /* one call per doctor */
	}
	for (int h = 0; h < w->next_handle; h++)
		if (w->bound[h])
			CHECK(consult_room_visit(w->r, w->bound[h]) &&
			        consult_room_visit(w->r, w->bound[h])->patient == H(h));
	/* positions: each doctor's list 0..n-1, ahead = connected (not AWAY)
	 * competitors before */
	static lst all;
	all.n = 0;
	consult_room_foreach_waiting(w->r, 0, collect, &all);
	uint32_t here = 0;
	for (size_t i = 0; i < all.n; i++) {
		CHECK(all.idx[i] == i);
		if (all.v[i]->doctor_id == 0)
			CHECK(consult_room_ahead(w->r, all.v[i]->id) == here);
		here += all.v[i]->state != CONSULT_VISIT_AWAY;
	}
	for (int64_t d = 1; d <= NDOC; d++) {
		static lst mine;
		mine.n = 0;
		consult_room_foreach_waiting(w->r, d, collect, &mine);
		here = 0;
		for (size_t i = 0; i < mine.n; i++) {
			CHECK(mine.idx[i] == i);
			CHECK(consult_doctor_sees(mine.v[i]->doctor_id, d));
			if (mine.v[i]->doctor_id == d)
				CHECK(consult_room_ahead(w->r, mine.v[i]->id) == here);
			here += mine.v[i]->state != CONSULT_VISIT_AWAY;
		}
	}
}

static int64_t live_of_appt(world *w, int64_t appt)
{
	consult_visit *v = consult_room_visit_of_appointment(w->r, appt);
	return v ? v->id : 0;
}

/* As the glue's join ends: positions pushed to the others, the joining
 * patient's own position in the reply. */
static void join_reply(world *w, int h)
{
	pos_ud u = { w };
	consult_room_positions(w->r, on_position, &u);
	w->told[w->bound[h]] = consult_room_ahead(w->r, w->bound[h]);
}

static void random_step(world *w)
{
	consult_decision d;
	w->now += rnd(20);
	uint32_t op = rnd(100);
	if (op < 25 && w->next_handle < NH && w->next_id < MAXID) {
		/* a patient joins with the code of a random appointment */
		int h = w->next_handle++;
		int64_t appt = 1 + rnd(NAPPT);
		consult_room_event in = { .in = CONSULT_IN_JOIN,
			.appointment_id = appt,
			.patient = H(h),
			.grace_s = 30,
			.resume_call = rnd(2) ? live_of_appt(w, appt) : (int64_t)rnd((uint32_t)w->next_id + 1) };
		CHECK(consult_room_decide(w->r, &in, NULL, w->now, &d) == CONSULT_OK);
		run(w, &d, (consult_actor){ 0 }, false);
		if (d.join == CONSULT_JOIN_ENDED) {
			CHECK(d.fx.n == 0 && in.resume_call && !live_of_appt(w, appt));
			return;
		}
		bool resumed = d.join == CONSULT_JOIN_RESUMED;
		if (live_of_appt(w, appt) && !resumed)
			return; /* the store write of the drop failed */
		if (resumed) {
			if (w->bound[h] == 0)
				return; /* the store write of PATIENT_BACK failed */
			CHECK(w->bound[h] == live_of_appt(w, appt));
			join_reply(w, h);
			return;
		}
		int64_t id = w->next_id++;
		w->appt[id] = appt;
		w->doc[id] = appt % (NDOC + 1); /* appointments of every doctor and of "any doctor" */
		in = (consult_room_event){ .in = CONSULT_IN_ARRIVE,
			.arrive = { .id = id,
			        .appointment_id = appt,
			        .doctor_id = w->doc[id],
			        .appt_time = 1000 + (int64_t)rnd(4) * 60,
			        .joined_at = w->now,
			        .patient = H(h) } };
		CHECK(consult_room_decide(w->r, &in, NULL, w->now, &d) == CONSULT_OK);
		run(w, &d, (consult_actor){ 0 }, false);
		CHECK(w->bound[h] == id);
		join_reply(w, h);
	} else if (op < 80 && w->next_id > 1) {
		/* any event on any visit (live, ended or unknown) by any actor */
		int64_t id = 1 + rnd((uint32_t)w->next_id + 1);
		consult_visit_event ev = rnd(CONSULT_EV_COUNT);
		consult_actor a;
		uint32_t who = rnd(4);
		a = who == 0 ? nobody() : who == 1 ? patient_actor() : doctor(1 + rnd(NDOC));
		if (ev == CONSULT_EV_PATIENT_BACK || ev == CONSULT_EV_PATIENT_RESUME)
			return; /* a patient comes back through JOIN only, as in the glue */
		bool was_ended = id < w->next_id && w->state[id] == CONSULT_VISIT_ENDED;
		consult_room_event in = { .in = CONSULT_IN_VISIT, .ev = ev, .visit_id = id, .grace_s = 30 };
		consult_err e = consult_room_decide(w->r, &in, &a, w->now, &d);
		if (was_ended)
			CHECK(e != CONSULT_OK); /* ended visits take no event any more */
		if (e == CONSULT_OK)
			run(w, &d, a,
			        ev == CONSULT_EV_PATIENT_DROP || ev == CONSULT_EV_GRACE_EXPIRED ||
			                ev == CONSULT_EV_PATIENT_HOLD);
		else
			CHECK(d.fx.n == 0 && e != CONSULT_ERR_INTERNAL);
	} else if (op < 84) {
		/* a patient's handle vanishes */
		int64_t appt = 1 + rnd(NAPPT);
		consult_room_event in = {
			.in = CONSULT_IN_PATIENT_GONE, .visit_id = live_of_appt(w, appt), .grace_s = 30
		};
		consult_visit *v = consult_room_visit(w->r, in.visit_id);
		if (!v || !v->patient)
			return; /* the glue reports only a handle that holds its visit */
		CHECK(consult_room_decide(w->r, &in, NULL, w->now, &d) == CONSULT_OK);
		run(w, &d, nobody(), true);
	} else if (op < 88) {
		/* a doctor leaves */
		int64_t doc = 1 + rnd(NDOC);
		consult_room_event in = {
			.in = CONSULT_IN_DOCTOR_LEAVE, .visit_id = w->holds[doc], .handle_gone = rnd(2), .grace_s = 30
		};
		consult_actor a = doctor(doc);
		CHECK(consult_room_decide(w->r, &in, &a, w->now, &d) == CONSULT_OK);
		run(w, &d, a, false);
	} else if (op < 96) {
		/* the timer: grace periods end */
		int64_t ids[MAXID];
		size_t n = consult_room_due(w->r, w->now, ids, MAXID);
		for (size_t i = 0; i < n; i++) {
			consult_room_event in = {
				.in = CONSULT_IN_VISIT, .ev = CONSULT_EV_GRACE_EXPIRED, .visit_id = ids[i]
			};
			CHECK(consult_room_decide(w->r, &in, NULL, w->now, &d) == CONSULT_OK);
			run(w, &d, nobody(), true);
		}
		/* held calls whose detached side did not come back */
		consult_room_due_item held[NDOC + 1];
		n = consult_room_held_due(w->r, w->now, held, NDOC + 1);
		CHECK(n <= NDOC);
		for (size_t i = 0; i < n; i++) {
			consult_actor a = held[i].ev == CONSULT_EV_DOCTOR_DROP ? doctor(held[i].doctor_id) : nobody();
			consult_room_event in = {
				.in = CONSULT_IN_VISIT, .ev = held[i].ev, .visit_id = held[i].visit_id
			};
			CHECK(consult_room_decide(w->r, &in, &a, w->now, &d) == CONSULT_OK);
			run(w, &d, a, true);
		}
	} else {
		w->now += CONSULT_ENDED_KEEP_S / 4;
		consult_room_ended_prune(w->r, w->now);
	}
}

static void test_property_random_sequences(void **st)
{
	const char *env = getenv("CONSULT_SEED");
	unsigned first = env ? (unsigned)strtoul(env, NULL, 10) : 1;
	unsigned runs = env ? 1 : 400;
	for (seed = first; seed < first + runs; seed++) {
		static world w;
		memset(&w, 0, sizeof w);
		rng = 0x9e3779b97f4a7c15ULL ^ seed;
		w.r = consult_room_new(1);
		w.now = 1000;
		w.next_id = 1;
		for (int64_t i = 0; i < MAXID; i++)
			w.told[i] = CONSULT_AHEAD_UNKNOWN;
		for (step_no = 0; step_no < 300; step_no++) {
			random_step(&w);
			check_world(&w);
		}
		CHECK(w.pushes > 0);
		consult_room_free(w.r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_call_refused),
		cmocka_unit_test(test_accept_decline_cancel),
		cmocka_unit_test(test_answer_reason_and_audio_only),
		cmocka_unit_test(test_hangups_end_the_visit),
		cmocka_unit_test(test_connection_lost_skips_the_sender),
		cmocka_unit_test(test_drop_back_expire_cancel),
		cmocka_unit_test(test_doctor_drop_requeues),
		cmocka_unit_test(test_doctor_leaving),
		cmocka_unit_test(test_join_policy),
		cmocka_unit_test(test_join_resets_readiness),
		cmocka_unit_test(test_held_call),
		cmocka_unit_test(test_grace_end_time),
		cmocka_unit_test(test_arrive),
		cmocka_unit_test(test_ended_memory),
		cmocka_unit_test(test_property_random_sequences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
