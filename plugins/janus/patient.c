/* patient.c - patient requests: join, leave, accept, decline, and what
 * happens when a patient's handle goes away.
 *
 * Contract: join checks the access code exactly as protocol.md says (rate
 * limits per handle and per practice, normalisation, keyed hash, practice,
 * cancellation and validity window by the real clock) and answers every
 * failure with the same code_invalid (a valid code before its window:
 * too_early with opens_at). appointment_info answers the same lookup with
 * the practice, the time and the doctor, before any name is given. One live handle per visit: what a
 * second join with the same code does (resume, take over, take the call
 * over with resume_call, end the call) is the room's decision
 * (core/decide.h); the glue carries it out. The reply's "state" is the
 * visit's state after the join; a call taken over also carries the call's
 * doctor and fresh ICE fields, and a ringing or taken-over call the
 * practice's audio-only policy; a waiting visit's estimated wait and the
 * visit's newest message (waiting.c) come with it. accept may ask for
 * audio only (refused with forbidden, field audio_only, where the
 * practice's policy is "never"; the call keeps ringing), decline may say
 * why (the doctor reads it). Successful joins per
 * appointment are bounded (core/rejoin.h: rate_limited, nothing changes). Called under glue.lock;
 * join and appointment_info look the code up without it (dispatch.c), and
 * join takes the practice's lock before it changes anything. Logs only ids.
 */
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "core/code.h"
#include "core/limits.h"
#include "core/queue.h"
#include "glue.h"
#include "snapshot.h"
#include "auth.h"

/* Trims outer spaces; NULL if nothing is left. */
static char *trimmed(const char *s)
{
	char *t = g_strstrip(g_strdup(s));
	if (*t == '\0') {
		g_free(t);
		return NULL;
	}
	return t;
}

typedef struct {
	glue_practice *p;
	consult_practice practice;
	consult_appointment appt;
} join_target;

/* Finds the appointment for the code; CODE_INVALID for every reason the
 * code cannot be used (unknown, other practice, cancelled, expired).
 * TOO_EARLY only for a valid code before its window opens: only the
 * holder of the code learns this. */
static consult_err find_appointment(glue_ctx *c, const char *slug, const char *code, join_target *t)
{
	const glue_snapshot *sn = glue_snapshot_by_slug(slug, NULL);
	if (sn == NULL)
		return CONSULT_ERR_CODE_INVALID;
	glue_snapshot_copy_practice(sn, &t->practice);
	char norm[CONSULT_CODE_NORM_LEN];
	if (!consult_code_normalise(code, norm))
		return CONSULT_ERR_CODE_INVALID;
	uint8_t hash[CONSULT_CODE_HASH_LEN];
	consult_code_hash(glue.cfg.code_secret, t->practice.id, norm, hash);
	memset(norm, 0, sizeof(norm));
	consult_err e = consult_store_appointment_by_code(glue_store(), hash, &t->appt);
	if (e == CONSULT_ERR_INTERNAL)
		return e;
	if (e != CONSULT_OK)
		return CONSULT_ERR_CODE_INVALID;
	if (t->appt.practice_id != t->practice.id || t->appt.cancelled_at != 0)
		return CONSULT_ERR_CODE_INVALID;
	consult_window w = consult_code_window(c->now, t->appt.valid_from, t->appt.valid_until);
	if (w == CONSULT_WINDOW_EXPIRED)
		return CONSULT_ERR_CODE_INVALID;
	return w == CONSULT_WINDOW_TOO_EARLY ? CONSULT_ERR_TOO_EARLY : CONSULT_OK;
}

/* The code lookup with its rate limits (per handle, per practice), shared
 * by join and appointment_info: every code_invalid counts as a failure. */
static consult_err checked_lookup(glue_ctx *c, const char *slug, const char *code, join_target *t)
{
	char hkey[40];
	g_snprintf(hkey, sizeof(hkey), "h:%" G_GUINT64_FORMAT, c->s->serial);
	const char *hkeys[] = { hkey };
	if (!glue_rl_allowed(glue.rl_join, hkeys, 1, c->now, &c->retry_after))
		return CONSULT_ERR_RATE_LIMITED;
	consult_err e = find_appointment(c, slug, code, t);
	if (e == CONSULT_ERR_CODE_INVALID) {
		char pkey[40];
		g_snprintf(pkey, sizeof(pkey), "p:%" G_GINT64_FORMAT, t->practice.id);
		const char *pkeys[] = { pkey };
		glue_rl_fail(glue.rl_join, hkeys, 1, c->now);
		if (t->practice.id > 0) {
			if (!glue_rl_allowed(glue.rl_join_practice, pkeys, 1, c->now, &c->retry_after))
				e = CONSULT_ERR_RATE_LIMITED;
			glue_rl_fail(glue.rl_join_practice, pkeys, 1, c->now);
		}
		JANUS_LOG(LOG_INFO, "[consult] %s refused (%s)\n", c->req->name, consult_err_name(e));
		return e;
	}
	if (e == CONSULT_OK || e == CONSULT_ERR_TOO_EARLY)
		glue_rl_ok(glue.rl_join, hkeys, 1);
	if (e == CONSULT_ERR_TOO_EARLY) {
		c->error_extra = json_object();
		json_object_set_new(c->error_extra, "opens_at", json_integer(t->appt.valid_from));
	}
	return e;
}

