/* store_lifecycle.c - the lifecycle of the process using the store
 * (store.h): its heartbeat and its last clean stop.
 *
 * Contract: one row (id 1) in table lifecycle. consult_store_alive()
 * records the heartbeat (alive_at), consult_store_stopped() a clean stop
 * (stopped_at); either creates the row. At the next start the caller reads
 * both to know when the previous process went away: at its clean stop if
 * that is not older than its last heartbeat, else (a crash) at the last
 * heartbeat. One statement per write; no logging.
 */
#include "store_internal.h"

enum { L_ALIVE = STORE_SLOT_LIFECYCLE, L_STOPPED, L_READ, L_END };
_Static_assert((int)L_END <= (int)STORE_SLOTS, "store_lifecycle.c: too many statements for its slot range");

static const char *const sql_of[L_END - STORE_SLOT_LIFECYCLE] = {
	[L_ALIVE - STORE_SLOT_LIFECYCLE] = "INSERT INTO lifecycle(id, alive_at) VALUES (1, ?1)"
	                                   " ON CONFLICT(id) DO UPDATE SET alive_at = excluded.alive_at",
	[L_STOPPED - STORE_SLOT_LIFECYCLE] = "INSERT INTO lifecycle(id, alive_at, stopped_at) VALUES (1, ?1, ?1)"
	                                     " ON CONFLICT(id) DO UPDATE SET stopped_at = excluded.stopped_at",
	[L_READ - STORE_SLOT_LIFECYCLE] = "SELECT alive_at, coalesce(stopped_at, 0) FROM lifecycle WHERE id = 1",
};

consult_err consult_store_alive(consult_store *s, int64_t now)
{
	return STORE_WRITE(s, L_ALIVE, sql_of[L_ALIVE - STORE_SLOT_LIFECYCLE], NULL, now);
}

consult_err consult_store_stopped(consult_store *s, int64_t now)
{
	return STORE_WRITE(s, L_STOPPED, sql_of[L_STOPPED - STORE_SLOT_LIFECYCLE], NULL, now);
}

consult_err consult_store_lifecycle(consult_store *s, int64_t *alive_at, int64_t *stopped_at)
{
	*alive_at = *stopped_at = 0;
	stmt_use u;
	if (!store_stmt(s, L_READ, sql_of[L_READ - STORE_SLOT_LIFECYCLE], &u))
		return CONSULT_ERR_INTERNAL;
	int rc = db_step(s, u.st);
	consult_err e = CONSULT_OK;
	if (rc == DB_ROW) {
		*alive_at = db_col_int64(u.st, 0);
		*stopped_at = db_col_int64(u.st, 1);
	} else {
		e = rc == DB_DONE ? CONSULT_ERR_NOT_FOUND : store_failed(s);
	}
	store_stmt_release(&u);
	return e;
}
