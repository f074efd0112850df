/* staff.c - staff requests: practice_info (anonymous), login, logout,
 * touch, list_doctors, waiting_list; a staff session leaving; the idle
 * logout (staff_idle_minutes without any request; never during a call).
 *
 * Contract: login verifies the argon2id hash OUTSIDE glue.lock (it is the
 * only handler called without the lock) and answers unknown user, wrong
 * password and disabled account alike (login_failed, same work done).
 * Login protection (docs/protocol.md): the attempt is reserved in the
 * limiter before the check (attempts in flight count), at most
 * password_checks checks run at once (else `busy`), and an attempt with a
 * valid device token of the user is limited per device instead of per user
 * name, so strangers cannot lock the user's own browsers out. Every
 * successful login issues a fresh device token (the presented one is
 * replaced) and a new resumable session (staff_session.c). Tokens,
 * passwords and user names are never logged.
 * Every other handler runs under glue.lock. Logs carry ids only.
 */
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <janus/debug.h>
#include "core/code.h"
#include "glue.h"
#include "snapshot.h"
#include "auth.h"
#include "login_limits.h"
#include "staff_session.h"

#define DAY (24 * 3600)

consult_err glue_h_practice_info(glue_ctx *c)
{
	consult_err e;
	const glue_snapshot *sn = glue_snapshot_by_slug(c->req->u.practice_info.practice, &e);
	if (sn == NULL)
		return e;
	json_object_set_new(c->reply, "name", json_string(sn->pr.name ? sn->pr.name : ""));
	json_object_set_new(c->reply, "phone", sn->pr.phone ? json_string(sn->pr.phone) : json_null());
	return CONSULT_OK;
}

/* What login knows about the attempt between its two halves. */
typedef struct {
	consult_staff st;
	consult_err lookup;      /* staff_by_username: OK or NOT_FOUND */
	int64_t device_id;       /* a valid device token of this user, else 0 */
	char ukey[80], hkey[40]; /* rate limiter keys: "u:<name>" or "d:<device>", "h:<handle>" */
	const char *keys[2];
} login_try;

/* The device of a login's token, if it is valid for this staff member:
 * known hash (lookup by hash, compared again in constant time), same
 * staff, used within GLUE_DEVICE_TTL_DAYS. The lookup is done for unknown
 * user names too (st->id 0 matches no device), so the time taken does not
 * tell whether the name exists. Under glue.lock. */
static int64_t valid_device(const char *token, const consult_staff *st, int64_t now)
{
	if (token == NULL)
		return 0;
	uint8_t h[GLUE_DEVICE_HASH_LEN];
	glue_device_token_hash(token, h);
	consult_device d;
	int64_t id = 0;
	if (consult_store_device_find(glue_store(), h, &d) == CONSULT_OK && sodium_memcmp(d.hash, h, sizeof(h)) == 0 &&
	        st->id > 0 && d.staff_id == st->id && now - d.last_used_at < (int64_t)GLUE_DEVICE_TTL_DAYS * DAY)
		id = d.id;
	sodium_memzero(h, sizeof(h));
	return id;
}

/* Second half of login, under glue.lock, after the password was checked.
 * The staff row is read again: a password reset or a disable that came
 * while the check ran wins over it. Returns the outcome for the limiter. */
