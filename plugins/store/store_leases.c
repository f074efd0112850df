/* store_leases.c - the practices' leases (store.h, "leases").
 *
 * Contract: table leases (schema version 8), one row per practice. The
 * claim is one upsert whose update applies only to a free row (the
 * holder's own, or expired), and RETURNING says whether it was applied;
 * the holder's own row never gets an earlier expires_at (a renewal sent
 * before a newer claim of the same holder but written after it keeps the
 * claim's end):
 * atomic in SQLite (one writer at a time) and in PostgreSQL (the row lock
 * of ON CONFLICT DO UPDATE). The SQL here is written in the dialect both
 * accept (?N placeholders, ON CONFLICT ... DO UPDATE ... WHERE, RETURNING,
 * BIGINT times), run by either driver (db.h). No logging.
 */
#include <stddef.h>
#include <stdlib.h>
#include "store_internal.h"

enum { L_CLAIM = STORE_SLOT_LEASES, L_RELEASE, L_RELEASE_ALL, L_LIST, L_END };
_Static_assert((int)L_END <= (int)STORE_SLOT_CONTACTS, "store_leases.c: too many statements for its slot range");

static const char *const sql_of[L_END - STORE_SLOT_LEASES] = {
	[L_CLAIM - STORE_SLOT_LEASES] = "INSERT INTO leases(practice_id, holder, expires_at) VALUES (?1, ?2, ?3)"
	                                " ON CONFLICT(practice_id) DO UPDATE"
	                                " SET holder = excluded.holder, expires_at = CASE WHEN leases.holder ="
	                                " excluded.holder AND leases.expires_at > excluded.expires_at THEN"
	                                " leases.expires_at ELSE excluded.expires_at END"
	                                " WHERE leases.holder = excluded.holder OR leases.expires_at < ?4"
	                                " RETURNING holder",
	[L_RELEASE - STORE_SLOT_LEASES] = "DELETE FROM leases WHERE practice_id = ?1 AND holder = ?2",
	[L_RELEASE_ALL - STORE_SLOT_LEASES] = "DELETE FROM leases WHERE holder = ?1",
	[L_LIST - STORE_SLOT_LEASES] = "SELECT practice_id, holder, expires_at FROM leases ORDER BY practice_id",
};
#define SQL(slot) sql_of[(slot)-STORE_SLOT_LEASES]

static const store_col lease_cols[] = {
	{ COL_I64, offsetof(consult_lease, practice_id), 0, NULL },
	{ COL_TEXT, offsetof(consult_lease, holder), 0, NULL },
	{ COL_I64, offsetof(consult_lease, expires_at_ms), 0, NULL },
};
static const store_row lease_row = STORE_ROW(consult_lease, lease_cols);

void consult_lease_clear(consult_lease *l)
{
	store_row_free(&lease_row, l);
}

consult_err consult_store_lease_claim(
        consult_store *s, int64_t practice_id, const char *holder, int64_t now_ms, int64_t expires_at_ms, bool *held)
{
	*held = false;
	if (holder == NULL || holder[0] == '\0')
		return CONSULT_ERR_INVALID_FIELD;
	stmt_use u;
	if (!store_stmt(s, L_CLAIM, SQL(L_CLAIM), &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, practice_id);
	store_bind_text(u.st, 2, holder);
	db_bind_int64(u.st, 3, expires_at_ms);
	db_bind_int64(u.st, 4, now_ms);
	bool row = false;
	int rc;
	while ((rc = db_step(s, u.st)) == DB_ROW)
		row = true; /* the upsert was applied: holder holds it */
	consult_err e = rc == DB_DONE ? CONSULT_OK : store_failed(s);
	store_stmt_release(&u);
	if (e == CONSULT_OK)
		*held = row;
	return e;
}

consult_err consult_store_lease_release(consult_store *s, int64_t practice_id, const char *holder, int64_t *released)
{
	if (released)
		*released = 0;
	if (holder == NULL || holder[0] == '\0')
		return CONSULT_ERR_INVALID_FIELD;
	int slot = practice_id > 0 ? L_RELEASE : L_RELEASE_ALL;
	stmt_use u;
	if (!store_stmt(s, slot, SQL(slot), &u))
		return CONSULT_ERR_INTERNAL;
	if (practice_id > 0) {
		db_bind_int64(u.st, 1, practice_id);
		store_bind_text(u.st, 2, holder);
	} else {
		store_bind_text(u.st, 1, holder);
	}
	return store_run_count(s, &u, released);
}

consult_err consult_store_list_leases(consult_store *s, consult_lease_cb cb, void *ud)
{
	stmt_use u;
	if (!store_stmt(s, L_LIST, SQL(L_LIST), &u))
		return CONSULT_ERR_INTERNAL;
	consult_lease l;
	consult_err e;
	while ((e = store_next(s, &u, &lease_row, &l)) == CONSULT_OK) {
		cb(&l, ud);
		consult_lease_clear(&l);
	}
	return store_done(e);
}
