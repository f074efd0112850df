/* decide.c - the waiting room's decisions as effect lists.
 *
 * Contract: see decide.h. A visit event's list, in this order:
 *   store write (ring / end / state), APPLY, BIND_DOCTOR (CALL),
 *   the patient's event, the call doctor's event (the participant who
 *   reported connection_lost hears nothing), UNBIND_DOCTOR once the visit
 *   is no longer ringing or in a call, CALL_OVER once it leaves IN_CALL,
 *   the appointment event to the staff and NOTIFY if the state changed,
 *   UNBIND_PATIENT once it ended or the patient dropped out (or its call
 *   is held), FORGET once it ended, the waiting lists if it entered or left the queue,
 *   POSITIONS.
 * Who hears what is the table `fan`.
 */
#include <string.h>
#include "decide.h"

typedef struct fan_event {
	bool on;
	consult_push_event ev;
	unsigned fields;
} fan_event;
typedef struct fan_row {
	fan_event patient, doctor;
} fan_row;

#define TELL(e, f)             \
	{                      \
		true, (e), (f) \
	}
#define NONE                \
	{                   \
		false, 0, 0 \
	}
#define PF_V CONSULT_PF_VISIT
#define PF_R CONSULT_PF_REASON
/* what `ringing` carries: the doctor, the call's ICE fields, the audio-only policy */
#define PF_RINGING (CONSULT_PF_DOCTOR | CONSULT_PF_ICE | CONSULT_PF_POLICY)

/* Who hears about which event. PATIENT_DROP tells the doctor patient_away
 * while ringing and call_ended once the visit ended (see doctor_hears()). */
static const fan_row fan[CONSULT_EV_COUNT] = {
	[CONSULT_EV_CALL] = { TELL(CONSULT_PUSH_ringing, PF_RINGING), NONE },
	[CONSULT_EV_ACCEPT] = { NONE, TELL(CONSULT_PUSH_call_accepted, PF_V | CONSULT_PF_ICE | CONSULT_PF_AUDIO) },
	[CONSULT_EV_DECLINE] = { NONE, TELL(CONSULT_PUSH_call_declined, PF_V | CONSULT_PF_DECLINE) },
	[CONSULT_EV_CANCEL_RING] = { TELL(CONSULT_PUSH_ring_cancelled, 0), NONE },
	[CONSULT_EV_HANGUP_DOCTOR] = { TELL(CONSULT_PUSH_call_ended, PF_V | PF_R), NONE },
	[CONSULT_EV_HANGUP_PATIENT] = { NONE, TELL(CONSULT_PUSH_call_ended, PF_V | PF_R) },
	[CONSULT_EV_PATIENT_DROP] = { NONE, TELL(CONSULT_PUSH_patient_away, PF_V) },
	[CONSULT_EV_PATIENT_BACK] = { NONE, NONE },
	[CONSULT_EV_DOCTOR_DROP] = { TELL(CONSULT_PUSH_doctor_left, CONSULT_PF_REQUEUED), NONE },
	[CONSULT_EV_GRACE_EXPIRED] = { TELL(CONSULT_PUSH_visit_ended, PF_R), NONE },
	[CONSULT_EV_LEAVE] = { NONE, TELL(CONSULT_PUSH_call_ended, PF_V | PF_R) },
	[CONSULT_EV_CANCELLED] = { TELL(CONSULT_PUSH_visit_ended, PF_R), TELL(CONSULT_PUSH_call_ended, PF_V | PF_R) },
	/* both sides; the participant who sent it is skipped */
	[CONSULT_EV_CONNECTION_LOST] = { TELL(CONSULT_PUSH_call_ended, PF_V | PF_R),
	        TELL(CONSULT_PUSH_call_ended, PF_V | PF_R) },
	[CONSULT_EV_NO_PATH] = { TELL(CONSULT_PUSH_call_ended, PF_V | PF_R),
	        TELL(CONSULT_PUSH_call_ended, PF_V | PF_R) },
	/* a held call: the other side hears nothing */
	[CONSULT_EV_PATIENT_HOLD] = { NONE, NONE },
	[CONSULT_EV_PATIENT_RESUME] = { NONE, NONE },
	[CONSULT_EV_DOCTOR_HOLD] = { NONE, NONE },
	[CONSULT_EV_DOCTOR_RESUME] = { NONE, NONE },
};

