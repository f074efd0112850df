/* store_sqlite.c - the SQLite implementation of store.h.
 *
 * Contract: one SQLite file per store handle, opened with WAL, synchronous
 * NORMAL, foreign keys, a 5 s busy timeout, secure_delete and
 * journal_size_limit (CONSULT_STORE_WAL_LIMIT), then migrated
 * (migrations.h). Every statement is prepared once and cached on the handle;
 * if a cached statement is busy (a list callback re-entered the store) a
 * private copy is prepared for that call. Each public function changes at
 * most one row set in one statement (or runs inside a transaction), so an
 * error leaves nothing changed. Error mapping: UNIQUE -> CONFLICT, missing
 * row or missing parent (FOREIGN KEY) -> NOT_FOUND, all else -> INTERNAL.
 * Silent: no logging; the SQLite message of the last failure is kept for
 * consult_store_last_error(), and each real failure is counted and passed
 * to the caller's error hook (result code and name only). No Janus headers. With manual checkpoints
 * a WAL hook (run by SQLite after each commit, on the writer's thread)
 * publishes the WAL size in atomics that the checkpoint thread reads; the
 * checkpoint connection (consult_store_ckpt) is a separate sqlite3 handle
 * used by that thread only. Schema v3 (contacts, outbox, purge, explicit
 * transactions) lives in store_delivery.c, store_retention.c and
 * store_tx.c; they share the handle and helpers through store_internal.h.
 */
#include "store.h"
#include "store_internal.h"
#include "migrations.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sodium.h>

/* --- the statement cache --- */
enum stmt_id {
	ST_HEALTH,
	ST_PRACTICE_ADD, ST_PRACTICE_BY_SLUG, ST_PRACTICE_BY_ID, ST_PRACTICE_LIST, ST_PRACTICE_EXISTS,
	ST_PRACTICE_RELAY_GET, ST_PRACTICE_RELAY_SET, ST_PRACTICE_FWD_GET, ST_PRACTICE_FWD_SET,
	ST_STAFF_ADD, ST_STAFF_BY_USERNAME, ST_STAFF_BY_ID, ST_STAFF_SET_DISABLED, ST_STAFF_SET_PW,
	ST_STAFF_LIST, ST_DOCTOR_IN_PRACTICE,
	ST_APPT_ADD, ST_APPT_BY_CODE, ST_APPT_BY_ID, ST_APPT_CANCEL, ST_APPT_CANCELLED, ST_APPT_LIST,
	ST_VISIT_BEGIN, ST_VISIT_STATE, ST_VISIT_CALLED, ST_VISIT_RING, ST_VISIT_CONNECTED,
	ST_VISIT_REPORT_PATIENT, ST_VISIT_REPORT_DOCTOR, ST_VISIT_END, ST_VISIT_NAMES,
	ST_STATS_COUNT, ST_STATS_MEDIAN, ST_END_STALE,
	ST_COUNT
};

#define PRACTICE_COLS "SELECT id, slug, name, phone, relay_only FROM practices "
#define STAFF_COLS "SELECT id, practice_id, username, display_name, role, pw_hash, disabled FROM staff "
/* The newest visit of an appointment is the one with the highest id. */
#define APPT_COLS \
	"SELECT a.id, a.practice_id, a.doctor_id, a.starts_at, a.valid_from, a.valid_until," \
	" a.created_by, a.created_at, a.cancelled_at, v.state, v.end_reason, v.first_name," \
	" v.last_name, d.display_name, a.code_hash FROM appointments a" \
	" LEFT JOIN visits v ON v.id = (SELECT max(x.id) FROM visits x WHERE x.appointment_id = a.id)" \
	" LEFT JOIN staff d ON d.id = a.doctor_id "

