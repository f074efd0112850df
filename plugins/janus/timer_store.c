/* timer_store.c - the timer thread's own store handle.
 *
 * Contract: glue_timer_store_open() (init, before the timer thread starts)
 * opens a second handle - a second connection - when the database is
 * PostgreSQL, where every call is a network round trip. On SQLite (local
 * calls of microseconds) there is none: a second connection's purge would
 * make the requests' writes wait in SQLite's busy timeout and fail after
 * it, where they now wait for glue.lock. Only the timer thread uses it,
 * for the periodic store work that changes nothing in memory (heartbeat,
 * retention purge, lease reads and renewals), so that work runs WITHOUT
 * glue.lock and a slow database no longer stalls every handle while the
 * timer waits for it. glue_timer_store_begin() gives that handle, or -
 * when there is none (SQLite, or the open failed: logged once) -
 * glue.store with glue.lock taken, the old way; glue_timer_store_end()
 * gives it back (unlocking if it was locked). Its
 * failures are logged by the same hook as the requests' handle's
 * (store_health.c) but not counted against any request.
 */
#include <string.h>
#include <glib.h>
#include <janus/debug.h>
#include "glue.h"
#include "store_health.h"

static consult_store *own; /* the timer thread's handle, or NULL */

int glue_timer_store_open(void)
{
	const char *db = glue.cfg.database;
	if (db == NULL || (strncmp(db, "postgresql://", 13) != 0 && strncmp(db, "postgres://", 11) != 0))
		return 0; /* SQLite: its work stays under glue.lock */
	char err[256] = "";
	own = consult_store_open(db, err, sizeof(err));
	if (own == NULL) {
		JANUS_LOG(LOG_WARN,
		        "[consult] timer: no store handle of its own (%s); its store work runs under the lock\n", err);
		return -1;
	}
	glue_store_watch_handle(own);
	return 0;
}

void glue_timer_store_close(void)
{
	if (own)
		consult_store_close(own);
	own = NULL;
}

consult_store *glue_timer_store_begin(void)
{
	if (own)
		return own;
	g_mutex_lock(&glue.lock);
	return glue.store;
}

void glue_timer_store_end(consult_store *st)
{
	if (st != own)
		g_mutex_unlock(&glue.lock);
}

unsigned glue_timer_store_errors(void)
{
	return own ? consult_store_error_count(own) : 0;
}
