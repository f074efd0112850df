/* staff.c - staff requests: practice_info (anonymous), login, logout,
 * touch, list_doctors, waiting_list; a staff session leaving; the idle
 * logout (staff_idle_minutes without any request; never during a call).
 *
 * Contract: login verifies the argon2id hash OUTSIDE glue.lock (it is the
 * only handler called without the lock) and answers unknown user, wrong
 * password and disabled account alike (login_failed, same work done).
 * Every other handler runs under glue.lock. Logs carry ids only.
 */
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <janus/debug.h>
#include "core/code.h"
#include "glue.h"
#include "auth.h"

#define DAY (24 * 3600)

consult_err glue_h_practice_info(glue_ctx *c) {
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	consult_err e = consult_store_practice_by_slug(glue.store, c->req->u.practice_info.practice, &pr);
	if(e != CONSULT_OK)
		return e == CONSULT_ERR_NOT_FOUND ? e : CONSULT_ERR_INTERNAL;
	json_object_set_new(c->reply, "name", json_string(pr.name ? pr.name : ""));
	json_object_set_new(c->reply, "phone", pr.phone ? json_string(pr.phone) : json_null());
	consult_practice_clear(&pr);
	return CONSULT_OK;
}

/* Second half of login, under glue.lock, after the password was checked. */
static consult_err login_finish(glue_ctx *c, const consult_staff *st, bool ok, const char *const *keys) {
	if(g_atomic_int_get(&c->s->destroyed) || c->s->kind != GLUE_ANON)
		return CONSULT_ERR_WRONG_STATE;
	if(!ok) {
		glue_rl_fail(glue.rl_login, keys, 2, c->now);
		JANUS_LOG(LOG_INFO, "[consult] login failed\n");
		return CONSULT_ERR_LOGIN_FAILED;
	}
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	glue_practice *p = glue_practice_get(st->practice_id);
	if(p == NULL || consult_store_practice_by_id(glue.store, st->practice_id, &pr) != CONSULT_OK) {
		consult_practice_clear(&pr);
		return CONSULT_ERR_INTERNAL;
	}
	glue_rl_ok(glue.rl_login, keys, 2);
	glue_session *s = c->s;
	s->kind = GLUE_STAFF;
	s->staff_id = st->id;
	s->practice_id = st->practice_id;
	s->role = consult_role_from_name(st->role);
	s->display_name = g_strdup(st->display_name);
	s->last_active = c->now;
	glue_session_ref(s);
	p->staff = g_list_append(p->staff, s);
	json_object_set_new(c->reply, "staff_id", json_integer(st->id));
	json_object_set_new(c->reply, "role", json_string(consult_role_name(s->role)));
	json_object_set_new(c->reply, "display_name", json_string(st->display_name ? st->display_name : ""));
	json_object_set_new(c->reply, "idle_seconds", json_integer(glue.cfg.staff_idle_minutes * 60));
	json_t *o = json_object();
	json_object_set_new(o, "slug", json_string(pr.slug ? pr.slug : ""));
	json_object_set_new(o, "name", json_string(pr.name ? pr.name : ""));
	json_object_set_new(c->reply, "practice", o);
	consult_practice_clear(&pr);
	if(s->role == CONSULT_ROLE_DOCTOR) {
		json_t *f = json_object();
		json_object_set_new(f, "visits", glue_waiting_list(p, s->staff_id));
		glue_push(s, "waiting", f);
	}
	JANUS_LOG(LOG_INFO, "[consult] staff %"G_GINT64_FORMAT" logged in (%s)\n", st->id, consult_role_name(s->role));
	return CONSULT_OK;
}

