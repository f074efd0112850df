/* store_devices.c - known staff devices (store.h).
 *
 * Contract: a device row holds the staff id, the BLAKE2b-256 hash of the
 * device token (never the token), its creation and last use. Lookup is by
 * the hash through its UNIQUE index; the caller compares what it gets in
 * constant time. Issuing a new device keeps at most `keep` devices per
 * staff member (the least recently used go first) in the same unit of work,
 * so the table is bounded by staff x keep. Rows go with the staff member
 * (ON DELETE CASCADE), on revoke and in the purge of unused ones. No
 * logging; errors as in store_stmt.c.
 */
#include "store_internal.h"

#include <stddef.h>
#include <string.h>

enum { D_FIND = STORE_SLOT_DEVICES, D_ROTATE, D_INSERT, D_TRIM, D_REVOKE, D_PURGE, D_END };
_Static_assert((int)D_END <= (int)STORE_SLOT_LIFECYCLE, "store_devices.c: too many statements for its slot range");

static const char *const sql_of[D_END - STORE_SLOT_DEVICES] = {
	[D_FIND - STORE_SLOT_DEVICES] = "SELECT id, staff_id, created_at, last_used_at, token_hash FROM staff_devices"
	                                " WHERE token_hash = ?1 AND length(token_hash) = 32",
	[D_ROTATE - STORE_SLOT_DEVICES] =
	        "UPDATE staff_devices SET token_hash = ?1, last_used_at = ?2 WHERE id = ?3 AND staff_id = ?4",
	[D_INSERT - STORE_SLOT_DEVICES] =
	        "INSERT INTO staff_devices (staff_id, token_hash, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)"
	        " RETURNING id",
	[D_TRIM - STORE_SLOT_DEVICES] =
	        "DELETE FROM staff_devices WHERE staff_id = ?1 AND id NOT IN"
	        " (SELECT id FROM staff_devices WHERE staff_id = ?1 ORDER BY last_used_at DESC, id DESC LIMIT ?2)",
	[D_REVOKE - STORE_SLOT_DEVICES] = "DELETE FROM staff_devices WHERE staff_id = ?1",
	[D_PURGE - STORE_SLOT_DEVICES] = "DELETE FROM staff_devices WHERE last_used_at < ?1",
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt(s, slot, sql_of[slot - STORE_SLOT_DEVICES], u);
}

#define DV_(kind, field)                                       \
	{                                                      \
		kind, offsetof(consult_device, field), 0, NULL \
	}
static const store_col device_cols[] = {
	DV_(COL_I64, id),
	DV_(COL_I64, staff_id),
	DV_(COL_I64, created_at),
	DV_(COL_I64, last_used_at),
	{ COL_BYTES, offsetof(consult_device, hash), CONSULT_DEVICE_HASH_LEN, NULL },
};
#undef DV_
static const store_row device_row = STORE_ROW(consult_device, device_cols);

consult_err consult_store_device_find(
        consult_store *s, const uint8_t hash[CONSULT_DEVICE_HASH_LEN], consult_device *out)
{
	memset(out, 0, sizeof *out);
	stmt_use u;
	if (!get(s, D_FIND, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_blob(u.st, 1, hash, CONSULT_DEVICE_HASH_LEN);
	return store_one(s, &u, &device_row, out);
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
			db_bind_blob(u.st, 1, hash, CONSULT_DEVICE_HASH_LEN);
			db_bind_int64(u.st, 2, now);
			db_bind_int64(u.st, 3, replace_id);
			db_bind_int64(u.st, 4, staff_id);
			e = store_run_update_one(s, &u);
		}
	} else {
		if (get(s, D_INSERT, &u)) {
			db_bind_int64(u.st, 1, staff_id);
			db_bind_blob(u.st, 2, hash, CONSULT_DEVICE_HASH_LEN);
			db_bind_int64(u.st, 3, now);
			e = store_run_insert(s, &u, &dev); /* no such staff: FK -> NOT_FOUND */
		}
		if (e == CONSULT_OK) {
			e = CONSULT_ERR_INTERNAL;
			if (get(s, D_TRIM, &u)) {
				db_bind_int64(u.st, 1, staff_id);
				db_bind_int64(u.st, 2, keep < 1 ? 1 : keep);
				e = store_run_write(s, &u, NULL);
			}
		}
	}
	e = store_tx_finish(s, outer, e);
	if (e == CONSULT_OK && id)
		*id = dev;
	return e;
}

static consult_err delete_by(consult_store *s, int slot, int64_t v, int64_t *n)
{
	return STORE_WRITE(s, slot, sql_of[slot - STORE_SLOT_DEVICES], n, v);
}

consult_err consult_store_devices_revoke(consult_store *s, int64_t staff_id, int64_t *n)
{
	return delete_by(s, D_REVOKE, staff_id, n);
}

consult_err consult_store_devices_purge(consult_store *s, int64_t unused_before, int64_t *n)
{
	return delete_by(s, D_PURGE, unused_before, n);
}
