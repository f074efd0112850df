/* timer_store.c - the timer thread's own store handle.
 *
 * Contract: glue_timer_store_open() (init, before the timer thread starts)
 * opens a second handle on the configured database: on PostgreSQL a second
 * connection, on an SQLite file a second connection to the same file (its
 * writes wait for the requests' ones through SQLite's busy timeout, as they
 * waited for glue.lock before). Only the timer thread uses it, for the
 * periodic store work that changes nothing in memory (heartbeat, retention
 * purge, lease renewals), so that work runs WITHOUT glue.lock and a slow
 * database no longer stalls every handle while the timer waits for it.
 * glue_timer_store_begin() gives that handle, or - when there is none (an
 * in-memory database, which a second handle would not share, or the open
 * failed: logged once) - glue.store with glue.lock taken, the old way;
 * glue_timer_store_end() gives it back (unlocking if it was locked). Its
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
	if (db == NULL || *db == '\0' || strcmp(db, ":memory:") == 0 || strncmp(db, "file::memory:", 13) == 0)
		return 0; /* a second handle would be another database */
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
