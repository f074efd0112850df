/* effects.c - carrying out the room's decisions (core/decide.h).
 *
 * Contract: glue_run_part() executes a decision's effects in their order under
 * the practice's lock and glue.lock (plock.h; on PostgreSQL the store
 * writes of a request run without glue.lock, on its pooled handle, while
 * the practice's lock keeps the room as it was decided on) and decides
 * nothing itself: a store write first (if it fails,
 * the run stops and nothing changed - unless `force`: the handle is gone
 * or the timer ended the visit, so the room must change anyway and the
 * store catches up with the next write of the visit),
 * then the room change, handle bookkeeping and pushes. The call's doctor
 * handle is the session holding the visit's call when the run starts (the
 * acting doctor once BIND_DOCTOR ran). Pushes that carry TURN credentials
 * mint them now, for that recipient only. glue_decide_run() asks the room
 * and runs the answer; glue_visit_apply() does so for one visit event.
 * Logs carry ids only.
 */
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "forward.h"

typedef struct run_ctx {
	glue_practice *p;
	glue_session *actor;
	glue_session *doctor; /* the call's doctor handle, or NULL */
	int64_t now;
	bool force;
} run_ctx;

static json_t *push_fields(const run_ctx *x, const consult_effect *fx)
{
	json_t *o = json_object();
	if (fx->fields & CONSULT_PF_VISIT)
		json_object_set_new(o, "visit_id", json_integer(fx->visit_id));
	if (fx->fields & CONSULT_PF_REASON)
		json_object_set_new(o, "reason", json_string(consult_end_reason_name(fx->reason)));
	if (fx->fields & CONSULT_PF_ICE)
		glue_ice_fields(o, x->p->id, x->now, true);
	if (fx->fields & CONSULT_PF_DOCTOR)
		json_object_set_new(
		        o, "doctor", json_string(x->doctor && x->doctor->display_name ? x->doctor->display_name : ""));
	if (fx->fields & CONSULT_PF_REQUEUED)
		json_object_set_new(o, "requeued", json_true());
	if (fx->fields & CONSULT_PF_DECLINE)
		json_object_set_new(o, "reason", json_string(consult_decline_reason_name(fx->decline)));
	if (fx->fields & CONSULT_PF_AUDIO)
		json_object_set_new(o, "audio_only", json_boolean(fx->audio_only));
	if (fx->fields & CONSULT_PF_POLICY)
		json_object_set_new(o, "audio_only", json_string(glue_audio_policy(x->p->id)));
	return o;
}

static void run_push(run_ctx *x, const consult_effect *fx)
{
	const char *name = consult_push_event_name(fx->event);
	glue_practice *p = x->p;
	switch (fx->to) {
	case CONSULT_TO_PATIENT:
		glue_push(fx->patient, name, push_fields(x, fx));
		break;
	case CONSULT_TO_DOCTOR:
		if (x->doctor && x->doctor->call_visit_id == fx->visit_id)
			glue_push(x->doctor, name, push_fields(x, fx));
		break;
	case CONSULT_TO_DOCTORS:
		if (fx->event == CONSULT_PUSH_waiting) {
			glue_push_waiting(p, fx->doctor_id);
			break;
		}
		for (GList *l = p->staff; l; l = l->next) {
			glue_session *d = l->data;
			if (d->role == CONSULT_ROLE_DOCTOR && consult_doctor_sees(fx->doctor_id, d->staff_id))
				glue_push(d, name, push_fields(x, fx));
		}
		break;
	case CONSULT_TO_STAFF: {
		glue_visit_info *vi = glue_visit_info_get(p, fx->visit_id);
		glue_push_appointment(p, fx->appointment_id, fx->status, vi ? vi->first : NULL, vi ? vi->last : NULL,
		        vi ? vi->booked_name : NULL);
		break;
	}
	}
}

/* What the glue keeps beside the store: the last caller of a visit, and a
 * connected call that ended counts for today's wait estimates (waiting.c). */