static const char *const stmt_sql[ST_COUNT] = {
	[ST_HEALTH] = "SELECT 1",
	[ST_PRACTICE_ADD] = "INSERT INTO practices(slug, name, phone, created_at) VALUES (?1, ?2, ?3, ?4)",
	[ST_PRACTICE_BY_SLUG] = PRACTICE_COLS "WHERE slug = ?1",
	[ST_PRACTICE_BY_ID] = PRACTICE_COLS "WHERE id = ?1",
	[ST_PRACTICE_LIST] = PRACTICE_COLS "ORDER BY id",
	[ST_PRACTICE_EXISTS] = "SELECT 1 FROM practices WHERE id = ?1",
	[ST_PRACTICE_RELAY_GET] = "SELECT relay_only FROM practices WHERE id = ?1",
	[ST_PRACTICE_RELAY_SET] = "UPDATE practices SET relay_only = ?2 WHERE slug = ?1",
	[ST_PRACTICE_FWD_GET] = "SELECT forward_never FROM practices WHERE id = ?1",
	[ST_PRACTICE_FWD_SET] = "UPDATE practices SET forward_never = ?2 WHERE slug = ?1",
	[ST_STAFF_ADD] = "INSERT INTO staff(practice_id, username, display_name, role, pw_hash, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_STAFF_BY_USERNAME] = STAFF_COLS "WHERE username = ?1",
	[ST_STAFF_BY_ID] = STAFF_COLS "WHERE id = ?1",
	[ST_STAFF_SET_DISABLED] = "UPDATE staff SET disabled = ?2 WHERE username = ?1",
	[ST_STAFF_SET_PW] = "UPDATE staff SET pw_hash = ?2 WHERE username = ?1",
	[ST_STAFF_LIST] = STAFF_COLS "WHERE practice_id = ?1 AND (?2 IS NULL OR role = ?2)"
		" ORDER BY display_name COLLATE NOCASE, id",
	[ST_DOCTOR_IN_PRACTICE] = "SELECT 1 FROM staff WHERE id = ?1 AND practice_id = ?2 AND role = 'doctor'",
	[ST_APPT_ADD] = "INSERT INTO appointments(practice_id, doctor_id, starts_at, valid_from, valid_until,"
		" code_hash, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_APPT_BY_CODE] = APPT_COLS "WHERE a.code_hash = ?1",
	[ST_APPT_BY_ID] = APPT_COLS "WHERE a.id = ?1",
	[ST_APPT_CANCEL] = "UPDATE appointments SET cancelled_at = ?3"
		" WHERE id = ?1 AND practice_id = ?2 AND cancelled_at IS NULL",
	[ST_APPT_CANCELLED] = "SELECT cancelled_at IS NOT NULL FROM appointments WHERE id = ?1 AND practice_id = ?2",
	[ST_APPT_LIST] = APPT_COLS "WHERE a.practice_id = ?1 AND a.starts_at >= ?2 AND a.starts_at < ?3"
		" ORDER BY a.starts_at, a.id",
	[ST_VISIT_BEGIN] = "INSERT INTO visits(appointment_id, first_name, last_name, joined_at, state)"
		" VALUES (?1, ?2, ?3, ?4, 'waiting')",
	[ST_VISIT_STATE] = "UPDATE visits SET state = ?2 WHERE id = ?1",
	[ST_VISIT_CALLED] = "UPDATE visits SET called_at = coalesce(called_at, ?3), called_by = ?2 WHERE id = ?1",
	[ST_VISIT_RING] = "UPDATE visits SET state = 'ringing', called_at = coalesce(called_at, ?3),"
		" called_by = ?2 WHERE id = ?1",
	[ST_VISIT_CONNECTED] = "UPDATE visits SET connected_at = coalesce(connected_at, ?2) WHERE id = ?1",
	[ST_VISIT_REPORT_PATIENT] = "UPDATE visits SET patient_conn_state = coalesce(?2, patient_conn_state),"
		" patient_local_type = coalesce(?3, patient_local_type),"
		" patient_remote_type = coalesce(?4, patient_remote_type) WHERE id = ?1",
	[ST_VISIT_REPORT_DOCTOR] = "UPDATE visits SET doctor_conn_state = coalesce(?2, doctor_conn_state),"
		" doctor_local_type = coalesce(?3, doctor_local_type),"
		" doctor_remote_type = coalesce(?4, doctor_remote_type),"
		" media_path = CASE WHEN ?3 IS NOT NULL AND ?4 IS NOT NULL THEN ?3 || '/' || ?4"
		" ELSE media_path END WHERE id = ?1",
	[ST_VISIT_END] = "UPDATE visits SET state = 'ended', ended_at = coalesce(ended_at, ?3),"
		" end_reason = coalesce(end_reason, ?2) WHERE id = ?1",
	[ST_VISIT_NAMES] = "SELECT first_name, last_name FROM visits WHERE id = ?1",
	[ST_STATS_COUNT] = "SELECT count(*) FROM visits v JOIN appointments a ON a.id = v.appointment_id"
		" WHERE a.practice_id = ?1 AND v.called_at >= ?2 AND v.called_at < ?3",
	[ST_STATS_MEDIAN] = "SELECT v.called_at - v.joined_at AS w FROM visits v"
		" JOIN appointments a ON a.id = v.appointment_id"
		" WHERE a.practice_id = ?1 AND v.called_at >= ?2 AND v.called_at < ?3"
		" ORDER BY w LIMIT ?4 OFFSET ?5",
	[ST_END_STALE] = "UPDATE visits SET state = 'ended', ended_at = ?1,"
		" end_reason = 'server_restart' WHERE state <> 'ended'",
};

_Static_assert(ST_COUNT <= STORE_CORE_SLOTS, "raise STORE_CORE_SLOTS in store_internal.h");

struct consult_store_ckpt {
	sqlite3 *db;
	char last_error[256];
	bool truncated;               /* the last run emptied the -wal file */
};

const char *consult_store_rc_name(int rc)
{
	static const char *const names[] = {
		"SQLITE_OK", "SQLITE_ERROR", "SQLITE_INTERNAL", "SQLITE_PERM", "SQLITE_ABORT",
		"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_NOMEM", "SQLITE_READONLY", "SQLITE_INTERRUPT",
		"SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOTFOUND", "SQLITE_FULL", "SQLITE_CANTOPEN",
		"SQLITE_PROTOCOL", "SQLITE_EMPTY", "SQLITE_SCHEMA", "SQLITE_TOOBIG", "SQLITE_CONSTRAINT",
		"SQLITE_MISMATCH", "SQLITE_MISUSE", "SQLITE_NOLFS", "SQLITE_AUTH", "SQLITE_FORMAT",
		"SQLITE_RANGE", "SQLITE_NOTADB",
	};
	unsigned p = (unsigned)rc & 0xffu;
	return p < sizeof names / sizeof names[0] ? names[p] : "SQLITE_UNKNOWN";
}

/* Keeps the message; counts and reports every failure that is not a plain
 * answer (a taken unique value, a missing parent row). */
void store_remember_error(consult_store *s)
{
	snprintf(s->last_error, sizeof s->last_error, "%s", sqlite3_errmsg(s->db));
	int rc = sqlite3_extended_errcode(s->db);
	if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT_UNIQUE
			|| rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return;
	s->last_rc = rc;
	atomic_fetch_add(&s->errors, 1u);
	if (s->hook)
		s->hook(s->hook_ud, rc, consult_store_rc_name(rc));
}

void consult_store_set_error_hook(consult_store *s, consult_store_error_hook hook, void *ud)
{
	s->hook = hook;
	s->hook_ud = ud;
}

