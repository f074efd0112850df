/* call.c - applying visit events (store first, then room, then events) and
 * the call requests: call, cancel_call, hangup, signal, report.
 *
 * Contract: glue_visit_apply() is the only way a request changes a live
 * visit. It checks everything the room would refuse, writes the store,
 * then applies the room change (which cannot fail any more), so a store
 * failure leaves memory unchanged. glue_after_change() fans a change out
 * through a table {event -> what the patient / the doctor receive}.
 * ringing and call_accepted carry ice_servers (TURN credentials minted at
 * that moment for that participant only). hangup may carry reason
 * "connection_lost" (the other side hears call_ended with that reason).
 * ice_servers hands fresh credentials to a participant of an IN_CALL visit.
 * Called under glue.lock.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "forward.h"

enum { F_VISIT = 1, F_REASON = 2, F_ICE = 4, F_DOCTOR = 8, F_REQUEUED = 16 };

typedef struct { const char *name; unsigned fields; } fan_event;
typedef struct { fan_event patient, doctor; } fan_row;

/* Who hears about which event. PATIENT_DROP tells the doctor patient_away
 * while ringing and call_ended once the visit ended (see doctor_event()). */
static const fan_row fan[CONSULT_EV_COUNT] = {
	[CONSULT_EV_CALL]           = { { "ringing", F_DOCTOR | F_ICE }, { NULL, 0 } },
	[CONSULT_EV_ACCEPT]         = { { NULL, 0 }, { "call_accepted", F_VISIT | F_ICE } },
	[CONSULT_EV_DECLINE]        = { { NULL, 0 }, { "call_declined", F_VISIT } },
	[CONSULT_EV_CANCEL_RING]    = { { "ring_cancelled", 0 }, { NULL, 0 } },
	[CONSULT_EV_HANGUP_DOCTOR]  = { { "call_ended", F_VISIT | F_REASON }, { NULL, 0 } },
	[CONSULT_EV_HANGUP_PATIENT] = { { NULL, 0 }, { "call_ended", F_VISIT | F_REASON } },
	[CONSULT_EV_PATIENT_DROP]   = { { NULL, 0 }, { "patient_away", F_VISIT } },
	[CONSULT_EV_PATIENT_BACK]   = { { NULL, 0 }, { NULL, 0 } },
	[CONSULT_EV_DOCTOR_DROP]    = { { "doctor_left", F_REQUEUED }, { NULL, 0 } },
	[CONSULT_EV_GRACE_EXPIRED]  = { { "visit_ended", F_REASON }, { NULL, 0 } },
	[CONSULT_EV_LEAVE]          = { { NULL, 0 }, { "call_ended", F_VISIT | F_REASON } },
	[CONSULT_EV_CANCELLED]      = { { "visit_ended", F_REASON }, { "call_ended", F_VISIT | F_REASON } },
	/* both sides; the participant who sent it is skipped (see glue_visit_apply) */
	[CONSULT_EV_CONNECTION_LOST] = { { "call_ended", F_VISIT | F_REASON }, { "call_ended", F_VISIT | F_REASON } },
	[CONSULT_EV_NO_PATH] = { { "call_ended", F_VISIT | F_REASON }, { "call_ended", F_VISIT | F_REASON } },
};

static json_t *fan_fields(unsigned f, const consult_room_change *c, glue_session *doctor,
		int64_t practice_id, int64_t now) {
	json_t *o = json_object();
	if(f & F_VISIT)
		json_object_set_new(o, "visit_id", json_integer(c->visit.id));
	if(f & F_REASON)
		json_object_set_new(o, "reason", json_string(consult_end_reason_name(c->step.reason)));
	if(f & F_ICE)
		glue_ice_fields(o, practice_id, now, true);
	if(f & F_DOCTOR)
		json_object_set_new(o, "doctor", json_string(doctor && doctor->display_name ? doctor->display_name : ""));
	if(f & F_REQUEUED)
		json_object_set_new(o, "requeued", json_true());
	return o;
}

static fan_event doctor_event(consult_visit_event ev, const consult_room_change *c) {
	if(ev == CONSULT_EV_PATIENT_DROP && c->step.next == CONSULT_VISIT_ENDED)
		return (fan_event){ "call_ended", F_VISIT | F_REASON };
	return fan[ev].doctor;
}

static bool in_queue(consult_visit_state s) {
	return s == CONSULT_VISIT_WAITING || s == CONSULT_VISIT_AWAY;
}

static const char *appointment_status(const consult_room_change *c) {
	if(c->step.next != CONSULT_VISIT_ENDED)
		return consult_visit_state_name(c->step.next);
	return c->step.reason == CONSULT_END_CANCELLED ? "cancelled" : "ended";
}

