/* db_sqlite.c - the SQLite driver of the store (db.h).
 *
 * Contract: statements are sqlite3_stmt on the store's connection
 * (s->db); cached ones are prepared persistent. Text is bound as a copy,
 * blobs without one (the caller keeps them until the step). A failed step
 * or statement is reported with its extended result code: UNIQUE and
 * PRIMARYKEY constraint -> DB_FAULT_UNIQUE, FOREIGNKEY ->
 * DB_FAULT_FOREIGN_KEY, all else DB_FAULT_OTHER named by
 * consult_store_rc_name; the message is SQLite's (names, no values).
 * BEGIN is IMMEDIATE (the write lock at once); the schema version is PRAGMA
 * user_version. No logging.
 */
#include "store_internal.h"
#include "store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct sq_stmt {
	db_stmt base;
	sqlite3_stmt *st;
} sq_stmt;

#define SQ(x) ((sq_stmt *)(x))

const char *consult_store_rc_name(int rc)
{
	static const char *const names[] = {
		"SQLITE_OK",
		"SQLITE_ERROR",
		"SQLITE_INTERNAL",
		"SQLITE_PERM",
		"SQLITE_ABORT",
		"SQLITE_BUSY",
		"SQLITE_LOCKED",
		"SQLITE_NOMEM",
		"SQLITE_READONLY",
		"SQLITE_INTERRUPT",
		"SQLITE_IOERR",
		"SQLITE_CORRUPT",
		"SQLITE_NOTFOUND",
		"SQLITE_FULL",
		"SQLITE_CANTOPEN",
		"SQLITE_PROTOCOL",
		"SQLITE_EMPTY",
		"SQLITE_SCHEMA",
		"SQLITE_TOOBIG",
		"SQLITE_CONSTRAINT",
		"SQLITE_MISMATCH",
		"SQLITE_MISUSE",
		"SQLITE_NOLFS",
		"SQLITE_AUTH",
		"SQLITE_FORMAT",
		"SQLITE_RANGE",
		"SQLITE_NOTADB",
	};
	unsigned p = (unsigned)rc & 0xffu;
	return p < sizeof names / sizeof names[0] ? names[p] : "SQLITE_UNKNOWN";
}

void store_remember_error(consult_store *s)
{
	int rc = sqlite3_extended_errcode(s->db);
	db_fault f = DB_FAULT_OTHER;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		f = DB_FAULT_UNIQUE;
	else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		f = DB_FAULT_FOREIGN_KEY;
	if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) {
		/* a message without a failing result code: kept, not counted */
		snprintf(s->last_error, sizeof s->last_error, "%s", sqlite3_errmsg(s->db));
		s->fault = DB_FAULT_OTHER;
		return;
	}
	store_db_fail(s, f, consult_store_rc_name(rc), sqlite3_errmsg(s->db));
}

static db_stmt *sq_prepare(consult_store *s, const char *sql, bool cached)
{
	sq_stmt *q = calloc(1, sizeof *q);
	if (!q) {
		store_db_fail(s, DB_FAULT_OTHER, "SQLITE_NOMEM", "out of memory");
		return NULL;
	}
	q->base.drv = &db_sqlite_driver;
	if (sqlite3_prepare_v3(s->db, sql, -1, cached ? SQLITE_PREPARE_PERSISTENT : 0, &q->st, NULL) != SQLITE_OK) {
		store_remember_error(s);
		sqlite3_finalize(q->st);
		free(q);
		return NULL;
	}
	return &q->base;
}

static bool sq_busy(const db_stmt *st)
{
	return sqlite3_stmt_busy(SQ(st)->st) != 0;
}

static void sq_reset(db_stmt *st)
{
	sqlite3_reset(SQ(st)->st);
	sqlite3_clear_bindings(SQ(st)->st);
}

static void sq_finalize(db_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(SQ(st)->st);
	free(st);
}

static void sq_bind_int64(db_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(SQ(st)->st, i, v);
}

static void sq_bind_text(db_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(SQ(st)->st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(SQ(st)->st, i);
}

static void sq_bind_blob(db_stmt *st, int i, const void *v, size_t n)
{
	if (v)
		sqlite3_bind_blob(SQ(st)->st, i, v, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(SQ(st)->st, i);
}

static int sq_param_count(const db_stmt *st)
{
	return sqlite3_bind_parameter_count(SQ(st)->st);
}

static int sq_step(consult_store *s, db_stmt *st)
{
	int rc = sqlite3_step(SQ(st)->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	store_remember_error(s);
	return DB_ERROR;
}

static int64_t sq_changes(consult_store *s, db_stmt *st)
{
	(void)st;
	return sqlite3_changes(s->db);
}

static bool sq_col_null(db_stmt *st, int i)
{
	return sqlite3_column_type(SQ(st)->st, i) == SQLITE_NULL;
}

static int64_t sq_col_int64(db_stmt *st, int i)
{
	return sqlite3_column_int64(SQ(st)->st, i);
}

static const char *sq_col_text(db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(SQ(st)->st, i);
}

static const void *sq_col_blob(db_stmt *st, int i, size_t *len)
{
	const void *b = sqlite3_column_blob(SQ(st)->st, i);
	int n = sqlite3_column_bytes(SQ(st)->st, i);
	*len = b && n > 0 ? (size_t)n : 0;
	return b;
}

static bool exec(consult_store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return true;
	store_remember_error(s);
	return false;
}

static bool sq_tx(consult_store *s, db_tx op)
{
	static const char *const sql[] = {
		[DB_BEGIN] = "BEGIN IMMEDIATE",
		[DB_COMMIT] = "COMMIT",
		[DB_ROLLBACK] = "ROLLBACK",
		[DB_SAVEPOINT] = "SAVEPOINT consult_unit",
		[DB_RELEASE] = "RELEASE consult_unit",
		[DB_ROLLBACK_TO] = "ROLLBACK TO consult_unit",
	};
	return exec(s, sql[op]);
}

static bool sq_in_tx(consult_store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

static bool sq_migrate_begin(consult_store *s)
{
	return exec(s, "BEGIN IMMEDIATE");
}

static bool sq_version(consult_store *s, int *v)
{
	char buf[24];
	if (store_pragma_text(s->db, "PRAGMA user_version", buf, sizeof buf) != SQLITE_OK) {
		store_remember_error(s);
		return false;
	}
	*v = atoi(buf);
	return true;
}

static bool sq_set_version(consult_store *s, int v)
{
	char sql[48];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
	return exec(s, sql);
}

const db_driver db_sqlite_driver = {
	.name = "SQLite",
	.close = store_sqlite_close,
	.prepare = sq_prepare,
	.busy = sq_busy,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_blob = sq_bind_blob,
	.param_count = sq_param_count,
	.step = sq_step,
	.changes = sq_changes,
	.col_null = sq_col_null,
	.col_int64 = sq_col_int64,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.tx = sq_tx,
	.in_tx = sq_in_tx,
	.migrate_begin = sq_migrate_begin,
	.version = sq_version,
	.set_version = sq_set_version,
	.exec_ddl = exec,
};
