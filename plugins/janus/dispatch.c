/* dispatch.c - the request table and handle_message (see dispatch.h).
 *
 * Contract: who may send what is decided only by the table below; a
 * refused kind gives the error of protocol.md ("Handles and roles"):
 * staff-only requests on an anonymous handle -> not_authenticated, patient
 * requests on an anonymous handle -> wrong_state, requests of another kind
 * -> forbidden, anonymous-only requests on a joined/logged-in handle ->
 * wrong_state, anything on a taken-over handle -> wrong_state.
 * Every request is parsed by the core parser (core/request.c) first; the
 * glue looks nothing up by name.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "dispatch.h"
#include "forward.h"

enum { K_ANON = 1, K_PATIENT = 2, K_RECEPTION = 4, K_DOCTOR = 8 };
#define K_STAFF (K_RECEPTION | K_DOCTOR)

typedef struct {
	glue_handler fn;
	unsigned allowed;      /* K_* bits */
	bool unlocked;         /* handler takes glue.lock itself */
} route;

static const route routes[CONSULT_REQ_KIND_COUNT] = {
	[CONSULT_REQ_PRACTICE_INFO]      = { glue_h_practice_info, K_ANON, false },
	[CONSULT_REQ_LOGIN]              = { glue_h_login, K_ANON, true },
	[CONSULT_REQ_JOIN]               = { glue_h_join, K_ANON, false },
	[CONSULT_REQ_LOGOUT]             = { glue_h_logout, K_STAFF, false },
	[CONSULT_REQ_LIST_DOCTORS]       = { glue_h_list_doctors, K_STAFF, false },
	[CONSULT_REQ_LIST_APPOINTMENTS]  = { glue_h_list_appointments, K_STAFF, false },
	[CONSULT_REQ_CREATE_APPOINTMENT] = { glue_h_create_appointment, K_STAFF, false },
	[CONSULT_REQ_CANCEL_APPOINTMENT] = { glue_h_cancel_appointment, K_STAFF, false },
	[CONSULT_REQ_WAITING_LIST]       = { glue_h_waiting_list, K_DOCTOR, false },
	[CONSULT_REQ_CALL]               = { glue_h_call, K_DOCTOR, false },
	[CONSULT_REQ_CANCEL_CALL]        = { glue_h_cancel_call, K_DOCTOR, false },
	[CONSULT_REQ_LEAVE]              = { glue_h_leave, K_PATIENT, false },
	[CONSULT_REQ_ACCEPT]             = { glue_h_accept, K_PATIENT, false },
	[CONSULT_REQ_DECLINE]            = { glue_h_decline, K_PATIENT, false },
	[CONSULT_REQ_HANGUP]             = { glue_h_hangup, K_PATIENT | K_DOCTOR, false },
	[CONSULT_REQ_SIGNAL]             = { glue_h_signal, K_PATIENT | K_DOCTOR, false },
	[CONSULT_REQ_REPORT]             = { glue_h_report, K_PATIENT | K_DOCTOR, false },
	[CONSULT_REQ_ICE_SERVERS]        = { glue_h_ice_servers, K_PATIENT | K_DOCTOR, false },
	[CONSULT_REQ_APPOINTMENT_INFO]   = { glue_h_appointment_info, K_ANON, false },
	[CONSULT_REQ_TOUCH]              = { glue_h_touch, K_STAFF, false },
	[CONSULT_REQ_RESEND]             = { glue_h_resend, K_STAFF, false },
	[CONSULT_REQ_ERASE_APPOINTMENT]  = { glue_h_erase_appointment, K_STAFF, false },
	[CONSULT_REQ_FORWARD]            = { glue_h_forward, K_DOCTOR, false },
	[CONSULT_REQ_FORWARD_OFFER]      = { glue_h_forward_offer, K_DOCTOR, true },
	[CONSULT_REQ_FORWARD_ANSWER]     = { glue_h_forward_answer, K_PATIENT, true },
};

static unsigned kind_bit(const glue_session *s) {
	switch(s->kind) {
		case GLUE_ANON: return K_ANON;
		case GLUE_PATIENT: return K_PATIENT;
		case GLUE_STAFF: return s->role == CONSULT_ROLE_DOCTOR ? K_DOCTOR : K_RECEPTION;
		default: return 0;
	}
}

