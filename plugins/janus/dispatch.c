/* dispatch.c - the request table and handle_message (see dispatch.h).
 *
 * Contract: who may send what is decided only by the table below; a
 * refused kind gives the error of protocol.md ("Handles and roles"):
 * staff-only requests on an anonymous handle -> not_authenticated, patient
 * requests on an anonymous handle -> wrong_state, requests of another kind
 * -> forbidden, anonymous-only requests on a joined/logged-in handle ->
 * wrong_state, anything on a taken-over handle -> wrong_state.
 * The table has one route per row of core/requests.def (the parser's rows
 * too): handler, who may send it, whether the handler takes glue.lock
 * itself, whether a jsep may come beside the body (only those requests:
 * any other request with a jsep, or a body that does not parse, is refused
 * with wrong_state, field "jsep"). Every request is parsed by the core
 * parser (core/request.c) first; the glue looks nothing up by name (the
 * "request" string is only echoed in the reply). Any request of a staff
 * handle is activity: for the idle logout and for its resumable session.
 * A joined or logged-in handle of a practice this instance no longer
 * serves (leases.c) gets practice_elsewhere and nothing runs.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "dispatch.h"
#include "forward.h"
#include "staff_session.h"

typedef struct {
	glue_handler fn;
	unsigned allowed; /* CONSULT_WHO_* bits */
	unsigned flags;   /* CONSULT_REQF_* */
} route;

/* One route per row of core/requests.def: handler glue_h_<name>. */
static const route routes[CONSULT_REQ_KIND_COUNT] = {
#define CONSULT_REQUEST(name, id, who, when, parse, flags) [CONSULT_REQ_##id] = { glue_h_##name, who, flags },
#include "core/requests.def"
#undef CONSULT_REQUEST
};

static unsigned kind_bit(const glue_session *s)
{
	switch (s->kind) {
	case GLUE_ANON:
		return CONSULT_WHO_ANON;
	case GLUE_PATIENT:
		return CONSULT_WHO_PATIENT;
	case GLUE_STAFF:
		return s->role == CONSULT_ROLE_DOCTOR ? CONSULT_WHO_DOCTOR : CONSULT_WHO_RECEPTION;
	default:
		return 0;
	}
}

/* Error for a request this handle's kind may not send (CONSULT_OK if it may). */
static consult_err admission(const glue_session *s, const route *r)
{
	unsigned k = kind_bit(s);
	if (k == 0 || g_atomic_int_get(&s->destroyed))
		return CONSULT_ERR_WRONG_STATE; /* taken over, or handle going away */
	if (r->allowed & k)
		return CONSULT_OK;
	if (r->allowed == CONSULT_WHO_ANON)
		return CONSULT_ERR_WRONG_STATE; /* already joined / logged in */
	if (k == CONSULT_WHO_ANON)
		return (r->allowed & CONSULT_WHO_PATIENT) ? CONSULT_ERR_WRONG_STATE : CONSULT_ERR_NOT_AUTHENTICATED;
	return CONSULT_ERR_FORBIDDEN;
}

json_t *glue_error_reply(const char *name, consult_err err, const char *field, int64_t retry_after)
{
	json_t *o = json_object();
	json_object_set_new(o, "consult", json_string(name ? name : ""));
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "error_code", json_integer(err));
	json_object_set_new(o, "error", json_string(consult_err_name(err)));
	json_object_set_new(o, "reason", json_string(consult_err_text(err)));
	if (field)
		json_object_set_new(o, "field", json_string(field));
	if (err == CONSULT_ERR_RATE_LIMITED || err == CONSULT_ERR_BUSY)
		json_object_set_new(o, "retry_after", json_integer(retry_after > 0 ? retry_after : 1));
	return o;
}

json_t *glue_ok_reply(const char *name, json_t *fields)
{
	json_t *o = json_object();
	json_object_set_new(o, "consult", json_string(name ? name : ""));
	json_object_set_new(o, "ok", json_true());
	if (fields) {
		json_object_update(o, fields);
		json_decref(fields);
	}
	return o;
}

/* Requests of an anonymous handle whose store round trips may run
 * without glue.lock before any practice lock is taken: the code lookup
 * (patient.c), the session lookup of resume (staff_session.c) and the
 * snapshot reload of practice_info (snapshot.c: the new copy is built
 * aside and put in the table after its round trips), which keep no
 * glue.lock data across them; join and resume then take the practice's
 * lock (glue_practice_enter) before they change anything. */
static bool anon_drop(const consult_request *req)
{
	return req->kind == CONSULT_REQ_JOIN || req->kind == CONSULT_REQ_APPOINTMENT_INFO ||
	        req->kind == CONSULT_REQ_RESUME || req->kind == CONSULT_REQ_PRACTICE_INFO;
}

/* The practice of a joined or logged-in handle, else 0; under glue.lock. */
static int64_t session_practice(const glue_session *s)
{
	return (s->kind == GLUE_PATIENT || s->kind == GLUE_STAFF) ? s->practice_id : 0;
}

/* Runs one parsed request; returns the reply object. A request of a
 * joined or logged-in handle holds its practice's lock (plock.h) and, on
 * PostgreSQL, a pooled store handle whose round trips run without
 * glue.lock; the practice's lock is given back after glue.lock. */
