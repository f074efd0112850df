/* plugin.c - the janus_plugin of consult: init/destroy, handle lifecycle,
 * the timer ("handler") thread, and the exported `create`.
 *
 * Contract: init loads and validates the configuration (refusing to start
 * on any bad value), opens the store, restores the waiting rooms from it
 * (restore.c: visits live at the last stop come back, away with grace)
 * and starts a timer thread that once a second, under each practice's
 * lock in turn (plock.h) and glue.lock, ends
 * AWAY visits whose grace period is over and held calls whose detached
 * side did not come back in time and prunes the rate limiters and the room's
 * memory of ended visits (core/room.h). Then, on its own store handle
 * WITHOUT glue.lock (timer_store.c), it writes the heartbeat every
 * GLUE_ALIVE_EVERY_S seconds and runs the retention purge.
 * The same thread, outside glue.lock, runs the store's upkeep
 * (consult_store_maintain: for SQLite the WAL checkpoints, through the
 * store's own second connection), so no request waits for it.
 * Every store failure is logged by name (store_health.c).
 * With leases (several instances on one store, leases.c) the timer first
 * claims, renews and drops practices, and everything per practice runs only
 * for the practices this instance serves; a clean stop gives its leases up.
 * The timer also logs out idle staff, runs the retention purge (at the
 * first tick, then every purge_interval_minutes; see above) and, when a new local day
 * begins, tells waiting patients their estimates (waiting.c); between ticks, when
 * asked (glue_timer_flush_soon), sends the doctors' waiting lists held back
 * in a burst (events.c). A second thread, the
 * outbox worker (outbox.c), sends invitations. Message templates are
 * loaded and checked at init when e-mail or SMS is configured.
 * Shutdown: a clean stop is announced to every handle first (stop.c);
 * at destroy the timer and outbox threads are joined, then the store closed.
 * destroy_session turns a vanished patient into AWAY (place kept) and holds
 * a call whose participant vanished (core/decide.h PATIENT_GONE,
 * DOCTOR_LEAVE); a vanished doctor's ringing becomes DOCTOR_DROP. No media
 * ever reaches us.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "auth.h"
#include "login_limits.h"
#include "dispatch.h"
#include "admin.h"
#include "forward.h"
#include "messages.h"
#include "store_health.h"

glue_state glue;
janus_callbacks *glue_gateway;

static volatile gint initialized, stopping;
static GThread *timer_thread;
static GMutex timer_mutex;
static GCond timer_cond;

/* --- timer thread --- */

/* Ends the AWAY visits whose grace period is over, and the holds of calls
 * whose detached side did not come back (patient side: the visit ends;
 * doctor side: as DOCTOR_DROP): every visit's store write and room change
 * first, then every visit's events, so the waiting lists and positions
 * pushed show all of them. The room changes even if the store write fails
 * (the next write of the visit catches up; a restart restores it). */
static void expire_practice(glue_practice *p, int64_t now)
{
	size_t away = consult_room_due(p->room, now, NULL, 0);
	size_t held = consult_room_held_due(p->room, now, NULL, 0);
	if (away + held == 0)
		return;
	consult_decision *d = g_new0(consult_decision, away + held);
	consult_room_due_item *due = g_new0(consult_room_due_item, away + held);
	int64_t *ids = g_new(int64_t, away + 1);
	away = consult_room_due(p->room, now, ids, away);
	for (size_t i = 0; i < away; i++)
		due[i] = (consult_room_due_item){ ids[i], CONSULT_EV_GRACE_EXPIRED, 0 };
	held = consult_room_held_due(p->room, now, due + away, held);
	size_t n = away + held;
	for (size_t i = 0; i < n; i++) {
		consult_room_event in = { .in = CONSULT_IN_VISIT, .ev = due[i].ev, .visit_id = due[i].visit_id };
		consult_actor doctor = { CONSULT_ACTOR_DOCTOR, due[i].doctor_id };
		if (consult_room_decide(p->room, &in, due[i].doctor_id ? &doctor : NULL, now, &d[i]) == CONSULT_OK)
			(void)glue_run_part(p, &d[i], 0, d[i].changed, NULL, now, true);
	}
	for (size_t i = 0; i < n; i++)
		(void)glue_run_part(p, &d[i], d[i].changed, d[i].fx.n, NULL, now, true);
	g_free(ids);
	g_free(due);
	g_free(d);
}