static fan_event doctor_hears(consult_visit_event ev, const consult_visit_step *st)
{
	if (ev == CONSULT_EV_PATIENT_DROP && st->next == CONSULT_VISIT_ENDED)
		return (fan_event)TELL(CONSULT_PUSH_call_ended, PF_V | PF_R);
	return fan[ev].doctor;
}

static bool queued(consult_visit_state s)
{
	return s == CONSULT_VISIT_WAITING || s == CONSULT_VISIT_AWAY;
}

static bool with_doctor(consult_visit_state s)
{
	return s == CONSULT_VISIT_RINGING || s == CONSULT_VISIT_IN_CALL;
}

/* The status reception sees for an appointment after a step. */
static const char *appointment_status(const consult_visit_step *st)
{
	if (st->next != CONSULT_VISIT_ENDED)
		return consult_visit_state_name(st->next);
	return st->reason == CONSULT_END_CANCELLED ? "cancelled" : "ended";
}

static void add(consult_decision *d, consult_effect e)
{
	consult_effects_add(&d->fx, &e);
}

static void push(consult_decision *d, consult_fx_to to, consult_push_event ev, unsigned fields, int64_t visit_id,
        int64_t doctor_id, void *patient, consult_end_reason reason)
{
	add(d,
	        (consult_effect){ .kind = CONSULT_FX_PUSH,
	                .to = to,
	                .event = ev,
	                .fields = fields,
	                .visit_id = visit_id,
	                .doctor_id = doctor_id,
	                .patient = patient,
	                .reason = reason });
}

/* A visit event: checks (room.h), then the list described on top. in: the
 * request's input (the patient's answer to a call), NULL for the events the
 * room decides on its own. */
