/* admin.c - Admin API requests (see admin.h): a table {request -> handler}.
 *
 * Contract: passwords are hashed before glue.lock is taken; each handler
 * then runs under glue.lock (reading every practice's live state under it
 * is safe, plock.h) in drop mode: on PostgreSQL its store calls run on a
 * pooled handle and give glue.lock up for each round trip, so a slow
 * database stalls the admin request, not the plugin; no handler keeps a
 * pointer into glue.lock data (a practice's memory, its handles) across a
 * store call: it reads the store first, or finds again after. A handler
 * that changes a practice's live state (logging a member's handles out,
 * purge's pruning of ended visits) takes that practice's lock first
 * (glue_practice_enter), one practice at a time. set_disabled(true) and reset_password also log
 * the user's live handles out (event logged_out; a call they hold ends as
 * on logout) and revoke the user's device tokens and resumable sessions
 * (every token of `resume` is invalid afterwards); reset_password and
 * set_disabled(false) lift a lockout of the user name. Every request is
 * parsed by the core's admin parser; nothing is looked up by name here.
 */
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "snapshot.h"
#include "auth.h"
#include "login_limits.h"
#include "admin.h"
#include "forward.h"
#include "dispatch.h"
#include "store_health.h"

typedef struct {
	const consult_admin_request *req;
	json_t *reply;
	const char *field;
	const char *pw_hash; /* prepared before the lock, or NULL */
	int64_t now;
	const json_t *msg;  /* the raw request (purge's test clock) */
	const char *reason; /* on error: replaces the error's generic reason, or NULL */
} admin_ctx;

typedef consult_err (*admin_fn)(admin_ctx *a);

static consult_err store_err(consult_err e)
{
	return (e == CONSULT_OK || e == CONSULT_ERR_NOT_FOUND || e == CONSULT_ERR_CONFLICT) ? e : CONSULT_ERR_INTERNAL;
}

static consult_err practice_of(const char *slug, consult_practice *out, const char **field)
{
	consult_err e = store_err(consult_store_practice_by_slug(glue_store(), slug, out));
	if (e == CONSULT_ERR_NOT_FOUND)
		*field = "practice";
	return e;
}

static consult_err a_add_practice(admin_ctx *a)
{
	int64_t id = 0;
	consult_err e = store_err(
	        consult_store_add_practice(glue_store(), a->req->slug, a->req->pname, a->req->phone, a->now, &id));
	if (e == CONSULT_ERR_CONFLICT)
		a->field = "slug";
	if (e == CONSULT_OK)
		json_object_set_new(a->reply, "practice_id", json_integer(id));
	return e;
}

static consult_err a_add_staff(admin_ctx *a)
{
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	consult_err e = practice_of(a->req->practice, &pr, &a->field);
	int64_t id = 0;
	if (e == CONSULT_OK)
		e = store_err(consult_store_add_staff(glue_store(), pr.id, a->req->username, a->req->display_name,
		        a->req->role, a->pw_hash, a->now, &id));
	if (e == CONSULT_ERR_CONFLICT)
		a->field = "username";
	if (e == CONSULT_OK)
		json_object_set_new(a->reply, "staff_id", json_integer(id));
	glue_snapshot_forget(pr.id); /* the next request sees the new member */
	consult_practice_clear(&pr);
	return e;
}

/* Logs out every live handle of a staff member (event logged_out with
 * reason; a call they hold ends as on logout). */
static void logout_everywhere(int64_t practice_id, int64_t staff_id, const char *reason)
{
	glue_practice_enter(practice_id); /* plock.h; given back by glue_admin_message */
	glue_practice *p = glue_practice_find(practice_id);
	if (p == NULL)
		return;
	GList *copy = NULL;
	for (GList *l = p->staff; l; l = l->next) {
		glue_session *s = l->data;
		if (s->staff_id == staff_id) {
			glue_session_ref(s);
			copy = g_list_prepend(copy, s);
		}
	}
	/* each logout may give glue.lock up for its store writes: the handle
	 * is checked again before its turn (p stays: its practice's lock is held) */
	for (GList *l = copy; l; l = l->next) {
		glue_session *s = l->data;
		if (s->kind == GLUE_STAFF && s->practice_id == practice_id && s->staff_id == staff_id &&
		        g_list_find(p->staff, s))
			glue_staff_log_out(s, reason, glue_now());
		glue_session_unref(s);
	}
	g_list_free(copy);
}

