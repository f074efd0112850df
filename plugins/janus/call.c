/* call.c - the call requests: call, cancel_call, hangup, signal, report,
 * ice_servers, forward.
 *
 * Contract: each request finds the visit its handle acts on and hands the
 * event to glue_visit_apply() (effects.c: the room decides, the glue
 * carries it out). The `call` reply carries the doctor's ICE servers
 * (fresh TURN credentials, as in call_accepted). hangup may carry reason "connection_lost" (the other
 * side hears call_ended with that reason). ice_servers hands fresh
 * credentials to a participant of an IN_CALL visit. While the other side of
 * a call is detached (held, core/room.h) a `signal` is dropped silently,
 * `hangup` ends the visit as usual and `forward` is wrong_state (retry after
 * the other side re-attached). A patient's `media` signal with "screen":
 * true is forbidden (field "screen") where the practice's patient_share is
 * "never". glue_doctor_reattach() gives a resumed staff
 * handle its held call back. Called under glue.lock.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "snapshot.h"
#include "forward.h"

/* --- requests --- */

consult_err glue_h_call(glue_ctx *c)
{
	glue_practice *p = glue_practice_get(c->s->practice_id);
	if (p == NULL)
		return CONSULT_ERR_INTERNAL;
	int64_t id = c->req->u.call.visit_id;
	consult_err e = glue_visit_apply(p, id, CONSULT_EV_CALL, c->s, NULL, c->now);
	if (e == CONSULT_OK) {
		json_object_set_new(c->reply, "visit_id", json_integer(id));
		/* the calling doctor's own credentials: its page makes the offer
		 * (and the TURN allocation) while it rings */
		glue_ice_fields(c->reply, c->s->practice_id, c->now, false);
	}
	return e;
}

consult_err glue_h_cancel_call(glue_ctx *c)
{
	glue_practice *p = glue_practice_find(c->s->practice_id);
	consult_visit *v = p ? consult_room_doctor_visit(p->room, c->s->staff_id) : NULL;
	if (v == NULL || v->state != CONSULT_VISIT_RINGING || c->s->call_visit_id != v->id)
		return CONSULT_ERR_WRONG_STATE;
	return glue_visit_apply(p, v->id, CONSULT_EV_CANCEL_RING, c->s, NULL, c->now);
}

/* The IN_CALL visit of a call participant (doctor or patient), or NULL. */
static consult_visit *call_visit(glue_session *s, glue_practice **pp)
{
	glue_practice *p = glue_practice_find(s->practice_id);
	*pp = p;
	if (p == NULL)
		return NULL;
	int64_t id = s->kind == GLUE_STAFF ? s->call_visit_id : s->visit_id;
	consult_visit *v = id ? consult_room_visit(p->room, id) : NULL;
	if (v == NULL || v->state != CONSULT_VISIT_IN_CALL)
		return NULL;
	if (s->kind == GLUE_PATIENT && v->patient != s)
		return NULL;
	return v;
}