static consult_err decide_visit(const consult_room *r, consult_visit_event ev, int64_t visit_id,
        const consult_actor *actor, void *patient_new, int64_t grace_s, int64_t now, const consult_room_event *in,
        consult_decision *d)
{
	int64_t actor_doctor = actor->kind == CONSULT_ACTOR_DOCTOR ? actor->doctor_id : 0;
	consult_visit_step st;
	consult_err err = consult_room_check(r, visit_id, ev, actor_doctor, &st);
	if (err != CONSULT_OK)
		return err;
	bool audio_only = ev == CONSULT_EV_ACCEPT && in && in->audio_only;
	if (audio_only && in->audio_never)
		return CONSULT_ERR_FORBIDDEN; /* the practice wants the camera: the call keeps ringing */
	consult_decline_reason decline =
	        ev == CONSULT_EV_DECLINE && in && (unsigned)in->decline < CONSULT_DECLINE_REASON_COUNT
	        ? in->decline
	        : CONSULT_DECLINE_DECLINED;
	const consult_visit *v = consult_room_visit((consult_room *)r, visit_id);
	d->has_step = true;
	d->ev = ev;
	d->visit_id = visit_id;
	d->from = v->state;
	d->step = st;
	int64_t doctor = ev == CONSULT_EV_CALL ? actor_doctor : v->call_doctor_id;
	bool comes = ev == CONSULT_EV_PATIENT_BACK || ev == CONSULT_EV_PATIENT_RESUME;
	bool goes = ev == CONSULT_EV_PATIENT_DROP || ev == CONSULT_EV_PATIENT_HOLD;
	void *patient = comes ? patient_new : v->patient;
	bool lost = ev == CONSULT_EV_CONNECTION_LOST;
	bool patient_quiet = lost && actor->kind == CONSULT_ACTOR_PATIENT;
	bool doctor_quiet = lost && actor->kind == CONSULT_ACTOR_DOCTOR;
	bool ended = st.next == CONSULT_VISIT_ENDED;

	/* One store write per step. Nobody came back: the visit ended when the
	 * patient went. */
	bool nobody_back = ev == CONSULT_EV_GRACE_EXPIRED || (ev == CONSULT_EV_PATIENT_DROP && !v->patient);
	int64_t end_at = nobody_back && v->away_since ? v->away_since : now;
	if (ended)
		add(d,
		        (consult_effect){ .kind = CONSULT_FX_STORE_END,
		                .visit_id = visit_id,
		                .reason = st.reason,
		                .at = end_at });
	else if (ev == CONSULT_EV_CALL)
		add(d,
		        (consult_effect){ .kind = CONSULT_FX_STORE_RING,
		                .visit_id = visit_id,
		                .doctor_id = actor_doctor,
		                .at = now });
	else
		add(d,
		        (consult_effect){ .kind = CONSULT_FX_STORE_STATE,
		                .visit_id = visit_id,
		                .state = st.next,
		                .head = v->head || st.to_head,
		                .away_since = comes          ? 0
		                        : goes && v->patient ? now
		                                             : v->away_since });
	add(d,
	        (consult_effect){ .kind = CONSULT_FX_APPLY,
	                .visit_id = visit_id,
	                .ev = ev,
	                .doctor_id = actor_doctor,
	                .patient = patient_new,
	                .grace_s = grace_s,
	                .at = now });
	d->changed = d->fx.n;
	if (ev == CONSULT_EV_CALL)
		add(d,
		        (consult_effect){
		                .kind = CONSULT_FX_BIND_DOCTOR, .visit_id = visit_id, .doctor_id = actor_doctor });

	fan_event pe = fan[ev].patient, de = doctor_hears(ev, &st);
	if (patient && pe.on && !patient_quiet)
		push(d, CONSULT_TO_PATIENT, pe.ev, pe.fields, visit_id, doctor, patient, st.reason);
	if (doctor > 0 && de.on && !doctor_quiet)
		add(d,
		        (consult_effect){ .kind = CONSULT_FX_PUSH,
		                .to = CONSULT_TO_DOCTOR,
		                .event = de.ev,
		                .fields = de.fields,
		                .visit_id = visit_id,
		                .doctor_id = doctor,
		                .reason = st.reason,
		                .decline = decline,
		                .audio_only = audio_only });
	if (doctor > 0 && !with_doctor(st.next))
		add(d, (consult_effect){ .kind = CONSULT_FX_UNBIND_DOCTOR, .visit_id = visit_id, .doctor_id = doctor });
	if (d->from == CONSULT_VISIT_IN_CALL && st.next != CONSULT_VISIT_IN_CALL)
		add(d,
		        (consult_effect){ .kind = CONSULT_FX_CALL_OVER,
		                .visit_id = visit_id,
		                .doctor_id = doctor,
		                .patient = patient });
	/* Staff and event handlers hear of state changes (not of a side's hold or return). */
	if (d->from != st.next) {
		add(d,
		        (consult_effect){ .kind = CONSULT_FX_PUSH,
		                .to = CONSULT_TO_STAFF,
		                .event = CONSULT_PUSH_appointment,
		                .visit_id = visit_id,
		                .appointment_id = v->appointment_id,
		                .status = appointment_status(&st) });
		add(d,
		        (consult_effect){ .kind = CONSULT_FX_NOTIFY,
		                .visit_id = visit_id,
		                .state = st.next,
		                .reason = st.reason });
	}
	/* The handle leaves the visit when it ends, and when it dropped out. */
	if (patient && (ended || goes))
		add(d, (consult_effect){ .kind = CONSULT_FX_UNBIND_PATIENT, .visit_id = visit_id, .patient = patient });
	if (ended)
		add(d, (consult_effect){ .kind = CONSULT_FX_FORGET, .visit_id = visit_id });
	if (queued(d->from) || queued(st.next))
		push(d, CONSULT_TO_DOCTORS, CONSULT_PUSH_waiting, 0, visit_id, v->doctor_id, NULL, CONSULT_END_NONE);
	add(d, (consult_effect){ .kind = CONSULT_FX_POSITIONS, .visit_id = visit_id });
	return CONSULT_OK;
}

static void retire(consult_decision *d, int64_t visit_id, void *old)
{
	if (!old)
		return;
	push(d, CONSULT_TO_PATIENT, CONSULT_PUSH_taken_over, 0, visit_id, 0, old, CONSULT_END_NONE);
	add(d, (consult_effect){ .kind = CONSULT_FX_RETIRE_PATIENT, .visit_id = visit_id, .patient = old });
}

