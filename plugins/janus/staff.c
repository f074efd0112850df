/* staff.c - staff requests: practice_info (anonymous), login, logout,
 * list_doctors, appointments, waiting_list; and a staff session leaving.
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
	glue_session_ref(s);
	p->staff = g_list_append(p->staff, s);
	json_object_set_new(c->reply, "staff_id", json_integer(st->id));
	json_object_set_new(c->reply, "role", json_string(consult_role_name(s->role)));
	json_object_set_new(c->reply, "display_name", json_string(st->display_name ? st->display_name : ""));
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

static json_t *full_name(const char *first, const char *last) {
	if(first == NULL || last == NULL)
		return json_null();
	char *name = g_strdup_printf("%s %s", first, last);
	json_t *j = json_string(name);
	g_free(name);
	return j;
}

static void add_appointment(const consult_appointment *a, void *ud) {
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "doctor_id", a->doctor_id > 0 ? json_integer(a->doctor_id) : json_null());
	json_object_set_new(o, "doctor_name", a->doctor_name ? json_string(a->doctor_name) : json_null());
	json_object_set_new(o, "starts_at", json_integer(a->starts_at));
	json_object_set_new(o, "valid_from", json_integer(a->valid_from));
	json_object_set_new(o, "valid_until", json_integer(a->valid_until));
	json_object_set_new(o, "status", json_string(a->status ? a->status : (a->cancelled_at ? "cancelled" : "booked")));
	json_object_set_new(o, "end_reason", a->end_reason ? json_string(a->end_reason) : json_null());
	json_object_set_new(o, "patient", full_name(a->patient_first, a->patient_last));
	json_array_append_new(ud, o);
}

consult_err glue_h_list_appointments(glue_ctx *c) {
	int64_t from = c->now - 12 * 3600, to = c->now + 36 * 3600;
	if(c->req->u.list_appointments.has_range) {
		from = c->req->u.list_appointments.from;
		to = c->req->u.list_appointments.to;
		if(to <= from || to - from > 31 * DAY) {
			c->field = "to";
			return CONSULT_ERR_INVALID_FIELD;
		}
	}
	json_t *list = json_array();
	if(consult_store_list_appointments(glue.store, c->s->practice_id, from, to, add_appointment, list) != CONSULT_OK) {
		json_decref(list);
		return CONSULT_ERR_INTERNAL;
	}
	json_object_set_new(c->reply, "appointments", list);
	return CONSULT_OK;
}

/* NOT_FOUND unless doctor_id is an enabled doctor of the practice. */
static consult_err check_doctor(int64_t practice_id, int64_t doctor_id) {
	consult_staff st;
	memset(&st, 0, sizeof(st));
	consult_err e = consult_store_staff_by_id(glue.store, doctor_id, &st);
	if(e == CONSULT_OK && (st.practice_id != practice_id || st.disabled ||
			consult_role_from_name(st.role) != CONSULT_ROLE_DOCTOR))
		e = CONSULT_ERR_NOT_FOUND;
	consult_staff_clear(&st);
	return e == CONSULT_OK || e == CONSULT_ERR_NOT_FOUND ? e : CONSULT_ERR_INTERNAL;
}

consult_err glue_h_create_appointment(glue_ctx *c) {
	int64_t doctor_id = c->req->u.create_appointment.doctor_id;
	int64_t starts_at = c->req->u.create_appointment.starts_at;
	if(starts_at < c->now - 365 * DAY || starts_at > c->now + 2 * 365 * DAY) {
		c->field = "starts_at";
		return CONSULT_ERR_INVALID_FIELD;
	}
	consult_err e = doctor_id > 0 ? check_doctor(c->s->practice_id, doctor_id) : CONSULT_OK;
	if(e != CONSULT_OK) {
		c->field = "doctor_id";
		return e;
	}
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	if(consult_store_practice_by_id(glue.store, c->s->practice_id, &pr) != CONSULT_OK) {
		consult_practice_clear(&pr);
		return CONSULT_ERR_INTERNAL;
	}
	uint8_t rnd[CONSULT_CODE_RANDOM], hash[CONSULT_CODE_HASH_LEN];
	char show[CONSULT_CODE_SHOW_LEN], norm[CONSULT_CODE_NORM_LEN];
	randombytes_buf(rnd, sizeof(rnd));
	consult_code_generate(rnd, show);
	if(!consult_code_normalise(show, norm)) {
		consult_practice_clear(&pr);
		return CONSULT_ERR_INTERNAL;
	}
	consult_code_hash(glue.cfg.code_secret, pr.id, norm, hash);
	int64_t vf = starts_at - glue.cfg.join_before_minutes * 60, vu = starts_at + glue.cfg.join_after_minutes * 60;
	int64_t id = 0;
	e = consult_store_add_appointment(glue.store, pr.id, doctor_id > 0 ? doctor_id : 0, starts_at, vf, vu,
		hash, c->s->staff_id, c->now, &id);
	if(e == CONSULT_OK) {
		char *link = g_strdup_printf("%s/patient.html?p=%s#%s", glue.cfg.public_url, pr.slug, show);
		json_object_set_new(c->reply, "appointment_id", json_integer(id));
		json_object_set_new(c->reply, "code", json_string(show));
		json_object_set_new(c->reply, "link", json_string(link));
		json_object_set_new(c->reply, "starts_at", json_integer(starts_at));
		json_object_set_new(c->reply, "valid_from", json_integer(vf));
		json_object_set_new(c->reply, "valid_until", json_integer(vu));
		g_free(link);
		glue_practice *p = glue_practice_get(pr.id);
		if(p)
			glue_push_appointment(p, id, "booked", NULL, NULL);
		JANUS_LOG(LOG_VERB, "[consult] appointment %"G_GINT64_FORMAT" created\n", id);
	} else {
		e = CONSULT_ERR_INTERNAL;
	}
	sodium_memzero(show, sizeof(show));
	sodium_memzero(norm, sizeof(norm));
	consult_practice_clear(&pr);
	return e;
}

consult_err glue_h_cancel_appointment(glue_ctx *c) {
	int64_t id = c->req->u.cancel_appointment.appointment_id;
	consult_err e = consult_store_cancel_appointment(glue.store, c->s->practice_id, id, c->now);
	if(e != CONSULT_OK)
		return (e == CONSULT_ERR_NOT_FOUND || e == CONSULT_ERR_WRONG_STATE) ? e : CONSULT_ERR_INTERNAL;
	glue_practice *p = glue_practice_get(c->s->practice_id);
	consult_visit *v = p ? consult_room_visit_of_appointment(p->room, id) : NULL;
	if(v) {
		e = glue_visit_apply(p, v->id, CONSULT_EV_CANCELLED, NULL, NULL, c->now);
		if(e != CONSULT_OK)
			JANUS_LOG(LOG_ERR, "[consult] appointment %"G_GINT64_FORMAT" cancelled but its visit not ended (%s)\n",
				id, consult_err_name(e));
	} else if(p) {
		glue_push_appointment(p, id, "cancelled", NULL, NULL);
	}
	return CONSULT_OK;
}

consult_err glue_h_waiting_list(glue_ctx *c) {
	glue_practice *p = glue_practice_get(c->s->practice_id);
	if(p == NULL)
		return CONSULT_ERR_INTERNAL;
	json_object_set_new(c->reply, "visits", glue_waiting_list(p, c->s->staff_id));
	return CONSULT_OK;
}