static consult_err login_finish(glue_ctx *c, login_try *t, bool ok, consult_rl_outcome *outcome)
{
	/* A wrong password counts even if the handle went away meanwhile
	 * (else dropping the handle would hide failures from the limiter). */
	*outcome = ok ? CONSULT_RL_CANCELLED : CONSULT_RL_FAILED;
	if (g_atomic_int_get(&c->s->destroyed) || c->s->kind != GLUE_ANON)
		return CONSULT_ERR_WRONG_STATE;
	const consult_staff *st = &t->st;
	if (ok) {
		consult_staff now_st;
		memset(&now_st, 0, sizeof(now_st));
		consult_err e = consult_store_staff_by_id(glue_store(), st->id, &now_st);
		bool same = e == CONSULT_OK && !now_st.disabled && now_st.pw_hash && st->pw_hash &&
		        strcmp(now_st.pw_hash, st->pw_hash) == 0;
		consult_staff_clear(&now_st);
		if (e != CONSULT_OK && e != CONSULT_ERR_NOT_FOUND)
			return CONSULT_ERR_INTERNAL;
		if (!same) {
			JANUS_LOG(LOG_INFO, "[consult] login failed (account changed during the check)\n");
			return CONSULT_ERR_LOGIN_FAILED;
		}
	}
	if (!ok) {
		*outcome = CONSULT_RL_FAILED;
		JANUS_LOG(LOG_INFO, "[consult] login failed\n");
		return CONSULT_ERR_LOGIN_FAILED;
	}
	consult_err served = glue_lease_require(c, st->practice_id);
	if (served != CONSULT_OK) {
		*outcome = CONSULT_RL_CANCELLED; /* the password was right; nothing issued here */
		return served;
	}
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	glue_practice *p = glue_practice_get(st->practice_id);
	if (p == NULL || consult_store_practice_by_id(glue_store(), st->practice_id, &pr) != CONSULT_OK) {
		consult_practice_clear(&pr);
		return CONSULT_ERR_INTERNAL;
	}
	/* A new device token for this browser (the old one, if valid, is
	 * replaced) and a new resumable session, in one transaction. */
	char token[GLUE_DEVICE_TOKEN_LEN + 1];
	char stoken[GLUE_SESSION_TOKEN_LEN + 1];
	uint8_t h[GLUE_DEVICE_HASH_LEN];
	int64_t sid = 0;
	glue_device_token_new(token, h);
	bool tx = consult_store_begin(glue_store()) == CONSULT_OK;
	consult_err e = tx
	        ? consult_store_device_issue(glue_store(), st->id, t->device_id, h, c->now, GLUE_DEVICE_KEEP, NULL)
	        : CONSULT_ERR_INTERNAL;
	if (e == CONSULT_ERR_NOT_FOUND && t->device_id > 0) /* revoked meanwhile: a new device */
		e = consult_store_device_issue(glue_store(), st->id, 0, h, c->now, GLUE_DEVICE_KEEP, NULL);
	sodium_memzero(h, sizeof(h));
	if (e == CONSULT_OK)
		e = glue_login_session_new(st->id, c->now, stoken, &sid);
	if (tx && e == CONSULT_OK && consult_store_commit(glue_store()) != CONSULT_OK)
		e = CONSULT_ERR_INTERNAL;
	if (tx && e != CONSULT_OK)
		(void)consult_store_rollback(glue_store());
	if (e != CONSULT_OK) {
		sodium_memzero(token, sizeof(token));
		sodium_memzero(stoken, sizeof(stoken));
		consult_practice_clear(&pr);
		return CONSULT_ERR_INTERNAL;
	}
	*outcome = CONSULT_RL_SUCCEEDED;
	glue_staff_enter(c, st, p, &pr, sid);
	consult_practice_clear(&pr);
	json_object_set_new(c->reply, "device_token", json_string(token));
	json_object_set_new(c->reply, "session_token", json_string(stoken));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(stoken, sizeof(stoken));
	if (c->s->role == CONSULT_ROLE_DOCTOR)
		glue_doctor_fresh_login(p, c->s, c->now);
	glue_staff_welcome(c->s, p);
	JANUS_LOG(LOG_INFO, "[consult] staff %" G_GINT64_FORMAT " logged in (%s%s)\n", st->id,
	        consult_role_name(c->s->role), t->device_id ? ", known device" : "");
	return CONSULT_OK;
}

void glue_staff_enter(
        glue_ctx *c, const consult_staff *st, glue_practice *p, const consult_practice *pr, int64_t login_session)
{
	glue_session *s = c->s;
	s->kind = GLUE_STAFF;
	s->staff_id = st->id;
	s->practice_id = st->practice_id;
	s->role = st->role;
	s->display_name = g_strdup(st->display_name);
	s->last_active = c->now;
	s->login_session = login_session;
	s->session_used = c->now;
	glue_session_ref(s);
	glue_practice_check(p->id);
	p->staff = g_list_append(p->staff, s);
	json_object_set_new(c->reply, "staff_id", json_integer(st->id));
	json_object_set_new(c->reply, "role", json_string(consult_role_name(s->role)));
	json_object_set_new(c->reply, "display_name", json_string(st->display_name ? st->display_name : ""));
	json_object_set_new(c->reply, "idle_seconds", json_integer(glue.cfg.staff_idle_minutes * 60));
	json_t *o = json_object();
	json_object_set_new(o, "slug", json_string(pr->slug ? pr->slug : ""));
	json_object_set_new(o, "name", json_string(pr->name ? pr->name : ""));
	json_object_set_new(c->reply, "practice", o);
}

