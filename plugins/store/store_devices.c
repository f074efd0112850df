/* store_devices.c - known staff devices (store.h, schema v5).
 *
 * Contract: a device row holds the staff id, the BLAKE2b-256 hash of the
 * device token (never the token), its creation and last use. Lookup is by
 * the hash through its UNIQUE index; the caller compares what it gets in
 * constant time. Issuing a new device keeps at most `keep` devices per
 * staff member (the least recently used go first) in the same unit of work,
 * so the table is bounded by staff x keep. Rows go with the staff member
 * (ON DELETE CASCADE), on revoke and in the purge of unused ones. No
 * logging; errors as in store_sqlite.c.
 */
#include "store_internal.h"

#include <string.h>

enum {
	D_FIND = STORE_SLOT_DEVICES, D_ROTATE, D_INSERT, D_TRIM, D_REVOKE, D_PURGE,
	D_END
};
_Static_assert((int)D_END <= (int)STORE_EXT_SLOTS, "store_devices.c: too many statements for its slot range");

static const char *const sql_of[D_END - STORE_SLOT_DEVICES] = {
	[D_FIND - STORE_SLOT_DEVICES] =
		"SELECT id, staff_id, created_at, last_used_at, token_hash FROM staff_devices WHERE token_hash = ?1",
	[D_ROTATE - STORE_SLOT_DEVICES] =
		"UPDATE staff_devices SET token_hash = ?1, last_used_at = ?2 WHERE id = ?3 AND staff_id = ?4",
	[D_INSERT - STORE_SLOT_DEVICES] =
		"INSERT INTO staff_devices (staff_id, token_hash, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)",
	[D_TRIM - STORE_SLOT_DEVICES] =
		"DELETE FROM staff_devices WHERE staff_id = ?1 AND id NOT IN"
		" (SELECT id FROM staff_devices WHERE staff_id = ?1 ORDER BY last_used_at DESC, id DESC LIMIT ?2)",
	[D_REVOKE - STORE_SLOT_DEVICES] = "DELETE FROM staff_devices WHERE staff_id = ?1",
	[D_PURGE - STORE_SLOT_DEVICES] = "DELETE FROM staff_devices WHERE last_used_at < ?1",
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt_ext(s, slot, sql_of[slot - STORE_SLOT_DEVICES], u);
}

consult_err consult_store_device_find(consult_store *s, const uint8_t hash[CONSULT_DEVICE_HASH_LEN], consult_device *out)
{
	memset(out, 0, sizeof *out);
	stmt_use u;
	if (!get(s, D_FIND, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_blob(u.st, 1, hash, CONSULT_DEVICE_HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(u.st);
	consult_err e;
	if (rc == SQLITE_ROW && sqlite3_column_bytes(u.st, 4) == CONSULT_DEVICE_HASH_LEN) {
		out->id = sqlite3_column_int64(u.st, 0);
		out->staff_id = sqlite3_column_int64(u.st, 1);
		out->created_at = sqlite3_column_int64(u.st, 2);
		out->last_used_at = sqlite3_column_int64(u.st, 3);
		memcpy(out->hash, sqlite3_column_blob(u.st, 4), CONSULT_DEVICE_HASH_LEN);
		e = CONSULT_OK;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		e = CONSULT_ERR_NOT_FOUND;
	} else {
		e = store_map_rc(s, rc);
	}
	store_stmt_release(&u);
	return e;
}

consult_err consult_store_device_issue(consult_store *s, int64_t staff_id, int64_t replace_id,
	const uint8_t hash[CONSULT_DEVICE_HASH_LEN], int64_t now, int keep, int64_t *id)
{
	bool outer;
	if (!store_tx_begin(s, &outer))
		return CONSULT_ERR_INTERNAL;
	stmt_use u;
	consult_err e = CONSULT_ERR_INTERNAL;
	int64_t dev = replace_id;
	if (replace_id > 0) {
		if (get(s, D_ROTATE, &u)) {
			sqlite3_bind_blob(u.st, 1, hash, CONSULT_DEVICE_HASH_LEN, SQLITE_STATIC);
			sqlite3_bind_int64(u.st, 2, now);
			sqlite3_bind_int64(u.st, 3, replace_id);
			sqlite3_bind_int64(u.st, 4, staff_id);
			e = store_run_update_one(s, &u);
		}
	} else {
		if (get(s, D_INSERT, &u)) {
			sqlite3_bind_int64(u.st, 1, staff_id);
			sqlite3_bind_blob(u.st, 2, hash, CONSULT_DEVICE_HASH_LEN, SQLITE_STATIC);
			sqlite3_bind_int64(u.st, 3, now);
			e = store_run_write(s, &u, NULL);   /* no such staff: FK -> NOT_FOUND */
			if (e == CONSULT_OK)
				dev = sqlite3_last_insert_rowid(s->db);
		}
		if (e == CONSULT_OK) {
			e = CONSULT_ERR_INTERNAL;
			if (get(s, D_TRIM, &u)) {
				sqlite3_bind_int64(u.st, 1, staff_id);
				sqlite3_bind_int64(u.st, 2, keep < 1 ? 1 : keep);
				e = store_run_write(s, &u, NULL);
			}
		}
	}
	if (!store_tx_end(s, outer, e == CONSULT_OK) && e == CONSULT_OK)
		e = CONSULT_ERR_INTERNAL;
	if (e == CONSULT_OK && id)
		*id = dev;
	return e;
}

static consult_err delete_by(consult_store *s, int slot, int64_t v, int64_t *n)
{
	stmt_use u;
	if (n)
		*n = 0;
	if (!get(s, slot, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, v);
	int changes = 0;
	consult_err e = store_run_write(s, &u, &changes);
	if (e == CONSULT_OK && n)
		*n = changes;
	return e;
}

consult_err consult_store_devices_revoke(consult_store *s, int64_t staff_id, int64_t *n)
{
	return delete_by(s, D_REVOKE, staff_id, n);
}

consult_err consult_store_devices_purge(consult_store *s, int64_t unused_before, int64_t *n)
{
	return delete_by(s, D_PURGE, unused_before, n);
}
