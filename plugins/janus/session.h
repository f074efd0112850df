/* session.h - the per-handle session of the consult plugin.
 *
 * Contract: one refcounted glue_session per Janus handle, kept in a table
 * handle -> session guarded by its own mutex (Janus echotest discipline):
 * the table holds one reference, glue_session_lookup() hands out another
 * that the caller drops with glue_session_unref(). The session holds a
 * reference on the Janus handle until it is freed. Fields other than
 * `destroyed` are read and written under glue.lock only.
 */
#ifndef CONSULT_GLUE_SESSION_H
#define CONSULT_GLUE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>
#include <plugins/plugin.h>
#include "core/request.h"

typedef enum glue_kind {
	GLUE_ANON = 0, /* fresh handle */
	GLUE_PATIENT,  /* joined a waiting room */
	GLUE_STAFF,    /* logged in */
	GLUE_DEAD,     /* taken over by another handle: every request is wrong_state */
} glue_kind;

typedef struct glue_session {
	janus_plugin_session *handle;
	guint64 serial; /* unique per session for the process' life (rate-limit key) */
	glue_kind kind;
	int64_t practice_id; /* staff and patient */
	/* staff */
	int64_t staff_id;
	consult_role role;
	char *display_name;
	int64_t call_visit_id; /* doctor: visit ringing / in call, 0 if none */
	int64_t last_active;   /* staff: time of the last request (idle logout) */
	int64_t login_session; /* staff: id of its resumable session (store), 0 if none */
	int64_t session_used;  /* staff: last use of that session written to the store */
	/* doctor: waiting lists pushed in the current one-second window (events.c) */
	gint64 waiting_window; /* monotonic start of the window */
	int waiting_sent;      /* lists pushed in it */
	bool waiting_owed;     /* a list was held back in a burst: the timer sends the newest */
	/* patient */
	int64_t visit_id; /* live visit, 0 once it ended */
	int64_t appointment_id;
	volatile gint destroyed;
	janus_refcount ref;
} glue_session;

void glue_sessions_init(void);
void glue_sessions_deinit(void);
/* New anonymous session for a handle, inserted in the table. */
glue_session *glue_session_create(janus_plugin_session *handle);
/* Referenced session of a handle, NULL if none or destroyed. */
glue_session *glue_session_lookup(janus_plugin_session *handle);
void glue_session_ref(glue_session *s);
void glue_session_unref(glue_session *s);
/* Removes the handle's session from the table (marks it destroyed);
 * returns it referenced (caller unrefs) or NULL. */
glue_session *glue_session_remove(janus_plugin_session *handle);
guint glue_sessions_count(void);
/* Every session in the table, each referenced (the caller unrefs each and
 * frees the array). */
GPtrArray *glue_sessions_all(void);
/* Back to anonymous: forget staff/patient fields. */
void glue_session_reset(glue_session *s);
const char *glue_kind_name(glue_kind k);

#endif