static int64_t next_purge; /* timer thread only; 0: purge at the first tick */
static int64_t next_alive; /* timer thread only: the next heartbeat */

/* Each practice under its own lock (plock.h), one at a time, then the
 * global tables under glue.lock alone. */
static void tick(int64_t now)
{
	g_mutex_lock(&glue.lock);
	GArray *ids = glue_practice_ids();
	g_mutex_unlock(&glue.lock);
	for (guint i = 0; i < ids->len; i++) {
		int64_t id = g_array_index(ids, int64_t, i);
		glue_practice_lock(id);
		glue_pool_checkout(); /* PostgreSQL: its visit writes without glue.lock (plock.h) */
		g_mutex_lock(&glue.lock);
		glue_pool_drop(true);
		glue_practice *p = glue_practice_find(id);
		if (p && glue_lease_serves(id)) { /* else: its safe time just ended: the next lease tick drops it */
			expire_practice(p, now);
			glue_staff_idle_check(p, now);
			glue_staff_sessions_check(p, now);
			consult_room_ended_prune(p->room, now);
			glue_day_tick(p, now);
		}
		glue_pool_drop(false);
		g_mutex_unlock(&glue.lock);
		glue_pool_checkin();
		glue_practice_unlock();
	}
	g_array_free(ids, TRUE);
	glue_forward_losses_run(now, false);
	g_mutex_lock(&glue.lock);
	consult_ratelimit_prune(glue.rl_login, now);
	consult_ratelimit_prune(glue.rl_join, now);
	consult_ratelimit_prune(glue.rl_join_practice, now);
	consult_rejoin_prune(glue.rejoin, now);
	g_mutex_unlock(&glue.lock);
}

/* The heartbeat and the retention purge, on the timer's own store handle
 * WITHOUT glue.lock (timer_store.c): they change nothing in memory, so a
 * slow database keeps only the timer waiting, not every handle. */
static void periodic_store(int64_t now)
{
	bool alive = now >= next_alive, purge = now >= next_purge;
	if (!alive && !purge)
		return;
	consult_store *st = glue_timer_store_begin();
	if (alive) {
		glue_lifecycle_alive(st, now); /* none after a clean stop was recorded */
		next_alive = now + GLUE_ALIVE_EVERY_S;
	}
	if (purge) {
		(void)glue_retention_run(st, now, NULL);
		glue_login_limit_prune(st, now);
		next_purge = now + glue.cfg.purge_interval_minutes * 60;
	}
	glue_timer_store_end(st);
}

/* Outside glue.lock: the store handle stays valid while this thread runs
 * and upkeep never uses the connection the requests use. */
static void upkeep(int64_t now)
{
	consult_store_upkeep r;
	if (consult_store_maintain(glue.store, now, &r) != CONSULT_OK)
		JANUS_LOG(LOG_WARN, "[consult] store upkeep: %s\n", r.error);
	else if (r.ran)
		JANUS_LOG(LOG_DBG, "[consult] store upkeep: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT "%s\n", r.done,
		        r.due, r.complete ? ", complete" : "");
}

static gint64 flush_at; /* monotonic time the held-back waiting lists are due, 0 none (timer_mutex) */

void glue_timer_flush_soon(int ms)
{
	gint64 at = g_get_monotonic_time() + (gint64)ms * G_TIME_SPAN_MILLISECOND;
	g_mutex_lock(&timer_mutex);
	if (flush_at == 0 || at < flush_at) {
		flush_at = at;
		g_cond_broadcast(&timer_cond);
	}
	g_mutex_unlock(&timer_mutex);
}

