/* store_internal.h - what the files of the store share (not an API).
 *
 * Contract: only the .c files of plugins/store include this. It defines the
 * store handle, the statement cache (one slot range per file, below), the
 * generic row reader, the run helpers (store_stmt.c) and the unit of work
 * (store_tx.c), all on top of the SQL driver (db.h: SQLite or PostgreSQL).
 * Rules for every file: no logging, a failed step mapped by store_failed,
 * the driver's message (no values) kept for last_error, `if (` style.
 */
#ifndef CONSULT_STORE_INTERNAL_H
#define CONSULT_STORE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "store.h"
#include "db.h"

/* Statement slots: each file prepares its statements into its own range. */
enum {
	STORE_SLOT_PEOPLE = 0,     /* store_people.c: 0..23 */
	STORE_SLOT_VISITS = 24,    /* store_visits.c: 24..47 */
	STORE_SLOT_DELIVERY = 48,  /* store_delivery.c: 48..67 */
	STORE_SLOT_RETENTION = 68, /* store_retention.c: 68..79 */
	STORE_SLOT_DEVICES = 80,   /* store_devices.c: 80..87 */
	STORE_SLOT_LIFECYCLE = 88, /* store_lifecycle.c: 88..91 */
	STORE_SLOT_SESSIONS = 92,  /* store_sessions.c: 92..99 */
	STORE_SLOT_CALLS = 100,    /* store_calls.c: 100..103 */
	STORE_SLOT_LEASES = 104,   /* store_leases.c: 104..107 */
	STORE_SLOT_CONTACTS = 108, /* store_contacts.c: 108..111 */
	STORE_SLOT_LIMITS = 112,   /* store_limits.c: 112..119 */
	STORE_SLOTS = 120
};

typedef struct store_ckpt store_ckpt;
typedef struct db_pg db_pg;

struct consult_store {
	const db_driver *drv;
	sqlite3 *db; /* the SQLite connection; NULL on PostgreSQL */
	db_pg *pg;   /* the PostgreSQL connection (db_pg.c); NULL on SQLite */
	char *path;  /* the SQLite database file; NULL in memory and on PostgreSQL */
	db_stmt *cache[STORE_SLOTS];
	char last_error[256];
	db_fault fault;          /* class of the newest failure the driver reported */
	int unit;                /* units of work open (store_tx_begin) */
	char err_name[32];       /* name of the newest counted failure */
	bool ckpt_pending;       /* purge/erase inside an outer transaction: checkpoint at commit */
	atomic_int wal_frames;   /* WAL size after the last commit (wal hook) */
	atomic_uint wal_commits; /* commits seen (wal hook) */
	atomic_uint errors;      /* failures counted (store.h, "store errors") */
	consult_store_error_hook hook;
	void *hook_ud;
	consult_store_wait_hook wait_hook; /* store.h, "waiting for the database server" */
	void *wait_ud;
	int wait_depth;        /* round trips open (nested calls report only the outermost) */
	store_ckpt *ckpt;      /* upkeep's own connection (store_maintain.c); NULL: auto checkpoints */
	char upkeep_note[160]; /* why upkeep cannot run; reported by the first maintain */
};

/* --- statements (store_stmt.c) --- */
/* A statement in use: cached (reset on release) or private (finalized). */
typedef struct stmt_use {
	db_stmt *st;
	bool owned;
} stmt_use;
/* Hands out the statement of slot (0 <= slot < STORE_SLOTS), prepared
 * from sql once and cached; a private copy if the cached one is busy (a
 * list callback re-entered the store). false (message kept) on failure. */
bool store_stmt(consult_store *s, int slot, const char *sql, stmt_use *u);
void store_stmt_release(stmt_use *u);

/* A driver reports a failure: its class, an error name and a message
 * without values (kept for last_error). Every failure that is not a plain
 * answer (DB_FAULT_OTHER) is counted and passed to the error hook. */
void store_db_fail(consult_store *s, db_fault f, const char *name, const char *msg);
/* The result of the newest reported failure: CONFLICT (unique value
 * taken), NOT_FOUND (missing parent row) or INTERNAL. */
