/* db.h - the SQL driver under the store's domain files (not an API).
 *
 * Contract: the domain files (store_people.c, store_visits.c, ...) speak
 * one SQL dialect that SQLite and PostgreSQL both accept: ?N placeholders
 * (the PostgreSQL driver sends them as $N), INSERT ... RETURNING id for
 * new ids, ON CONFLICT, integers for booleans and times, lower() instead
 * of COLLATE NOCASE. They reach the database only through these calls; a
 * driver (db_sqlite.c, db_pg.c) is one table of functions, chosen by
 * consult_store_open() from the location. A statement is prepared, bound
 * by index (1-based), stepped (DB_ROW, DB_DONE or DB_ERROR) and read by
 * column (0-based) until it is reset; a failure is reported by the driver
 * through store_db_fail() (store_internal.h) with its class, an error name
 * (SQLite result code name, "PG_" + SQLSTATE) and a message without
 * values. Blob and text arguments need to stay valid only until the
 * statement is stepped. No logging.
 */
#ifndef CONSULT_STORE_DB_H
#define CONSULT_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct consult_store consult_store;
typedef struct db_driver db_driver;

/* Every driver's statement begins with this. */
typedef struct db_stmt {
	const db_driver *drv;
} db_stmt;

enum { DB_ERROR = -1, DB_DONE = 0, DB_ROW = 1 };

/* Transaction control; SAVEPOINT, RELEASE and ROLLBACK_TO use the one
 * savepoint name of the store's units of work. */
typedef enum db_tx { DB_BEGIN, DB_COMMIT, DB_ROLLBACK, DB_SAVEPOINT, DB_RELEASE, DB_ROLLBACK_TO } db_tx;

/* What kind of failure the driver saw: a taken unique value and a missing
 * parent row are answers (CONFLICT, NOT_FOUND), all else INTERNAL. */
typedef enum db_fault { DB_FAULT_OTHER = 0, DB_FAULT_UNIQUE, DB_FAULT_FOREIGN_KEY } db_fault;

struct db_driver {
	const char *name; /* "SQLite", "PostgreSQL": for messages */
	void (*close)(consult_store *s);
	/* cached: kept for the handle's life (SQLite: persistent; PostgreSQL:
	 * a named prepared statement); else a one-off. NULL on failure. */
	db_stmt *(*prepare)(consult_store *s, const char *sql, bool cached);
	bool (*busy)(const db_stmt *st); /* stepped and not reset yet */
	void (*reset)(db_stmt *st);      /* also clears the bindings */
	void (*finalize)(db_stmt *st);
	void (*bind_int64)(db_stmt *st, int i, int64_t v);
	void (*bind_text)(db_stmt *st, int i, const char *v);           /* NULL: SQL NULL */
	void (*bind_blob)(db_stmt *st, int i, const void *v, size_t n); /* NULL: SQL NULL */
	int (*param_count)(const db_stmt *st);                          /* highest ?N */
	int (*step)(consult_store *s, db_stmt *st);                     /* DB_ROW, DB_DONE, DB_ERROR */
	int64_t (*changes)(consult_store *s, db_stmt *st);              /* rows of the finished write */
	bool (*col_null)(db_stmt *st, int i);                           /* the column is NULL */
	int64_t (*col_int64)(db_stmt *st, int i);                       /* NULL: 0 */
	const char *(*col_text)(db_stmt *st, int i);                    /* NULL: NULL */
	const void *(*col_blob)(db_stmt *st, int i, size_t *len);       /* NULL: NULL, 0 */
	bool (*tx)(consult_store *s, db_tx op);                         /* false: failed (reported) */
	bool (*in_tx)(consult_store *s);                                /* a transaction is open */
	/* schema (migrations.c): begin the migration transaction with the
	 * schema locked against other processes, read and write the version,
	 * run one step's DDL */
	bool (*migrate_begin)(consult_store *s);
	bool (*version)(consult_store *s, int *v);
	bool (*set_version)(consult_store *s, int v);
	bool (*exec_ddl)(consult_store *s, const char *sql);
};

static inline void db_bind_int64(db_stmt *st, int i, int64_t v)
{
	st->drv->bind_int64(st, i, v);
}
static inline void db_bind_text(db_stmt *st, int i, const char *v)
{
	st->drv->bind_text(st, i, v);
}
static inline void db_bind_blob(db_stmt *st, int i, const void *v, size_t n)
{
	st->drv->bind_blob(st, i, v, n);
}
static inline void db_bind_null(db_stmt *st, int i)
{
	st->drv->bind_text(st, i, NULL);
}
static inline int db_param_count(const db_stmt *st)
{
	return st->drv->param_count(st);
}
static inline int db_step(consult_store *s, db_stmt *st)
{
	return st->drv->step(s, st);
}
static inline bool db_col_null(db_stmt *st, int i)
{
	return st->drv->col_null(st, i);
}
static inline int64_t db_col_int64(db_stmt *st, int i)
{
	return st->drv->col_int64(st, i);
}
static inline const char *db_col_text(db_stmt *st, int i)
{
	return st->drv->col_text(st, i);
}
static inline const void *db_col_blob(db_stmt *st, int i, size_t *len)
{
	return st->drv->col_blob(st, i, len);
}

/* The drivers; open fills s->drv and the connection or fails with err. */
extern const db_driver db_sqlite_driver;
extern const db_driver db_pg_driver;
bool db_sqlite_open(consult_store *s, const char *path, char *err, size_t errlen);
bool db_pg_open(consult_store *s, const char *url, char *err, size_t errlen);

#endif