/* The staff row change (disable or new password) and the revocation of
 * the member's device tokens and sessions in one transaction; then every live handle
 * of the member is logged out. lock_out false: only the change. */
static consult_err change_staff(admin_ctx *a, bool lock_out, const char *reason)
{
	consult_staff st;
	memset(&st, 0, sizeof(st));
	consult_err e = store_err(consult_store_staff_by_username(glue_store(), a->req->username, &st));
	bool tx = e == CONSULT_OK && consult_store_begin(glue_store()) == CONSULT_OK;
	if (e == CONSULT_OK && !tx)
		e = CONSULT_ERR_INTERNAL;
	if (e == CONSULT_OK)
		e = store_err(a->pw_hash
		                ? consult_store_set_staff_password(glue_store(), a->req->username, a->pw_hash)
		                : consult_store_set_staff_disabled(glue_store(), a->req->username, a->req->disabled));
	int64_t revoked = 0, sessions = 0;
	if (e == CONSULT_OK && lock_out)
		e = store_err(consult_store_devices_revoke(glue_store(), st.id, &revoked));
	if (e == CONSULT_OK && lock_out)
		e = store_err(consult_store_sessions_revoke(glue_store(), st.id, &sessions));
	if (tx && e == CONSULT_OK && consult_store_commit(glue_store()) != CONSULT_OK)
		e = CONSULT_ERR_INTERNAL;
	if (tx && e != CONSULT_OK)
		(void)consult_store_rollback(glue_store());
	if (st.practice_id > 0)
		glue_snapshot_forget(st.practice_id); /* disabled at once for this instance's requests */
	if (e == CONSULT_ERR_NOT_FOUND)
		a->field = "username";
	if (e == CONSULT_OK && (a->pw_hash || !a->req->disabled)) {
		/* a new password or enabling again also lifts a lockout of the user name */
		char ukey[80];
		g_snprintf(ukey, sizeof(ukey), "u:%s", a->req->username);
		consult_ratelimit_success(glue.rl_login, ukey);
		glue_login_limit_clear(glue_store(), ukey);
	}
	if (e == CONSULT_OK && lock_out) {
		JANUS_LOG(LOG_INFO,
		        "[consult] staff %" G_GINT64_FORMAT " %s: logged out everywhere, %" G_GINT64_FORMAT
		        " device tokens and %" G_GINT64_FORMAT " sessions revoked\n",
		        st.id, reason, revoked, sessions);
		logout_everywhere(st.practice_id, st.id, reason);
	}
	consult_staff_clear(&st);
	return e;
}

static consult_err a_set_disabled(admin_ctx *a)
{
	return change_staff(a, a->req->disabled, "disabled");
}

/* A new password ends every session of the user and forgets their devices
 * (whoever knew the old password may hold a device token). */
static consult_err a_reset_password(admin_ctx *a)
{
	return change_staff(a, true, "password_reset");
}

static void add_staff_row(const consult_staff *st, void *ud)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(st->id));
	json_object_set_new(o, "username", json_string(st->username ? st->username : ""));
	json_object_set_new(o, "display_name", json_string(st->display_name ? st->display_name : ""));
	json_object_set_new(o, "role", json_string(consult_role_name(st->role)));
	json_object_set_new(o, "disabled", json_boolean(st->disabled));
	json_array_append_new(ud, o);
}

static consult_err a_list_staff(admin_ctx *a)
{
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	consult_err e = practice_of(a->req->practice, &pr, &a->field);
	json_t *list = json_array();
	if (e == CONSULT_OK)
		e = store_err(consult_store_list_staff(glue_store(), pr.id, CONSULT_ROLE_NONE, add_staff_row, list));
	if (e == CONSULT_OK)
		json_object_set_new(a->reply, "staff", list);
	else
		json_decref(list);
	consult_practice_clear(&pr);
	return e;
}