consult_err glue_h_login(glue_ctx *c) {
	char ukey[80], hkey[40];
	g_snprintf(ukey, sizeof(ukey), "u:%s", c->req->u.login.username);
	g_snprintf(hkey, sizeof(hkey), "h:%" G_GUINT64_FORMAT, c->s->serial);
	const char *keys[] = { ukey, hkey };
	consult_staff st;
	memset(&st, 0, sizeof(st));
	g_mutex_lock(&glue.lock);
	if(c->s->kind != GLUE_ANON) {
		g_mutex_unlock(&glue.lock);
		return CONSULT_ERR_WRONG_STATE;
	}
	if(!glue_rl_allowed(glue.rl_login, keys, 2, c->now, &c->retry_after)) {
		g_mutex_unlock(&glue.lock);
		return CONSULT_ERR_RATE_LIMITED;
	}
	consult_err e = consult_store_staff_by_username(glue.store, c->req->u.login.username, &st);
	g_mutex_unlock(&glue.lock);
	if(e != CONSULT_OK && e != CONSULT_ERR_NOT_FOUND)
		return CONSULT_ERR_INTERNAL;
	bool ok = glue_auth_verify(e == CONSULT_OK ? st.pw_hash : NULL, c->req->u.login.password);
	ok = ok && e == CONSULT_OK && !st.disabled && consult_role_from_name(st.role) != CONSULT_ROLE_NONE;
	g_mutex_lock(&glue.lock);
	e = login_finish(c, &st, ok, keys);
	g_mutex_unlock(&glue.lock);
	consult_staff_clear(&st);
	return e;
}

void glue_staff_detach(glue_session *s, bool handle_gone, int64_t now) {
	glue_practice *p = glue_practice_find(s->practice_id);
	if(p == NULL)
		return;
	consult_visit *v = s->call_visit_id ? consult_room_visit(p->room, s->call_visit_id) : NULL;
	if(v && v->call_doctor_id == s->staff_id) {
		consult_visit_event ev = handle_gone ? CONSULT_EV_DOCTOR_DROP :
			v->state == CONSULT_VISIT_RINGING ? CONSULT_EV_CANCEL_RING : CONSULT_EV_HANGUP_DOCTOR;
		consult_err e = glue_visit_apply(p, v->id, ev, s, NULL, now);
		if(e != CONSULT_OK)
			JANUS_LOG(LOG_ERR, "[consult] staff %"G_GINT64_FORMAT" leaving: %s on visit %"G_GINT64_FORMAT" failed (%s)\n",
				s->staff_id, consult_visit_event_name(ev), v->id, consult_err_name(e));
	}
	s->call_visit_id = 0;
	GList *l = g_list_find(p->staff, s);
	if(l) {
		p->staff = g_list_delete_link(p->staff, l);
		glue_session_unref(s);
	}
}

consult_err glue_h_logout(glue_ctx *c) {
	JANUS_LOG(LOG_INFO, "[consult] staff %"G_GINT64_FORMAT" logged out\n", c->s->staff_id);
	glue_staff_detach(c->s, false, c->now);
	glue_session_reset(c->s);
	return CONSULT_OK;
}

consult_err glue_h_touch(glue_ctx *c) {
	return CONSULT_OK;   /* dispatch already noted the activity */
}

void glue_staff_idle_check(glue_practice *p, int64_t now) {
	int64_t limit = glue.cfg.staff_idle_minutes * 60;
	GList *l = p->staff;
	while(l) {
		GList *next = l->next;
		glue_session *s = l->data;
		if(s->call_visit_id != 0)
			s->last_active = now;         /* ringing or in a call is activity */
		else if(now - s->last_active >= limit) {
			glue_session_ref(s);
			json_t *f = json_object();
			json_object_set_new(f, "reason", json_string("idle"));
			glue_push(s, "logged_out", f);
			JANUS_LOG(LOG_INFO, "[consult] staff %"G_GINT64_FORMAT" logged out after %"G_GINT64_FORMAT" idle minutes\n",
				s->staff_id, glue.cfg.staff_idle_minutes);
			glue_staff_detach(s, false, now);
			glue_session_reset(s);
			glue_session_unref(s);
		}
		l = next;
	}
}

static void add_doctor(const consult_staff *st, void *ud) {
	if(st->disabled)
		return;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(st->id));
	json_object_set_new(o, "display_name", json_string(st->display_name ? st->display_name : ""));
	json_array_append_new(ud, o);
}

consult_err glue_h_list_doctors(glue_ctx *c) {
	json_t *list = json_array();
	if(consult_store_list_staff(glue.store, c->s->practice_id, "doctor", add_doctor, list) != CONSULT_OK) {
		json_decref(list);
		return CONSULT_ERR_INTERNAL;
	}
	json_object_set_new(c->reply, "doctors", list);
	return CONSULT_OK;
}

consult_err glue_h_waiting_list(glue_ctx *c) {
	glue_practice *p = glue_practice_get(c->s->practice_id);
	if(p == NULL)
		return CONSULT_ERR_INTERNAL;
	json_object_set_new(c->reply, "visits", glue_waiting_list(p, c->s->staff_id));
	return CONSULT_OK;
}