/* Display name of an appointment's doctor (NULL for "any doctor"). */
static char *doctor_name(int64_t practice_id, int64_t doctor_id)
{
	if (doctor_id <= 0)
		return NULL;
	const glue_snap_staff *st = glue_snapshot_staff(practice_id, doctor_id, NULL);
	return st && st->display_name ? g_strdup(st->display_name) : NULL;
}

consult_err glue_h_appointment_info(glue_ctx *c)
{
	join_target t;
	memset(&t, 0, sizeof(t));
	consult_err e = checked_lookup(c, c->req->u.appointment_info.practice, c->req->u.appointment_info.code, &t);
	if (e == CONSULT_ERR_TOO_EARLY) {
		json_decref(c->error_extra);
		c->error_extra = NULL;
		e = CONSULT_OK;
	}
	if (e == CONSULT_OK) {
		json_t *pr = json_object();
		json_object_set_new(pr, "name", json_string(t.practice.name ? t.practice.name : ""));
		json_object_set_new(pr, "phone", t.practice.phone ? json_string(t.practice.phone) : json_null());
		json_object_set_new(c->reply, "practice", pr);
		json_object_set_new(c->reply, "appointment_at", json_integer(t.appt.starts_at));
		json_object_set_new(c->reply, "opens_at", json_integer(t.appt.valid_from));
		json_object_set_new(c->reply, "closes_at", json_integer(t.appt.valid_until));
		json_object_set_new(c->reply, "open", json_boolean(c->now >= t.appt.valid_from));
		char *doc = doctor_name(t.practice.id, t.appt.doctor_id);
		json_object_set_new(c->reply, "doctor", doc ? json_string(doc) : json_null());
		g_free(doc);
	}
	consult_practice_clear(&t.practice);
	consult_appointment_clear(&t.appt);
	return e;
}

/* A new visit for this handle: the store begins it (one commit, stored as
 * "waiting"), then the room admits it; if the room refuses, the stored
 * visit ends as "left". */
static consult_err new_visit(glue_ctx *c, join_target *t, const char *first, const char *last)
{
	glue_practice *p = t->p;
	int64_t visit_id = 0;
	if (consult_store_visit_begin(glue_store(), t->appt.id, first, last, c->now, &visit_id) != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	consult_room_event in = { .in = CONSULT_IN_ARRIVE,
		.arrive = {
		        .id = visit_id,
		        .appointment_id = t->appt.id,
		        .doctor_id = t->appt.doctor_id,
		        .appt_time = t->appt.starts_at,
		        .joined_at = c->now,
		        .patient = c->s,
		} };
	glue_visit_info *vi = g_new0(glue_visit_info, 1);
	vi->id = visit_id;
	vi->path = GLUE_PATH_NONE;
	vi->first = g_strdup(first);
	vi->last = g_strdup(last);
	vi->booked_name = g_strdup(t->appt.booked_name);
	vi->note = g_strdup(t->appt.note);
	g_hash_table_replace(p->visits, &vi->id, vi);
	consult_decision d;
	consult_err e = glue_decide_run(p, &in, c->s, c->now, false, &d);
	if (e != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] visit %" G_GINT64_FORMAT " not admitted (%s)\n", visit_id,
		        consult_err_name(e));
		g_hash_table_remove(p->visits, &visit_id);
		(void)consult_store_visit_end(glue_store(), visit_id, CONSULT_END_LEFT, c->now);
		return CONSULT_ERR_INTERNAL;
	}
	return CONSULT_OK;
}

/* "state" of the reply: the visit's state after the join; a call this
 * handle took over also gets the call's fields (as in `ringing`). */
static void join_state(glue_ctx *c, glue_practice *p)
{
	consult_visit *v = consult_room_visit(p->room, c->s->visit_id);
	consult_visit_state st = v ? v->state : CONSULT_VISIT_WAITING;
	json_object_set_new(c->reply, "state", json_string(consult_visit_state_name(st)));
	if (st == CONSULT_VISIT_RINGING || st == CONSULT_VISIT_IN_CALL)
		json_object_set_new(c->reply, "audio_only", json_string(glue_audio_policy(p->id)));
	if (st != CONSULT_VISIT_IN_CALL)
		return;
	glue_session *doc = glue_call_doctor(p, v->id);
	char *name = doc ? g_strdup(doc->display_name) : doctor_name(p->id, v->call_doctor_id);
	json_object_set_new(c->reply, "doctor", json_string(name ? name : ""));
	g_free(name);
	glue_ice_fields(c->reply, p->id, c->now, true);
}