/* Once a second the tick and the upkeep; in between, when asked, the
 * waiting lists held back in a burst (glue_push_waiting). */
static gpointer timer_main(gpointer data)
{
	JANUS_LOG(LOG_VERB, "[consult] timer thread started\n");
	gint64 next_tick = g_get_monotonic_time() + G_TIME_SPAN_SECOND;
	while (!g_atomic_int_get(&stopping)) {
		g_mutex_lock(&timer_mutex);
		for (;;) {
			gint64 until = flush_at && flush_at < next_tick ? flush_at : next_tick;
			if (g_atomic_int_get(&stopping) || g_get_monotonic_time() >= until)
				break;
			g_cond_wait_until(&timer_cond, &timer_mutex, until);
		}
		gint64 mono = g_get_monotonic_time();
		bool flush = flush_at && mono >= flush_at;
		if (flush)
			flush_at = 0;
		g_mutex_unlock(&timer_mutex);
		if (g_atomic_int_get(&stopping))
			break;
		if (flush) {
			g_mutex_lock(&glue.lock);
			glue_flush_waiting();
			g_mutex_unlock(&glue.lock);
		}
		if (mono >= next_tick) {
			glue_leases_tick();
			int64_t now = glue_now();
			tick(now);
			periodic_store(now);
			upkeep(now);
			next_tick = g_get_monotonic_time() + G_TIME_SPAN_SECOND;
		}
	}
	JANUS_LOG(LOG_VERB, "[consult] timer thread stopped\n");
	return NULL;
}

/* --- plugin lifecycle --- */

static void free_state(void)
{
	glue_practices_free();
	glue_leases_free();
	glue_timer_store_close();
	glue_pool_close();
	if (glue.store)
		consult_store_close(glue.store);
	if (glue.rl_login)
		consult_ratelimit_free(glue.rl_login);
	if (glue.rl_join)
		consult_ratelimit_free(glue.rl_join);
	if (glue.rl_join_practice)
		consult_ratelimit_free(glue.rl_join_practice);
	consult_rejoin_free(glue.rejoin);
	glue.rejoin = NULL;
	glue.store = NULL;
	glue.rl_login = glue.rl_join = glue.rl_join_practice = NULL;
	glue_auth_deinit();
	glue_messages_free();
	glue_config_clear(&glue.cfg);
}

