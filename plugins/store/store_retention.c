/* store_retention.c - the purge (three-month rule, contact wipe) and the
 * erasure of one appointment (store.h).
 *
 * Contract: each call is one unit of work (store_tx_begin/end): the counts
 * are read before the deletes inside the same transaction, so they are
 * exactly what the cascade removed; on any failure everything is rolled
 * back and the counts are zero. Deleting an appointment removes its
 * visits, contact row and outbox rows through ON DELETE CASCADE (on both
 * backends); on SQLite, with secure_delete (set at open) the freed content
 * is overwritten, and the TRUNCATE checkpoint afterwards
 * (store_checkpoint_truncate) empties the -wal file that still held the
 * old page images. Counts only, no logging.
 */
#include "store_internal.h"

#include <string.h>

enum {
	R_COUNT_VISITS = STORE_SLOT_RETENTION,
	R_COUNT_OUTBOX,
	R_DELETE_OLD,
	R_WIPE,
	R_APPT_OF,
	R_ONE_VISITS,
	R_ONE_OUTBOX,
	R_ONE_CONTACT,
	R_DELETE_ONE,
	R_END
};
_Static_assert((int)R_END <= (int)STORE_SLOT_DEVICES, "store_retention.c: too many statements for its slot range");

#define OLD_APPTS "(SELECT id FROM appointments WHERE starts_at < ?1)"

static const char *const sql_of[R_END - STORE_SLOT_RETENTION] = {
	[R_COUNT_VISITS - STORE_SLOT_RETENTION] = "SELECT count(*) FROM visits WHERE appointment_id IN " OLD_APPTS,
	[R_COUNT_OUTBOX - STORE_SLOT_RETENTION] = "SELECT count(*) FROM outbox WHERE appointment_id IN " OLD_APPTS,
	[R_DELETE_OLD - STORE_SLOT_RETENTION] = "DELETE FROM appointments WHERE starts_at < ?1",
	[R_WIPE - STORE_SLOT_RETENTION] =
	        "UPDATE appointment_contacts SET phone = NULL, email = NULL, code_box = NULL, wiped_at = ?2"
	        " WHERE appointment_id IN " OLD_APPTS
	        " AND (wiped_at IS NULL OR phone IS NOT NULL OR email IS NOT NULL OR code_box IS NOT NULL)",
	[R_APPT_OF - STORE_SLOT_RETENTION] = "SELECT 1 FROM appointments WHERE id = ?1 AND practice_id = ?2",
	[R_ONE_VISITS - STORE_SLOT_RETENTION] = "SELECT count(*) FROM visits WHERE appointment_id = ?1",
	[R_ONE_OUTBOX - STORE_SLOT_RETENTION] = "SELECT count(*) FROM outbox WHERE appointment_id = ?1",
	[R_ONE_CONTACT - STORE_SLOT_RETENTION] = "SELECT count(*) FROM appointment_contacts WHERE appointment_id = ?1",
	[R_DELETE_ONE - STORE_SLOT_RETENTION] = "DELETE FROM appointments WHERE id = ?1 AND practice_id = ?2",
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt(s, slot, sql_of[slot - STORE_SLOT_RETENTION], u);
}

/* Runs a statement bound with ?1 = a (and ?2 = b if it has ?2). Counting
 * queries store their value in *v; writes store the changed row count. */
static consult_err run(consult_store *s, int slot, int64_t a, int64_t b, bool write, int64_t *v)
{
	stmt_use u;
	if (!get(s, slot, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, a);
	if (db_param_count(u.st) >= 2)
		db_bind_int64(u.st, 2, b);
	return write ? store_run_count(s, &u, v) : store_run_int(s, &u, v);
}

/* Zeroes the counts and begins the unit of work. */
static bool start(consult_store *s, consult_purge_counts *c, consult_purge_counts *out, bool *outer)
{
	memset(c, 0, sizeof *c);
	if (out)
		memset(out, 0, sizeof *out);
	return store_tx_begin(s, outer);
}

/* Ends the unit of work; on success requests the TRUNCATE checkpoint. */
static consult_err finish(
        consult_store *s, bool outer, consult_err e, consult_purge_counts *out, const consult_purge_counts *c)
{
	if ((e = store_tx_finish(s, outer, e)) != CONSULT_OK)
		return e;
	if (out)
		*out = *c;
	store_checkpoint_truncate(s);
	return CONSULT_OK;
}

consult_err consult_store_purge(
        consult_store *s, int64_t purge_before, int64_t wipe_contact_before, int64_t now, consult_purge_counts *out)
{
	consult_purge_counts c;
	bool outer;
	if (!start(s, &c, out, &outer))
		return CONSULT_ERR_INTERNAL;
	consult_err e = run(s, R_COUNT_VISITS, purge_before, 0, false, &c.visits);
	if (e == CONSULT_OK)
		e = run(s, R_COUNT_OUTBOX, purge_before, 0, false, &c.deliveries);
	if (e == CONSULT_OK)
		e = run(s, R_DELETE_OLD, purge_before, 0, true, &c.appointments);
	if (e == CONSULT_OK)
		e = run(s, R_WIPE, wipe_contact_before, now, true, &c.contacts_wiped);
	return finish(s, outer, e, out, &c);
}

consult_err consult_store_erase_appointment(
        consult_store *s, int64_t practice_id, int64_t appointment_id, consult_purge_counts *out)
{
	consult_purge_counts c;
	bool outer;
	if (!start(s, &c, out, &outer))
		return CONSULT_ERR_INTERNAL;
	stmt_use u;
	consult_err e = CONSULT_ERR_INTERNAL;
	if (get(s, R_APPT_OF, &u)) {
		db_bind_int64(u.st, 1, appointment_id);
		db_bind_int64(u.st, 2, practice_id);
		e = store_run_exists(s, &u);
	}
	if (e == CONSULT_OK)
		e = run(s, R_ONE_VISITS, appointment_id, 0, false, &c.visits);
	if (e == CONSULT_OK)
		e = run(s, R_ONE_OUTBOX, appointment_id, 0, false, &c.deliveries);
	if (e == CONSULT_OK)
		e = run(s, R_ONE_CONTACT, appointment_id, 0, false, &c.contacts_wiped);
	if (e == CONSULT_OK)
		e = run(s, R_DELETE_ONE, appointment_id, practice_id, true, &c.appointments);
	if (e == CONSULT_OK && c.appointments != 1)
		e = CONSULT_ERR_INTERNAL;
	return finish(s, outer, e, out, &c);
}
