/* events.c - the per-practice live state and every asynchronous event.
 *
 * Contract: called under glue.lock. Patients only ever receive events about
 * their own visit (position with the estimated wait, ringing, ...);
 * waiting lists with names and each patient's readiness go to
 * logged-in doctors of the same practice who may see those visits. Events
 * are pushed with push_event (which does not take ownership). Nothing here
 * logs names or other personal data, TURN secrets or credentials.
 * glue_ice_fields mints TURN credentials at call time (core/turn.h).
 */
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <janus/debug.h>
#include "core/queue.h"
#include "glue.h"
#include "snapshot.h"

static void visit_info_free(gpointer data)
{
	glue_visit_info *vi = data;
	g_free(vi->first);
	g_free(vi->last);
	g_free(vi->booked_name);
	g_free(vi->note);
	g_free(vi->media_path);
	g_free(vi->msg_text);
	g_free(vi->msg_from);
	g_free(vi);
}

static void practice_free(gpointer data)
{
	glue_practice *p = data;
	for (GList *l = p->staff; l; l = l->next)
		glue_session_unref(l->data);
	g_list_free(p->staff);
	g_hash_table_destroy(p->visits);
	glue_day_free(p->day);
	consult_room_free(p->room);
	g_free(p);
}

glue_practice *glue_practice_find(int64_t practice_id)
{
	if (glue.practices == NULL)
		return NULL;
	return g_hash_table_lookup(glue.practices, &practice_id);
}

GArray *glue_practice_ids(void)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (glue.practices) {
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, glue.practices);
		while (g_hash_table_iter_next(&it, &key, &value))
			g_array_append_val(ids, ((glue_practice *)value)->id);
	}
	return ids;
}

glue_practice *glue_practice_get(int64_t practice_id)
{
	if (glue.practices == NULL)
		glue.practices = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, practice_free);
	glue_practice *p = glue_practice_find(practice_id);
	if (p)
		return p;
	p = g_new0(glue_practice, 1);
	p->id = practice_id;
	p->room = consult_room_new(practice_id);
	if (p->room == NULL) {
		g_free(p);
		return NULL;
	}
	p->visits = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, visit_info_free);
	g_hash_table_insert(glue.practices, &p->id, p);
	return p;
}

void glue_practices_free(void)
{
	if (glue.practices)
		g_hash_table_destroy(glue.practices);
	glue.practices = NULL;
	glue_snapshot_free();
}

glue_visit_info *glue_visit_info_get(glue_practice *p, int64_t visit_id)
{
	return g_hash_table_lookup(p->visits, &visit_id);
}

void glue_path_counts(glue_practice *p, int64_t out[GLUE_PATH_COUNT])
{
	for (int i = 0; i < GLUE_PATH_COUNT; i++)
		out[i] = p->paths[i];
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, p->visits);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		glue_visit_info *vi = value;
		if (vi->path != GLUE_PATH_NONE)
			out[vi->path]++;
	}
}

void glue_push(glue_session *s, const char *event, json_t *fields)
{
	if (s == NULL || g_atomic_int_get(&s->destroyed) || s->handle == NULL ||
	        g_atomic_int_get(&s->handle->stopped) || glue_gateway == NULL) {
		json_decref(fields);
		return;
	}
	json_t *ev = json_object();
	json_object_set_new(ev, "consult", json_string("event"));
	json_object_set_new(ev, "event", json_string(event));
	if (fields) {
		json_object_update(ev, fields);
		json_decref(fields);
	}
	int rc = glue_gateway->push_event(s->handle, &glue_plugin, NULL, ev, NULL);
	if (rc != 0)
		JANUS_LOG(LOG_WARN, "[consult] push of event %s failed (%d)\n", event, rc);
	json_decref(ev);
}

static json_t *id_or_null(int64_t id)
{
	return id > 0 ? json_integer(id) : json_null();
}

typedef struct {
	glue_practice *p;
	json_t *list;
} list_ud;

static void add_waiting(const consult_visit *v, uint32_t index, void *ud)
{
	list_ud *u = ud;
	glue_visit_info *vi = glue_visit_info_get(u->p, v->id);
	json_t *o = json_object();
	json_object_set_new(o, "visit_id", json_integer(v->id));
	json_object_set_new(o, "first_name", json_string(vi && vi->first ? vi->first : ""));
	json_object_set_new(o, "last_name", json_string(vi && vi->last ? vi->last : ""));
	json_object_set_new(o, "booked_name", vi && vi->booked_name ? json_string(vi->booked_name) : json_null());
	json_object_set_new(o, "note", vi && vi->note ? json_string(vi->note) : json_null());
	json_object_set_new(o, "appointment_at", json_integer(v->appt_time));
	json_object_set_new(o, "waiting_since", json_integer(v->joined_at));
	json_object_set_new(o, "state", json_string(consult_visit_state_name(v->state)));
	json_object_set_new(o, "doctor_id", id_or_null(v->doctor_id));
	json_object_set_new(o, "camera", json_string(consult_readiness_name(v->camera)));
	json_object_set_new(o, "microphone", json_string(consult_readiness_name(v->microphone)));
	json_array_append_new(u->list, o);
}

