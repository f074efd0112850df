/* db_pg.h - what the two files of the PostgreSQL driver share (not an API).
 *
 * Contract: db_pg_conn.c owns the connection (open, close, reconnect,
 * transactions, schema version, error reporting); db_pg.c the statements
 * (placeholders, bindings, results). Only these two include it. One libpq
 * connection per store handle, used under the caller's lock. No logging.
 */
#ifndef CONSULT_STORE_DB_PG_H
#define CONSULT_STORE_DB_PG_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "db.h"

/* type OIDs of pg_type (server headers are not needed for these four) */
#define PG_BOOL_OID  16
#define PG_BYTEA_OID 17
#define PG_INT8_OID  20
#define PG_TEXT_OID  25

struct db_pg {
	PGconn *conn;
	unsigned gen;   /* bumped by each reconnect: prepared statements are gone */
	unsigned names; /* prepared statement names handed out */
	bool broken;    /* the connection was lost inside a transaction, which went with it */
};

/* Runs one statement with the connection rules of db_pg_conn.c: a lost
 * connection outside a transaction is reset and the statement run once
 * more; inside one the transaction is marked lost (INTERNAL until commit
 * or rollback); a statement of an outer transaction (no unit of work open)
 * runs inside its own savepoint, so a failing one undoes only itself. run
 * sends the statement (and prepares it first if needed); it gets the
 * connection's generation. NULL (failure reported) or the result, which
 * the caller clears. */
typedef PGresult *(*pg_send_fn)(consult_store *s, void *ud, unsigned gen);
PGresult *pg_run(consult_store *s, pg_send_fn send, void *ud);

/* Reports a failed result (or, res NULL, the connection's message). */
void pg_report(consult_store *s, const PGresult *res);

/* The statement functions of db_driver (db_pg.c). */
db_stmt *pg_prepare(consult_store *s, const char *sql, bool cached);
bool pg_busy(const db_stmt *st);
void pg_reset(db_stmt *st);
void pg_finalize(db_stmt *st);
void pg_bind_int64(db_stmt *st, int i, int64_t v);
void pg_bind_text(db_stmt *st, int i, const char *v);
void pg_bind_blob(db_stmt *st, int i, const void *v, size_t n);
int pg_param_count(const db_stmt *st);
int pg_step(consult_store *s, db_stmt *st);
int64_t pg_changes(consult_store *s, db_stmt *st);
bool pg_col_null(db_stmt *st, int i);
int64_t pg_col_int64(db_stmt *st, int i);
const char *pg_col_text(db_stmt *st, int i);
const void *pg_col_blob(db_stmt *st, int i, size_t *len);

#endif