static void note_stored(const run_ctx *x, const consult_effect *fx)
{
	glue_visit_info *vi = glue_visit_info_get(x->p, fx->visit_id);
	if (fx->kind == CONSULT_FX_STORE_RING && vi)
		vi->called_by = fx->doctor_id;
	else if (fx->kind == CONSULT_FX_STORE_END)
		glue_day_visit_ended(x->p, fx->visit_id, fx->at);
}

static consult_err run_store(const run_ctx *x, const consult_effect *fx)
{
	consult_err e;
	if (fx->kind == CONSULT_FX_STORE_END)
		e = consult_store_visit_end(glue_store(), fx->visit_id, fx->reason, fx->at);
	else if (fx->kind == CONSULT_FX_STORE_RING)
		e = consult_store_visit_ring(glue_store(), fx->visit_id, fx->doctor_id, fx->at);
	else
		e = consult_store_visit_state(glue_store(), fx->visit_id, fx->state, fx->head, fx->away_since);
	if (e == CONSULT_OK || x->force)
		note_stored(x, fx);
	if (e == CONSULT_OK)
		return CONSULT_OK;
	JANUS_LOG(LOG_ERR, "[consult] store write for visit %" G_GINT64_FORMAT " failed (%s)%s\n", fx->visit_id,
	        consult_err_name(e), x->force ? ": applied in memory only" : "");
	return x->force ? CONSULT_OK : CONSULT_ERR_INTERNAL;
}

static void call_over(run_ctx *x, const consult_effect *fx)
{
	glue_forward_end(fx->patient); /* no-op unless the call was forwarded */
	glue_forward_end(x->doctor);
	glue_visit_info *vi = glue_visit_info_get(x->p, fx->visit_id);
	if (vi && vi->path != GLUE_PATH_NONE)
		x->p->paths[vi->path]++; /* the call is over: counted once, by its final path */
	if (vi)
		vi->path = GLUE_PATH_NONE;
}

static consult_err run_one(run_ctx *x, const consult_effect *fx)
{
	glue_practice *p = x->p;
	glue_session *s = fx->patient;
	consult_err e = CONSULT_OK;
	switch (fx->kind) {
	case CONSULT_FX_STORE_RING:
	case CONSULT_FX_STORE_END:
	case CONSULT_FX_STORE_STATE:
		return run_store(x, fx);
	case CONSULT_FX_APPLY: {
		consult_room_change c;
		e = consult_room_apply(
		        p->room, fx->visit_id, fx->ev, fx->doctor_id, fx->at, fx->grace_s, fx->patient, &c);
		if (e != CONSULT_OK) {
			JANUS_LOG(LOG_ERR,
			        "[consult] room refused %s on visit %" G_GINT64_FORMAT " after checks (%s)\n",
			        consult_visit_event_name(fx->ev), fx->visit_id, consult_err_name(e));
			return e;
		}
		JANUS_LOG(LOG_VERB, "[consult] visit %" G_GINT64_FORMAT " %s -> %s (%s)\n", fx->visit_id,
		        consult_visit_state_name(c.from), consult_visit_state_name(c.step.next),
		        consult_visit_event_name(fx->ev));
		return CONSULT_OK;
	}
	case CONSULT_FX_JOIN: {
		consult_visit_init in = {
			.id = fx->visit_id,
			.appointment_id = fx->appointment_id,
			.doctor_id = fx->doctor_id,
			.appt_time = fx->appt_time,
			.joined_at = fx->joined_at,
			.patient = fx->patient,
		};
		e = consult_room_join(p->room, &in, NULL);
		if (e != CONSULT_OK) {
			JANUS_LOG(LOG_ERR, "[consult] room refused visit %" G_GINT64_FORMAT " (%s)\n", fx->visit_id,
			        consult_err_name(e));
			return CONSULT_ERR_INTERNAL;
		}
		JANUS_LOG(LOG_VERB, "[consult] visit %" G_GINT64_FORMAT " joined practice %" G_GINT64_FORMAT "\n",
		        fx->visit_id, p->id);
		return CONSULT_OK;
	}
	case CONSULT_FX_TAKE_OVER:
		e = consult_room_take_over(p->room, fx->visit_id, fx->patient);
		if (e == CONSULT_OK)
			JANUS_LOG(LOG_INFO, "[consult] visit %" G_GINT64_FORMAT " taken over by a new handle\n",
			        fx->visit_id);
		return e;
	case CONSULT_FX_BIND_DOCTOR:
		if (x->actor) {
			glue_visit_info *vi = glue_visit_info_get(p, fx->visit_id);
			x->actor->call_visit_id = fx->visit_id;
			x->doctor = x->actor;
			if (vi)
				vi->call_session = x->actor->login_session;
		}
		break;
	case CONSULT_FX_UNBIND_DOCTOR:
		if (x->doctor && x->doctor->call_visit_id == fx->visit_id)
			x->doctor->call_visit_id = 0;
		break;
	case CONSULT_FX_BIND_PATIENT:
		s->kind = GLUE_PATIENT;
		s->practice_id = p->id;
		s->visit_id = fx->visit_id;
		s->appointment_id = fx->appointment_id;
		break;
	case CONSULT_FX_UNBIND_PATIENT:
		if (s->visit_id == fx->visit_id)
			s->visit_id = 0;
		break;
	case CONSULT_FX_RETIRE_PATIENT:
		glue_forward_end(s); /* a forwarded call's legs belonged to the old handle */
		glue_session_reset(s);
		s->kind = GLUE_DEAD;
		break;
	case CONSULT_FX_CALL_OVER:
		call_over(x, fx);
		break;
	case CONSULT_FX_FORGET:
		g_hash_table_remove(p->visits, &fx->visit_id);
		break;
	case CONSULT_FX_NOTIFY:
		glue_notify_visit(
		        p->id, fx->visit_id, consult_visit_state_name(fx->state), consult_end_reason_name(fx->reason));
		break;
	case CONSULT_FX_PUSH:
		run_push(x, fx);
		break;
	case CONSULT_FX_POSITIONS:
		glue_push_positions(p, x->now, NULL, NULL);
		break;
	default:
		break;
	}
	return e;
}