static int consult_init(janus_callbacks *callback, const char *config_path)
{
	if (g_atomic_int_get(&stopping) || callback == NULL || config_path == NULL)
		return -1;
	glue_clock_init();
	if (glue_config_load(config_path, &glue.cfg) != 0)
		return -1;
	bool sessions = false, outbox = false;
	char err[256] = "";
	GError *gerr = NULL;
	if (glue_auth_init(glue.cfg.password_cost) != 0)
		goto fail;
	glue_auth_slots_init(glue.cfg.password_checks);
	glue.store = consult_store_open(glue.cfg.database, err, sizeof(err));
	if (glue.store == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot open the database: %s\n", err);
		goto fail;
	}
	glue_store_watch();
	if (glue_pool_open() != 0)
		goto fail;
	glue.started_at = glue_now();
	glue.stopped_at = 0;
	g_mutex_lock(&glue.lock);
	if (glue_leases_init() != 0) {
		g_mutex_unlock(&glue.lock);
		goto fail;
	}
	glue_restore_rooms(glue.started_at);
	glue_day_load(glue.started_at, 0);
	glue_lifecycle_alive(glue.store, glue.started_at);
	g_mutex_unlock(&glue.lock);
	(void)glue_timer_store_open(); /* none: its work runs under glue.lock (logged) */
	next_alive = glue.started_at + GLUE_ALIVE_EVERY_S;
	glue.rl_login = glue_rl_new_login();
	glue.rl_join = glue_rl_new_join();
	glue.rl_join_practice = glue_rl_new_practice();
	glue.rejoin = consult_rejoin_new(CONSULT_REJOIN_MAX, CONSULT_REJOIN_WINDOW_S, 100000);
	if (!glue.rl_login || !glue.rl_join || !glue.rl_join_practice || !glue.rejoin)
		goto fail;
	if ((glue.cfg.smtp_url || glue.cfg.sms_url) && glue_messages_load(glue.cfg.templates_dir) != 0)
		goto fail;
	glue_sessions_init();
	glue_forward_init(glue_forward_lost);
	glue_gateway = callback;
	sessions = true;
	if (glue_outbox_start() != 0)
		goto fail;
	outbox = true;
	if (glue_stop_watch_start() != 0)
		goto fail;
	timer_thread = g_thread_try_new("consult timer", timer_main, NULL, &gerr);
	if (timer_thread == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot start the timer thread: %s\n", gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		goto fail;
	}
	g_atomic_int_set(&initialized, 1);
	JANUS_LOG(LOG_INFO, "%s initialized (grace %" G_GINT64_FORMAT " s, events %s, instance %s)\n", GLUE_PACKAGE,
	        glue.cfg.grace_seconds, glue.cfg.events ? "on" : "off", glue.cfg.instance);
	return 0;

fail:
	glue_stop_watch_end();
	if (outbox)
		glue_outbox_stop();
	if (sessions) {
		glue_forward_deinit();
		glue_sessions_deinit();
	}
	free_state();
	return -1;
}

static void consult_destroy(void)
{
	if (!g_atomic_int_get(&initialized))
		return;
	glue_stop_watch_end();
	g_atomic_int_set(&stopping, 1);
	g_mutex_lock(&timer_mutex);
	g_cond_broadcast(&timer_cond);
	g_mutex_unlock(&timer_mutex);
	if (timer_thread) {
		g_thread_join(timer_thread);
		timer_thread = NULL;
	}
	glue_leases_stop(); /* no renewal after the release below */
	glue_outbox_stop();
	glue_forward_deinit();
	if (!glue_dispatch_drain(5000)) /* a request may be in a round trip without glue.lock (plock.h) */
		JANUS_LOG(LOG_WARN, "[consult] stopping with requests still running\n");
	g_mutex_lock(&glue.lock);
	glue_forward_losses_run(0, true);
	glue_practices_free();
	glue_leases_release();
	g_mutex_unlock(&glue.lock);
	glue_sessions_deinit();
	free_state();
	g_atomic_int_set(&initialized, 0);
	JANUS_LOG(LOG_INFO, "%s destroyed\n", GLUE_PACKAGE);
}

static int consult_api_compat(void)
{
	return JANUS_PLUGIN_API_VERSION;
}
static int consult_version(void)
{
	return GLUE_VERSION;
}
static const char *consult_version_string(void)
{
	return GLUE_VERSION_STRING;
}
static const char *consult_description(void)
{
	return "Video consultation: waiting room and call signaling for medical practices.";
}
static const char *consult_name(void)
{
	return "Consult";
}
static const char *consult_author(void)
{
	return "consult contributors";
}
static const char *consult_package(void)
{
	return GLUE_PACKAGE;
}

static bool running(void)
{
	return g_atomic_int_get(&initialized) && !g_atomic_int_get(&stopping);
}

static void consult_create_session(janus_plugin_session *handle, int *error)
{
	if (!running()) {
		*error = -1;
		return;
	}
	glue_session_create(handle);
}