static consult_err join_checked(glue_ctx *c, join_target *t, const char *first, const char *last)
{
	t->p = glue_practice_get(t->practice.id);
	if (t->p == NULL)
		return CONSULT_ERR_INTERNAL;
	/* Successful joins per appointment are bounded (a join/leave loop with
	 * one code): refused before anything changes, the live visit stays. */
	if (!consult_rejoin_allowed(glue.rejoin, t->appt.id, c->now, &c->retry_after)) {
		JANUS_LOG(LOG_INFO, "[consult] join refused: appointment %" G_GINT64_FORMAT " joined too often\n",
		        t->appt.id);
		return CONSULT_ERR_RATE_LIMITED;
	}
	/* A live visit of this appointment is resumed, taken over or ended
	 * (decide.h, JOIN); otherwise a new one begins. */
	consult_room_event in = { .in = CONSULT_IN_JOIN,
		.appointment_id = t->appt.id,
		.patient = c->s,
		.resume_call = c->req->u.join.resume_call,
		.grace_s = glue.cfg.grace_seconds };
	consult_decision d;
	consult_err e = glue_decide_run(t->p, &in, c->s, c->now, false, &d);
	bool resumed = e == CONSULT_OK && d.join == CONSULT_JOIN_RESUMED;
	bool ended = e == CONSULT_OK && d.join == CONSULT_JOIN_ENDED;
	if (e == CONSULT_OK && !resumed && !ended)
		e = new_visit(c, t, first, last);
	if (e != CONSULT_OK)
		return e;
	consult_rejoin_note(glue.rejoin, t->appt.id, c->now);
	if (ended) {
		/* The call this page held ended meanwhile: it learns so, the handle
		 * stays anonymous, no new visit. */
		json_object_set_new(c->reply, "visit_id", json_integer(c->req->u.join.resume_call));
		json_object_set_new(c->reply, "state", json_string("ended"));
		json_object_set_new(c->reply, "reason", json_string(consult_end_reason_name(t->appt.end_reason)));
		json_object_set_new(c->reply, "resumed", json_false());
		json_object_set_new(c->reply, "appointment_at", json_integer(t->appt.starts_at));
		return CONSULT_OK;
	}
	glue_told me;
	glue_push_positions(t->p, c->now, c->s, &me);
	if (me.ahead == CONSULT_AHEAD_UNKNOWN) {
		consult_visit *v = consult_room_visit(t->p->room, c->s->visit_id);
		me.ahead = consult_room_ahead(t->p->room, c->s->visit_id);
		me.seq = ++glue.seq;
		if (v && me.ahead != CONSULT_AHEAD_UNKNOWN)
			me.wait = glue_wait_of(t->p, v, me.ahead, c->now);
	}
	json_object_set_new(c->reply, "visit_id", json_integer(c->s->visit_id));
	json_object_set_new(
	        c->reply, "ahead", me.ahead == CONSULT_AHEAD_UNKNOWN ? json_integer(0) : json_integer(me.ahead));
	json_object_set_new(c->reply, "seq", json_integer((json_int_t)me.seq));
	glue_wait_fields(c->reply, me.wait);
	json_object_set_new(c->reply, "appointment_at", json_integer(t->appt.starts_at));
	json_object_set_new(c->reply, "resumed", json_boolean(resumed));
	join_state(c, t->p);
	json_object_set_new(c->reply, "grace_seconds", json_integer(glue.cfg.grace_seconds));
	json_t *pr = json_object();
	json_object_set_new(pr, "name", json_string(t->practice.name ? t->practice.name : ""));
	json_object_set_new(pr, "phone", t->practice.phone ? json_string(t->practice.phone) : json_null());
	json_object_set_new(c->reply, "practice", pr);
	json_t *msg = glue_visit_message(glue_visit_info_get(t->p, c->s->visit_id));
	if (msg)
		json_object_set_new(c->reply, "message", msg);
	return CONSULT_OK;
}

