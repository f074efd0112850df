/* store_stmt.c - the statement cache, the run helpers and the generic row
 * reader of the store (store_internal.h), on the SQL driver (db.h).
 *
 * Contract: a statement is prepared once per slot (cached by the driver)
 * and reset on release; if the cached one is busy (a list callback
 * re-entered the store) a one-off copy is prepared and finalized on
 * release. Error mapping: UNIQUE -> CONFLICT, missing parent (FOREIGN
 * KEY) -> NOT_FOUND, all else -> INTERNAL, and every failure that is not a
 * plain answer is counted and passed to the error hook (the driver's error
 * name only). The row reader copies columns into a struct by a column
 * table (offsets and kinds), so no row type needs its own loop. No logging.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

void store_db_fail(consult_store *s, db_fault f, const char *name, const char *msg)
{
	s->fault = f;
	snprintf(s->last_error, sizeof s->last_error, "%s", msg ? msg : "");
	if (f != DB_FAULT_OTHER)
		return;
	snprintf(s->err_name, sizeof s->err_name, "%s", name && *name ? name : "STORE_ERROR");
	atomic_fetch_add(&s->errors, 1u);
	if (s->hook)
		s->hook(s->hook_ud, s->err_name);
}

consult_err store_failed(consult_store *s)
{
	switch (s->fault) {
	case DB_FAULT_UNIQUE:
		return CONSULT_ERR_CONFLICT;
	case DB_FAULT_FOREIGN_KEY:
		return CONSULT_ERR_NOT_FOUND;
	default:
		return CONSULT_ERR_INTERNAL;
	}
}

bool store_stmt(consult_store *s, int slot, const char *sql, stmt_use *u)
{
	u->st = NULL;
	u->owned = false;
	if (slot < 0 || slot >= STORE_SLOTS) {
		snprintf(s->last_error, sizeof s->last_error, "statement slot out of range");
		return false;
	}
	db_stmt *c = s->cache[slot];
	if (c && !s->drv->busy(c)) {
		u->st = c;
		return true;
	}
	db_stmt *st = s->drv->prepare(s, sql, !c);
	if (!st)
		return false;
	if (!c)
		s->cache[slot] = st;
	else
		u->owned = true;
	u->st = st;
	return true;
}

void store_stmt_release(stmt_use *u)
{
	if (!u->st)
		return;
	if (u->owned)
		u->st->drv->finalize(u->st);
	else
		u->st->drv->reset(u->st);
	u->st = NULL;
}

void store_bind_id_or_null(db_stmt *st, int i, int64_t v)
{
	if (v)
		db_bind_int64(st, i, v);
	else
		db_bind_null(st, i);
}

void store_bind_ints(db_stmt *st, int n, const int64_t *v)
{
	for (int i = 0; i < n; i++)
		db_bind_int64(st, i + 1, v[i]);
}

consult_err store_run_write(consult_store *s, stmt_use *u, int *changes)
{
	int rc = db_step(s, u->st);
	consult_err e = CONSULT_OK;
	if (rc == DB_ERROR)
		e = store_failed(s);
	else if (changes)
		*changes = (int)s->drv->changes(s, u->st);
	store_stmt_release(u);
	return e;
}

consult_err store_run_count(consult_store *s, stmt_use *u, int64_t *n)
{
	int changes = 0;
	consult_err e = store_run_write(s, u, &changes);
	if (n)
		*n = e == CONSULT_OK ? changes : 0;
	return e;
}

consult_err store_run_update_one(consult_store *s, stmt_use *u)
{
	int changes = 0;
	consult_err e = store_run_write(s, u, &changes);
	if (e == CONSULT_OK && changes == 0)
		e = CONSULT_ERR_NOT_FOUND;
	return e;
}

consult_err store_run_insert(consult_store *s, stmt_use *u, int64_t *id)
{
	int rc = db_step(s, u->st);
	consult_err e = rc == DB_ROW ? CONSULT_OK : rc == DB_DONE ? CONSULT_ERR_NOT_FOUND : store_failed(s);
	if (e == CONSULT_OK && id)
		*id = db_col_int64(u->st, 0);
	/* run to the end: SQLite finishes the statement's commit (and its WAL
	 * hook) in the step that returns DONE, not in a reset */
	if (e == CONSULT_OK && db_step(s, u->st) == DB_ERROR)
		e = store_failed(s);
	store_stmt_release(u);
	return e;
}

consult_err store_run_exists(consult_store *s, stmt_use *u)
{
	int rc = db_step(s, u->st);
	consult_err e = rc == DB_ROW ? CONSULT_OK : rc == DB_DONE ? CONSULT_ERR_NOT_FOUND : store_failed(s);
	store_stmt_release(u);
	return e;
}