typedef struct {
	json_t *list;
	int64_t now;
	consult_err err;
} each_ud;

static void add_stats(const consult_practice *pr, void *ud)
{
	each_ud *u = ud;
	/* the store first: its round trips may give glue.lock up (drop mode) */
	int64_t from, to;
	glue_local_day(u->now, &from, &to);
	consult_day_stats ds = { 0, -1 };
	if (consult_store_day_stats(glue_store(), pr->id, from, to, &ds) != CONSULT_OK)
		u->err = CONSULT_ERR_INTERNAL;
	int64_t queued = 0, failed = 0;
	if (consult_outbox_counts(glue_store(), pr->id, &queued, &failed) != CONSULT_OK)
		u->err = CONSULT_ERR_INTERNAL;
	size_t counts[CONSULT_VISIT_STATE_COUNT] = { 0 };
	glue_practice *p = glue_practice_find(pr->id); /* no round trip from here on */
	if (p)
		consult_room_counts(p->room, counts);
	json_t *o = json_object();
	json_object_set_new(o, "slug", json_string(pr->slug ? pr->slug : ""));
	json_object_set_new(o, "waiting", json_integer((json_int_t)counts[CONSULT_VISIT_WAITING]));
	json_object_set_new(o, "away", json_integer((json_int_t)counts[CONSULT_VISIT_AWAY]));
	json_object_set_new(o, "ringing", json_integer((json_int_t)counts[CONSULT_VISIT_RINGING]));
	json_object_set_new(o, "in_call", json_integer((json_int_t)counts[CONSULT_VISIT_IN_CALL]));
	json_object_set_new(o, "calls_today", json_integer(ds.calls_today));
	json_object_set_new(
	        o, "median_wait_seconds", ds.median_wait_s >= 0 ? json_integer(ds.median_wait_s) : json_null());
	json_object_set_new(o, "relay_only", json_boolean(pr->relay_only));
	/* the practice row carries every option (read with it, no more round trips) */
	json_object_set_new(o, "forward", json_string(pr->forward_never ? "never" : "allowed"));
	json_object_set_new(o, "audio_only",
	        json_string(
	                consult_audio_policy_name(pr->audio_only_never ? CONSULT_AUDIO_NEVER : CONSULT_AUDIO_ALLOWED)));
	json_object_set_new(o, "patient_share", json_string(pr->patient_share ? "allowed" : "never"));
	int64_t pc[GLUE_PATH_COUNT] = { 0 };
	if (p)
		glue_path_counts(p, pc);
	json_t *paths = json_object();
	json_object_set_new(paths, "direct", json_integer(pc[GLUE_PATH_DIRECT]));
	json_object_set_new(paths, "relay", json_integer(pc[GLUE_PATH_RELAY]));
	json_object_set_new(paths, "forward", json_integer(pc[GLUE_PATH_FORWARD]));
	json_object_set_new(o, "paths", paths);
	json_object_set_new(o, "ended_remembered", json_integer(p ? (json_int_t)consult_room_ended_count(p->room) : 0));
	json_object_set_new(o, "outbox_queued", json_integer(queued));
	json_object_set_new(o, "outbox_failed", json_integer(failed));
	json_array_append_new(u->list, o);
}

typedef struct {
	json_t *list;
	const char *slug;
	int64_t now;
	glue_practice *p;
} live_ud;

static void add_live(const consult_visit *v, uint32_t index, void *ud)
{
	live_ud *u = ud;
	json_t *o = json_object();
	json_object_set_new(o, "visit_id", json_integer(v->id));
	json_object_set_new(o, "practice", json_string(u->slug));
	json_object_set_new(o, "state", json_string(consult_visit_state_name(v->state)));
	int64_t doc = v->call_doctor_id ? v->call_doctor_id : v->doctor_id;
	json_object_set_new(o, "doctor_id", doc > 0 ? json_integer(doc) : json_null());
	json_object_set_new(o, "waiting_seconds", json_integer(u->now - v->joined_at));
	glue_visit_info *vi = glue_visit_info_get(u->p, v->id);
	json_object_set_new(o, "media_path", vi && vi->media_path ? json_string(vi->media_path) : json_null());
	json_array_append_new(u->list, o);
}

