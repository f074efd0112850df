/* db_pg.c - the statements of the PostgreSQL driver (db.h, db_pg.h).
 *
 * Contract: the domain files' ?N placeholders are sent as $N (outside
 * quotes). A cached statement is a named prepared statement, prepared at
 * its first run on each session (again after a reconnect) with the types
 * of that run's arguments: int64 as int8, blobs as bytea (binary), text as
 * text, NULL left to the server; a one-off statement is sent with its
 * arguments (no prepare). Arguments are copied at bind (a copy that fails
 * for lack of memory fails the run) and zeroed when the statement is
 * reset. A run fetches the whole result (text format); steps
 * walk its rows; booleans read as 0/1, bytea is unescaped into a buffer of
 * the statement that the next blob read or the reset replaces. Runs go
 * through pg_run (db_pg_conn.c) for the connection rules. No logging.
 */
#include "store_internal.h"
#include "db_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

typedef struct pg_stmt {
	db_stmt base;
	char *sql; /* with $N */
	int n;     /* parameters */
	bool cached, prepared, active;
	bool oom;     /* an argument could not be copied: the run fails */
	unsigned gen; /* session it was prepared on */
	char name[24];
	const char **vals;
	int *lens, *fmts;
	Oid *types;
	bool *owned;
	char (*num)[24];
	PGresult *res;
	int row, rows;
	int64_t changes;
	unsigned char *blob; /* unescaped bytea (PQfreemem) */
	size_t blob_len;
} pg_stmt;

#define PQ(x) ((pg_stmt *)(x))

/* ?N -> $N outside quotes; *n = the highest N. NULL if out of memory. */
static char *placeholders(const char *sql, int *n)
{
	size_t len = strlen(sql);
	char *out = malloc(len + 1);
	char quote = 0;
	*n = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i <= len; i++) {
		char c = sql[i];
		if (quote)
			quote = c == quote ? 0 : quote;
		else if (c == '\'' || c == '"')
			quote = c;
		else if (c == '?' && sql[i + 1] >= '1' && sql[i + 1] <= '9') {
			int v = atoi(sql + i + 1);
			if (v > *n)
				*n = v;
			c = '$';
		}
		out[i] = c;
	}
	return out;
}

static void unbind(pg_stmt *q, int i)
{
	if (q->owned[i] && q->vals[i]) {
		sodium_memzero((void *)q->vals[i], (size_t)q->lens[i]);
		free((void *)q->vals[i]);
	}
	q->vals[i] = NULL;
	q->lens[i] = 0;
	q->fmts[i] = 0;
	q->types[i] = 0;
	q->owned[i] = false;
}

static void drop_blob(pg_stmt *q)
{
	if (q->blob) {
		sodium_memzero(q->blob, q->blob_len);
		PQfreemem(q->blob);
	}
	q->blob = NULL;
	q->blob_len = 0;
}

db_stmt *pg_prepare(consult_store *s, const char *sql, bool cached)
{
	pg_stmt *q = calloc(1, sizeof *q);
	bool ok = q && (q->sql = placeholders(sql, &q->n));
	if (ok && q->n > 0) {
		size_t n = (size_t)q->n;
		q->vals = calloc(n, sizeof *q->vals);
		q->lens = calloc(n, sizeof *q->lens);
		q->fmts = calloc(n, sizeof *q->fmts);
		q->types = calloc(n, sizeof *q->types);
		q->owned = calloc(n, sizeof *q->owned);
		q->num = calloc(n, sizeof *q->num);
		ok = q->vals && q->lens && q->fmts && q->types && q->owned && q->num;
	}
	if (!ok) {
		if (q)
			pg_finalize(&q->base);
		store_db_fail(s, DB_FAULT_OTHER, "PG_NOMEM", "out of memory");
		return NULL;
	}
	q->base.drv = &db_pg_driver;
	q->cached = cached;
	if (cached)
		snprintf(q->name, sizeof q->name, "consult_%u", ++s->pg->names);
	return &q->base;
}

bool pg_busy(const db_stmt *st)
{
	return PQ(st)->active;
}

void pg_reset(db_stmt *st)
{
	pg_stmt *q = PQ(st);
	for (int i = 0; i < q->n; i++)
		unbind(q, i);
	PQclear(q->res);
	q->res = NULL;
	q->row = q->rows = 0;
	q->changes = 0;
	q->active = false;
	q->oom = false;
	drop_blob(q);
}

void pg_finalize(db_stmt *st)
{
	pg_stmt *q = PQ(st);
	if (!q)
		return;
	if (q->vals)
		pg_reset(st);
	PQclear(q->res);
	drop_blob(q);
	free(q->sql);
	free(q->vals);
	free(q->lens);
	free(q->fmts);
	free(q->types);
	free(q->owned);
	free(q->num);
	free(q);
}