/* A second join with the code of a live visit (decide.h, JOIN). */
static consult_err decide_join(const consult_room *r, const consult_room_event *e, int64_t now, consult_decision *d)
{
	const consult_visit *v = consult_room_visit_of_appointment((consult_room *)r, e->appointment_id);
	d->join = CONSULT_JOIN_NEW;
	if (!v) {
		const consult_visit *gone = e->resume_call ? consult_room_ended(r, e->resume_call) : NULL;
		if (gone && gone->appointment_id == e->appointment_id)
			d->join = CONSULT_JOIN_ENDED;
		return CONSULT_OK;
	}
	consult_actor none = { CONSULT_ACTOR_NONE, 0 };
	consult_effect bind = { .kind = CONSULT_FX_BIND_PATIENT,
		.visit_id = v->id,
		.appointment_id = e->appointment_id,
		.patient = e->patient };
	void *old = v->patient;
	int64_t id = v->id;
	consult_err err;
	switch (v->state) {
	case CONSULT_VISIT_AWAY:
		err = decide_visit(r, CONSULT_EV_PATIENT_BACK, id, &none, e->patient, e->grace_s, now, NULL, d);
		if (err != CONSULT_OK)
			return err;
		add(d, bind);
		d->join = CONSULT_JOIN_RESUMED;
		break;
	case CONSULT_VISIT_IN_CALL:
		if (e->resume_call == id) {
			/* This page still holds the call's media: it takes the call over. */
			err = decide_visit(
			        r, CONSULT_EV_PATIENT_RESUME, id, &none, e->patient, e->grace_s, now, NULL, d);
			if (err != CONSULT_OK)
				return err;
			retire(d, id, old);
			add(d, bind);
			d->join = CONSULT_JOIN_RESUMED;
			break;
		}
		/* The call ends (patient_dropped); the patient joins anew. */
		err = decide_visit(r, CONSULT_EV_PATIENT_DROP, id, &none, NULL, e->grace_s, now, NULL, d);
		if (err != CONSULT_OK)
			return err;
		retire(d, id, old);
		break;
	case CONSULT_VISIT_WAITING:
	case CONSULT_VISIT_RINGING:
		retire(d, id, old);
		add(d, (consult_effect){ .kind = CONSULT_FX_TAKE_OVER, .visit_id = id, .patient = e->patient });
		add(d, bind);
		/* the new page checks its devices anew: the doctors' lists show it */
		if (v->state == CONSULT_VISIT_WAITING &&
		        (v->camera != CONSULT_READY_UNCHECKED || v->microphone != CONSULT_READY_UNCHECKED))
			push(d, CONSULT_TO_DOCTORS, CONSULT_PUSH_waiting, 0, id, v->doctor_id, NULL, CONSULT_END_NONE);
		if (v->state == CONSULT_VISIT_RINGING)
			push(d, CONSULT_TO_PATIENT, CONSULT_PUSH_ringing, PF_RINGING, id, v->call_doctor_id, e->patient,
			        CONSULT_END_NONE);
		d->join = CONSULT_JOIN_RESUMED;
		break;
	default:
		return CONSULT_ERR_WRONG_STATE;
	}
	return CONSULT_OK;
}

/* A visit the store just began (decide.h, ARRIVE). */
static consult_err decide_arrive(const consult_room *r, const consult_visit_init *in, consult_decision *d)
{
	consult_room *rw = (consult_room *)r;
	if (consult_room_visit(rw, in->id) ||
	        (in->appointment_id && consult_room_visit_of_appointment(rw, in->appointment_id)))
		return CONSULT_ERR_CONFLICT;
	add(d,
	        (consult_effect){ .kind = CONSULT_FX_JOIN,
	                .visit_id = in->id,
	                .appointment_id = in->appointment_id,
	                .doctor_id = in->doctor_id,
	                .appt_time = in->appt_time,
	                .joined_at = in->joined_at,
	                .patient = in->patient });
	d->changed = d->fx.n;
	add(d,
	        (consult_effect){ .kind = CONSULT_FX_BIND_PATIENT,
	                .visit_id = in->id,
	                .appointment_id = in->appointment_id,
	                .patient = in->patient });
	/* patient_arrived to the doctors who see this visit, then their lists. */
	push(d, CONSULT_TO_DOCTORS, CONSULT_PUSH_patient_arrived, CONSULT_PF_VISIT, in->id, in->doctor_id, NULL,
	        CONSULT_END_NONE);
	push(d, CONSULT_TO_DOCTORS, CONSULT_PUSH_waiting, 0, in->id, in->doctor_id, NULL, CONSULT_END_NONE);
	add(d,
	        (consult_effect){ .kind = CONSULT_FX_PUSH,
	                .to = CONSULT_TO_STAFF,
	                .event = CONSULT_PUSH_appointment,
	                .visit_id = in->id,
	                .appointment_id = in->appointment_id,
	                .status = "waiting" });
	add(d, (consult_effect){ .kind = CONSULT_FX_NOTIFY, .visit_id = in->id, .state = CONSULT_VISIT_WAITING });
	return CONSULT_OK;
}