/* Error for a request this handle's kind may not send (CONSULT_OK if it may). */
static consult_err admission(const glue_session *s, const route *r) {
	unsigned k = kind_bit(s);
	if(k == 0 || g_atomic_int_get(&s->destroyed))
		return CONSULT_ERR_WRONG_STATE;          /* taken over, or handle going away */
	if(r->allowed & k)
		return CONSULT_OK;
	if(r->allowed == K_ANON)
		return CONSULT_ERR_WRONG_STATE;          /* already joined / logged in */
	if(k == K_ANON)
		return (r->allowed & K_PATIENT) ? CONSULT_ERR_WRONG_STATE : CONSULT_ERR_NOT_AUTHENTICATED;
	return CONSULT_ERR_FORBIDDEN;
}

json_t *glue_error_reply(const char *name, consult_err err, const char *field, int64_t retry_after) {
	json_t *o = json_object();
	json_object_set_new(o, "consult", json_string(name ? name : ""));
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "error_code", json_integer(err));
	json_object_set_new(o, "error", json_string(consult_err_name(err)));
	json_object_set_new(o, "reason", json_string(consult_err_text(err)));
	if(field)
		json_object_set_new(o, "field", json_string(field));
	if(err == CONSULT_ERR_RATE_LIMITED || err == CONSULT_ERR_BUSY)
		json_object_set_new(o, "retry_after", json_integer(retry_after > 0 ? retry_after : 1));
	return o;
}

json_t *glue_ok_reply(const char *name, json_t *fields) {
	json_t *o = json_object();
	json_object_set_new(o, "consult", json_string(name ? name : ""));
	json_object_set_new(o, "ok", json_true());
	if(fields) {
		json_object_update(o, fields);
		json_decref(fields);
	}
	return o;
}

/* Runs one parsed request; returns the reply object. */
static json_t *run(glue_session *s, json_t *body, json_t *jsep, const consult_request *req, const route *r) {
	glue_ctx c = { .s = s, .req = req, .body = body, .jsep = jsep, .reply = json_object(), .now = glue_now() };
	consult_err e;
	if(r->fn == NULL) {
		e = CONSULT_ERR_UNKNOWN_REQUEST;
	} else {
		g_mutex_lock(&glue.lock);
		e = admission(s, r);
		if(e == CONSULT_OK && s->kind == GLUE_STAFF)
			s->last_active = c.now;       /* any staff request counts as activity */
		if(e == CONSULT_OK && !r->unlocked)
			e = r->fn(&c);
		g_mutex_unlock(&glue.lock);
		if(e == CONSULT_OK && r->unlocked)
			e = r->fn(&c);
	}
	if(e == CONSULT_OK) {
		if(c.error_extra)
			json_decref(c.error_extra);
		return glue_ok_reply(req->name, c.reply);
	}
	json_decref(c.reply);
	JANUS_LOG(LOG_VERB, "[consult] %s refused: %s\n", req->name ? req->name : "?", consult_err_name(e));
	json_t *err = glue_error_reply(req->name, e, c.field, c.retry_after);
	if(c.error_extra) {
		json_object_update_missing(err, c.error_extra);
		json_decref(c.error_extra);
	}
	return err;
}

static bool is_jsep_request(const char *name) {
	return name && (strcmp(name, "forward_offer") == 0 || strcmp(name, "forward_answer") == 0);
}

struct janus_plugin_result *glue_handle_message(janus_plugin_session *handle, char *transaction,
		json_t *message, json_t *jsep) {
	json_t *reply;
	glue_session *s = glue_session_lookup(handle);
	const char *name = json_is_object(message) ? json_string_value(json_object_get(message, "request")) : NULL;
	if(s == NULL) {
		reply = glue_error_reply(name, CONSULT_ERR_WRONG_STATE, NULL, 0);
	} else if(jsep != NULL && !is_jsep_request(name)) {
		/* Only forward_offer / forward_answer carry a jsep (protocol.md, Transport). */
		reply = glue_error_reply(name, CONSULT_ERR_WRONG_STATE, "jsep", 0);
	} else {
		consult_request req;
		const char *field = NULL;
		memset(&req, 0, sizeof(req));
		consult_err e = consult_request_parse(message, &req, &field);
		if(e != CONSULT_OK)
			reply = glue_error_reply(name, e, field, 0);
		else if((unsigned)req.kind >= CONSULT_REQ_KIND_COUNT)
			reply = glue_error_reply(name, CONSULT_ERR_UNKNOWN_REQUEST, "request", 0);
		else
			reply = run(s, message, jsep, &req, &routes[req.kind]);
	}
	if(s && jsep && !json_is_true(json_object_get(reply, "ok")))
		glue_forward_drop_jsep(s);     /* close the PeerConnection the core began */
	glue_session_unref(s);
	g_free(transaction);
	json_decref(message);
	json_decref(jsep);
	return janus_plugin_result_new(JANUS_PLUGIN_OK, NULL, reply);
}
