/* restore.c - the waiting rooms survive the process: restore at start,
 * heartbeat while running, the stop time at a clean stop.
 *
 * Contract: glue_restore_rooms() runs once at init, before any handle
 * exists, glue_restore_room() for one practice when this instance begins
 * to serve it (leases.c, its room not in memory): every visit the store
 * holds as live of a practice served here is put back into its
 * practice's room (core/room.h consult_room_restore: nobody attached,
 * WAITING/AWAY -> AWAY, RINGING -> AWAY at the head, IN_CALL -> a call held
 * on both sides), with its names (typed and booked) and the booked note
 * for the staff's lists, and its new state
 * written back (so a second restart keeps away_since). Every detached
 * side gets grace_seconds from now; when nobody comes back the visit ends
 * as of when its patient went, or when the server went away (the stop
 * time if it is not older than the last heartbeat, else the heartbeat; on
 * a takeover from another instance, that instance's last renewal).
 * Visits of practices served elsewhere are left alone (not even read back).
 * glue_lifecycle_alive() is the heartbeat the timer writes every
 * GLUE_ALIVE_EVERY_S seconds on its own store handle without glue.lock
 * (timer_store.c), glue_lifecycle_stopped() records a clean stop under
 * glue.lock; a small mutex of their own keeps every heartbeat before the
 * stop's record. The rest under glue.lock; store failures are
 * logged by the store's error hook (store_health.c); logs carry ids and
 * counts only.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <janus/debug.h>
#include "glue.h"

/* When the previous process went away; now if it never ran. */
static int64_t gone_at(int64_t now)
{
	int64_t alive = 0, stopped = 0;
	if (consult_store_lifecycle(glue_store(), &alive, &stopped) != CONSULT_OK || (alive == 0 && stopped == 0))
		return now;
	return stopped >= alive ? stopped : alive;
}

static void collect(const consult_live_visit *v, void *ud)
{
	g_array_append_val((GArray *)ud, *v);
}

/* Puts one stored visit back; its state now, ENDED if it was refused. */
static consult_visit_state restore_one(const consult_live_visit *lv, int64_t gone, int64_t until)
{
	glue_practice *p = glue_practice_get(lv->practice_id);
	if (p == NULL)
		return CONSULT_VISIT_ENDED;
	consult_visit_restore in = { .id = lv->id,
		.appointment_id = lv->appointment_id,
		.doctor_id = lv->doctor_id,
		.appt_time = lv->starts_at,
		.joined_at = lv->joined_at,
		.state = lv->state,
		.called_by = lv->called_by,
		.head = lv->head,
		.away_since = lv->away_since,
		.gone_at = gone,
		.until = until };
	consult_visit *v = NULL;
	consult_err e = consult_room_restore(p->room, &in, &v);
	if (e != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] visit %" G_GINT64_FORMAT " not restored (%s)\n", lv->id,
		        consult_err_name(e));
		return CONSULT_VISIT_ENDED;
	}
	glue_visit_info *vi = g_new0(glue_visit_info, 1);
	vi->id = lv->id;
	vi->path = GLUE_PATH_NONE;
	char *first = NULL, *last = NULL;
	if (consult_store_visit_names(glue_store(), lv->id, &first, &last) == CONSULT_OK) {
		vi->first = g_strdup(first);
		vi->last = g_strdup(last);
	}
	free(first);
	free(last);
	vi->called_by = lv->called_by;
	/* a connected call that ends later counts for the wait estimates from its stored start */
	if (lv->called_by > 0) {
		int64_t at = 0;
		if (consult_store_visit_connected_at(glue_store(), lv->id, &at) == CONSULT_OK && at > 0) {
			vi->connected = true;
			vi->connected_at = at;
		}
	}
	consult_appointment a;
	memset(&a, 0, sizeof(a));
	if (consult_store_appointment_by_id(glue_store(), lv->appointment_id, &a) == CONSULT_OK) {
		vi->booked_name = g_strdup(a.booked_name);
		vi->note = g_strdup(a.note);
	}
	consult_appointment_clear(&a);
	g_hash_table_replace(p->visits, &vi->id, vi);
	/* written back: a second restart before anyone returns keeps away_since */
	(void)consult_store_visit_state(glue_store(), v->id, v->state, v->head, v->away_since);
	JANUS_LOG(LOG_VERB, "[consult] visit %" G_GINT64_FORMAT " restored as %s\n", v->id,
	        consult_visit_state_name(v->state));
	return v->state;
}

void glue_restore_rooms(int64_t now)
{
	glue_restore_room(now, 0, 0);
}

/* Keeps only the live visits this call restores. */
static void keep_served(GArray *live, int64_t practice_id)
{
	guint j = 0;
	for (guint i = 0; i < live->len; i++) {
		consult_live_visit *lv = &g_array_index(live, consult_live_visit, i);
		if ((practice_id == 0 || lv->practice_id == practice_id) && glue_lease_serves(lv->practice_id))
			g_array_index(live, consult_live_visit, j++) = *lv;
	}
	g_array_set_size(live, j);
}

void glue_restore_room(int64_t now, int64_t practice_id, int64_t gone)
{
	if (gone <= 0)
		gone = gone_at(now);
	int64_t until = now + glue.cfg.grace_seconds;
	GArray *live = g_array_new(FALSE, FALSE, sizeof(consult_live_visit));
	if (consult_store_live_visits(glue_store(), collect, live) != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] live visits not readable: waiting rooms start empty\n");
		g_array_free(live, TRUE);
		return;
	}
	keep_served(live, practice_id);
	size_t away = 0, held = 0, refused = 0;
	/* the write-backs in one commit (a start with many waiting is not
	 * slowed by one commit per visit); if it cannot open, one each */
	bool tx = live->len > 1 && consult_store_begin(glue_store()) == CONSULT_OK;
	for (guint i = 0; i < live->len; i++) {
		consult_visit_state st = restore_one(&g_array_index(live, consult_live_visit, i), gone, until);
		if (st == CONSULT_VISIT_ENDED)
			refused++;
		else if (st == CONSULT_VISIT_IN_CALL)
			held++;
		else
			away++;
	}
	if (tx && consult_store_commit(glue_store()) != CONSULT_OK)
		JANUS_LOG(LOG_ERR, "[consult] restored visits' states not written back (kept as stored)\n");
	if (live->len)
		JANUS_LOG(LOG_INFO,
		        "[consult] restored %zu waiting (away, grace %" G_GINT64_FORMAT
		        " s) and %zu held calls, %zu refused;"
		        " the server went away at %" G_GINT64_FORMAT "\n",
		        away, glue.cfg.grace_seconds, held, refused, gone);
	g_array_free(live, TRUE);
}

/* Orders a heartbeat on another handle against the stop's record; taken
 * after glue.lock (stop), or alone (timer). */
static GMutex lifecycle_mutex;
static bool stop_recorded; /* under lifecycle_mutex */

void glue_lifecycle_alive(consult_store *st, int64_t now)
{
	g_mutex_lock(&lifecycle_mutex);
	if (!stop_recorded)
		(void)consult_store_alive(st, now);
	g_mutex_unlock(&lifecycle_mutex);
}

void glue_lifecycle_stopped(int64_t now)
{
	g_mutex_lock(&lifecycle_mutex);
	stop_recorded = true;
	if (consult_store_stopped(glue_store(), now) == CONSULT_OK)
		JANUS_LOG(LOG_INFO, "[consult] stop recorded at %" G_GINT64_FORMAT "\n", now);
	g_mutex_unlock(&lifecycle_mutex);
}
