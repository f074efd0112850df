/* staff_session.c - resumable staff sessions (see staff_session.h) and
 * the anonymous request `resume` (docs/protocol.md).
 *
 * Contract: `resume` turns an anonymous handle into the staff handle of
 * the token's staff member, exactly as a login would (same reply fields,
 * `waiting` for a doctor), without a password check. The token is looked
 * up by its hash and compared again in constant time. Unknown, expired
 * (unused for staff_idle_minutes, plus the touch granularity), ended
 * (logout, idle logout, revoked by set_disabled/reset_password) and
 * disabled all answer the same session_invalid; each such answer counts as
 * a failure on the handle's key of the login limiter, so a handle that
 * guesses is locked out as after failed logins. A token only ever yields
 * its own staff member. If a live handle still holds the same session, it
 * hears `logged_out` reason `taken_over` and is inert from then on; the new
 * handle takes its place. A live handle whose session is revoked by
 * another instance sharing the store (set_disabled, reset_password there)
 * is logged out by the serving instance's timer within
 * GLUE_SESSION_CHECK_S, with the reason the instance the change was sent
 * to gives. Tokens and hashes are never logged; logs carry staff ids only.
 * Under glue.lock.
 */
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <janus/debug.h>
#include "glue.h"
#include "auth.h"
#include "staff_session.h"

static void add_live(int64_t id, void *ud)
{
	int64_t *k = g_new(int64_t, 1);
	*k = id;
	g_hash_table_add(ud, k);
}

/* disabled or a new password: the reason the instance the change was
 * sent to gave (admin.c); read from the store, the snapshot may be older. */
static const char *revoked_reason(int64_t staff_id)
{
	consult_staff st;
	memset(&st, 0, sizeof(st));
	consult_err e = consult_store_staff_by_id(glue_store(), staff_id, &st);
	bool disabled = e != CONSULT_OK || st.disabled;
	consult_staff_clear(&st);
	return disabled ? "disabled" : "password_reset";
}

/* Store reads first, handles after: a round trip may give glue.lock up
 * for its duration (plock.h), so the handles to log out are chosen and
 * referenced before and checked again after. */
void glue_staff_sessions_check(glue_practice *p, int64_t now)
{
	if (p->staff == NULL || now - p->sessions_checked < GLUE_SESSION_CHECK_S)
		return;
	p->sessions_checked = now;
	GHashTable *live = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	if (consult_store_practice_sessions(glue_store(), p->id, add_live, live) != CONSULT_OK) {
		g_hash_table_destroy(live); /* a store failure logs nobody out (counted by the store's hook) */
		return;
	}
	GList *gone = NULL;
	for (GList *l = p->staff; l; l = l->next) {
		glue_session *s = l->data;
		if (s->login_session != 0 && !g_hash_table_contains(live, &s->login_session)) {
			glue_session_ref(s);
			gone = g_list_prepend(gone, s);
		}
	}
	g_hash_table_destroy(live);
	for (GList *l = gone; l; l = l->next) {
		glue_session *s = l->data;
		int64_t session = s->login_session;
		const char *reason = revoked_reason(s->staff_id);
		if (s->kind == GLUE_STAFF && s->practice_id == p->id && s->login_session == session &&
		        g_list_find(p->staff, s)) {
			JANUS_LOG(LOG_INFO,
			        "[consult] staff %" G_GINT64_FORMAT " logged out: its session was revoked\n",
			        s->staff_id);
			glue_staff_log_out(s, reason, now);
		}
		glue_session_unref(s);
	}
	g_list_free(gone);
}

consult_err glue_login_session_new(int64_t staff_id, int64_t now, char token[GLUE_SESSION_TOKEN_LEN + 1], int64_t *id)
{
	uint8_t h[GLUE_SESSION_HASH_LEN];
	glue_session_token_new(token, h);
	consult_err e = consult_store_session_create(glue_store(), staff_id, h, now, id);
	sodium_memzero(h, sizeof(h));
	return e;
}

void glue_login_session_used(glue_session *s, int64_t now)
{
	if (s->login_session == 0 || now - s->session_used < GLUE_SESSION_TOUCH_S)
		return;
	consult_err e = consult_store_session_touch(glue_store(), s->login_session, now);
	if (e == CONSULT_OK)
		s->session_used = now;
	else if (e == CONSULT_ERR_NOT_FOUND) {
		/* revoked (or purged): glue_staff_sessions_check logs the handle out */
		JANUS_LOG(LOG_VERB, "[consult] staff %" G_GINT64_FORMAT ": its session ended meanwhile\n", s->staff_id);
		s->session_used = now;
	} else
		JANUS_LOG(LOG_WARN, "[consult] staff %" G_GINT64_FORMAT ": noting the session's use failed (%s)\n",
		        s->staff_id, consult_store_last_error_name(glue_store()));
}

void glue_login_session_end(glue_session *s)
{
	if (s->login_session == 0)
		return;
	consult_err e = consult_store_session_delete(glue_store(), s->login_session);
	if (e != CONSULT_OK && e != CONSULT_ERR_NOT_FOUND)
		JANUS_LOG(LOG_ERR, "[consult] staff %" G_GINT64_FORMAT ": ending the session failed (%s)\n",
		        s->staff_id, consult_store_last_error_name(glue_store()));
	s->login_session = 0;
}