json_t *glue_waiting_list(glue_practice *p, int64_t doctor_id)
{
	list_ud u = { p, json_array() };
	consult_room_foreach_waiting(p->room, doctor_id, add_waiting, &u);
	return u.list;
}

static bool is_doctor(const glue_session *s)
{
	return s->kind == GLUE_STAFF && s->role == CONSULT_ROLE_DOCTOR;
}

static void send_waiting(glue_practice *p, glue_session *s)
{
	json_t *f = json_object();
	json_object_set_new(f, "visits", glue_waiting_list(p, s->staff_id));
	glue_push(s, "waiting", f);
}

void glue_push_waiting(glue_practice *p, int64_t visit_doctor_id)
{
	gint64 t = g_get_monotonic_time();
	for (GList *l = p->staff; l; l = l->next) {
		glue_session *s = l->data;
		if (!is_doctor(s) || !consult_doctor_sees(visit_doctor_id, s->staff_id))
			continue;
		if (s->waiting_owed)
			continue; /* the list the timer sends is the newest one */
		if (t - s->waiting_window >= G_TIME_SPAN_SECOND) {
			s->waiting_window = t;
			s->waiting_sent = 0;
		}
		if (s->waiting_sent < GLUE_WAITING_BURST) {
			s->waiting_sent++;
			send_waiting(p, s);
			continue;
		}
		s->waiting_owed = true;
		p->waiting_owed = true;
		glue_timer_flush_soon(GLUE_WAITING_COALESCE_MS);
	}
}

void glue_flush_waiting(void)
{
	if (!glue.practices)
		return;
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, glue.practices);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		glue_practice *p = value;
		if (!p->waiting_owed)
			continue;
		p->waiting_owed = false;
		for (GList *l = p->staff; l; l = l->next) {
			glue_session *s = l->data;
			if (!s->waiting_owed)
				continue;
			s->waiting_owed = false;
			if (is_doctor(s))
				send_waiting(p, s);
		}
	}
}

typedef struct {
	glue_practice *p;
	int64_t now;
	glue_session *me;
	glue_told *mine;
} pos_ud;

static consult_wait wait_of(const consult_visit *v, uint32_t ahead, void *ud)
{
	pos_ud *u = ud;
	return glue_wait_of(u->p, v, ahead, u->now);
}

static void push_position(consult_visit *v, uint32_t ahead, consult_wait wait, void *ud)
{
	pos_ud *u = ud;
	glue_session *s = v->patient;
	if (s == NULL)
		return;
	uint64_t seq = ++glue.seq;
	if (s == u->me) {
		if (u->mine)
			*u->mine = (glue_told){ ahead, seq, wait };
		return;
	}
	json_t *f = json_object();
	json_object_set_new(f, "ahead", json_integer(ahead));
	json_object_set_new(f, "seq", json_integer((json_int_t)seq));
	glue_wait_fields(f, wait);
	glue_push(s, "position", f);
}

void glue_push_positions(glue_practice *p, int64_t now, glue_session *me, glue_told *mine)
{
	pos_ud u = { p, now, me, mine };
	if (mine)
		*mine = (glue_told){ CONSULT_AHEAD_UNKNOWN, 0, { false, 0, 0 } };
	consult_room_positions_wait(p->room, wait_of, push_position, &u);
}

void glue_push_appointment(glue_practice *p, int64_t appointment_id, const char *status, const char *first,
        const char *last, const char *booked_name)
{
	for (GList *l = p->staff; l; l = l->next) {
		json_t *f = json_object();
		json_object_set_new(f, "appointment_id", json_integer(appointment_id));
		json_object_set_new(f, "status", json_string(status));
		if (first && last) {
			char *name = g_strdup_printf("%s %s", first, last);
			json_object_set_new(f, "patient", json_string(name));
			g_free(name);
		} else {
			json_object_set_new(f, "patient", json_null());
		}
		json_object_set_new(f, "booked_name", booked_name ? json_string(booked_name) : json_null());
		glue_push(l->data, "appointment", f);
	}
}

void glue_notify_visit(int64_t practice_id, int64_t visit_id, const char *state, const char *reason)
{
	if (!glue.cfg.events || glue_gateway == NULL || !glue_gateway->events_is_enabled())
		return;
	json_t *ev = json_object();
	json_object_set_new(ev, "event", json_string("visit"));
	json_object_set_new(ev, "practice_id", json_integer(practice_id));
	json_object_set_new(ev, "visit_id", json_integer(visit_id));
	json_object_set_new(ev, "state", json_string(state));
	if (reason && *reason)
		json_object_set_new(ev, "reason", json_string(reason));
	glue_gateway->notify_event(&glue_plugin, NULL, ev); /* the core owns ev */
}