unsigned consult_store_error_count(consult_store *s)
{
	return s ? atomic_load(&s->errors) : 0;
}

const char *consult_store_last_error_name(consult_store *s)
{
	return s && s->last_rc ? consult_store_rc_name(s->last_rc) : "";
}

bool store_stmt_prepare(consult_store *s, sqlite3_stmt **slot, const char *sql, stmt_use *u)
{
	u->st = NULL;
	u->owned = false;
	sqlite3_stmt *c = *slot;
	if (c && !sqlite3_stmt_busy(c)) {
		u->st = c;
		return true;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(s->db, sql, -1, c ? 0 : SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		store_remember_error(s);
		sqlite3_finalize(st);
		return false;
	}
	if (!c)
		*slot = st;
	else
		u->owned = true;
	u->st = st;
	return true;
}

static bool stmt_get(consult_store *s, enum stmt_id id, stmt_use *u)
{
	return store_stmt_prepare(s, &s->cache[id], stmt_sql[id], u);
}

bool store_stmt_ext(consult_store *s, int slot, const char *sql, stmt_use *u)
{
	u->st = NULL;
	u->owned = false;
	if (slot < 0 || slot >= STORE_EXT_SLOTS) {
		snprintf(s->last_error, sizeof s->last_error, "statement slot out of range");
		return false;
	}
	return store_stmt_prepare(s, &s->ext[slot], sql, u);
}

void store_stmt_release(stmt_use *u)
{
	if (!u->st)
		return;
	if (u->owned) {
		sqlite3_finalize(u->st);
	} else {
		sqlite3_reset(u->st);
		sqlite3_clear_bindings(u->st);
	}
	u->st = NULL;
}

/* Maps a failed step's result code; remembers the message. */
consult_err store_map_rc(consult_store *s, int rc)
{
	store_remember_error(s);
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return CONSULT_ERR_CONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return CONSULT_ERR_NOT_FOUND;
	default:
		return CONSULT_ERR_INTERNAL;
	}
}

int store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* 0 in the API means NULL in SQL (any doctor, nobody). */
int store_bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

/* Copies a text column; *ok becomes false on allocation failure. NULL stays NULL. */
char *store_col_dup(sqlite3_stmt *st, int i, bool *ok)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t) {
		if (sqlite3_column_type(st, i) != SQLITE_NULL)
			*ok = false;
		return NULL;
	}
	char *d = strdup((const char *)t);
	if (!d)
		*ok = false;
	return d;
}

/* Runs a bound write statement to completion. Sets *changes if non-NULL. */
consult_err store_run_write(consult_store *s, stmt_use *u, int *changes)
{
	int rc = sqlite3_step(u->st);
	consult_err e = CONSULT_OK;
	if (rc != SQLITE_DONE)
		e = store_map_rc(s, rc);
	else if (changes)
		*changes = sqlite3_changes(s->db);
	store_stmt_release(u);
	return e;
}

/* Runs a write that must touch one row: NOT_FOUND when none matched. */
consult_err store_run_update_one(consult_store *s, stmt_use *u)
{
	int changes = 0;
	consult_err e = store_run_write(s, u, &changes);
	if (e == CONSULT_OK && changes == 0)
		e = CONSULT_ERR_NOT_FOUND;
	return e;
}

/* Does a single-row existence query (bound by caller) return a row? */
consult_err store_run_exists(consult_store *s, stmt_use *u)
{
	int rc = sqlite3_step(u->st);
	consult_err e = rc == SQLITE_ROW ? CONSULT_OK : rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
	store_stmt_release(u);
	return e;
}

consult_err store_run_int(consult_store *s, stmt_use *u, int64_t *v)
{
	int rc = sqlite3_step(u->st);
	consult_err e = CONSULT_ERR_NOT_FOUND;
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(u->st, 0) != SQLITE_NULL) {
			*v = sqlite3_column_int64(u->st, 0);
			e = CONSULT_OK;
		}
	} else if (rc != SQLITE_DONE) {
		e = store_map_rc(s, rc);
	}
	store_stmt_release(u);
	return e;
}

/* --- open / close --- */

#define STR_(x) #x
#define STR(x) STR_(x)
/* journal_size_limit: the -wal file is cut back to CONSULT_STORE_WAL_LIMIT
 * whenever it is reset. */
#define WAL_LIMIT_PRAGMA "PRAGMA journal_size_limit = " STR(CONSULT_STORE_WAL_LIMIT)

static bool exec_pragma(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return true;
	if (err && errlen)
		snprintf(err, errlen, "%s failed: %s", sql, sqlite3_errmsg(db));
	return false;
}

/* Reads a one-value PRAGMA as text into buf ("" on failure). */
static int pragma_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	buf[0] = '\0';
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			snprintf(buf, len, "%s", t ? (const char *)t : "");
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

consult_store *consult_store_open(const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		if (err && errlen)
			snprintf(err, errlen, "no database path");
		return NULL;
	}
	consult_store *s = calloc(1, sizeof *s);
	if (!s) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		if (err && errlen)
			snprintf(err, errlen, "cannot open database: %s",
				s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	char mode[16];
	if (!exec_pragma(s->db, "PRAGMA busy_timeout = 5000", err, errlen)
			|| !exec_pragma(s->db, "PRAGMA foreign_keys = ON", err, errlen)
			|| !exec_pragma(s->db, "PRAGMA secure_delete = ON", err, errlen))
		goto fail;
	if (pragma_text(s->db, "PRAGMA journal_mode = WAL", mode, sizeof mode) != SQLITE_OK) {
		if (err && errlen)
			snprintf(err, errlen, "cannot set WAL mode: %s", sqlite3_errmsg(s->db));
		goto fail;
	}
	/* An in-memory database reports "memory"; a file must be in WAL. */
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
		if (err && errlen)
			snprintf(err, errlen, "cannot set WAL mode (journal mode is %s)", mode);
		goto fail;
	}
	if (!exec_pragma(s->db, "PRAGMA synchronous = NORMAL", err, errlen)
			|| !exec_pragma(s->db, WAL_LIMIT_PRAGMA, err, errlen))
		goto fail;
	if (consult_migrations_apply(s->db, err, errlen) != 0)
		goto fail;
	return s;
