/* store_stmt.c - the statement cache, the run helpers and the generic row
 * reader of the SQLite store (store_internal.h).
 *
 * Contract: a statement is prepared once per slot (persistent) and reset
 * on release; if the cached one is busy (a list callback re-entered the
 * store) a private copy is prepared and finalized on release. Error
 * mapping: UNIQUE -> CONFLICT, missing parent (FOREIGN KEY) -> NOT_FOUND,
 * all else -> INTERNAL, and every failure that is not a plain answer is
 * counted and passed to the error hook (result code name only). The row
 * reader copies columns into a struct by a column table (offsets and
 * kinds), so no row type needs its own loop. No logging.
 */
#include "store_internal.h"
#include "store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

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

/* Keeps the message; counts and reports every failure that is not a plain
 * answer (a taken unique value, a missing parent row). */
void store_remember_error(consult_store *s)
{
	snprintf(s->last_error, sizeof s->last_error, "%s", sqlite3_errmsg(s->db));
	int rc = sqlite3_extended_errcode(s->db);
	if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT_UNIQUE ||
	        rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return;
	s->last_rc = rc;
	atomic_fetch_add(&s->errors, 1u);
	if (s->hook)
		s->hook(s->hook_ud, consult_store_rc_name(rc));
}

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

bool store_stmt(consult_store *s, int slot, const char *sql, stmt_use *u)
{
	u->st = NULL;
	u->owned = false;
	if (slot < 0 || slot >= STORE_SLOTS) {
		snprintf(s->last_error, sizeof s->last_error, "statement slot out of range");
		return false;
	}
	sqlite3_stmt *c = s->cache[slot];
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
	if (u->owned) {
		sqlite3_finalize(u->st);
	} else {
		sqlite3_reset(u->st);
		sqlite3_clear_bindings(u->st);
	}
	u->st = NULL;
}

int store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int store_bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

void store_bind_ints(sqlite3_stmt *st, int n, const int64_t *v)
{
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
}

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
	consult_err e = store_run_write(s, u, NULL);
	if (e == CONSULT_OK && id)
		*id = sqlite3_last_insert_rowid(s->db);
	return e;
}

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

/* --- the row reader --- */

_Static_assert(sizeof(consult_role) == sizeof(int) && sizeof(consult_outbox_status) == sizeof(int),
        "COL_ENUM stores enums as int");

/* A copy of a text column; NULL stays NULL; false on allocation failure. */
static bool col_text(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	*out = t ? strdup((const char *)t) : NULL;
	return t ? *out != NULL : sqlite3_column_type(st, i) == SQLITE_NULL;
}

static bool col_blob(sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
	const void *b = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);
	*out = NULL;
	*len = 0;
	if (!b || n <= 0)
		return true;
	if (!(*out = malloc((size_t)n)))
		return false;
	memcpy(*out, b, (size_t)n);
	*len = (size_t)n;
	return true;
}

static bool read_col(sqlite3_stmt *st, int i, const store_col *c, char *base)
{
	void *f = base + c->off;
	switch (c->kind) {
	case COL_I64:
		*(int64_t *)f = sqlite3_column_int64(st, i);
		return true;
	case COL_INT:
		*(int *)f = sqlite3_column_int(st, i);
		return true;
	case COL_BOOL:
		*(bool *)f = sqlite3_column_int(st, i) != 0;
		return true;
	case COL_TEXT:
	case COL_SECRET:
		return col_text(st, i, (char **)f);
	case COL_BLOB:
		return col_blob(st, i, (uint8_t **)f, (size_t *)(base + c->len));
	case COL_BYTES: {
		const void *b = sqlite3_column_blob(st, i);
		if (!b || (size_t)sqlite3_column_bytes(st, i) != c->len)
			return false;
		memcpy(f, b, c->len);
		return true;
	}
	case COL_ENUM: {
		const unsigned char *t = sqlite3_column_text(st, i);
		int v = t ? c->parse((const char *)t) : 0;
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

bool store_read_row(sqlite3_stmt *st, const store_row *t, void *out)
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
	int rc = sqlite3_step(u->st);
	consult_err e;
	if (rc == SQLITE_ROW) {
		if (store_read_row(u->st, t, out))
			return CONSULT_OK;
		snprintf(s->last_error, sizeof s->last_error, "a row could not be read (memory or a bad value)");
		e = CONSULT_ERR_INTERNAL;
	} else {
		e = rc == SQLITE_DONE ? CONSULT_ERR_NOT_FOUND : store_map_rc(s, rc);
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
		sqlite3_bind_int64(u.st, 1, id);
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