consult_err glue_h_join(glue_ctx *c)
{
	if (c->req->u.join.first_name == NULL || c->req->u.join.last_name == NULL)
		return CONSULT_ERR_MISSING_FIELD;
	char *first = trimmed(c->req->u.join.first_name), *last = trimmed(c->req->u.join.last_name);
	if (first == NULL || last == NULL) {
		c->field = first == NULL ? "first_name" : "last_name";
		g_free(first);
		g_free(last);
		return CONSULT_ERR_INVALID_FIELD;
	}
	join_target t;
	memset(&t, 0, sizeof(t));
	consult_err e = checked_lookup(c, c->req->u.join.practice, c->req->u.join.code, &t);
	if (e == CONSULT_OK) {
		/* The practice's lock before anything changes (plock.h); the
		 * handle may have joined or gone meanwhile. */
		glue_practice_enter(t.practice.id);
		if (g_atomic_int_get(&c->s->destroyed) || c->s->kind != GLUE_ANON)
			e = CONSULT_ERR_WRONG_STATE;
	}
	if (e == CONSULT_OK)
		e = glue_lease_require(c, t.practice.id); /* another instance serves it: nothing changes here */
	if (e != CONSULT_OK)
		goto done;
	e = join_checked(c, &t, first, last);
done:
	consult_practice_clear(&t.practice);
	consult_appointment_clear(&t.appt);
	g_free(first);
	g_free(last);
	return e;
}

/* The patient's live visit (on this very handle), or NULL. */
static consult_visit *my_visit(glue_session *s, glue_practice **pp)
{
	glue_practice *p = glue_practice_find(s->practice_id);
	*pp = p;
	consult_visit *v = (p && s->visit_id) ? consult_room_visit(p->room, s->visit_id) : NULL;
	return (v && v->patient == s) ? v : NULL;
}

static consult_err patient_event(glue_ctx *c, consult_visit_event ev)
{
	glue_practice *p;
	consult_visit *v = my_visit(c->s, &p);
	if (v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	return glue_visit_apply(p, v->id, ev, c->s, NULL, c->now);
}

consult_err glue_h_leave(glue_ctx *c)
{
	return patient_event(c, CONSULT_EV_LEAVE);
}
/* accept {audio_only?}: the room refuses audio only where the practice's
 * policy is "never" (forbidden, nothing changes); the policy is read only
 * for such a request, and a store that cannot say is an internal error
 * rather than a refusal. */
consult_err glue_h_accept(glue_ctx *c)
{
	glue_practice *p;
	consult_visit *v = my_visit(c->s, &p);
	if (v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	int64_t id = v->id;
	bool audio = c->req->u.accept.audio_only, never = false;
	consult_err read = CONSULT_OK;
	if (audio) {
		const glue_snapshot *sn = glue_snapshot_get(p->id, &read);
		never = sn && sn->pr.audio_only_never;
	}
	consult_room_event in = { .in = CONSULT_IN_VISIT,
		.ev = CONSULT_EV_ACCEPT,
		.visit_id = id,
		.grace_s = glue.cfg.grace_seconds,
		.audio_only = audio,
		.audio_never = never || read != CONSULT_OK };
	consult_decision d;
	consult_err e = glue_decide_run(p, &in, c->s, c->now, false, &d);
	if (e == CONSULT_ERR_FORBIDDEN && read != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	if (e == CONSULT_ERR_FORBIDDEN)
		c->field = "audio_only";
	glue_visit_info *vi = e == CONSULT_OK ? glue_visit_info_get(p, id) : NULL;
	if (vi)
		vi->audio_only = audio;
	return e;
}

consult_err glue_h_decline(glue_ctx *c)
{
	glue_practice *p;
	consult_visit *v = my_visit(c->s, &p);
	if (v == NULL)
		return CONSULT_ERR_WRONG_STATE;
	consult_room_event in = { .in = CONSULT_IN_VISIT,
		.ev = CONSULT_EV_DECLINE,
		.visit_id = v->id,
		.grace_s = glue.cfg.grace_seconds,
		.decline = c->req->u.decline.reason };
	consult_decision d;
	return glue_decide_run(p, &in, c->s, c->now, false, &d);
}

/* The handle is gone regardless of the store: if the write fails the room
 * changes anyway (it must not keep pointing at the handle); the store
 * catches up with the next write of this visit. A call is held (the doctor
 * hears nothing), a waiting or ringing visit goes AWAY (core/decide.h,
 * PATIENT_GONE). */
void glue_patient_detach(glue_session *s, int64_t now)
{
	glue_practice *p;
	consult_visit *v = my_visit(s, &p);
	if (v == NULL)
		return;
	consult_room_event in = { .in = CONSULT_IN_PATIENT_GONE, .visit_id = v->id, .grace_s = glue.cfg.grace_seconds };
	consult_decision d;
	consult_err e = glue_decide_run(p, &in, NULL, now, true, &d);
	if (e != CONSULT_OK)
		JANUS_LOG(LOG_ERR, "[consult] drop of visit %" G_GINT64_FORMAT " not applied (%s)\n", v->id,
		        consult_err_name(e));
}