fail:
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

void consult_store_close(consult_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->cache[i]);
	for (int i = 0; i < STORE_EXT_SLOTS; i++)
		sqlite3_finalize(s->ext[i]);
	sqlite3_close(s->db);
	free(s);
}

int consult_store_schema_version(consult_store *s)
{
	int v = -1;
	if (!s || consult_migrations_version(s->db, &v) != SQLITE_OK)
		return -1;
	return v;
}

int consult_store_latest_version(void)
{
	return consult_migrations_latest();
}

const char *consult_store_last_error(consult_store *s)
{
	return s ? s->last_error : "";
}

consult_err consult_store_get_settings(consult_store *s, consult_store_settings *out)
{
	char buf[32];
	memset(out, 0, sizeof *out);
	if (pragma_text(s->db, "PRAGMA journal_mode", buf, sizeof buf) != SQLITE_OK)
		goto fail;
	out->wal = strcmp(buf, "wal") == 0;
	if (pragma_text(s->db, "PRAGMA foreign_keys", buf, sizeof buf) != SQLITE_OK)
		goto fail;
	out->foreign_keys = atoi(buf) == 1;
	if (pragma_text(s->db, "PRAGMA secure_delete", buf, sizeof buf) != SQLITE_OK)
		goto fail;
	out->secure_delete = atoi(buf) == 1;
	if (pragma_text(s->db, "PRAGMA synchronous", buf, sizeof buf) != SQLITE_OK)
		goto fail;
	out->synchronous = atoi(buf);
	if (pragma_text(s->db, "PRAGMA busy_timeout", buf, sizeof buf) != SQLITE_OK)
		goto fail;
	out->busy_timeout_ms = atoi(buf);
	return CONSULT_OK;
fail:
	store_remember_error(s);
	return CONSULT_ERR_INTERNAL;
}

bool consult_store_healthy(consult_store *s)
{
	stmt_use u;
	if (!s || !stmt_get(s, ST_HEALTH, &u))
		return false;
	return store_run_exists(s, &u) == CONSULT_OK;
}

consult_err consult_store_write_probe(consult_store *s, const char **name)
{
	bool outer = false;
	int v = -1;
	char sql[64];
	unsigned before = consult_store_error_count(s);
	if (name)
		*name = "";
	bool ok = store_tx_begin(s, &outer);
	if (ok && consult_migrations_version(s->db, &v) != SQLITE_OK) {
		store_remember_error(s);
		ok = false;
	}
	if (ok) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			store_remember_error(s);
			ok = false;
		}
	}
	if (store_tx_end(s, outer, ok) && ok)
		return CONSULT_OK;
	if (name)
		*name = consult_store_error_count(s) != before ? consult_store_last_error_name(s) : "SQLITE_ERROR";
	return CONSULT_ERR_INTERNAL;
}

/* --- practices --- */

void consult_practice_clear(consult_practice *p)
{
	if (!p)
		return;
	free(p->slug);
	free(p->name);
	free(p->phone);
	memset(p, 0, sizeof *p);
}

static bool read_practice(sqlite3_stmt *st, consult_practice *p)
{
	bool ok = true;
	memset(p, 0, sizeof *p);
	p->id = sqlite3_column_int64(st, 0);
	p->slug = store_col_dup(st, 1, &ok);
	p->name = store_col_dup(st, 2, &ok);
	p->phone = store_col_dup(st, 3, &ok);
	p->relay_only = sqlite3_column_int(st, 4) != 0;
	if (!ok)
		consult_practice_clear(p);
	return ok;
}