/* As glue_after_change; `quiet` (may be NULL) gets no event: the sender. */
static void after_change(glue_practice *p, consult_visit_event ev, const consult_room_change *c,
		glue_session *patient, glue_session *doctor, glue_session *quiet, int64_t now) {
	const consult_visit *v = &c->visit;
	bool ended = c->step.next == CONSULT_VISIT_ENDED;
	if(patient && patient != quiet && patient->visit_id == v->id && fan[ev].patient.name)
		glue_push(patient, fan[ev].patient.name, fan_fields(fan[ev].patient.fields, c, doctor, p->id, now));
	fan_event de = doctor_event(ev, c);
	if(doctor && doctor != quiet && de.name && doctor->call_visit_id == v->id)
		glue_push(doctor, de.name, fan_fields(de.fields, c, doctor, p->id, now));
	if(doctor && doctor->call_visit_id == v->id &&
			c->step.next != CONSULT_VISIT_RINGING && c->step.next != CONSULT_VISIT_IN_CALL)
		doctor->call_visit_id = 0;
	glue_visit_info *vi = glue_visit_info_get(p, v->id);
	if(c->from == CONSULT_VISIT_IN_CALL && c->step.next != CONSULT_VISIT_IN_CALL) {
		glue_forward_end(patient);      /* no-op unless the call was forwarded */
		glue_forward_end(doctor);
		if(vi && vi->path != GLUE_PATH_NONE)
			p->paths[vi->path]++;       /* the call is over: counted once, by its final path */
		if(vi)
			vi->path = GLUE_PATH_NONE;
	}
	glue_push_appointment(p, v->appointment_id, appointment_status(c),
		vi ? vi->first : NULL, vi ? vi->last : NULL);
	glue_notify_visit(p->id, v->id, consult_visit_state_name(c->step.next),
		consult_end_reason_name(c->step.reason));
	JANUS_LOG(LOG_VERB, "[consult] visit %"G_GINT64_FORMAT" %s -> %s (%s)\n", v->id,
		consult_visit_state_name(c->from), consult_visit_state_name(c->step.next),
		consult_visit_event_name(ev));
	if(ended) {
		if(patient && patient->visit_id == v->id)
			patient->visit_id = 0;
		g_hash_table_remove(p->visits, &v->id);
		glue_ended_visit *e = g_new(glue_ended_visit, 1);
		e->id = v->id;
		e->doctor_id = v->doctor_id;
		e->ended_at = now;
		g_hash_table_replace(p->ended, &e->id, e);
	}
	if(in_queue(c->from) || in_queue(c->step.next))
		glue_push_waiting(p, v->doctor_id);
	glue_push_positions(p, NULL, NULL, NULL);
}

void glue_after_change(glue_practice *p, consult_visit_event ev, const consult_room_change *c,
		glue_session *patient, glue_session *doctor, int64_t now) {
	after_change(p, ev, c, patient, doctor, NULL, now);
}

consult_err glue_store_step(int64_t visit_id, consult_visit_event ev, const consult_visit_step *st,
		int64_t doctor_id, int64_t now) {
	/* One write per step (each is a commit under glue.lock). The visit
	 * table has no self-transitions, so every step changes the state. */
	consult_err e;
	if(st->next == CONSULT_VISIT_ENDED)
		e = consult_store_visit_end(glue.store, visit_id, st->reason, now);
	else if(ev == CONSULT_EV_CALL && st->next == CONSULT_VISIT_RINGING)
		e = consult_store_visit_ring(glue.store, visit_id, doctor_id, now);
	else
		e = consult_store_visit_state(glue.store, visit_id, st->next);
	if(e != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] store write for visit %"G_GINT64_FORMAT" failed (%s)\n",
			visit_id, consult_err_name(e));
		return CONSULT_ERR_INTERNAL;
	}
	return CONSULT_OK;
}

/* Events a doctor sends about the call they hold. */
static bool by_call_doctor(consult_visit_event ev) {
	return ev == CONSULT_EV_CANCEL_RING || ev == CONSULT_EV_HANGUP_DOCTOR || ev == CONSULT_EV_DOCTOR_DROP;
}

