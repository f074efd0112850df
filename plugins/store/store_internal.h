/* store_internal.h - what the files of the SQLite store share (not an API).
 *
 * Contract: only the .c files of plugins/store include this. It defines the store
 * handle, the cached-statement helpers and the transaction helpers that
 * store_sqlite.c implements; the other files (store_delivery.c,
 * store_retention.c, store_devices.c) keep their statements in the extension slots, each file
 * in its own range below. Same rules as store_sqlite.c: no logging, errors
 * mapped by store_map_rc, the SQLite message kept for last_error.
 */
#ifndef CONSULT_STORE_INTERNAL_H
#define CONSULT_STORE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "store.h"

#define STORE_CORE_SLOTS 48        /* store_sqlite.c's statement enum must fit */
enum {
	STORE_SLOT_DELIVERY = 0,       /* store_delivery.c: 0..31 */
	STORE_SLOT_RETENTION = 32,     /* store_retention.c: 32..47 */
	STORE_SLOT_DEVICES = 48,       /* store_devices.c: 48..55 */
	STORE_EXT_SLOTS = 56
};

struct consult_store {
	sqlite3 *db;
	sqlite3_stmt *cache[STORE_CORE_SLOTS];
	sqlite3_stmt *ext[STORE_EXT_SLOTS];
	char last_error[256];
	bool ckpt_pending;            /* purge/erase inside an outer transaction: checkpoint at commit */
	atomic_int wal_frames;        /* manual checkpoints: WAL size after the last commit */
	atomic_uint wal_commits;      /* manual checkpoints: commits seen */
	atomic_uint errors;           /* failures counted (store.h, "store errors") */
	int last_rc;                  /* SQLite result code of the newest counted failure */
	consult_store_error_hook hook;
	void *hook_ud;
};

/* A statement in use: cached (reset on release) or private (finalized). */
typedef struct stmt_use { sqlite3_stmt *st; bool owned; } stmt_use;

/* Prepares sql into *slot once (persistent) and hands it out; a private
 * copy if the cached one is busy (re-entered from a callback). */
bool store_stmt_prepare(consult_store *s, sqlite3_stmt **slot, const char *sql, stmt_use *u);
/* The same for an extension slot (0 <= slot < STORE_EXT_SLOTS). */
bool store_stmt_ext(consult_store *s, int slot, const char *sql, stmt_use *u);
void store_stmt_release(stmt_use *u);

void store_remember_error(consult_store *s);
consult_err store_map_rc(consult_store *s, int rc);
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
int store_bind_id_or_null(sqlite3_stmt *st, int i, int64_t v);
char *store_col_dup(sqlite3_stmt *st, int i, bool *ok);
consult_err store_run_write(consult_store *s, stmt_use *u, int *changes);
consult_err store_run_update_one(consult_store *s, stmt_use *u);
consult_err store_run_exists(consult_store *s, stmt_use *u);
/* Steps a bound single-value query (count(*), min(...)): *v = column 0.
 * NOT_FOUND if no row or the value is NULL. */
consult_err store_run_int(consult_store *s, stmt_use *u, int64_t *v);

/* A unit of work that is atomic whether or not the caller holds an outer
 * transaction (consult_store_begin): BEGIN IMMEDIATE ... COMMIT on its own,
 * SAVEPOINT ... RELEASE inside one. store_tx_end with ok == false undoes
 * everything since store_tx_begin. Returns false (INTERNAL, message kept)
 * if SQLite refused; after a failed commit the work is rolled back. */
bool store_tx_begin(consult_store *s, bool *outer);
bool store_tx_end(consult_store *s, bool outer, bool ok);

/* After a purge or erase: PRAGMA wal_checkpoint(TRUNCATE), so old page
 * images leave the -wal file. Inside an outer transaction it is deferred
 * to consult_store_commit. Failure (e.g. a reader held the WAL) is kept
 * in last_error and not reported: the next purge run checkpoints again. */
void store_checkpoint_truncate(consult_store *s);

#endif