consult_err glue_h_hangup(glue_ctx *c)
{
	/* reason (parsed by the core): connection_lost or a normal hangup */
	bool lost = c->req->u.hangup.reason == CONSULT_HANGUP_CONNECTION_LOST;
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if (v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	consult_visit_event ev = lost      ? CONSULT_EV_CONNECTION_LOST
	        : c->s->kind == GLUE_STAFF ? CONSULT_EV_HANGUP_DOCTOR
	                                   : CONSULT_EV_HANGUP_PATIENT;
	return glue_visit_apply(p, v->id, ev, c->s, NULL, c->now);
}

consult_err glue_h_ice_servers(glue_ctx *c)
{
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if (v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	if (c->s->kind == GLUE_STAFF && v->call_doctor_id != c->s->staff_id)
		return CONSULT_ERR_WRONG_STATE;
	glue_ice_fields(c->reply, p->id, c->now, false);
	return CONSULT_OK;
}

consult_err glue_h_signal(glue_ctx *c)
{
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if (v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	/* A patient says it shares a screen only where the practice allows it:
	 * else forbidden and nothing relayed (the media itself is peer to peer
	 * or end-to-end encrypted; this is what the server can refuse). */
	if (c->s->kind == GLUE_PATIENT && c->req->u.signal.type == CONSULT_SIGNAL_MEDIA && c->req->u.signal.screen &&
	        !glue_patient_share_allowed(p->id)) {
		c->field = "screen";
		return CONSULT_ERR_FORBIDDEN;
	}
	glue_session *peer = c->s->kind == GLUE_STAFF ? v->patient : glue_call_doctor(p, v->id);
	if (peer == NULL)
		return CONSULT_OK; /* the other side is detached (held call): dropped */
	/* Only the documented fields, rebuilt from the parsed request. */
	glue_push(peer, "signal", consult_signal_relay(c->req));
	return CONSULT_OK;
}

consult_err glue_h_report(glue_ctx *c)
{
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if (v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	const char *state = c->req->u.report.connection_state;
	consult_party side = c->s->kind == GLUE_STAFF ? CONSULT_PARTY_DOCTOR : CONSULT_PARTY_PATIENT;
	glue_visit_info *vi = glue_visit_info_get(p, v->id);
	bool first_connected = state && strcmp(state, "connected") == 0 && vi && !vi->connected;
	consult_err e = consult_store_visit_report(glue_store(), v->id, side, state,
	        c->req->u.report.local_candidate_type, c->req->u.report.remote_candidate_type);
	if (e == CONSULT_OK && first_connected)
		e = consult_store_visit_connected(glue_store(), v->id, c->now);
	if (e != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	if (first_connected) {
		vi->connected = true;
		vi->connected_at = c->now; /* as stored: the first connected report */
	}
	/* live_visits shows the media path the doctor's side reports (as the store does) */
	const char *lt = c->req->u.report.local_candidate_type, *rt = c->req->u.report.remote_candidate_type;
	bool forwarded = glue_forward_active(c->s);
	if (vi && c->s->kind == GLUE_STAFF && (forwarded || (lt && rt))) {
		g_free(vi->media_path);
		vi->media_path = forwarded ? g_strdup("forward") : g_strdup_printf("%s/%s", lt, rt);
	}
	/* The call's path is the one of the doctor's newest "connected" report;
	 * the call is counted once, by its final path, when it ends. */
	if (vi && c->s->kind == GLUE_STAFF && state && strcmp(state, "connected") == 0 && (forwarded || (lt && rt)))
		vi->path = forwarded                                             ? GLUE_PATH_FORWARD
		        : (strcmp(lt, "relay") == 0 || strcmp(rt, "relay") == 0) ? GLUE_PATH_RELAY
		                                                                 : GLUE_PATH_DIRECT;
	return CONSULT_OK;
}

/* The doctor side of visit id goes (DOCTOR_DROP by s's doctor): the
 * patient is back at the head of the queue. */
static consult_err drop_doctor_side(glue_practice *p, glue_session *s, int64_t id, int64_t now)
{
	consult_room_event in = {
		.in = CONSULT_IN_VISIT, .ev = CONSULT_EV_DOCTOR_DROP, .visit_id = id, .grace_s = glue.cfg.grace_seconds
	};
	consult_decision d;
	consult_err e = glue_decide_run(p, &in, s, now, true, &d);
	if (e != CONSULT_OK)
		JANUS_LOG(LOG_ERR, "[consult] doctor side of visit %" G_GINT64_FORMAT " not dropped (%s)\n", id,
		        consult_err_name(e));
	return e;
}

void glue_doctor_fresh_login(glue_practice *p, glue_session *s, int64_t now)
{
	consult_visit *v = consult_room_doctor_visit(p->room, s->staff_id);
	if (v == NULL || v->state != CONSULT_VISIT_IN_CALL || v->doctor_until == 0 || glue_call_doctor(p, v->id))
		return;
	int64_t id = v->id;
	if (drop_doctor_side(p, s, id, now) == CONSULT_OK)
		JANUS_LOG(LOG_INFO,
		        "[consult] staff %" G_GINT64_FORMAT " logged in anew: held call of visit %" G_GINT64_FORMAT
		        " given up\n",
		        s->staff_id, id);
}

void glue_doctor_reattach(glue_practice *p, glue_session *s, int64_t resume_call, int64_t now, json_t **call_out)
{
	*call_out = NULL;
	consult_visit *v = consult_room_doctor_visit(p->room, s->staff_id);
	if (v == NULL)
		return;
	int64_t id = v->id;
	glue_session *old = glue_call_doctor(p, id); /* the member's previous handle, if still live */
	glue_visit_info *vi = glue_visit_info_get(p, id);
	/* A call that another login of this doctor holds (a second browser or
	 * tab with its own session; after a restart the holder is unknown) is
	 * not this page's to drop: only the page that holds it takes it back
	 * (resume_call), else its hold runs out. */
	if (old && old != s && old->login_session != s->login_session)
		return;
	if (!old && resume_call != id && (!vi || vi->call_session != s->login_session || s->login_session == 0))
		return;
	if (old && old != s) {
		glue_forward_end(old);
		old->call_visit_id = 0;
	}
	s->call_visit_id = id;
	consult_err e = CONSULT_OK;
	if (resume_call == id && v->state == CONSULT_VISIT_IN_CALL) {
		if (v->doctor_until) { /* the doctor is back even if the store write fails (same state) */
			consult_room_event in = {
				.in = CONSULT_IN_VISIT, .ev = CONSULT_EV_DOCTOR_RESUME, .visit_id = id
			};
			consult_decision d;
			e = glue_decide_run(p, &in, s, now, true, &d);
		}
		if (e == CONSULT_OK) {
			if (vi)
				vi->call_session = s->login_session;
			json_t *o = json_object();
			json_object_set_new(o, "visit_id", json_integer(id));
			json_object_set_new(o, "state", json_string("in_call"));
			glue_ice_fields(o, p->id, now, true);
			json_object_set_new(o, "audio_only", json_boolean(vi && vi->audio_only));
			*call_out = o;
			JANUS_LOG(LOG_INFO,
			        "[consult] staff %" G_GINT64_FORMAT " holds the call of visit %" G_GINT64_FORMAT
			        " again\n",
			        s->staff_id, id);
			return;
		}
	}
	/* The page does not hold this call (or it is still ringing): its doctor
	 * side goes, the patient back at the head. */
	(void)drop_doctor_side(p, s, id, now);
	s->call_visit_id = 0;
}

/* --- forwarding (issue 5) --- */

/* The practice policy; on a store failure fail closed (never). */
static bool forward_never(int64_t practice_id)
{
	const glue_snapshot *sn = glue_snapshot_get(practice_id, NULL);
	if (sn == NULL) {
		JANUS_LOG(LOG_ERR, "[consult] store: forward policy of practice %" G_GINT64_FORMAT " not readable\n",
		        practice_id);
		return true;
	}
	return sn->pr.forward_never;
}

consult_err glue_h_forward(glue_ctx *c)
{
	glue_practice *p;
	consult_visit *v = call_visit(c->s, &p);
	if (v == NULL || v->call_doctor_id != c->s->staff_id || v->patient == NULL)
		return CONSULT_ERR_WRONG_STATE; /* no call, or its patient side is detached */
	consult_forward_cause cause = c->req->u.forward.cause;
	if (forward_never(p->id)) {
		glue_forward_note_refused(cause);
		/* No path and no fallback: the call ends for both (no_path). */
		consult_err e = glue_visit_apply(p, v->id, CONSULT_EV_NO_PATH, NULL, NULL, c->now);
		if (e != CONSULT_OK)
			JANUS_LOG(LOG_ERR, "[consult] visit %" G_GINT64_FORMAT ": no_path not applied (%s)\n", v->id,
			        consult_err_name(e));
		return CONSULT_ERR_FORWARD_REFUSED;
	}
	return glue_forward_begin(c->s, v->patient, cause, glue.cfg.forward_e2ee_test_off, c->reply);
}

/* Forwarded legs lost while their handle stayed: a leg's PeerConnection
 * also goes first when Janus tears a handle down (its `stopped` flag comes
 * later), so the loss counts only if the handle is still there a second
 * later; a handle that goes meanwhile holds the call instead (destroy_session).
 * The list is under glue.lock; each entry holds a session reference. */
typedef struct leg_loss {
	glue_session *s;
	gint64 at; /* monotonic */
} leg_loss;
static GSList *leg_losses;

/* A forwarded leg's PeerConnection went away (Janus loop thread, no lock). */
void glue_forward_lost(glue_session *s, bool handle_gone)
{
	if (handle_gone)
		return; /* destroy_session follows: the call is held */
	leg_loss *l = g_new(leg_loss, 1);
	glue_session_ref(s);
	l->s = s;
	l->at = g_get_monotonic_time();
	g_mutex_lock(&glue.lock);
	leg_losses = g_slist_append(leg_losses, l);
	g_mutex_unlock(&glue.lock);
}

void glue_forward_losses_run(int64_t now, bool all)
{
	gint64 mono = g_get_monotonic_time();
	GSList *keep = NULL, *due = NULL;
	if (!all)
		g_mutex_lock(&glue.lock);
	for (GSList *it = leg_losses; it; it = it->next) {
		leg_loss *l = it->data;
		if (!all && mono - l->at < G_TIME_SPAN_SECOND)
			keep = g_slist_append(keep, l);
		else
			due = g_slist_append(due, l);
	}
	g_slist_free(leg_losses);
	leg_losses = keep;
	if (!all)
		g_mutex_unlock(&glue.lock);
	for (GSList *it = due; it; it = it->next) {
		leg_loss *l = it->data;
		glue_session *s = l->s;
		if (!all) { /* each under its practice's lock (plock.h) */
			(void)glue_lock_session_practice(s);
			glue_practice *p = g_atomic_int_get(&s->destroyed) ? NULL : glue_practice_find(s->practice_id);
			int64_t vid = s->kind == GLUE_STAFF ? s->call_visit_id : s->visit_id;
			consult_visit *v = (p && vid) ? consult_room_visit(p->room, vid) : NULL;
			if (v && v->state == CONSULT_VISIT_IN_CALL)
				(void)glue_visit_apply(p, vid, CONSULT_EV_CONNECTION_LOST, NULL, NULL, now);
			g_mutex_unlock(&glue.lock);
			glue_practice_unlock();
		}
		glue_session_unref(s);
		g_free(l);
	}
	g_slist_free(due);
}