static consult_err precheck(glue_practice *p, int64_t visit_id, consult_visit_event ev, int64_t actor,
		consult_visit_step *st) {
	consult_visit *v = consult_room_visit(p->room, visit_id);
	if(v == NULL) {
		glue_ended_visit *ended = g_hash_table_lookup(p->ended, &visit_id);
		if(ev == CONSULT_EV_CALL && ended && (ended->doctor_id == 0 || ended->doctor_id == actor))
			return CONSULT_ERR_ALREADY_CALLED;
		return CONSULT_ERR_NOT_FOUND;
	}
	if(ev == CONSULT_EV_CALL && v->doctor_id != 0 && v->doctor_id != actor)
		return CONSULT_ERR_NOT_FOUND;
	if(by_call_doctor(ev) && v->call_doctor_id != actor)
		return CONSULT_ERR_NOT_FOUND;
	consult_err e = consult_visit_step_for(v->state, ev, st);
	if(e != CONSULT_OK)
		return e;
	if(ev == CONSULT_EV_CALL && consult_room_doctor_visit(p->room, actor) != NULL)
		return CONSULT_ERR_DOCTOR_BUSY;
	return CONSULT_OK;
}

consult_err glue_visit_apply(glue_practice *p, int64_t visit_id, consult_visit_event ev,
		glue_session *actor, glue_session *patient_new, int64_t now) {
	int64_t actor_doctor = (actor && actor->kind == GLUE_STAFF) ? actor->staff_id : 0;
	consult_visit_step st;
	consult_err e = precheck(p, visit_id, ev, actor_doctor, &st);
	if(e != CONSULT_OK)
		return e;
	e = glue_store_step(visit_id, ev, &st, actor_doctor, now);
	if(e != CONSULT_OK)
		return e;
	consult_visit *v = consult_room_visit(p->room, visit_id);
	glue_session *patient = v->patient;
	glue_session *doctor = glue_call_doctor(p, visit_id);
	consult_room_change c;
	e = consult_room_apply(p->room, visit_id, ev, actor_doctor, now, glue.cfg.grace_seconds,
		patient_new, &c);
	if(e != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] room refused %s on visit %"G_GINT64_FORMAT" after checks (%s)\n",
			consult_visit_event_name(ev), visit_id, consult_err_name(e));
		return e;
	}
	if(ev == CONSULT_EV_CALL) {
		actor->call_visit_id = visit_id;
		doctor = actor;
	}
	if(ev == CONSULT_EV_PATIENT_BACK)
		patient = patient_new;
	after_change(p, ev, &c, patient, doctor, ev == CONSULT_EV_CONNECTION_LOST ? actor : NULL, now);
	return CONSULT_OK;
}

/* --- requests --- */

consult_err glue_h_call(glue_ctx *c) {
	glue_practice *p = glue_practice_get(c->s->practice_id);
	if(p == NULL)
		return CONSULT_ERR_INTERNAL;
	int64_t id = c->req->u.call.visit_id;
	consult_err e = glue_visit_apply(p, id, CONSULT_EV_CALL, c->s, NULL, c->now);
	if(e == CONSULT_OK)
		json_object_set_new(c->reply, "visit_id", json_integer(id));
	return e;
}

consult_err glue_h_cancel_call(glue_ctx *c) {
	glue_practice *p = glue_practice_find(c->s->practice_id);
	consult_visit *v = p ? consult_room_doctor_visit(p->room, c->s->staff_id) : NULL;
	if(v == NULL || v->state != CONSULT_VISIT_RINGING || c->s->call_visit_id != v->id)
		return CONSULT_ERR_WRONG_STATE;
	return glue_visit_apply(p, v->id, CONSULT_EV_CANCEL_RING, c->s, NULL, c->now);
}

/* The IN_CALL visit of a call participant (doctor or patient), or NULL. */
static consult_visit *call_visit(glue_session *s, glue_practice **pp) {
	glue_practice *p = glue_practice_find(s->practice_id);
	*pp = p;
	if(p == NULL)
		return NULL;
	int64_t id = s->kind == GLUE_STAFF ? s->call_visit_id : s->visit_id;
	consult_visit *v = id ? consult_room_visit(p->room, id) : NULL;
	if(v == NULL || v->state != CONSULT_VISIT_IN_CALL)
		return NULL;
	if(s->kind == GLUE_PATIENT && v->patient != s)
		return NULL;
	return v;
}