static json_t *run(glue_session *s, json_t *body, json_t *jsep, const consult_request *req, const route *r)
{
	glue_ctx c = { .s = s, .req = req, .body = body, .jsep = jsep, .reply = json_object(), .now = glue_now() };
	consult_err e;
	unsigned store_errors = 0;
	const char *store_error = NULL; /* SQLite error name if the store failed meanwhile */
	if (r->fn == NULL) {
		e = CONSULT_ERR_UNKNOWN_REQUEST;
	} else {
		bool self = (r->flags & CONSULT_REQF_SELF_LOCK) != 0;
		int64_t pid = 0;
		if (!self) {
			for (;;) {
				pid = glue_lock_session_practice(s); /* glue.lock held on return */
				g_mutex_unlock(&glue.lock);
				glue_pool_checkout();
				g_mutex_lock(&glue.lock);
				if (pid == session_practice(s))
					break;
				g_mutex_unlock(&glue.lock); /* the handle joined meanwhile: its practice's lock first */
				glue_pool_checkin();
				glue_practice_unlock();
			}
			glue_pool_drop(pid != 0 || (s->kind == GLUE_ANON && anon_drop(req)));
		} else {
			g_mutex_lock(&glue.lock);
		}
		store_errors = consult_store_error_count(glue_store());
		e = admission(s, r);
		if (e == CONSULT_OK && (s->kind == GLUE_PATIENT || s->kind == GLUE_STAFF) &&
		        !glue_lease_serves(s->practice_id))
			e = glue_lease_refuse(&c, s->practice_id); /* its lease just ended */
		if (e == CONSULT_OK && s->kind == GLUE_STAFF) {
			s->last_active = c.now; /* any staff request counts as activity */
			glue_login_session_used(s, c.now);
		}
		if (e == CONSULT_OK && !self)
			e = r->fn(&c);
		if (consult_store_error_count(glue_store()) != store_errors)
			store_error = consult_store_last_error_name(glue_store());
		glue_pool_drop(false);
		g_mutex_unlock(&glue.lock);
		glue_pool_checkin();
		glue_practice_unlock(); /* the one dispatch or the handler (join, resume) took */
		if (e == CONSULT_OK && self)
			e = r->fn(&c);
	}
	if (e == CONSULT_OK) {
		if (c.error_extra)
			json_decref(c.error_extra);
		return glue_ok_reply(req->name, c.reply);
	}
	json_decref(c.reply);
	if (e == CONSULT_ERR_INTERNAL) { /* one line per failure: ids and error names only */
		g_mutex_lock(&glue.lock);
		if ((r->flags & CONSULT_REQF_SELF_LOCK) && consult_store_error_count(glue_store()) != store_errors)
			store_error = consult_store_last_error_name(glue_store()); /* login takes the lock itself */
		JANUS_LOG(LOG_ERR,
		        "[consult] %s failed: internal (%s); %s handle, practice %" G_GINT64_FORMAT
		        ", visit %" G_GINT64_FORMAT ", staff %" G_GINT64_FORMAT "\n",
		        req->name ? req->name : "?", store_error ? store_error : "not the store",
		        glue_kind_name(s->kind), s->practice_id, s->visit_id, s->staff_id);
		g_mutex_unlock(&glue.lock);
	} else
		JANUS_LOG(LOG_VERB, "[consult] %s refused: %s\n", req->name ? req->name : "?", consult_err_name(e));
	json_t *err = glue_error_reply(req->name, e, c.field, c.retry_after);
	if (c.error_extra) {
		json_object_update_missing(err, c.error_extra);
		json_decref(c.error_extra);
	}
	return err;
}

static volatile gint in_flight; /* requests in run() */

bool glue_dispatch_drain(int max_ms)
{
	gint64 until = g_get_monotonic_time() + (gint64)max_ms * G_TIME_SPAN_MILLISECOND;
	while (g_atomic_int_get(&in_flight) > 0 && g_get_monotonic_time() < until)
		g_usleep(1000);
	return g_atomic_int_get(&in_flight) == 0;
}

void glue_dispatch_busy(bool on)
{
	if (on)
		g_atomic_int_inc(&in_flight);
	else
		(void)g_atomic_int_dec_and_test(&in_flight);
}

struct janus_plugin_result *glue_handle_message(
        janus_plugin_session *handle, char *transaction, json_t *message, json_t *jsep)
{
	json_t *reply;
	glue_session *s = glue_session_lookup(handle);
	const char *name = json_is_object(message) ? json_string_value(json_object_get(message, "request")) : NULL;
	if (s == NULL) {
		reply = glue_error_reply(name, CONSULT_ERR_WRONG_STATE, NULL, 0);
	} else {
		consult_request req;
		const char *field = NULL;
		memset(&req, 0, sizeof(req));
		consult_err e = consult_request_parse(message, &req, &field);
		if (e == CONSULT_OK && (unsigned)req.kind >= CONSULT_REQ_KIND_COUNT) {
			e = CONSULT_ERR_UNKNOWN_REQUEST;
			field = "request";
		}
		if (jsep != NULL && (e != CONSULT_OK || !(routes[req.kind].flags & CONSULT_REQF_JSEP)))
			reply = glue_error_reply(name, CONSULT_ERR_WRONG_STATE, "jsep", 0); /* protocol.md, Transport */
		else if (e != CONSULT_OK)
			reply = glue_error_reply(name, e, field, 0);
		else {
			g_atomic_int_inc(&in_flight);
			reply = run(s, message, jsep, &req, &routes[req.kind]);
			(void)g_atomic_int_dec_and_test(&in_flight);
		}
	}
	if (s && jsep && !json_is_true(json_object_get(reply, "ok")))
		glue_forward_drop_jsep(s); /* close the PeerConnection the core began */
	glue_session_unref(s);
	g_free(transaction);
	json_decref(message);
	json_decref(jsep);
	return janus_plugin_result_new(JANUS_PLUGIN_OK, NULL, reply);
}