static void add_live_practice(const consult_practice *pr, void *ud)
{
	each_ud *u = ud;
	glue_practice *p = glue_practice_find(pr->id);
	if (p == NULL)
		return;
	live_ud lu = { u->list, pr->slug ? pr->slug : "", u->now, p };
	consult_room_foreach(p->room, add_live, &lu);
}

/* Runs cb for the named practice or for all of them. */
static consult_err each_practice(admin_ctx *a, consult_practice_cb cb, const char *key)
{
	each_ud u = { json_array(), a->now, CONSULT_OK };
	consult_err e = CONSULT_OK;
	if (a->req->practice) {
		consult_practice pr;
		memset(&pr, 0, sizeof(pr));
		e = practice_of(a->req->practice, &pr, &a->field);
		if (e == CONSULT_OK)
			cb(&pr, &u);
		consult_practice_clear(&pr);
	} else {
		e = store_err(consult_store_list_practices(glue_store(), cb, &u));
	}
	if (e == CONSULT_OK)
		e = u.err;
	if (e == CONSULT_OK)
		json_object_set_new(a->reply, key, u.list);
	else
		json_decref(u.list);
	return e;
}

static consult_err a_stats(admin_ctx *a)
{
	json_object_set_new(a->reply, "forward", glue_forward_stats());
	json_object_set_new(a->reply, "logins", glue_auth_stats());
	return each_practice(a, add_stats, "practices");
}

static consult_err a_live_visits(admin_ctx *a)
{
	return each_practice(a, add_live_practice, "visits");
}

static consult_err a_health(admin_ctx *a)
{
	json_object_set_new(a->reply, "status", json_null()); /* first in the reply */
	bool ok = glue_store_health(a->reply);                /* write probe, disk space, WAL size */
	json_object_set_new(a->reply, "status", json_string(ok ? "ok" : "degraded"));
	json_object_set_new(a->reply, "uptime_seconds", json_integer(a->now - glue.started_at));
	json_object_set_new(a->reply, "handles", json_integer(glue_sessions_count()));
	json_object_set_new(a->reply, "version", json_string(GLUE_VERSION_STRING));
	json_object_set_new(a->reply, "lease", glue_leases_health());
	return CONSULT_OK;
}

/* set_practice {practice (slug), relay_only (bool)?, forward?, audio_only?, patient_share?}
 * -> {}: the options given, in one commit (all or none). */
