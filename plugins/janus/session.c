/* session.c - the handle -> session table and session refcounting
 * (see session.h). Modelled on the echotest plugin's discipline. */
#include <glib.h>
#include <jansson.h>
#include <janus/mutex.h>
#include <janus/debug.h>
#include "session.h"

static GHashTable *sessions; /* handle -> glue_session (one reference) */
static GMutex sessions_mutex;

static void session_free(const janus_refcount *ref)
{
	glue_session *s = janus_refcount_containerof(ref, glue_session, ref);
	janus_refcount_decrease(&s->handle->ref);
	g_free(s->display_name);
	g_free(s);
}

static void session_destroy(gpointer data)
{
	glue_session *s = data;
	if (s && g_atomic_int_compare_and_exchange(&s->destroyed, 0, 1)) {
		janus_refcount_decrease(&s->ref);
	}
}

void glue_sessions_init(void)
{
	g_mutex_lock(&sessions_mutex);
	if (sessions == NULL)
		sessions = g_hash_table_new_full(NULL, NULL, NULL, session_destroy);
	g_mutex_unlock(&sessions_mutex);
}

void glue_sessions_deinit(void)
{
	g_mutex_lock(&sessions_mutex);
	if (sessions)
		g_hash_table_destroy(sessions);
	sessions = NULL;
	g_mutex_unlock(&sessions_mutex);
}

glue_session *glue_session_create(janus_plugin_session *handle)
{
	static guint64 next_serial = 0;
	glue_session *s = g_new0(glue_session, 1);
	s->handle = handle;
	g_mutex_lock(&sessions_mutex);
	s->serial = ++next_serial;
	g_mutex_unlock(&sessions_mutex);
	janus_refcount_increase(&handle->ref);
	janus_refcount_init(&s->ref, session_free);
	handle->plugin_handle = s;
	g_mutex_lock(&sessions_mutex);
	g_hash_table_insert(sessions, handle, s);
	g_mutex_unlock(&sessions_mutex);
	return s;
}

glue_session *glue_session_lookup(janus_plugin_session *handle)
{
	glue_session *s = NULL;
	g_mutex_lock(&sessions_mutex);
	if (sessions)
		s = g_hash_table_lookup(sessions, handle);
	if (s && !g_atomic_int_get(&s->destroyed)) {
		janus_refcount_increase(&s->ref);
	} else {
		s = NULL;
	}
	g_mutex_unlock(&sessions_mutex);
	return s;
}

void glue_session_ref(glue_session *s)
{
	janus_refcount_increase(&s->ref);
}

void glue_session_unref(glue_session *s)
{
	if (s) {
		janus_refcount_decrease(&s->ref);
	}
}

glue_session *glue_session_remove(janus_plugin_session *handle)
{
	glue_session *s = NULL;
	g_mutex_lock(&sessions_mutex);
	if (sessions)
		s = g_hash_table_lookup(sessions, handle);
	if (s) {
		janus_refcount_increase(&s->ref);
		g_hash_table_remove(sessions, handle); /* marks destroyed, drops the table's ref */
	}
	g_mutex_unlock(&sessions_mutex);
	return s;
}

guint glue_sessions_count(void)
{
	g_mutex_lock(&sessions_mutex);
	guint n = sessions ? g_hash_table_size(sessions) : 0;
	g_mutex_unlock(&sessions_mutex);
	return n;
}

GPtrArray *glue_sessions_all(void)
{
	GPtrArray *all = g_ptr_array_new();
	g_mutex_lock(&sessions_mutex);
	if (sessions) {
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, sessions);
		while (g_hash_table_iter_next(&it, &key, &value)) {
			glue_session *s = value;
			if (!g_atomic_int_get(&s->destroyed)) {
				janus_refcount_increase(&s->ref);
				g_ptr_array_add(all, s);
			}
		}
	}
	g_mutex_unlock(&sessions_mutex);
	return all;
}

void glue_session_reset(glue_session *s)
{
	s->kind = GLUE_ANON;
	s->practice_id = s->staff_id = s->call_visit_id = 0;
	s->login_session = s->session_used = 0;
	s->visit_id = s->appointment_id = 0;
	s->role = CONSULT_ROLE_NONE;
	g_free(s->display_name);
	s->display_name = NULL;
}

const char *glue_kind_name(glue_kind k)
{
	static const char *names[] = { "anonymous", "patient", "staff", "taken_over" };
	return (unsigned)k < G_N_ELEMENTS(names) ? names[k] : "unknown";
}