consult_err store_failed(consult_store *s);
static inline void store_bind_text(db_stmt *st, int i, const char *v)
{
	db_bind_text(st, i, v);
}
/* 0 in the API means NULL in SQL (any doctor, nobody, not set). */
void store_bind_id_or_null(db_stmt *st, int i, int64_t v);
/* Binds ?1.. to the values (int64 each); used by the many statements that
 * take only ids and times. */
void store_bind_ints(db_stmt *st, int n, const int64_t *v);
#define STORE_BIND(st, ...) \
	store_bind_ints((st), (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), (int64_t[]){ __VA_ARGS__ })
/* Runs a bound write to completion; *changes (may be NULL) = rows changed. */
consult_err store_run_write(consult_store *s, stmt_use *u, int *changes);
/* A write of a row set: *n (may be NULL) = rows changed, 0 on error. */
consult_err store_run_count(consult_store *s, stmt_use *u, int64_t *n);
/* A write that must touch one row: NOT_FOUND when none matched. */
consult_err store_run_update_one(consult_store *s, stmt_use *u);
/* A write that inserts one row (... RETURNING id): *id (may be NULL) =
 * its id; NOT_FOUND if the statement inserted nothing. */
consult_err store_run_insert(consult_store *s, stmt_use *u, int64_t *id);
/* Does a bound query return a row? OK / NOT_FOUND. */
consult_err store_run_exists(consult_store *s, stmt_use *u);
/* A bound single-value query (count(*), min(...)): *v = column 0.
 * NOT_FOUND if no row or the value is NULL. */
consult_err store_run_int(consult_store *s, stmt_use *u, int64_t *v);

/* --- the generic row reader (store_stmt.c) ---
 * A row type lists, for result columns 0..n-1 in order, where each goes in
 * the struct. NULL reads as 0 / NULL / the enum's value 0. */
typedef enum store_col_kind {
	COL_I64,    /* int64_t */
	COL_INT,    /* int */
	COL_BOOL,   /* bool, non-zero = true */
	COL_TEXT,   /* char *, strdup'ed */
	COL_SECRET, /* char *, strdup'ed, zeroed before it is freed */
	COL_BYTES,  /* uint8_t[len], the column must have exactly len bytes */
	COL_BLOB,   /* uint8_t * malloc'ed, zeroed before freed; its size_t length at offsetof len */
	COL_ENUM,   /* an enum (int-sized) from its name by parse; unknown names fail */
	COL_SKIP    /* read by the caller, not stored */
} store_col_kind;
typedef struct store_col {
	store_col_kind kind;
	size_t off;                     /* offsetof the field */
	size_t len;                     /* COL_BYTES: bytes; COL_BLOB: offsetof the length field */
	int (*parse)(const char *name); /* COL_ENUM: the value, -1 if unknown */
} store_col;
typedef struct store_row {
	const store_col *cols;
	int n;
	size_t size; /* sizeof the struct */
} store_row;
#define STORE_ROW(type, cols)                                                 \
	{                                                                     \
		(cols), (int)(sizeof(cols) / sizeof((cols)[0])), sizeof(type) \
	}

/* Fills out from the current row; on failure (out of memory, a bad value)
 * frees what it took, zeroes out and returns false. */
bool store_read_row(db_stmt *st, const store_row *t, void *out);
/* Frees the strings and blobs of a row read by store_read_row (secrets
 * zeroed first) and zeroes the struct; the *_clear functions of store.h. */
void store_row_free(const store_row *t, void *row);
/* Steps a bound single-row query into out and releases it: OK, NOT_FOUND
 * (out zeroed) or the error. */
consult_err store_one(consult_store *s, stmt_use *u, const store_row *t, void *out);
/* Steps a bound list query: OK with the next row in out (the caller frees
 * it with store_row_free), or, with the statement released, NOT_FOUND at
 * the end or the error. Use: while ((e = store_next(...)) == CONSULT_OK)
 * { cb(&row, ud); clear(&row); } return store_done(e); */
