/* store_sessions.c - resumable staff sessions (store.h).
 *
 * Contract: a session row holds the staff id, the BLAKE2b-256 hash of the
 * session token issued at login (never the token), its creation and last
 * use. Lookup is by the hash through its UNIQUE index; the caller compares
 * what it gets in constant time and decides about expiry. A touch only
 * moves last_used_at forward. Rows go with the staff member (ON DELETE
 * CASCADE), one by one (logout), all of a staff member (revoke) and in the
 * purge of unused ones, so the table holds only live logins; the ids of a
 * practice's live logins are listed for the instance serving it. No logging;
 * errors as in store_stmt.c.
 */
#include "store_internal.h"

#include <stddef.h>
#include <string.h>

enum { SS_FIND = STORE_SLOT_SESSIONS, SS_INSERT, SS_TOUCH, SS_DELETE, SS_REVOKE, SS_PURGE, SS_OF_PRACTICE, SS_END };
_Static_assert((int)SS_END <= (int)STORE_SLOT_CALLS, "store_sessions.c: too many statements for its slot range");

static const char *const sql_of[SS_END - STORE_SLOT_SESSIONS] = {
	[SS_FIND - STORE_SLOT_SESSIONS] =
	        "SELECT id, staff_id, created_at, last_used_at, token_hash FROM staff_sessions"
	        " WHERE token_hash = ?1 AND length(token_hash) = 32",
	[SS_INSERT - STORE_SLOT_SESSIONS] =
	        "INSERT INTO staff_sessions (staff_id, token_hash, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)"
	        " RETURNING id",
	[SS_TOUCH - STORE_SLOT_SESSIONS] =
	        "UPDATE staff_sessions SET last_used_at = CASE WHEN last_used_at > ?2 THEN last_used_at ELSE ?2 END"
	        " WHERE id = ?1",
	[SS_DELETE - STORE_SLOT_SESSIONS] = "DELETE FROM staff_sessions WHERE id = ?1",
	[SS_REVOKE - STORE_SLOT_SESSIONS] = "DELETE FROM staff_sessions WHERE staff_id = ?1",
	[SS_PURGE - STORE_SLOT_SESSIONS] = "DELETE FROM staff_sessions WHERE last_used_at < ?1",
	[SS_OF_PRACTICE - STORE_SLOT_SESSIONS] =
	        "SELECT ss.id FROM staff_sessions ss JOIN staff st ON st.id = ss.staff_id"
	        " WHERE st.practice_id = ?1 AND st.disabled = 0 ORDER BY ss.id",
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt(s, slot, sql_of[slot - STORE_SLOT_SESSIONS], u);
}

#define SS_(kind, field)                                              \
	{                                                             \
		kind, offsetof(consult_staff_session, field), 0, NULL \
	}
static const store_col session_cols[] = {
	SS_(COL_I64, id),
	SS_(COL_I64, staff_id),
	SS_(COL_I64, created_at),
	SS_(COL_I64, last_used_at),
	{ COL_BYTES, offsetof(consult_staff_session, hash), CONSULT_SESSION_HASH_LEN, NULL },
};
#undef SS_
static const store_row session_row = STORE_ROW(consult_staff_session, session_cols);

consult_err consult_store_session_create(
        consult_store *s, int64_t staff_id, const uint8_t hash[CONSULT_SESSION_HASH_LEN], int64_t now, int64_t *id)
{
	stmt_use u;
	if (!get(s, SS_INSERT, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, staff_id);
	db_bind_blob(u.st, 2, hash, CONSULT_SESSION_HASH_LEN);
	db_bind_int64(u.st, 3, now);
	return store_run_insert(s, &u, id); /* no such staff: FK -> NOT_FOUND; same hash: CONFLICT */
}

consult_err consult_store_session_find(
        consult_store *s, const uint8_t hash[CONSULT_SESSION_HASH_LEN], consult_staff_session *out)
{
	memset(out, 0, sizeof *out);
	stmt_use u;
	if (!get(s, SS_FIND, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_blob(u.st, 1, hash, CONSULT_SESSION_HASH_LEN);
	return store_one(s, &u, &session_row, out);
}

consult_err consult_store_session_touch(consult_store *s, int64_t id, int64_t now)
{
	int64_t n = 0;
	consult_err e = STORE_WRITE(s, SS_TOUCH, sql_of[SS_TOUCH - STORE_SLOT_SESSIONS], &n, id, now);
	return e == CONSULT_OK && n == 0 ? CONSULT_ERR_NOT_FOUND : e;
}

static consult_err delete_by(consult_store *s, int slot, int64_t v, int64_t *n)
{
	return STORE_WRITE(s, slot, sql_of[slot - STORE_SLOT_SESSIONS], n, v);
}

consult_err consult_store_session_delete(consult_store *s, int64_t id)
{
	int64_t n = 0;
	consult_err e = delete_by(s, SS_DELETE, id, &n);
	return e == CONSULT_OK && n == 0 ? CONSULT_ERR_NOT_FOUND : e;
}

consult_err consult_store_sessions_revoke(consult_store *s, int64_t staff_id, int64_t *n)
{
	return delete_by(s, SS_REVOKE, staff_id, n);
}

consult_err consult_store_sessions_purge(consult_store *s, int64_t unused_before, int64_t *n)
{
	return delete_by(s, SS_PURGE, unused_before, n);
}

typedef struct session_id {
	int64_t id;
} session_id;
static const store_col id_cols[] = { { COL_I64, offsetof(session_id, id), 0, NULL } };
static const store_row id_row = STORE_ROW(session_id, id_cols);

consult_err consult_store_practice_sessions(consult_store *s, int64_t practice_id, consult_session_id_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, SS_OF_PRACTICE, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, practice_id);
	session_id row;
	consult_err e;
	while ((e = store_next(s, &u, &id_row, &row)) == CONSULT_OK)
		cb(row.id, ud);
	return store_done(e);
}
