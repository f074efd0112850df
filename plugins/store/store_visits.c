/* store_visits.c - appointments, visit records and day statistics of the
 * store (store.h).
 *
 * Contract: one statement per write, so an error leaves nothing changed. An
 * appointment's status is derived in SQL from its cancellation and its
 * newest visit (the one with the highest id). A code lookup compares the
 * stored hash in constant time after the indexed lookup. States and end
 * reasons are stored by their core names (core/visit.h). No logging.
 */
#include "store_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

enum {
	A_ADD = STORE_SLOT_VISITS,
	A_BY_CODE,
	A_BY_ID,
	A_CANCEL,
	A_CANCELLED,
	A_LIST,
	A_BOOKING,
	V_BEGIN,
	V_STATE,
	V_CALLED,
	V_RING,
	V_CONNECTED,
	V_REPORT_PATIENT,
	V_REPORT_DOCTOR,
	V_END,
	V_NAMES,
	V_STATS_COUNT,
	V_STATS_MEDIAN,
	V_LIVE,
	V_END_
};
_Static_assert((int)V_END_ <= (int)STORE_SLOT_DELIVERY, "store_visits.c: too many statements for its slot range");

/* The newest visit of an appointment is the one with the highest id. */
#define APPT_COLS                                                                                      \
	"SELECT a.id, a.practice_id, a.doctor_id, a.starts_at, a.valid_from, a.valid_until,"           \
	" a.created_by, a.created_at, a.cancelled_at,"                                                 \
	" CASE WHEN a.cancelled_at IS NOT NULL THEN 'cancelled' ELSE coalesce(v.state, 'booked') END," \
	" v.end_reason, v.first_name, v.last_name, d.display_name, a.booked_name, a.note,"             \
	" a.code_hash FROM appointments a"                                                             \
	" LEFT JOIN visits v ON v.id = (SELECT max(x.id) FROM visits x WHERE x.appointment_id = a.id)" \
	" LEFT JOIN staff d ON d.id = a.doctor_id "
#define APPT_HASH_COL 16

static const char *const sql_of[V_END_ - STORE_SLOT_VISITS] = {
#define Q(id) [id - STORE_SLOT_VISITS]
	Q(A_ADD) = "INSERT INTO appointments(practice_id, doctor_id, starts_at, valid_from, valid_until,"
	           " code_hash, created_by, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8"
	           " WHERE EXISTS (SELECT 1 FROM practices WHERE id = ?1)"
	           " AND (CAST(?2 AS BIGINT) IS NULL OR EXISTS (SELECT 1 FROM staff WHERE id = ?2 AND practice_id = ?1 "
	           "AND role = 'doctor'))"
	           " RETURNING id",
	Q(A_BY_CODE) = APPT_COLS "WHERE a.code_hash = ?1",
	Q(A_BY_ID) = APPT_COLS "WHERE a.id = ?1",
	Q(A_CANCEL) = "UPDATE appointments SET cancelled_at = ?3"
	              " WHERE id = ?1 AND practice_id = ?2 AND cancelled_at IS NULL",
	Q(A_CANCELLED) = "SELECT CASE WHEN cancelled_at IS NULL THEN 0 ELSE 1 END FROM appointments"
	                 " WHERE id = ?1 AND practice_id = ?2",
	Q(A_LIST) = APPT_COLS "WHERE a.practice_id = ?1 AND a.starts_at >= ?2 AND a.starts_at < ?3"
	                      " ORDER BY a.starts_at, a.id",
	Q(A_BOOKING) = "UPDATE appointments SET booked_name = ?2, note = ?3 WHERE id = ?1",
	Q(V_BEGIN) = "INSERT INTO visits(appointment_id, first_name, last_name, joined_at, state)"
	             " VALUES (?1, ?2, ?3, ?4, 'waiting') RETURNING id",
	Q(V_STATE) = "UPDATE visits SET state = ?2, head = ?3, away_since = ?4 WHERE id = ?1",
	Q(V_CALLED) = "UPDATE visits SET called_at = coalesce(called_at, ?3), called_by = ?2 WHERE id = ?1",
	Q(V_RING) = "UPDATE visits SET state = 'ringing', called_at = coalesce(called_at, ?3),"
	            " called_by = ?2 WHERE id = ?1",
	Q(V_CONNECTED) = "UPDATE visits SET connected_at = coalesce(connected_at, ?2) WHERE id = ?1",
	Q(V_REPORT_PATIENT) = "UPDATE visits SET patient_conn_state = coalesce(?2, patient_conn_state),"
	                      " patient_local_type = coalesce(?3, patient_local_type),"
	                      " patient_remote_type = coalesce(?4, patient_remote_type) WHERE id = ?1",
	Q(V_REPORT_DOCTOR) = "UPDATE visits SET doctor_conn_state = coalesce(?2, doctor_conn_state),"
	                     " doctor_local_type = coalesce(?3, doctor_local_type),"
	                     " doctor_remote_type = coalesce(?4, doctor_remote_type),"
	                     " media_path = CASE WHEN ?3 IS NOT NULL AND ?4 IS NOT NULL THEN ?3 || '/' || ?4"
	                     " ELSE media_path END WHERE id = ?1",
	Q(V_END) = "UPDATE visits SET state = 'ended', ended_at = coalesce(ended_at, ?3),"
	           " end_reason = coalesce(end_reason, ?2) WHERE id = ?1",
	Q(V_NAMES) = "SELECT first_name, last_name FROM visits WHERE id = ?1",
	Q(V_STATS_COUNT) = "SELECT count(*) FROM visits v JOIN appointments a ON a.id = v.appointment_id"
	                   " WHERE a.practice_id = ?1 AND v.called_at >= ?2 AND v.called_at < ?3",
	Q(V_STATS_MEDIAN) = "SELECT v.called_at - v.joined_at AS w FROM visits v"
	                    " JOIN appointments a ON a.id = v.appointment_id"
	                    " WHERE a.practice_id = ?1 AND v.called_at >= ?2 AND v.called_at < ?3"
	                    " ORDER BY w LIMIT ?4 OFFSET ?5",
	Q(V_LIVE) = "SELECT v.id, v.appointment_id, a.practice_id, a.doctor_id, a.starts_at, v.joined_at, v.state,"
	            " v.called_by, v.head, v.away_since FROM visits v JOIN appointments a ON a.id = v.appointment_id"
	            " WHERE v.state <> 'ended' ORDER BY v.id",
#undef Q
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt(s, slot, sql_of[slot - STORE_SLOT_VISITS], u);
}