void glue_staff_welcome(glue_session *s, glue_practice *p)
{
	if (s->role != CONSULT_ROLE_DOCTOR)
		return;
	json_t *f = json_object();
	json_object_set_new(f, "visits", glue_waiting_list(p, s->staff_id));
	glue_push(s, "waiting", f);
}

/* glue.lock for login with a pooled store handle in drop mode (plock.h):
 * the lookups before the password check touch nothing of a practice, the
 * second half holds the practice's lock; the handle is given back while
 * the password is checked. */
static void login_lock(void)
{
	glue_pool_checkout();
	g_mutex_lock(&glue.lock);
	glue_pool_drop(true);
}

static void login_unlock(void)
{
	glue_pool_drop(false);
	g_mutex_unlock(&glue.lock);
	glue_pool_checkin();
}

/* Login: under glue.lock a password-check slot is taken (else busy) and
 * the limiter reserves the attempt (so parallel attempts cannot overrun
 * it; else the slot is given back and the answer is rate_limited); the
 * argon2id check runs outside the lock; the second half settles both. */
consult_err glue_h_login(glue_ctx *c)
{
	login_try t;
	memset(&t, 0, sizeof(t));
	login_lock();
	if (c->s->kind != GLUE_ANON) {
		login_unlock();
		return CONSULT_ERR_WRONG_STATE;
	}
	t.lookup = consult_store_staff_by_username(glue_store(), c->req->u.login.username, &t.st);
	if (t.lookup != CONSULT_OK && t.lookup != CONSULT_ERR_NOT_FOUND) {
		login_unlock();
		consult_staff_clear(&t.st);
		return CONSULT_ERR_INTERNAL;
	}
	t.device_id = valid_device(c->req->u.login.device_token, &t.st, c->now);
	if (t.device_id > 0)
		g_snprintf(t.ukey, sizeof(t.ukey), "d:%" G_GINT64_FORMAT, t.device_id);
	else
		g_snprintf(t.ukey, sizeof(t.ukey), "u:%s", c->req->u.login.username);
	g_snprintf(t.hkey, sizeof(t.hkey), "h:%" G_GUINT64_FORMAT, c->s->serial);
	t.keys[0] = t.ukey;
	t.keys[1] = t.hkey;
	/* The slot first: in a storm most logins are answered busy here, at
	 * once, without a lookup in the (large) limiter table under the lock. */
	if (!glue_auth_slot_take(t.device_id > 0)) {
		login_unlock();
		consult_staff_clear(&t.st);
		c->retry_after = 1;
		return CONSULT_ERR_BUSY;
	}
	if (!glue_rl_reserve(glue.rl_login, t.keys, 2, c->now, &c->retry_after)) {
		glue_auth_slot_give();
		login_unlock();
		glue_auth_count_rate_limited();
		consult_staff_clear(&t.st);
		return CONSULT_ERR_RATE_LIMITED;
	}
	/* Failures counted by other instances (or before a restart) lock too. */
	if (glue_login_limit_locked(glue_store(), t.ukey, c->now, &c->retry_after)) {
		glue_rl_settle(glue.rl_login, t.keys, 2, c->now, CONSULT_RL_CANCELLED);
		glue_auth_slot_give();
		login_unlock();
		glue_auth_count_rate_limited();
		consult_staff_clear(&t.st);
		return CONSULT_ERR_RATE_LIMITED;
	}
	login_unlock();
	bool ok = glue_auth_verify(t.lookup == CONSULT_OK ? t.st.pw_hash : NULL, c->req->u.login.password);
	glue_auth_slot_give();
	ok = ok && t.lookup == CONSULT_OK && !t.st.disabled && t.st.role != CONSULT_ROLE_NONE;
	consult_rl_outcome outcome;
	if (ok)
		glue_practice_lock(t.st.practice_id); /* plock.h: the practice's lock before glue.lock */
	login_lock();
	consult_err e = login_finish(c, &t, ok, &outcome);
	glue_rl_settle(glue.rl_login, t.keys, 2, c->now, outcome);
	glue_login_limit_settle(glue_store(), t.ukey, c->now, outcome);
	login_unlock();
	glue_practice_unlock();
	consult_staff_clear(&t.st);
	return e;
}