consult_err store_run_int(consult_store *s, stmt_use *u, int64_t *v)
{
	int rc = db_step(s, u->st);
	consult_err e = CONSULT_ERR_NOT_FOUND;
	if (rc == DB_ROW) {
		if (!db_col_null(u->st, 0)) {
			*v = db_col_int64(u->st, 0);
			e = CONSULT_OK;
		}
	} else if (rc == DB_ERROR) {
		e = store_failed(s);
	}
	store_stmt_release(u);
	return e;
}

/* --- the row reader --- */

_Static_assert(sizeof(consult_role) == sizeof(int) && sizeof(consult_outbox_status) == sizeof(int),
        "COL_ENUM stores enums as int");

/* A copy of a text column; NULL stays NULL; false on allocation failure. */
static bool col_text(db_stmt *st, int i, char **out)
{
	const char *t = db_col_text(st, i);
	*out = t ? strdup(t) : NULL;
	return t ? *out != NULL : true;
}

static bool col_blob(db_stmt *st, int i, uint8_t **out, size_t *len)
{
	size_t n = 0;
	const void *b = db_col_blob(st, i, &n);
	*out = NULL;
	*len = 0;
	if (!b || n == 0)
		return true;
	if (!(*out = malloc(n)))
		return false;
	memcpy(*out, b, n);
	*len = n;
	return true;
}

static bool read_col(db_stmt *st, int i, const store_col *c, char *base)
{
	void *f = base + c->off;
	switch (c->kind) {
	case COL_I64:
		*(int64_t *)f = db_col_int64(st, i);
		return true;
	case COL_INT:
		*(int *)f = (int)db_col_int64(st, i);
		return true;
	case COL_BOOL:
		*(bool *)f = db_col_int64(st, i) != 0;
		return true;
	case COL_TEXT:
	case COL_SECRET:
		return col_text(st, i, (char **)f);
	case COL_BLOB:
		return col_blob(st, i, (uint8_t **)f, (size_t *)(base + c->len));
	case COL_BYTES: {
		size_t n = 0;
		const void *b = db_col_blob(st, i, &n);
		if (!b || n != c->len)
			return false;
		memcpy(f, b, c->len);
		return true;
	}
	case COL_ENUM: {
		const char *t = db_col_text(st, i);
		int v = t ? c->parse(t) : 0;
		*(int *)f = v;
		return v >= 0;
	}
	case COL_SKIP:
		return true;
	}
	return false;
}

void store_row_free(const store_row *t, void *row)
{
	if (!row)
		return;
	char *base = row;
	for (int i = 0; i < t->n; i++) {
		const store_col *c = &t->cols[i];
		void **p = (void **)(base + c->off);
		if (c->kind == COL_SECRET && *p)
			sodium_memzero(*p, strlen(*p));
		else if (c->kind == COL_BLOB && *p)
			sodium_memzero(*p, *(size_t *)(base + c->len));
		if (c->kind == COL_TEXT || c->kind == COL_SECRET || c->kind == COL_BLOB)
			free(*p);
	}
	memset(row, 0, t->size);
}

bool store_read_row(db_stmt *st, const store_row *t, void *out)
{
	memset(out, 0, t->size);
	bool ok = true;
	for (int i = 0; i < t->n && ok; i++)
		ok = read_col(st, i, &t->cols[i], out);
	if (!ok)
		store_row_free(t, out);
	return ok;
}

consult_err store_next(consult_store *s, stmt_use *u, const store_row *t, void *out)
{
	memset(out, 0, t->size);
	int rc = db_step(s, u->st);
	consult_err e;
	if (rc == DB_ROW) {
		if (store_read_row(u->st, t, out))
			return CONSULT_OK;
		snprintf(s->last_error, sizeof s->last_error, "a row could not be read (memory or a bad value)");
		e = CONSULT_ERR_INTERNAL;
	} else {
		e = rc == DB_DONE ? CONSULT_ERR_NOT_FOUND : store_failed(s);
	}
	store_stmt_release(u);
	return e;
}

consult_err store_one(consult_store *s, stmt_use *u, const store_row *t, void *out)
{
	consult_err e = store_next(s, u, t, out);
	store_stmt_release(u);
	return e;
}

consult_err store_find(
        consult_store *s, int slot, const char *sql, const store_row *t, void *out, const char *key, int64_t id)
{
	stmt_use u;
	memset(out, 0, t->size);
	if (!store_stmt(s, slot, sql, &u))
		return CONSULT_ERR_INTERNAL;
	if (key)
		store_bind_text(u.st, 1, key);
	else
		db_bind_int64(u.st, 1, id);
	return store_one(s, &u, t, out);
}

consult_err store_write(consult_store *s, int slot, const char *sql, int64_t *changed, int n, const int64_t *v)
{
	stmt_use u;
	if (changed)
		*changed = 0;
	if (!store_stmt(s, slot, sql, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_ints(u.st, n, v);
	return store_run_count(s, &u, changed);
}