/* The valid session of a token and its staff member (st filled, caller
 * clears), or SESSION_INVALID; INTERNAL if the store failed. An expired
 * session is deleted on the way. */
static consult_err valid_session(const char *token, int64_t now, consult_staff_session *ss, consult_staff *st)
{
	uint8_t h[GLUE_SESSION_HASH_LEN];
	glue_session_token_hash(token, h);
	consult_err e = consult_store_session_find(glue_store(), h, ss);
	bool same = e == CONSULT_OK && sodium_memcmp(ss->hash, h, sizeof(h)) == 0;
	sodium_memzero(h, sizeof(h));
	if (e != CONSULT_OK)
		return e == CONSULT_ERR_NOT_FOUND ? CONSULT_ERR_SESSION_INVALID : CONSULT_ERR_INTERNAL;
	if (!same)
		return CONSULT_ERR_SESSION_INVALID;
	if (now - ss->last_used_at >= glue.cfg.staff_idle_minutes * 60 + GLUE_SESSION_TOUCH_S) {
		if (consult_store_session_delete(glue_store(), ss->id) == CONSULT_ERR_INTERNAL)
			return CONSULT_ERR_INTERNAL;
		return CONSULT_ERR_SESSION_INVALID;
	}
	e = consult_store_staff_by_id(glue_store(), ss->staff_id, st);
	if (e != CONSULT_OK)
		return e == CONSULT_ERR_NOT_FOUND ? CONSULT_ERR_SESSION_INVALID : CONSULT_ERR_INTERNAL;
	if (st->disabled || st->role == CONSULT_ROLE_NONE)
		return CONSULT_ERR_SESSION_INVALID;
	return CONSULT_OK;
}

/* Another live handle of p that holds session id (not s) hears
 * taken_over and is inert from now on. Called after the held call moved to
 * s; a call the old handle still holds is left as when its handle goes. */
static void take_over(glue_practice *p, glue_session *s, int64_t session_id, int64_t now)
{
	glue_session *old = NULL;
	for (GList *l = p->staff; l; l = l->next) {
		glue_session *o = l->data;
		if (o != s && o->login_session == session_id) {
			old = o;
			break;
		}
	}
	if (old == NULL)
		return;
	glue_session_ref(old);
	json_t *f = json_object();
	json_object_set_new(f, "reason", json_string("taken_over"));
	glue_push(old, "logged_out", f);
	JANUS_LOG(
	        LOG_INFO, "[consult] staff %" G_GINT64_FORMAT ": session taken over by a new handle\n", old->staff_id);
	old->login_session = 0; /* the session goes on with the new handle */
	glue_staff_detach(old, true, now);
	glue_session_reset(old);
	old->kind = GLUE_DEAD;
	glue_session_unref(old);
}

consult_err glue_h_resume(glue_ctx *c)
{
	char hkey[40];
	g_snprintf(hkey, sizeof(hkey), "h:%" G_GUINT64_FORMAT, c->s->serial);
	const char *keys[1] = { hkey };
	if (!glue_rl_allowed(glue.rl_login, keys, 1, c->now, &c->retry_after)) {
		glue_auth_count_rate_limited();
		return CONSULT_ERR_RATE_LIMITED;
	}
	consult_staff_session ss;
	consult_staff st;
	memset(&st, 0, sizeof(st));
	consult_err e = valid_session(c->req->u.resume.session_token, c->now, &ss, &st);
	if (e == CONSULT_ERR_SESSION_INVALID) {
		glue_rl_fail(glue.rl_login, keys, 1, c->now);
		JANUS_LOG(LOG_INFO, "[consult] resume refused: no valid session\n");
	}
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	glue_practice *p = NULL;
	if (e == CONSULT_OK) {
		glue_practice_enter(st.practice_id); /* plock.h: before anything of the practice changes */
		if (g_atomic_int_get(&c->s->destroyed) || c->s->kind != GLUE_ANON)
			e = CONSULT_ERR_WRONG_STATE;
	}
	if (e == CONSULT_OK)
		e = glue_lease_require(c, st.practice_id); /* served elsewhere: the session is not touched */
	if (e == CONSULT_OK) {
		p = glue_practice_get(st.practice_id);
		if (p == NULL || consult_store_practice_by_id(glue_store(), st.practice_id, &pr) != CONSULT_OK ||
		        consult_store_session_touch(glue_store(), ss.id, c->now) != CONSULT_OK)
			e = CONSULT_ERR_INTERNAL;
	}
	if (e != CONSULT_OK) {
		consult_staff_clear(&st);
		consult_practice_clear(&pr);
		return e;
	}
	glue_staff_enter(c, &st, p, &pr, ss.id);
	json_object_set_new(c->reply, "session_token", json_string(c->req->u.resume.session_token));
	json_t *call = NULL;
	if (c->s->role == CONSULT_ROLE_DOCTOR) {
		glue_doctor_reattach(p, c->s, c->req->u.resume.resume_call, c->now, &call);
	}
	json_object_set_new(c->reply, "call", call ? call : json_null());
	take_over(p, c->s, ss.id, c->now);
	glue_staff_welcome(c->s, p);
	JANUS_LOG(LOG_INFO, "[consult] staff %" G_GINT64_FORMAT " resumed its session (%s)\n", st.id,
	        consult_role_name(st.role));
	consult_staff_clear(&st);
	consult_practice_clear(&pr);
	return CONSULT_OK;
}