consult_err store_next(consult_store *s, stmt_use *u, const store_row *t, void *out);
static inline consult_err store_done(consult_err e)
{
	return e == CONSULT_ERR_NOT_FOUND ? CONSULT_OK : e;
}

/* One row by key into out (zeroed first): ?1 = key if it is not NULL,
 * else ?1 = id. OK, NOT_FOUND or the error. */
consult_err store_find(
        consult_store *s, int slot, const char *sql, const store_row *t, void *out, const char *key, int64_t id);
/* A write bound with int64 values ?1..?n; *changed (may be NULL) = rows
 * changed, 0 on error. */
consult_err store_write(consult_store *s, int slot, const char *sql, int64_t *changed, int n, const int64_t *v);
#define STORE_WRITE(s, slot, sql, changed, ...)                                                                 \
	store_write((s), (slot), (sql), (changed), (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), \
	        (int64_t[]){ __VA_ARGS__ })

/* --- enum names (store_names.c): parsers for COL_ENUM, -1 if unknown --- */
int store_parse_role(const char *v);
int store_parse_visit_state(const char *v);
int store_parse_end_reason(const char *v);
int store_parse_appt_status(const char *v);
int store_parse_channel(const char *v);
int store_parse_msg_kind(const char *v);
int store_parse_outbox_status(const char *v);

/* --- units of work (store_tx.c) ---
 * Atomic whether or not the caller holds an outer transaction
 * (consult_store_begin): BEGIN ... COMMIT on its own, SAVEPOINT ...
 * RELEASE inside one. store_tx_end with ok == false undoes everything
 * since store_tx_begin. Returns false (INTERNAL, message kept) if the
 * database refused; after a failed commit the work is rolled back. */
bool store_tx_begin(consult_store *s, bool *outer);
bool store_tx_end(consult_store *s, bool outer, bool ok);
/* Ends a unit of work begun with store_tx_begin with the result e of its
 * steps: e, or INTERNAL if the end failed although the steps succeeded. */
consult_err store_tx_finish(consult_store *s, bool outer, consult_err e);

/* After a purge or erase on SQLite: PRAGMA wal_checkpoint(TRUNCATE), so
 * old page images leave the -wal file. Inside an outer transaction it is
 * deferred to consult_store_commit. Failure (e.g. a reader held the WAL)
 * is kept in last_error and not reported: the next purge run checkpoints
 * again. Nothing on PostgreSQL (docs/operations.md: VACUUM, WAL). */
void store_checkpoint_truncate(consult_store *s);

/* --- SQLite connection (store_sqlite.c, db_sqlite.c) and upkeep (store_maintain.c) --- */
/* Reports the connection's newest SQLite failure through store_db_fail. */
void store_remember_error(consult_store *s);
/* After migration (upkeep's connection), and at close. */
void store_sqlite_ready(consult_store *s);
void store_sqlite_close(consult_store *s);
/* Runs a PRAGMA; false with "sql failed: message" in err on failure. */
bool store_exec_pragma(sqlite3 *db, const char *sql, char *err, size_t errlen);
/* Reads a one-value PRAGMA as text into buf ("" on failure); SQLite rc. */
int store_pragma_text(sqlite3 *db, const char *sql, char *buf, size_t len);
#define STORE_STR_(x) #x
#define STORE_STR(x)  STORE_STR_(x)
/* journal_size_limit: the -wal file is cut back to the limit whenever it is reset. */
#define STORE_WAL_LIMIT_PRAGMA "PRAGMA journal_size_limit = " STORE_STR(CONSULT_STORE_LOG_LIMIT)
/* At open, for a file in WAL mode: opens upkeep's connection and turns the
 * store connection's automatic checkpoint off; if that is not possible
 * the reason goes to s->upkeep_note and SQLite keeps checkpointing inside
 * commits. */
void store_upkeep_start(consult_store *s);
/* At close, before the store connection closes. */
void store_upkeep_stop(consult_store *s);

#endif