static bool in_range(const pg_stmt *q, int i)
{
	return i >= 1 && i <= q->n;
}

void pg_bind_int64(db_stmt *st, int i, int64_t v)
{
	pg_stmt *q = PQ(st);
	if (!in_range(q, i))
		return;
	unbind(q, --i);
	snprintf(q->num[i], sizeof q->num[i], "%lld", (long long)v);
	q->vals[i] = q->num[i];
	q->types[i] = PG_INT8_OID;
}

void pg_bind_text(db_stmt *st, int i, const char *v)
{
	pg_stmt *q = PQ(st);
	if (!in_range(q, i))
		return;
	unbind(q, --i);
	if (!v)
		return;
	if (!(q->vals[i] = strdup(v))) {
		q->oom = true;
		return;
	}
	q->owned[i] = true;
	q->lens[i] = (int)strlen(v);
	q->types[i] = PG_TEXT_OID;
}

void pg_bind_blob(db_stmt *st, int i, const void *v, size_t n)
{
	pg_stmt *q = PQ(st);
	if (!in_range(q, i))
		return;
	unbind(q, --i);
	if (!v)
		return;
	char *copy = malloc(n ? n : 1);
	if (!copy) {
		q->oom = true;
		return;
	}
	memcpy(copy, v, n);
	q->vals[i] = copy;
	q->owned[i] = true;
	q->lens[i] = (int)n;
	q->fmts[i] = 1;
	q->types[i] = PG_BYTEA_OID;
}

int pg_param_count(const db_stmt *st)
{
	return PQ(st)->n;
}

/* pg_send_fn: prepares (once per session) and runs the statement. */
static PGresult *send(consult_store *s, void *ud, unsigned gen)
{
	pg_stmt *q = ud;
	PGconn *c = s->pg->conn;
	if (!q->cached)
		return PQexecParams(c, q->sql, q->n, q->types, q->vals, q->lens, q->fmts, 0);
	if (!q->prepared || q->gen != gen) {
		PGresult *r = PQprepare(c, q->name, q->sql, q->n, q->types);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return r;
		PQclear(r);
		q->prepared = true;
		q->gen = gen;
	}
	return PQexecPrepared(c, q->name, q->n, q->vals, q->lens, q->fmts, 0);
}

int pg_step(consult_store *s, db_stmt *st)
{
	pg_stmt *q = PQ(st);
	if (q->active)
		return q->res && ++q->row < q->rows ? DB_ROW : DB_DONE;
	q->active = true;
	if (q->oom) {
		store_db_fail(s, DB_FAULT_OTHER, "PG_NOMEM", "out of memory for an argument");
		return DB_ERROR;
	}
	if (!(q->res = pg_run(s, send, q)))
		return DB_ERROR;
	q->row = 0;
	q->rows = PQntuples(q->res);
	q->changes = strtoll(PQcmdTuples(q->res), NULL, 10);
	return q->rows > 0 ? DB_ROW : DB_DONE;
}

int64_t pg_changes(consult_store *s, db_stmt *st)
{
	(void)s;
	return PQ(st)->changes;
}

static bool have(const pg_stmt *q, int i)
{
	return q->res && q->row < q->rows && i >= 0 && i < PQnfields(q->res) && !PQgetisnull(q->res, q->row, i);
}

bool pg_col_null(db_stmt *st, int i)
{
	return !have(PQ(st), i);
}

int64_t pg_col_int64(db_stmt *st, int i)
{
	pg_stmt *q = PQ(st);
	if (!have(q, i))
		return 0;
	const char *v = PQgetvalue(q->res, q->row, i);
	if (PQftype(q->res, i) == PG_BOOL_OID)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

const char *pg_col_text(db_stmt *st, int i)
{
	pg_stmt *q = PQ(st);
	return have(q, i) ? PQgetvalue(q->res, q->row, i) : NULL;
}

const void *pg_col_blob(db_stmt *st, int i, size_t *len)
{
	pg_stmt *q = PQ(st);
	*len = 0;
	if (!have(q, i))
		return NULL;
	const char *v = PQgetvalue(q->res, q->row, i);
	if (PQftype(q->res, i) != PG_BYTEA_OID) {
		*len = (size_t)PQgetlength(q->res, q->row, i);
		return v;
	}
	drop_blob(q);
	if (!(q->blob = PQunescapeBytea((const unsigned char *)v, &q->blob_len)))
		return NULL;
	*len = q->blob_len;
	return q->blob;
}