/* A doctor leaves while holding a call (decide.h, DOCTOR_LEAVE). */
static consult_err decide_leave(const consult_room *r, const consult_room_event *e, const consult_actor *actor,
        int64_t now, consult_decision *d)
{
	const consult_visit *v = e->visit_id ? consult_room_visit((consult_room *)r, e->visit_id) : NULL;
	if (!v || actor->kind != CONSULT_ACTOR_DOCTOR || v->call_doctor_id != actor->doctor_id)
		return CONSULT_OK;
	bool ringing = v->state == CONSULT_VISIT_RINGING;
	if (e->handle_gone && !ringing && v->doctor_until)
		return CONSULT_OK; /* held already */
	consult_visit_event ev = e->handle_gone ? (ringing ? CONSULT_EV_DOCTOR_DROP : CONSULT_EV_DOCTOR_HOLD)
	        : ringing                       ? CONSULT_EV_CANCEL_RING
	                                        : CONSULT_EV_HANGUP_DOCTOR;
	d->ev = ev;
	d->visit_id = v->id;
	return decide_visit(r, ev, v->id, actor, NULL, e->grace_s, now, NULL, d);
}

/* A patient handle vanished (decide.h, PATIENT_GONE). */
static consult_err decide_gone(const consult_room *r, const consult_room_event *e, int64_t now, consult_decision *d)
{
	const consult_visit *v = consult_room_visit((consult_room *)r, e->visit_id);
	if (!v)
		return CONSULT_OK;
	consult_actor none = { CONSULT_ACTOR_NONE, 0 };
	consult_visit_event ev = v->state == CONSULT_VISIT_IN_CALL ? CONSULT_EV_PATIENT_HOLD : CONSULT_EV_PATIENT_DROP;
	d->ev = ev;
	d->visit_id = v->id;
	return decide_visit(r, ev, v->id, &none, NULL, e->grace_s, now, NULL, d);
}

consult_err consult_room_decide(const consult_room *r, const consult_room_event *e, const consult_actor *actor,
        int64_t now, consult_decision *out)
{
	static const consult_actor nobody = { CONSULT_ACTOR_NONE, 0 };
	memset(out, 0, sizeof *out);
	if (!actor)
		actor = &nobody;
	consult_err err;
	switch (e->in) {
	case CONSULT_IN_VISIT:
		err = decide_visit(r, e->ev, e->visit_id, actor, e->patient, e->grace_s, now, e, out);
		break;
	case CONSULT_IN_JOIN:
		err = decide_join(r, e, now, out);
		break;
	case CONSULT_IN_ARRIVE:
		err = decide_arrive(r, &e->arrive, out);
		break;
	case CONSULT_IN_DOCTOR_LEAVE:
		err = decide_leave(r, e, actor, now, out);
		break;
	case CONSULT_IN_PATIENT_GONE:
		err = decide_gone(r, e, now, out);
		break;
	default:
		err = CONSULT_ERR_INTERNAL;
	}
	if (err == CONSULT_OK && out->fx.overflow)
		err = CONSULT_ERR_INTERNAL;
	if (err != CONSULT_OK) {
		out->has_step = false; /* ev and visit_id stay for the caller's log */
		out->changed = 0;
		out->fx.n = 0;
	}
	return err;
}