static void consult_destroy_session(janus_plugin_session *handle, int *error)
{
	if (!running()) {
		*error = -1;
		return;
	}
	int64_t now = glue_now(); /* before the handle leaves the table (tests wait for that) */
	glue_session *s = glue_session_remove(handle);
	if (s == NULL) {
		*error = -2;
		return;
	}
	glue_dispatch_busy(true);                 /* destroy waits for it (glue_dispatch_drain) */
	if (glue_lock_session_practice(s) != 0) { /* its practice's lock (if any), then glue.lock */
		/* PostgreSQL: its visit write on a pooled handle without glue.lock
		 * (plock.h); the practice's lock keeps the handle as it is. */
		g_mutex_unlock(&glue.lock);
		glue_pool_checkout();
		g_mutex_lock(&glue.lock);
		glue_pool_drop(true);
	}
	if (glue.stopped_at)
		now = glue.stopped_at; /* handles go with a clean stop: they went when it began */
	glue_forward_end(s);
	if ((s->kind == GLUE_PATIENT || s->kind == GLUE_STAFF) && !glue_lease_serves(s->practice_id))
		; /* served elsewhere now: its visit is the holder's, nothing written */
	else if (s->kind == GLUE_PATIENT)
		glue_patient_detach(s, now);
	else if (s->kind == GLUE_STAFF)
		glue_staff_detach(s, true, now);
	glue_session_reset(s);
	glue_pool_drop(false);
	g_mutex_unlock(&glue.lock);
	glue_pool_checkin();
	glue_practice_unlock();
	glue_dispatch_busy(false);
	glue_session_unref(s);
}

static json_t *consult_query_session(janus_plugin_session *handle)
{
	if (!running())
		return NULL;
	glue_session *s = glue_session_lookup(handle);
	if (s == NULL)
		return NULL;
	json_t *o = json_object();
	g_mutex_lock(&glue.lock);
	json_object_set_new(o, "kind", json_string(glue_kind_name(s->kind)));
	if (s->kind == GLUE_STAFF)
		json_object_set_new(o, "role", json_string(consult_role_name(s->role)));
	glue_practice *p = glue_practice_find(s->practice_id);
	int64_t vid = s->kind == GLUE_STAFF ? s->call_visit_id : s->visit_id;
	consult_visit *v = (p && vid) ? consult_room_visit(p->room, vid) : NULL;
	json_object_set_new(o, "state", json_string(v ? consult_visit_state_name(v->state) : "idle"));
	g_mutex_unlock(&glue.lock);
	glue_forward_query(handle, o);
	glue_session_unref(s);
	return o;
}

static struct janus_plugin_result *consult_handle_message(
        janus_plugin_session *handle, char *transaction, json_t *message, json_t *jsep)
{
	if (!running()) {
		g_free(transaction);
		json_decref(message);
		json_decref(jsep);
		return janus_plugin_result_new(JANUS_PLUGIN_ERROR, "consult is not running", NULL);
	}
	return glue_handle_message(handle, transaction, message, jsep);
}

static json_t *consult_handle_admin_message(json_t *message)
{
	if (!running())
		return NULL;
	return glue_admin_message(message);
}

janus_plugin glue_plugin = JANUS_PLUGIN_INIT(.init = consult_init, .destroy = consult_destroy,
        .get_api_compatibility = consult_api_compat, .get_version = consult_version,
        .get_version_string = consult_version_string, .get_description = consult_description, .get_name = consult_name,
        .get_author = consult_author, .get_package = consult_package, .create_session = consult_create_session,
        .handle_message = consult_handle_message, .handle_admin_message = consult_handle_admin_message,
        .setup_media = glue_forward_setup_media, .incoming_rtp = glue_forward_incoming_rtp,
        .incoming_rtcp = glue_forward_incoming_rtcp, .incoming_data = glue_forward_incoming_data,
        .data_ready = glue_forward_data_ready, .slow_link = glue_forward_slow_link,
        .hangup_media = glue_forward_hangup_media, .destroy_session = consult_destroy_session,
        .query_session = consult_query_session, );

__attribute__((visibility("default"))) janus_plugin *create(void);
__attribute__((visibility("default"))) janus_plugin *create(void)
{
	return &glue_plugin;
}