void glue_staff_detach(glue_session *s, bool handle_gone, int64_t now)
{
	glue_practice *p = glue_practice_find(s->practice_id);
	if (p == NULL)
		return;
	consult_room_event in = { .in = CONSULT_IN_DOCTOR_LEAVE,
		.visit_id = s->call_visit_id,
		.handle_gone = handle_gone,
		.grace_s = glue.cfg.grace_seconds };
	consult_decision d;
	consult_err e = glue_decide_run(p, &in, s, now, false, &d);
	if (e != CONSULT_OK)
		JANUS_LOG(LOG_ERR,
		        "[consult] staff %" G_GINT64_FORMAT " leaving: %s on visit %" G_GINT64_FORMAT " failed (%s)\n",
		        s->staff_id, consult_visit_event_name(d.ev), s->call_visit_id, consult_err_name(e));
	s->call_visit_id = 0;
	GList *l = g_list_find(p->staff, s);
	if (l) {
		p->staff = g_list_delete_link(p->staff, l);
		glue_session_unref(s);
	}
}

consult_err glue_h_logout(glue_ctx *c)
{
	JANUS_LOG(LOG_INFO, "[consult] staff %" G_GINT64_FORMAT " logged out\n", c->s->staff_id);
	glue_login_session_end(c->s);
	glue_staff_detach(c->s, false, c->now);
	glue_session_reset(c->s);
	return CONSULT_OK;
}

consult_err glue_h_touch(glue_ctx *c)
{
	return CONSULT_OK; /* dispatch already noted the activity */
}

void glue_staff_log_out(glue_session *s, const char *reason, int64_t now)
{
	glue_session_ref(s);
	json_t *f = json_object();
	json_object_set_new(f, "reason", json_string(reason));
	glue_push(s, "logged_out", f);
	glue_staff_detach(s, false, now);
	glue_session_reset(s);
	glue_session_unref(s);
}

void glue_staff_idle_check(glue_practice *p, int64_t now)
{
	int64_t limit = glue.cfg.staff_idle_minutes * 60;
	GList *l = p->staff;
	while (l) {
		GList *next = l->next;
		glue_session *s = l->data;
		if (s->call_visit_id != 0) {
			s->last_active = now; /* ringing or in a call is activity */
			glue_login_session_used(s, now);
		} else if (now - s->last_active >= limit) {
			JANUS_LOG(LOG_INFO,
			        "[consult] staff %" G_GINT64_FORMAT " logged out after %" G_GINT64_FORMAT
			        " idle minutes\n",
			        s->staff_id, glue.cfg.staff_idle_minutes);
			glue_login_session_end(s);
			glue_staff_log_out(s, "idle", now);
		}
		l = next;
	}
}

static void add_doctor(const consult_staff *st, void *ud)
{
	if (st->disabled)
		return;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(st->id));
	json_object_set_new(o, "display_name", json_string(st->display_name ? st->display_name : ""));
	json_array_append_new(ud, o);
}

consult_err glue_h_list_doctors(glue_ctx *c)
{
	json_t *list = json_array();
	if (consult_store_list_staff(glue_store(), c->s->practice_id, CONSULT_ROLE_DOCTOR, add_doctor, list) !=
	        CONSULT_OK) {
		json_decref(list);
		return CONSULT_ERR_INTERNAL;
	}
	json_object_set_new(c->reply, "doctors", list);
	return CONSULT_OK;
}

consult_err glue_h_waiting_list(glue_ctx *c)
{
	glue_practice *p = glue_practice_get(c->s->practice_id);
	if (p == NULL)
		return CONSULT_ERR_INTERNAL;
	json_object_set_new(c->reply, "visits", glue_waiting_list(p, c->s->staff_id));
	return CONSULT_OK;
}