#define A_(kind, field, parse)                                       \
	{                                                            \
		kind, offsetof(consult_appointment, field), 0, parse \
	}
static const store_col appt_cols[] = {
	A_(COL_I64, id, NULL),
	A_(COL_I64, practice_id, NULL),
	A_(COL_I64, doctor_id, NULL), /* NULL reads as 0 = any */
	A_(COL_I64, starts_at, NULL),
	A_(COL_I64, valid_from, NULL),
	A_(COL_I64, valid_until, NULL),
	A_(COL_I64, created_by, NULL),
	A_(COL_I64, created_at, NULL),
	A_(COL_I64, cancelled_at, NULL),
	A_(COL_ENUM, status, store_parse_appt_status),
	A_(COL_ENUM, end_reason, store_parse_end_reason),
	A_(COL_TEXT, patient_first, NULL),
	A_(COL_TEXT, patient_last, NULL),
	A_(COL_TEXT, doctor_name, NULL),
	A_(COL_TEXT, booked_name, NULL),
	A_(COL_TEXT, note, NULL),
};
#undef A_
static const store_row appt_row = STORE_ROW(consult_appointment, appt_cols);

/* The two names of a visit, read into a pair of strings. */
typedef struct names {
	char *first, *last;
} names;
static const store_col names_cols[] = {
	{ COL_TEXT, offsetof(names, first), 0, NULL },
	{ COL_TEXT, offsetof(names, last), 0, NULL },
};
static const store_row names_row = STORE_ROW(names, names_cols);

#define L_(kind, field, parse)                                      \
	{                                                           \
		kind, offsetof(consult_live_visit, field), 0, parse \
	}
static const store_col live_cols[] = {
	L_(COL_I64, id, NULL),
	L_(COL_I64, appointment_id, NULL),
	L_(COL_I64, practice_id, NULL),
	L_(COL_I64, doctor_id, NULL),
	L_(COL_I64, starts_at, NULL),
	L_(COL_I64, joined_at, NULL),
	L_(COL_ENUM, state, store_parse_visit_state),
	L_(COL_I64, called_by, NULL),
	L_(COL_BOOL, head, NULL),
	L_(COL_I64, away_since, NULL),
};
#undef L_
static const store_row live_row = STORE_ROW(consult_live_visit, live_cols);

/* --- appointments --- */

void consult_appointment_clear(consult_appointment *a)
{
	store_row_free(&appt_row, a);
}