consult_err glue_h_hangup(glue_ctx *c) {
	/* reason (parsed by the core): connection_lost or a normal hangup */
	bool lost = c->req->u.hangup.reason == CONSULT_HANGUP_CONNECTION_LOST;
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if(v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	consult_visit_event ev = lost ? CONSULT_EV_CONNECTION_LOST :
		c->s->kind == GLUE_STAFF ? CONSULT_EV_HANGUP_DOCTOR : CONSULT_EV_HANGUP_PATIENT;
	return glue_visit_apply(p, v->id, ev, c->s, NULL, c->now);
}

consult_err glue_h_ice_servers(glue_ctx *c) {
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if(v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	if(c->s->kind == GLUE_STAFF && v->call_doctor_id != c->s->staff_id)
		return CONSULT_ERR_WRONG_STATE;
	glue_ice_fields(c->reply, p->id, c->now, false);
	return CONSULT_OK;
}

consult_err glue_h_signal(glue_ctx *c) {
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if(v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	glue_session *peer = c->s->kind == GLUE_STAFF ? v->patient : glue_call_doctor(p, v->id);
	if(peer == NULL)
		return CONSULT_ERR_WRONG_STATE;
	/* Only the documented fields, rebuilt from the parsed request. */
	glue_push(peer, "signal", consult_signal_relay(c->req));
	return CONSULT_OK;
}

consult_err glue_h_report(glue_ctx *c) {
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if(v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	const char *state = c->req->u.report.connection_state;
	consult_party side = c->s->kind == GLUE_STAFF ? CONSULT_PARTY_DOCTOR : CONSULT_PARTY_PATIENT;
	glue_visit_info *vi = glue_visit_info_get(p, v->id);
	bool first_connected = state && strcmp(state, "connected") == 0 && vi && !vi->connected;
	consult_err e = consult_store_visit_report(glue.store, v->id, side, state,
		c->req->u.report.local_candidate_type, c->req->u.report.remote_candidate_type);
	if(e == CONSULT_OK && first_connected)
		e = consult_store_visit_connected(glue.store, v->id, c->now);
	if(e != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	if(first_connected)
		vi->connected = true;
	/* live_visits shows the media path the doctor's side reports (as the store does) */
	const char *lt = c->req->u.report.local_candidate_type, *rt = c->req->u.report.remote_candidate_type;
	bool forwarded = glue_forward_active(c->s);
	if(vi && c->s->kind == GLUE_STAFF && (forwarded || (lt && rt))) {
		g_free(vi->media_path);
		vi->media_path = forwarded ? g_strdup("forward") : g_strdup_printf("%s/%s", lt, rt);
	}
	/* The call's path is the one of the doctor's newest "connected" report;
	 * the call is counted once, by its final path, when it ends. */
	if(vi && c->s->kind == GLUE_STAFF && state && strcmp(state, "connected") == 0 && (forwarded || (lt && rt)))
		vi->path = forwarded ? GLUE_PATH_FORWARD :
			(strcmp(lt, "relay") == 0 || strcmp(rt, "relay") == 0) ? GLUE_PATH_RELAY : GLUE_PATH_DIRECT;
	return CONSULT_OK;
}

/* --- forwarding (issue 5) --- */

/* SANDBOX STUB: the practice policy comes from the store once it has it. */
/* The practice policy; on a store failure fail closed (never). */
static bool forward_never(int64_t practice_id) {
	bool never = true;
	if(consult_store_practice_forward_never(glue.store, practice_id, &never) != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] store: forward policy of practice %"G_GINT64_FORMAT" not readable\n", practice_id);
		return true;
	}
	return never;
}

consult_err glue_h_forward(glue_ctx *c) {
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if(v == NULL || v->call_doctor_id != c->s->staff_id)
		return CONSULT_ERR_WRONG_STATE;
	consult_forward_cause cause = c->req->u.forward.cause;
	if(forward_never(p->id)) {
		glue_forward_note_refused(cause);
		/* No path and no fallback: the call ends for both (no_path). */
		consult_err e = glue_visit_apply(p, v->id, CONSULT_EV_NO_PATH, NULL, NULL, c->now);
		if(e != CONSULT_OK)
			JANUS_LOG(LOG_ERR, "[consult] visit %"G_GINT64_FORMAT": no_path not applied (%s)\n", v->id, consult_err_name(e));
		return CONSULT_ERR_FORWARD_REFUSED;
	}
	glue_session *patient = v->patient;
	if(patient == NULL)
		return CONSULT_ERR_WRONG_STATE;
	return glue_forward_begin(c->s, patient, cause, glue.cfg.forward_e2ee_test_off, c->reply);
}

/* A forwarded leg's PeerConnection went away (Janus loop thread, no lock). */
void glue_forward_lost(glue_session *s, bool handle_gone) {
	if(handle_gone)
		return;                   /* destroy_session follows: PATIENT_DROP / DOCTOR_DROP */
	int64_t now = glue_now();
	g_mutex_lock(&glue.lock);
	glue_practice *p = glue_practice_find(s->practice_id);
	int64_t vid = s->kind == GLUE_STAFF ? s->call_visit_id : s->visit_id;
	consult_visit *v = (p && vid) ? consult_room_visit(p->room, vid) : NULL;
	if(v && v->state == CONSULT_VISIT_IN_CALL)
		(void)glue_visit_apply(p, vid, CONSULT_EV_CONNECTION_LOST, NULL, NULL, now);
	g_mutex_unlock(&glue.lock);
}