static consult_err a_set_practice(admin_ctx *a)
{
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	consult_err e = practice_of(a->req->practice, &pr, &a->field);
	int64_t practice_id = pr.id;
	consult_practice_clear(&pr);
	if (e != CONSULT_OK)
		return e;
	glue_snapshot_forget(practice_id); /* the next request reads the new options */
	if (consult_store_begin(glue_store()) != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	if (a->req->has_relay_only)
		e = store_err(
		        consult_store_set_practice_relay_only(glue_store(), a->req->practice, a->req->relay_only));
	if (e == CONSULT_OK && a->req->has_forward)
		e = store_err(consult_store_set_practice_forward_never(
		        glue_store(), a->req->practice, a->req->forward == CONSULT_FWD_NEVER));
	if (e == CONSULT_OK && a->req->has_audio_only)
		e = store_err(consult_store_set_practice_audio_only_never(
		        glue_store(), a->req->practice, a->req->audio_only == CONSULT_AUDIO_NEVER));
	if (e == CONSULT_OK && a->req->has_patient_share)
		e = store_err(consult_store_set_practice_patient_share(
		        glue_store(), a->req->practice, a->req->patient_share_allowed));
	if (e == CONSULT_OK)
		e = store_err(consult_store_commit(glue_store()));
	else
		(void)consult_store_rollback(glue_store());
	glue_snapshot_forget(practice_id); /* again: a reload during the round trips read the old row */
	if (e == CONSULT_OK)
		JANUS_LOG(LOG_INFO, "[consult] admin: practice options changed%s%s%s%s\n",
		        a->req->has_relay_only ? (a->req->relay_only ? " relay_only=on" : " relay_only=off") : "",
		        a->req->has_forward
		                ? (a->req->forward == CONSULT_FWD_NEVER ? " forward=never" : " forward=allowed")
		                : "",
		        a->req->has_audio_only ? (a->req->audio_only == CONSULT_AUDIO_NEVER ? " audio_only=never"
		                                                                            : " audio_only=allowed")
		                               : "",
		        a->req->has_patient_share
		                ? (a->req->patient_share_allowed ? " patient_share=allowed" : " patient_share=never")
		                : "");
	return e;
}

/* purge -> counts; also forgets ended visits no longer kept. In test mode
 * (glue_test_mode: CONSULT_TEST=1 in Janus' environment) a "now" field
 * replaces the glue clock for this run only, so a test can purge "in three
 * months" against a real store file without moving the clock of the
 * timers (test_clock does that). */
static consult_err a_purge(admin_ctx *a)
{
	int64_t now = a->now;
	const json_t *t = json_object_get(a->msg, "now");
	if (t && glue_test_mode() && json_is_integer(t) && json_integer_value(t) > 0)
		now = json_integer_value(t);
	consult_purge_counts n;
	consult_err e = glue_retention_run(glue_store(), now, &n);
	if (e != CONSULT_OK)
		return e;
	/* The memory of ended visits too (the timer does it every second; here
	 * it follows the test clock), each practice under its lock. */
	GArray *ids = glue_practice_ids();
	for (guint i = 0; i < ids->len; i++) {
		int64_t id = g_array_index(ids, int64_t, i);
		glue_practice_unlock(); /* one practice lock at a time */
		glue_practice_enter(id);
		glue_practice *p = glue_practice_find(id);
		glue_practice_check(id);
		if (p)
			consult_room_ended_prune(p->room, now);
	}
	g_array_free(ids, TRUE);
	json_object_set_new(a->reply, "appointments", json_integer(n.appointments));
	json_object_set_new(a->reply, "visits", json_integer(n.visits));
	json_object_set_new(a->reply, "deliveries", json_integer(n.deliveries));
	json_object_set_new(a->reply, "contacts_wiped", json_integer(n.contacts_wiped));
	return CONSULT_OK;
}

/* test_clock {offset_seconds} -> {now, offset_seconds}: sets the offset of
 * the glue clock (clock.h), only with CONSULT_TEST=1 in Janus' environment.
 * The outbox worker is woken so rows that became due are sent; the timer
 * sees the new time at its next tick (at most a second later). */
static consult_err a_test_clock(admin_ctx *a)
{
	if (!glue_clock_set_offset(a->req->offset_seconds)) {
		a->field = "request";
		a->reason = "test_clock is for tests only: Janus must run with CONSULT_TEST=1";
		return CONSULT_ERR_FORBIDDEN;
	}
	JANUS_LOG(LOG_WARN, "[consult] admin: test clock offset %" G_GINT64_FORMAT " s\n", a->req->offset_seconds);
	glue_outbox_wake();
	json_object_set_new(a->reply, "now", json_integer(glue_now()));
	json_object_set_new(a->reply, "offset_seconds", json_integer(glue_clock_offset()));
	return CONSULT_OK;
}

typedef struct {
	json_t *list;
	int64_t now_ms;
} leases_ud;

static void add_lease(const consult_lease *l, void *ud)
{
	leases_ud *u = ud;
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	json_t *o = json_object();
	bool known = consult_store_practice_by_id(glue_store(), l->practice_id, &pr) == CONSULT_OK;
	json_object_set_new(o, "practice", known && pr.slug ? json_string(pr.slug) : json_null());
	json_object_set_new(o, "practice_id", json_integer(l->practice_id));
	json_object_set_new(o, "holder", json_string(l->holder ? l->holder : ""));
	json_object_set_new(o, "expires_at_ms", json_integer(l->expires_at_ms));
	json_object_set_new(o, "expired", json_boolean(l->expires_at_ms < u->now_ms));
	json_array_append_new(u->list, o);
	consult_practice_clear(&pr);
}

/* leases -> {instance, lease_seconds, now_ms, leases: [...]}: every lease
 * row of the store (which instance holds which practice), from any instance. */
static consult_err a_leases(admin_ctx *a)
{
	leases_ud u = { json_array(), g_get_real_time() / 1000 };
	if (consult_store_list_leases(glue_store(), add_lease, &u) != CONSULT_OK) {
		json_decref(u.list);
		return CONSULT_ERR_INTERNAL;
	}
	json_object_set_new(a->reply, "instance", json_string(glue.cfg.instance));
	json_object_set_new(a->reply, "lease_seconds", json_integer(glue.cfg.lease_seconds));
	json_object_set_new(a->reply, "now_ms", json_integer(u.now_ms));
	json_object_set_new(a->reply, "leases", u.list);
	return CONSULT_OK;
}

/* One handler a_<name> per row of core/admin_requests.def. */
static const admin_fn admin_routes[CONSULT_ADMIN_KIND_COUNT] = {
#define CONSULT_ADMIN_REQUEST(name, id, parse) [CONSULT_ADMIN_##id] = a_##name,
#include "core/admin_requests.def"
#undef CONSULT_ADMIN_REQUEST
};

json_t *glue_admin_message(json_t *message)
{
	consult_admin_request req;
	memset(&req, 0, sizeof(req));
	const char *field = NULL;
	const char *name = json_is_object(message) ? json_string_value(json_object_get(message, "request")) : NULL;
	consult_err e = consult_admin_parse(message, &req, &field);
	if (e != CONSULT_OK)
		return glue_error_reply(name, e, field, 0);
	admin_fn fn = (unsigned)req.kind < CONSULT_ADMIN_KIND_COUNT ? admin_routes[req.kind] : NULL;
	if (fn == NULL)
		return glue_error_reply(name, CONSULT_ERR_UNKNOWN_REQUEST, "request", 0);
	char hash[GLUE_HASH_LEN];
	bool needs_hash = req.kind == CONSULT_ADMIN_ADD_STAFF || req.kind == CONSULT_ADMIN_RESET_PASSWORD;
	if (needs_hash && (req.password == NULL || !glue_auth_hash(req.password, hash)))
		return glue_error_reply(req.name, req.password ? CONSULT_ERR_INTERNAL : CONSULT_ERR_MISSING_FIELD,
		        req.password ? NULL : "password", 0);
	admin_ctx a = { .req = &req,
		.reply = json_object(),
		.pw_hash = needs_hash ? hash : NULL,
		.now = glue_now(),
		.msg = message };
	glue_dispatch_busy(true); /* destroy waits for it before it closes the pool (glue_dispatch_drain) */
	glue_pool_checkout();     /* PostgreSQL: round trips without glue.lock (plock.h) */
	g_mutex_lock(&glue.lock);
	glue_pool_drop(true);
	unsigned store_errors = consult_store_error_count(glue_store());
	e = fn(&a);
	const char *store_error = consult_store_error_count(glue_store()) != store_errors
	        ? consult_store_last_error_name(glue_store())
	        : NULL;
	glue_pool_drop(false);
	g_mutex_unlock(&glue.lock);
	glue_pool_checkin();
	glue_practice_unlock(); /* the practice a handler changed last, if any (plock.h) */
	glue_dispatch_busy(false);
	if (needs_hash)
		sodium_memzero(hash, sizeof(hash));
	if (e != CONSULT_OK) {
		json_decref(a.reply);
		if (e == CONSULT_ERR_INTERNAL)
			JANUS_LOG(LOG_ERR, "[consult] admin %s failed: internal (%s)\n", req.name,
			        store_error ? store_error : "not the store");
		else
			JANUS_LOG(LOG_VERB, "[consult] admin %s refused: %s\n", req.name, consult_err_name(e));
		json_t *err = glue_error_reply(req.name, e, a.field, 0);
		if (a.reason)
			json_object_set_new(err, "reason", json_string(a.reason));
		return err;
	}
	return glue_ok_reply(req.name, a.reply);
}