consult_err glue_run_part(glue_practice *p, const consult_decision *d, size_t from, size_t to, glue_session *actor,
        int64_t now, bool force)
{
	if (from >= to || to > d->fx.n)
		return CONSULT_OK;
	glue_practice_check(p->id); /* changes need the practice's lock (plock.h) */
	run_ctx x = { p, actor, glue_call_doctor(p, d->fx.fx[from].visit_id), now, force };
	for (size_t i = from; i < to; i++) {
		consult_err e = run_one(&x, &d->fx.fx[i]);
		if (e != CONSULT_OK)
			return e;
	}
	return CONSULT_OK;
}

/* Who a session is to the room (doctor, patient or nobody). */
static consult_actor actor_of(const glue_session *s)
{
	consult_actor a = { CONSULT_ACTOR_NONE, 0 };
	if (s && s->kind == GLUE_STAFF) {
		a.kind = CONSULT_ACTOR_DOCTOR;
		a.doctor_id = s->staff_id;
	} else if (s && s->kind == GLUE_PATIENT) {
		a.kind = CONSULT_ACTOR_PATIENT;
	}
	return a;
}

consult_err glue_decide_run(glue_practice *p, const consult_room_event *in, glue_session *actor, int64_t now,
        bool force, consult_decision *d)
{
	consult_actor a = actor_of(actor);
	consult_err e = consult_room_decide(p->room, in, &a, now, d);
	if (e == CONSULT_OK)
		e = glue_run_part(p, d, 0, d->fx.n, actor, now, force);
	return e;
}

consult_err glue_visit_apply(glue_practice *p, int64_t visit_id, consult_visit_event ev, glue_session *actor,
        glue_session *patient_new, int64_t now)
{
	consult_room_event in = { .in = CONSULT_IN_VISIT,
		.ev = ev,
		.visit_id = visit_id,
		.patient = patient_new,
		.grace_s = glue.cfg.grace_seconds };
	consult_decision d;
	return glue_decide_run(p, &in, actor, now, false, &d);
}