/* The practice option relay_only; on a store failure fail closed (relay)
 * when a TURN server is configured, so an IP address is never exposed by
 * accident. */
static bool relay_only(int64_t practice_id)
{
	consult_err e;
	const glue_snapshot *sn = glue_snapshot_get(practice_id, &e);
	if (sn)
		return sn->pr.relay_only;
	JANUS_LOG(LOG_ERR, "[consult] store: relay_only of practice %" G_GINT64_FORMAT " not readable (%s)\n",
	        practice_id, consult_err_name(e));
	return glue.cfg.n_turn > 0;
}

/* Appends the entries of one configured list (STUN or TURN) to arr. */
static bool add_ice_list(json_t *arr, char *const *uris, size_t n, const char *id, int64_t now)
{
	if (n == 0)
		return true;
	consult_ice_servers list;
	if (consult_turn_ice_servers((const char *const *)uris, n, glue.cfg.turn_secret, now, glue.cfg.turn_ttl, id,
	            &list) != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] could not build the ICE server list\n");
		return false;
	}
	for (size_t i = 0; i < list.n; i++) {
		const consult_ice_server *sv = &list.server[i];
		json_t *o = json_object(), *urls = json_array();
		for (size_t u = 0; u < sv->n_urls; u++)
			json_array_append_new(urls, json_string(sv->urls[u]));
		json_object_set_new(o, "urls", urls);
		if (sv->has_credential) {
			json_object_set_new(o, "username", json_string(sv->username));
			json_object_set_new(o, "credential", json_string(sv->credential));
		}
		json_array_append_new(arr, o);
	}
	sodium_memzero(&list, sizeof(list));
	return true;
}

void glue_ice_fields(json_t *o, int64_t practice_id, int64_t now, bool with_call_lost)
{
	/* Opaque id: 64 random bits, fresh for every hand-out; it says nothing
	 * about the visit, the practice or the person. */
	unsigned char rnd[8];
	char id[2 * sizeof(rnd) + 1];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, sizeof(id), rnd, sizeof(rnd));
	json_t *arr = json_array();
	if (!add_ice_list(arr, glue.cfg.stun_uris, glue.cfg.n_stun, id, now) ||
	        !add_ice_list(arr, glue.cfg.turn_uris, glue.cfg.n_turn, id, now))
		json_array_clear(arr);
	sodium_memzero(id, sizeof(id));
	json_object_set_new(o, "ice_servers", arr);
	json_object_set_new(o, "ice_transport_policy", json_string(relay_only(practice_id) ? "relay" : "all"));
	if (with_call_lost) {
		const glue_snapshot *sn = glue_snapshot_get(practice_id, NULL);
		bool never = sn ? sn->pr.forward_never : true; /* fail closed on a store failure */
		json_object_set_new(o, "call_lost_seconds", json_integer(glue.cfg.call_lost_seconds));
		json_object_set_new(o, "p2p_timeout_seconds", json_integer(glue.cfg.p2p_timeout_seconds));
		json_object_set_new(o, "forward", json_string(never ? "never" : "allowed"));
		json_object_set_new(
		        o, "patient_share", json_string(glue_patient_share_allowed(practice_id) ? "allowed" : "never"));
	}
}

bool glue_patient_share_allowed(int64_t practice_id)
{
	consult_err e;
	const glue_snapshot *sn = glue_snapshot_get(practice_id, &e);
	bool allowed = sn && sn->pr.patient_share;
	if (e != CONSULT_OK)
		JANUS_LOG(LOG_ERR,
		        "[consult] store: patient_share policy of practice %" G_GINT64_FORMAT " not readable (%s)\n",
		        practice_id, consult_err_name(e));
	return e == CONSULT_OK && allowed;
}

const char *glue_audio_policy(int64_t practice_id)
{
	consult_err e;
	const glue_snapshot *sn = glue_snapshot_get(practice_id, &e);
	bool never = sn ? sn->pr.audio_only_never : true;
	if (e != CONSULT_OK)
		JANUS_LOG(LOG_ERR,
		        "[consult] store: audio_only policy of practice %" G_GINT64_FORMAT " not readable (%s)\n",
		        practice_id, consult_err_name(e));
	return consult_audio_policy_name(e == CONSULT_OK && !never ? CONSULT_AUDIO_ALLOWED : CONSULT_AUDIO_NEVER);
}

glue_session *glue_call_doctor(glue_practice *p, int64_t visit_id)
{
	for (GList *l = p->staff; l; l = l->next) {
		glue_session *s = l->data;
		if (is_doctor(s) && s->call_visit_id == visit_id)
			return s;
	}
	return NULL;
}
