/* store_calls.c - the lengths of connected calls, read for the estimated
 * wait of waiting patients (store.h, "lengths of connected calls").
 *
 * Contract: reads only, on existing columns of visits and appointments.
 * A call's length runs from the visit's connected_at (its first
 * "connected" report) to its ended_at; the doctor is called_by (the last
 * caller). The day's calls are found through the called_at index (a call
 * is assumed to begin at most a day before the day it ends in). No
 * logging, no names.
 */
#include "store_internal.h"

enum { C_ENDED = STORE_SLOT_CALLS, C_CONNECTED_AT, C_END_ };
_Static_assert((int)C_END_ <= (int)STORE_SLOT_LEASES, "store_calls.c: too many statements for its slot range");

static const char *const sql_of[C_END_ - STORE_SLOT_CALLS] = {
	[C_ENDED - STORE_SLOT_CALLS] =
	        "SELECT a.practice_id, coalesce(v.called_by, 0), v.ended_at, v.ended_at - v.connected_at"
	        " FROM visits v JOIN appointments a ON a.id = v.appointment_id"
	        " WHERE v.called_at >= ?1 - 86400 AND v.connected_at IS NOT NULL AND v.state = 'ended'"
	        " AND v.ended_at >= ?1 AND v.ended_at < ?2 AND v.ended_at >= v.connected_at",
	[C_CONNECTED_AT - STORE_SLOT_CALLS] = "SELECT coalesce(connected_at, 0) FROM visits WHERE id = ?1",
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt(s, slot, sql_of[slot - STORE_SLOT_CALLS], u);
}

consult_err consult_store_calls_ended(consult_store *s, int64_t from, int64_t to, consult_call_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, C_ENDED, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, from, to);
	int rc;
	while ((rc = db_step(s, u.st)) == DB_ROW) {
		consult_call_row c = {
			.practice_id = db_col_int64(u.st, 0),
			.doctor_id = db_col_int64(u.st, 1),
			.ended_at = db_col_int64(u.st, 2),
			.seconds = db_col_int64(u.st, 3),
		};
		cb(&c, ud);
	}
	consult_err e = rc == DB_DONE ? CONSULT_OK : store_failed(s);
	store_stmt_release(&u);
	return e;
}

consult_err consult_store_visit_connected_at(consult_store *s, int64_t visit_id, int64_t *at)
{
	*at = 0;
	stmt_use u;
	if (!get(s, C_CONNECTED_AT, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, visit_id);
	int rc = db_step(s, u.st);
	consult_err e = CONSULT_OK;
	if (rc == DB_ROW)
		*at = db_col_int64(u.st, 0);
	else
		e = rc == DB_DONE ? CONSULT_ERR_NOT_FOUND : store_failed(s);
	store_stmt_release(&u);
	return e;
}