consult_err consult_store_add_practice(consult_store *s, const char *slug, const char *name,
	const char *phone, int64_t now, int64_t *id)
{
	stmt_use u;
	if (!stmt_get(s, ST_PRACTICE_ADD, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, slug);
	store_bind_text(u.st, 2, name);
	store_bind_text(u.st, 3, phone);
	sqlite3_bind_int64(u.st, 4, now);
	consult_err e = store_run_write(s, &u, NULL);
	if (e == CONSULT_OK && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return e;
}

/* Steps a bound single-row practice query into out. */
static consult_err one_practice(consult_store *s, stmt_use *u, consult_practice *out)
{
	memset(out, 0, sizeof *out);
	int rc = sqlite3_step(u->st);
	consult_err e = CONSULT_OK;
	if (rc == SQLITE_ROW)
		e = read_practice(u->st, out) ? CONSULT_OK : CONSULT_ERR_INTERNAL;
	else
		e = rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
	store_stmt_release(u);
	return e;
}

consult_err consult_store_practice_by_slug(consult_store *s, const char *slug, consult_practice *out)
{
	stmt_use u;
	memset(out, 0, sizeof *out);
	if (!stmt_get(s, ST_PRACTICE_BY_SLUG, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, slug);
	return one_practice(s, &u, out);
}

consult_err consult_store_practice_by_id(consult_store *s, int64_t id, consult_practice *out)
{
	stmt_use u;
	memset(out, 0, sizeof *out);
	if (!stmt_get(s, ST_PRACTICE_BY_ID, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, id);
	return one_practice(s, &u, out);
}

consult_err consult_store_list_practices(consult_store *s, consult_practice_cb cb, void *ud)
{
	stmt_use u;
	if (!stmt_get(s, ST_PRACTICE_LIST, &u))
		return CONSULT_ERR_INTERNAL;
	consult_err e = CONSULT_OK;
	int rc;
	while ((rc = sqlite3_step(u.st)) == SQLITE_ROW) {
		consult_practice p;
		if (!read_practice(u.st, &p)) {
			e = CONSULT_ERR_INTERNAL;
			break;
		}
		cb(&p, ud);
		consult_practice_clear(&p);
	}
	if (e == CONSULT_OK && rc != SQLITE_DONE)
		e = store_map_rc(s, rc);
	store_stmt_release(&u);
	return e;
}

/* One boolean option of a practice: read by id, written by slug. */
static consult_err practice_flag_get(consult_store *s, int which, int64_t id, bool *out)
{
	stmt_use u;
	*out = false;
	if (!stmt_get(s, which, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, id);
	int rc = sqlite3_step(u.st);
	consult_err e = CONSULT_OK;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(u.st, 0) != 0;
	else
		e = rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
	store_stmt_release(&u);
	return e;
}

static consult_err practice_flag_set(consult_store *s, int which, const char *slug, bool on)
{
	stmt_use u;
	if (!stmt_get(s, which, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, slug);
	sqlite3_bind_int(u.st, 2, on ? 1 : 0);
	return store_run_update_one(s, &u);
}

consult_err consult_store_practice_relay_only(consult_store *s, int64_t id, bool *relay_only)
{
	return practice_flag_get(s, ST_PRACTICE_RELAY_GET, id, relay_only);
}

consult_err consult_store_set_practice_relay_only(consult_store *s, const char *slug, bool relay_only)
{
	return practice_flag_set(s, ST_PRACTICE_RELAY_SET, slug, relay_only);
}

consult_err consult_store_practice_forward_never(consult_store *s, int64_t id, bool *never)
{
	return practice_flag_get(s, ST_PRACTICE_FWD_GET, id, never);
}

consult_err consult_store_set_practice_forward_never(consult_store *s, const char *slug, bool never)
{
	return practice_flag_set(s, ST_PRACTICE_FWD_SET, slug, never);
}

static consult_err practice_exists(consult_store *s, int64_t practice_id)
{
	stmt_use u;
	if (!stmt_get(s, ST_PRACTICE_EXISTS, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, practice_id);
	return store_run_exists(s, &u);
}

/* --- staff --- */

void consult_staff_clear(consult_staff *st)
{
	if (!st)
		return;
	free(st->username);
	free(st->display_name);
	free(st->role);
	if (st->pw_hash) {
		sodium_memzero(st->pw_hash, strlen(st->pw_hash));
		free(st->pw_hash);
	}
	memset(st, 0, sizeof *st);
}

static bool read_staff(sqlite3_stmt *q, consult_staff *st)
{
	bool ok = true;
	memset(st, 0, sizeof *st);
	st->id = sqlite3_column_int64(q, 0);
	st->practice_id = sqlite3_column_int64(q, 1);
	st->username = store_col_dup(q, 2, &ok);
	st->display_name = store_col_dup(q, 3, &ok);
	st->role = store_col_dup(q, 4, &ok);
	st->pw_hash = store_col_dup(q, 5, &ok);
	st->disabled = sqlite3_column_int(q, 6) != 0;
	if (!ok)
		consult_staff_clear(st);
	return ok;
}

consult_err consult_store_add_staff(consult_store *s, int64_t practice_id, const char *username,
	const char *display_name, const char *role, const char *pw_hash, int64_t now, int64_t *id)
{
	consult_err e = practice_exists(s, practice_id);
	if (e != CONSULT_OK)
		return e;
	stmt_use u;
	if (!stmt_get(s, ST_STAFF_ADD, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, practice_id);
	store_bind_text(u.st, 2, username);
	store_bind_text(u.st, 3, display_name);
	store_bind_text(u.st, 4, role);
	store_bind_text(u.st, 5, pw_hash);
	sqlite3_bind_int64(u.st, 6, now);
	e = store_run_write(s, &u, NULL);
	if (e == CONSULT_OK && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return e;
}

static consult_err one_staff(consult_store *s, stmt_use *u, consult_staff *out)
{
	int rc = sqlite3_step(u->st);
	consult_err e;
	if (rc == SQLITE_ROW)
		e = read_staff(u->st, out) ? CONSULT_OK : CONSULT_ERR_INTERNAL;
	else
		e = rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
	store_stmt_release(u);
	return e;
}

consult_err consult_store_staff_by_username(consult_store *s, const char *username, consult_staff *out)
{
	stmt_use u;
	memset(out, 0, sizeof *out);
	if (!stmt_get(s, ST_STAFF_BY_USERNAME, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, username);
	return one_staff(s, &u, out);
}

consult_err consult_store_staff_by_id(consult_store *s, int64_t id, consult_staff *out)
{
	stmt_use u;
	memset(out, 0, sizeof *out);
	if (!stmt_get(s, ST_STAFF_BY_ID, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, id);
	return one_staff(s, &u, out);
}

consult_err consult_store_set_staff_disabled(consult_store *s, const char *username, bool disabled)
{
	stmt_use u;
	if (!stmt_get(s, ST_STAFF_SET_DISABLED, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, username);
	sqlite3_bind_int(u.st, 2, disabled ? 1 : 0);
	return store_run_update_one(s, &u);
}

consult_err consult_store_set_staff_password(consult_store *s, const char *username, const char *pw_hash)
{
	stmt_use u;
	if (!stmt_get(s, ST_STAFF_SET_PW, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, username);
	store_bind_text(u.st, 2, pw_hash);
	return store_run_update_one(s, &u);
}

consult_err consult_store_list_staff(consult_store *s, int64_t practice_id, const char *role,
	consult_staff_cb cb, void *ud)
{
	stmt_use u;
	if (!stmt_get(s, ST_STAFF_LIST, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, practice_id);
	store_bind_text(u.st, 2, role);
	consult_err e = CONSULT_OK;
	int rc;
	while ((rc = sqlite3_step(u.st)) == SQLITE_ROW) {
		consult_staff st;
		if (!read_staff(u.st, &st)) {
			e = CONSULT_ERR_INTERNAL;
			break;
		}
		cb(&st, ud);
		consult_staff_clear(&st);
	}
	if (e == CONSULT_OK && rc != SQLITE_DONE)
		e = store_map_rc(s, rc);
	store_stmt_release(&u);
	return e;
}

/* --- appointments --- */

void consult_appointment_clear(consult_appointment *a)
{
	if (!a)
		return;
	free(a->status);
	free(a->end_reason);
	free(a->patient_first);
	free(a->patient_last);
	free(a->doctor_name);
	memset(a, 0, sizeof *a);
}

static bool read_appointment(sqlite3_stmt *q, consult_appointment *a)
{
	bool ok = true;
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(q, 0);
	a->practice_id = sqlite3_column_int64(q, 1);
	a->doctor_id = sqlite3_column_int64(q, 2);     /* NULL reads as 0 = any */
	a->starts_at = sqlite3_column_int64(q, 3);
	a->valid_from = sqlite3_column_int64(q, 4);
	a->valid_until = sqlite3_column_int64(q, 5);
	a->created_by = sqlite3_column_int64(q, 6);
	a->created_at = sqlite3_column_int64(q, 7);
	a->cancelled_at = sqlite3_column_int64(q, 8);
	bool cancelled = sqlite3_column_type(q, 8) != SQLITE_NULL;
	const unsigned char *state = sqlite3_column_text(q, 9);
	a->status = strdup(cancelled ? "cancelled" : state ? (const char *)state : "booked");
	if (!a->status)
		ok = false;
	a->end_reason = store_col_dup(q, 10, &ok);
	a->patient_first = store_col_dup(q, 11, &ok);
	a->patient_last = store_col_dup(q, 12, &ok);
	a->doctor_name = store_col_dup(q, 13, &ok);
	if (!ok)
		consult_appointment_clear(a);
	return ok;
}

consult_err consult_store_add_appointment(consult_store *s, int64_t practice_id, int64_t doctor_id,
	int64_t starts_at, int64_t valid_from, int64_t valid_until,
	const uint8_t code_hash[CONSULT_CODE_HASH_LEN], int64_t created_by, int64_t now, int64_t *id)
{
	consult_err e = practice_exists(s, practice_id);
	if (e != CONSULT_OK)
		return e;
	stmt_use u;
	if (doctor_id) {
		/* the doctor must be a doctor of this practice */
		if (!stmt_get(s, ST_DOCTOR_IN_PRACTICE, &u))
			return CONSULT_ERR_INTERNAL;
		sqlite3_bind_int64(u.st, 1, doctor_id);
		sqlite3_bind_int64(u.st, 2, practice_id);
		if ((e = store_run_exists(s, &u)) != CONSULT_OK)
			return e;
	}
	if (!stmt_get(s, ST_APPT_ADD, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, practice_id);
	store_bind_id_or_null(u.st, 2, doctor_id);
	sqlite3_bind_int64(u.st, 3, starts_at);
	sqlite3_bind_int64(u.st, 4, valid_from);
	sqlite3_bind_int64(u.st, 5, valid_until);
	sqlite3_bind_blob(u.st, 6, code_hash, CONSULT_CODE_HASH_LEN, SQLITE_TRANSIENT);
	store_bind_id_or_null(u.st, 7, created_by);
	sqlite3_bind_int64(u.st, 8, now);
	e = store_run_write(s, &u, NULL);
	if (e == CONSULT_OK && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return e;
}

consult_err consult_store_appointment_by_code(consult_store *s,
	const uint8_t code_hash[CONSULT_CODE_HASH_LEN], consult_appointment *out)
{
	stmt_use u;
	memset(out, 0, sizeof *out);
	if (!stmt_get(s, ST_APPT_BY_CODE, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_blob(u.st, 1, code_hash, CONSULT_CODE_HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(u.st);
	consult_err e = CONSULT_ERR_NOT_FOUND;
	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(u.st, 14);
		if (h && sqlite3_column_bytes(u.st, 14) == CONSULT_CODE_HASH_LEN
				&& sodium_memcmp(h, code_hash, CONSULT_CODE_HASH_LEN) == 0)
			e = read_appointment(u.st, out) ? CONSULT_OK : CONSULT_ERR_INTERNAL;
	} else if (rc != SQLITE_DONE) {
		e = store_map_rc(s, rc);
	}
	store_stmt_release(&u);
	return e;
}

consult_err consult_store_appointment_by_id(consult_store *s, int64_t id, consult_appointment *out)
{
	stmt_use u;
	memset(out, 0, sizeof *out);
	if (!stmt_get(s, ST_APPT_BY_ID, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, id);
	int rc = sqlite3_step(u.st);
	consult_err e;
	if (rc == SQLITE_ROW)
		e = read_appointment(u.st, out) ? CONSULT_OK : CONSULT_ERR_INTERNAL;
	else
		e = rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
	store_stmt_release(&u);
	return e;
}

consult_err consult_store_cancel_appointment(consult_store *s, int64_t practice_id, int64_t id, int64_t now)
{
	stmt_use u;
	if (!stmt_get(s, ST_APPT_CANCEL, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, id);
	sqlite3_bind_int64(u.st, 2, practice_id);
	sqlite3_bind_int64(u.st, 3, now);
	int changes = 0;
	consult_err e = store_run_write(s, &u, &changes);
	if (e != CONSULT_OK || changes == 1)
		return e;
	/* nothing changed: missing (or other practice) vs. already cancelled */
	if (!stmt_get(s, ST_APPT_CANCELLED, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, id);
	sqlite3_bind_int64(u.st, 2, practice_id);
	int rc = sqlite3_step(u.st);
	if (rc == SQLITE_ROW)
		e = sqlite3_column_int(u.st, 0) ? CONSULT_ERR_WRONG_STATE : CONSULT_ERR_INTERNAL;
	else
		e = rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
	store_stmt_release(&u);
	return e;
}

consult_err consult_store_list_appointments(consult_store *s, int64_t practice_id, int64_t from,
	int64_t to, consult_appointment_cb cb, void *ud)
{
	stmt_use u;
	if (!stmt_get(s, ST_APPT_LIST, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, practice_id);
	sqlite3_bind_int64(u.st, 2, from);
	sqlite3_bind_int64(u.st, 3, to);
	consult_err e = CONSULT_OK;
	int rc;
	while ((rc = sqlite3_step(u.st)) == SQLITE_ROW) {
		consult_appointment a;
		if (!read_appointment(u.st, &a)) {
			e = CONSULT_ERR_INTERNAL;
			break;
		}
		cb(&a, ud);
		consult_appointment_clear(&a);
	}
	if (e == CONSULT_OK && rc != SQLITE_DONE)
		e = store_map_rc(s, rc);
	store_stmt_release(&u);
	return e;
}

/* --- visits --- */

consult_err consult_store_visit_begin(consult_store *s, int64_t appointment_id, const char *first_name,
	const char *last_name, int64_t now, int64_t *visit_id)
{
	stmt_use u;
	if (!stmt_get(s, ST_VISIT_BEGIN, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, appointment_id);
	store_bind_text(u.st, 2, first_name);
	store_bind_text(u.st, 3, last_name);
	sqlite3_bind_int64(u.st, 4, now);
	consult_err e = store_run_write(s, &u, NULL);   /* missing appointment: FK -> NOT_FOUND */
	if (e == CONSULT_OK && visit_id)
		*visit_id = sqlite3_last_insert_rowid(s->db);
	return e;
}

consult_err consult_store_visit_state(consult_store *s, int64_t visit_id, const char *state)
{
	stmt_use u;
	if (!stmt_get(s, ST_VISIT_STATE, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, visit_id);
	store_bind_text(u.st, 2, state);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_called(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now)
{
	stmt_use u;
	if (!stmt_get(s, ST_VISIT_CALLED, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, visit_id);
	store_bind_id_or_null(u.st, 2, doctor_id);
	sqlite3_bind_int64(u.st, 3, now);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_ring(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now)
{
	stmt_use u;
	if (!stmt_get(s, ST_VISIT_RING, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, visit_id);
	store_bind_id_or_null(u.st, 2, doctor_id);
	sqlite3_bind_int64(u.st, 3, now);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_connected(consult_store *s, int64_t visit_id, int64_t now)
{
	stmt_use u;
	if (!stmt_get(s, ST_VISIT_CONNECTED, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, visit_id);
	sqlite3_bind_int64(u.st, 2, now);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_report(consult_store *s, int64_t visit_id, const char *side,
	const char *connection_state, const char *local_type, const char *remote_type)
{
	enum stmt_id id;
	if (side && strcmp(side, "patient") == 0)
		id = ST_VISIT_REPORT_PATIENT;
	else if (side && strcmp(side, "doctor") == 0)
		id = ST_VISIT_REPORT_DOCTOR;
	else {
		snprintf(s->last_error, sizeof s->last_error, "visit report: unknown side");
		return CONSULT_ERR_INTERNAL;
	}
	stmt_use u;
	if (!stmt_get(s, id, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, visit_id);
	store_bind_text(u.st, 2, connection_state);
	store_bind_text(u.st, 3, local_type);
	store_bind_text(u.st, 4, remote_type);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_end(consult_store *s, int64_t visit_id, const char *reason, int64_t now)
{
	stmt_use u;
	if (!stmt_get(s, ST_VISIT_END, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, visit_id);
	store_bind_text(u.st, 2, reason);
	sqlite3_bind_int64(u.st, 3, now);
	return store_run_update_one(s, &u);
}

consult_err consult_store_visit_names(consult_store *s, int64_t visit_id, char **first, char **last)
{
	*first = *last = NULL;
	stmt_use u;
	if (!stmt_get(s, ST_VISIT_NAMES, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, visit_id);
	int rc = sqlite3_step(u.st);
	consult_err e;
	if (rc == SQLITE_ROW) {
		bool ok = true;
		*first = store_col_dup(u.st, 0, &ok);
		*last = store_col_dup(u.st, 1, &ok);
		e = CONSULT_OK;
		if (!ok) {
			free(*first);
			free(*last);
			*first = *last = NULL;
			e = CONSULT_ERR_INTERNAL;
		}
	} else {
		e = rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
	}
	store_stmt_release(&u);
	return e;
}

/* --- statistics --- */

consult_err consult_store_day_stats(consult_store *s, int64_t practice_id, int64_t from, int64_t to,
	consult_day_stats *out)
{
	out->calls_today = 0;
	out->median_wait_s = -1;
	stmt_use u;
	if (!stmt_get(s, ST_STATS_COUNT, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, practice_id);
	sqlite3_bind_int64(u.st, 2, from);
	sqlite3_bind_int64(u.st, 3, to);
	int rc = sqlite3_step(u.st);
	int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(u.st, 0) : 0;
	consult_err e = rc == SQLITE_ROW ? CONSULT_OK : store_map_rc(s, rc);
	store_stmt_release(&u);
	if (e != CONSULT_OK || n == 0)
		return e;
	/* the middle row (odd n) or the two middle rows (even n), averaged */
	if (!stmt_get(s, ST_STATS_MEDIAN, &u))
		return CONSULT_ERR_INTERNAL;
	sqlite3_bind_int64(u.st, 1, practice_id);
	sqlite3_bind_int64(u.st, 2, from);
	sqlite3_bind_int64(u.st, 3, to);
	sqlite3_bind_int64(u.st, 4, n % 2 ? 1 : 2);
	sqlite3_bind_int64(u.st, 5, (n - 1) / 2);
	int64_t sum = 0, rows = 0;
	while ((rc = sqlite3_step(u.st)) == SQLITE_ROW) {
		sum += sqlite3_column_int64(u.st, 0);
		rows++;
	}
	if (rc != SQLITE_DONE || rows == 0)
		e = rc != SQLITE_DONE ? store_map_rc(s, rc) : CONSULT_ERR_INTERNAL;
	store_stmt_release(&u);
	if (e != CONSULT_OK)
		return e;
	out->calls_today = n;
	out->median_wait_s = sum / rows;
	return CONSULT_OK;
}

int64_t consult_store_end_stale_visits(consult_store *s, int64_t now)
{
	stmt_use u;
	if (!stmt_get(s, ST_END_STALE, &u))
		return -1;
	sqlite3_bind_int64(u.st, 1, now);
	int changes = 0;
	if (store_run_write(s, &u, &changes) != CONSULT_OK)
		return -1;
	return changes;
}

/* --- WAL checkpoints --- */

/* sqlite3_wal_hook callback: after each commit on the writer's connection. */
static int wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	consult_store *s = ud;
	atomic_store(&s->wal_frames, frames);
	atomic_fetch_add(&s->wal_commits, 1u);
	return SQLITE_OK;
}

consult_err consult_store_manual_checkpoints(consult_store *s)
{
	char mode[16];
	if (pragma_text(s->db, "PRAGMA journal_mode", mode, sizeof mode) != SQLITE_OK) {
		store_remember_error(s);
		return CONSULT_ERR_INTERNAL;
	}
	if (strcmp(mode, "wal") != 0) {
		snprintf(s->last_error, sizeof s->last_error, "manual checkpoints: journal mode is %s", mode);
		return CONSULT_ERR_INTERNAL;
	}
	if (sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) != SQLITE_OK) {
		store_remember_error(s);
		return CONSULT_ERR_INTERNAL;
	}
	/* replaces the (now disabled) auto-checkpoint hook: counting only */
	sqlite3_wal_hook(s->db, wal_hook, s);
	return CONSULT_OK;
}

void consult_store_wal_status(consult_store *s, int *frames, unsigned *commits)
{
	if (frames)
		*frames = s ? atomic_load(&s->wal_frames) : 0;
	if (commits)
		*commits = s ? atomic_load(&s->wal_commits) : 0;
}

consult_store_ckpt *consult_store_checkpoint_open(const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		if (err && errlen)
			snprintf(err, errlen, "no database path");
		return NULL;
	}
	consult_store_ckpt *c = calloc(1, sizeof *c);
	if (!c) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* no CREATE: the store has made the file; no shared cache */
	int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_PRIVATECACHE, NULL);
	if (rc != SQLITE_OK) {
		if (err && errlen)
			snprintf(err, errlen, "cannot open database for checkpoints: %s",
				c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 1);
	char mode[16];
	/* Reading the journal mode also opens the WAL on this connection. The
	 * short busy timeout bounds how long the TRUNCATE step holds writers
	 * back while it waits for a commit or a reader (e.g. a backup). */
	if (!exec_pragma(c->db, "PRAGMA busy_timeout = 200", err, errlen)
			|| pragma_text(c->db, "PRAGMA journal_mode", mode, sizeof mode) != SQLITE_OK) {
		if (err && errlen && !err[0])
			snprintf(err, errlen, "checkpoint connection: %s", sqlite3_errmsg(c->db));
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		if (err && errlen)
			snprintf(err, errlen, "checkpoint connection: journal mode is %s, not wal", mode);
		goto fail;
	}
	/* This connection never writes rows; it must not checkpoint on its own either. */
	if (!exec_pragma(c->db, "PRAGMA wal_autocheckpoint = 0", err, errlen)
			|| !exec_pragma(c->db, WAL_LIMIT_PRAGMA, err, errlen))
		goto fail;
	return c;
fail:
	sqlite3_close(c->db);
	free(c);
	return NULL;
}

consult_err consult_store_checkpoint_run(consult_store_ckpt *c, int *wal_frames, int *done_frames)
{
	int log = -1, done = -1;
	c->truncated = false;
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
	if (wal_frames)
		*wal_frames = log;
	if (done_frames)
		*done_frames = done;
	/* Everything copied without blocking anyone: now the short TRUNCATE
	 * (waits up to the busy timeout for the writer's current commit). */
	if (rc == SQLITE_OK && log >= 0 && done == log) {
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		c->truncated = rc == SQLITE_OK;
	}
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return CONSULT_OK;
	snprintf(c->last_error, sizeof c->last_error, "%s", sqlite3_errmsg(c->db));
	return CONSULT_ERR_INTERNAL;
}

bool consult_store_checkpoint_truncated(consult_store_ckpt *c)
{
	return c && c->truncated;
}

const char *consult_store_checkpoint_error(consult_store_ckpt *c)
{
	return c ? c->last_error : "";
}

void consult_store_checkpoint_close(consult_store_ckpt *c)
{
	if (!c)
		return;
	sqlite3_close(c->db);
	free(c);
}