consult_err consult_store_add_appointment(consult_store *s, int64_t practice_id, int64_t doctor_id, int64_t starts_at,
        int64_t valid_from, int64_t valid_until, const uint8_t code_hash[CONSULT_CODE_HASH_LEN], int64_t created_by,
        int64_t now, int64_t *id)
{
	stmt_use u;
	/* one statement: the practice must exist and the doctor (if any) be a
	 * doctor of it, else nothing is inserted (NOT_FOUND) */
	if (!get(s, A_ADD, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, practice_id, doctor_id, starts_at, valid_from, valid_until);
	store_bind_id_or_null(u.st, 2, doctor_id);
	db_bind_blob(u.st, 6, code_hash, CONSULT_CODE_HASH_LEN);
	store_bind_id_or_null(u.st, 7, created_by);
	db_bind_int64(u.st, 8, now);
	return store_run_insert(s, &u, id); /* no such practice or doctor: nothing inserted, NOT_FOUND */
}

consult_err consult_store_set_appointment_booking(
        consult_store *s, int64_t appointment_id, const char *booked_name, const char *note)
{
	stmt_use u;
	if (!get(s, A_BOOKING, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, appointment_id);
	store_bind_text(u.st, 2, booked_name);
	store_bind_text(u.st, 3, note);
	return store_run_update_one(s, &u);
}

consult_err consult_store_appointment_by_code(
        consult_store *s, const uint8_t code_hash[CONSULT_CODE_HASH_LEN], consult_appointment *out)
{
	stmt_use u;
	memset(out, 0, sizeof *out);
	if (!get(s, A_BY_CODE, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_blob(u.st, 1, code_hash, CONSULT_CODE_HASH_LEN);
	consult_err e = store_next(s, &u, &appt_row, out);
	if (e == CONSULT_OK) {
		size_t n = 0;
		const void *h = db_col_blob(u.st, APPT_HASH_COL, &n);
		if (!h || n != CONSULT_CODE_HASH_LEN || sodium_memcmp(h, code_hash, CONSULT_CODE_HASH_LEN) != 0) {
			consult_appointment_clear(out);
			e = CONSULT_ERR_NOT_FOUND;
		}
	}
	store_stmt_release(&u);
	return e;
}

consult_err consult_store_appointment_by_id(consult_store *s, int64_t id, consult_appointment *out)
{
	return store_find(s, A_BY_ID, sql_of[A_BY_ID - STORE_SLOT_VISITS], &appt_row, out, NULL, id);
}

consult_err consult_store_cancel_appointment(consult_store *s, int64_t practice_id, int64_t id, int64_t now)
{
	stmt_use u;
	if (!get(s, A_CANCEL, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, id, practice_id, now);
	int changes = 0;
	consult_err e = store_run_write(s, &u, &changes);
	if (e != CONSULT_OK || changes == 1)
		return e;
	/* nothing changed: missing (or other practice) vs. already cancelled */
	if (!get(s, A_CANCELLED, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, id, practice_id);
	int64_t cancelled = 0;
	e = store_run_int(s, &u, &cancelled);
	if (e == CONSULT_OK)
		e = cancelled ? CONSULT_ERR_WRONG_STATE : CONSULT_ERR_INTERNAL;
	return e;
}

consult_err consult_store_list_appointments(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_appointment_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, A_LIST, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, practice_id, from, to);
	consult_appointment a;
	consult_err e;
	while ((e = store_next(s, &u, &appt_row, &a)) == CONSULT_OK) {
		cb(&a, ud);
		consult_appointment_clear(&a);
	}
	return store_done(e);
}

/* --- visits --- */

consult_err consult_store_visit_begin(consult_store *s, int64_t appointment_id, const char *first_name,
        const char *last_name, int64_t now, int64_t *visit_id)
{
	stmt_use u;
	if (!get(s, V_BEGIN, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, appointment_id);
	store_bind_text(u.st, 2, first_name);
	store_bind_text(u.st, 3, last_name);
	db_bind_int64(u.st, 4, now);
	return store_run_insert(s, &u, visit_id); /* missing appointment: FK -> NOT_FOUND */
}

/* A one-row visit update bound with ?1 = visit id and then text a (?2),
 * doctor (?2, 0 = NULL) and a time (?3) as the statement takes them. */
static consult_err visit_set(consult_store *s, int slot, int64_t visit_id, const char *text, int64_t doctor, int64_t at)
{
	stmt_use u;
	if (!get(s, slot, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, visit_id);
	if (slot == V_CONNECTED) {
		db_bind_int64(u.st, 2, at);
	} else {
		if (text)
			store_bind_text(u.st, 2, text);
		else
			store_bind_id_or_null(u.st, 2, doctor);
		if (db_param_count(u.st) >= 3)
			db_bind_int64(u.st, 3, at);
	}
	return store_run_update_one(s, &u);
}

static consult_err invalid(consult_store *s, const char *what)
{
	snprintf(s->last_error, sizeof s->last_error, "%s", what);
	return CONSULT_ERR_INVALID_FIELD;
}

consult_err consult_store_visit_state(
        consult_store *s, int64_t visit_id, consult_visit_state state, bool head, int64_t away_since)
{
	if ((unsigned)state >= CONSULT_VISIT_STATE_COUNT)
		return invalid(s, "visit: unknown state");
	stmt_use u;
	if (!get(s, V_STATE, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, visit_id, 0, head ? 1 : 0, away_since);
	store_bind_text(u.st, 2, consult_visit_state_name(state));
	store_bind_id_or_null(u.st, 4, away_since);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_called(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now)
{
	return visit_set(s, V_CALLED, visit_id, NULL, doctor_id, now);
}

consult_err consult_store_visit_ring(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now)
{
	return visit_set(s, V_RING, visit_id, NULL, doctor_id, now);
}

consult_err consult_store_visit_connected(consult_store *s, int64_t visit_id, int64_t now)
{
	return visit_set(s, V_CONNECTED, visit_id, NULL, 0, now);
}

consult_err consult_store_visit_end(consult_store *s, int64_t visit_id, consult_end_reason reason, int64_t now)
{
	if ((unsigned)reason >= CONSULT_END_REASON_COUNT)
		return invalid(s, "visit: unknown end reason");
	stmt_use u;
	if (!get(s, V_END, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, visit_id, 0, now);
	store_bind_text(u.st, 2, reason == CONSULT_END_NONE ? NULL : consult_end_reason_name(reason));
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_report(consult_store *s, int64_t visit_id, consult_party side,
        const char *connection_state, const char *local_type, const char *remote_type)
{
	if (side != CONSULT_PARTY_PATIENT && side != CONSULT_PARTY_DOCTOR)
		return invalid(s, "visit report: unknown side");
	stmt_use u;
	if (!get(s, side == CONSULT_PARTY_DOCTOR ? V_REPORT_DOCTOR : V_REPORT_PATIENT, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, visit_id);
	store_bind_text(u.st, 2, connection_state);
	store_bind_text(u.st, 3, local_type);
	store_bind_text(u.st, 4, remote_type);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_names(consult_store *s, int64_t visit_id, char **first, char **last)
{
	*first = *last = NULL;
	names n;
	consult_err e = store_find(s, V_NAMES, sql_of[V_NAMES - STORE_SLOT_VISITS], &names_row, &n, NULL, visit_id);
	if (e == CONSULT_OK) {
		*first = n.first;
		*last = n.last;
	}
	return e;
}

consult_err consult_store_live_visits(consult_store *s, consult_live_visit_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, V_LIVE, &u))
		return CONSULT_ERR_INTERNAL;
	consult_live_visit v;
	consult_err e;
	while ((e = store_next(s, &u, &live_row, &v)) == CONSULT_OK) {
		cb(&v, ud);
		store_row_free(&live_row, &v);
	}
	return store_done(e);
}

/* --- statistics --- */

consult_err consult_store_day_stats(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_day_stats *out)
{
	out->calls_today = 0;
	out->median_wait_s = -1;
	stmt_use u;
	int64_t n = 0;
	if (!get(s, V_STATS_COUNT, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, practice_id, from, to);
	consult_err e = store_run_int(s, &u, &n);
	if (e != CONSULT_OK || n == 0)
		return e;
	/* the middle row (odd n) or the two middle rows (even n), averaged */
	if (!get(s, V_STATS_MEDIAN, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, practice_id, from, to, n % 2 ? 1 : 2, (n - 1) / 2);
	int64_t sum = 0, rows = 0;
	int rc;
	while ((rc = db_step(s, u.st)) == DB_ROW) {
		sum += db_col_int64(u.st, 0);
		rows++;
	}
	if (rc != DB_DONE || rows == 0)
		e = rc != DB_DONE ? store_failed(s) : CONSULT_ERR_INTERNAL;
	store_stmt_release(&u);
	if (e != CONSULT_OK)
		return e;
	out->calls_today = n;
	out->median_wait_s = sum / rows;
	return CONSULT_OK;
}
