/* store_limits.c - login limits shared by the instances of one store
 * (store.h, "login limits").
 *
 * Contract: table login_limits (schema version 11), one row per limiter
 * key (an opaque digest the caller computes; this file never sees a user
 * name). A failure is counted in one unit of work: an upsert that creates
 * the key's row or, finding it, rewrites its key column unchanged, so
 * PostgreSQL holds the row lock until the unit ends (SQLite: the unit is a
 * write transaction); then the core's policy (core/ratelimit.h) computes
 * the new state and it is written back. Two instances failing at once
 * thus both count. SQL in the dialect both drivers accept. No logging.
 */
#include <stddef.h>
#include <string.h>
#include "store_internal.h"

enum { M_GET = STORE_SLOT_LIMITS, M_HOLD, M_PUT, M_CLEAR, M_PRUNE, M_END };
_Static_assert((int)M_END <= (int)STORE_SLOTS, "store_limits.c: too many statements for its slot range");

#define M_COLS "failures, lockouts, window_start, last_failure, locked_until"

static const char *const sql_of[M_END - STORE_SLOT_LIMITS] = {
	[M_GET - STORE_SLOT_LIMITS] = "SELECT " M_COLS " FROM login_limits WHERE key = ?1",
	[M_HOLD - STORE_SLOT_LIMITS] = "INSERT INTO login_limits(key, " M_COLS ") VALUES (?1, 0, 0, ?2, ?3, ?3)"
	                               " ON CONFLICT(key) DO UPDATE SET key = excluded.key"
	                               " RETURNING " M_COLS,
	[M_PUT - STORE_SLOT_LIMITS] = "UPDATE login_limits SET failures = ?2, lockouts = ?3, window_start = ?4,"
	                              " last_failure = ?5, locked_until = ?6 WHERE key = ?1",
	[M_CLEAR - STORE_SLOT_LIMITS] = "DELETE FROM login_limits WHERE key = ?1",
	[M_PRUNE - STORE_SLOT_LIMITS] = "DELETE FROM login_limits WHERE last_failure < ?1 AND locked_until < ?1",
};
#define SQL(slot) sql_of[(slot)-STORE_SLOT_LIMITS]

static const store_col limit_cols[] = {
	{ COL_INT, offsetof(consult_rl_state, failures), 0, NULL },
	{ COL_INT, offsetof(consult_rl_state, lockouts), 0, NULL },
	{ COL_I64, offsetof(consult_rl_state, window_start), 0, NULL },
	{ COL_I64, offsetof(consult_rl_state, last_failure), 0, NULL },
	{ COL_I64, offsetof(consult_rl_state, locked_until), 0, NULL },
};
static const store_row limit_row = STORE_ROW(consult_rl_state, limit_cols);
_Static_assert(sizeof(unsigned) == sizeof(int), "store_limits.c: counts are read as int");

consult_err consult_store_limit_get(consult_store *s, const uint8_t *key, consult_rl_state *out)
{
	memset(out, 0, sizeof *out);
	if (key == NULL)
		return CONSULT_ERR_INVALID_FIELD;
	stmt_use u;
	if (!store_stmt(s, M_GET, SQL(M_GET), &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_blob(u.st, 1, key, CONSULT_LIMIT_KEY_LEN);
	return store_one(s, &u, &limit_row, out);
}

/* Creates or holds the key's row and reads it (inside a unit of work). */
static consult_err hold(consult_store *s, const uint8_t *key, int64_t now, consult_rl_state *st)
{
	consult_rl_state fresh;
	consult_rl_state_init(&fresh, now);
	stmt_use u;
	if (!store_stmt(s, M_HOLD, SQL(M_HOLD), &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_blob(u.st, 1, key, CONSULT_LIMIT_KEY_LEN);
	db_bind_int64(u.st, 2, fresh.window_start);
	db_bind_int64(u.st, 3, fresh.locked_until); /* = last_failure: never */
	return store_one(s, &u, &limit_row, st);
}

static consult_err put(consult_store *s, const uint8_t *key, const consult_rl_state *st)
{
	stmt_use u;
	if (!store_stmt(s, M_PUT, SQL(M_PUT), &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_blob(u.st, 1, key, CONSULT_LIMIT_KEY_LEN);
	db_bind_int64(u.st, 2, (int64_t)st->failures);
	db_bind_int64(u.st, 3, (int64_t)st->lockouts);
	db_bind_int64(u.st, 4, st->window_start);
	db_bind_int64(u.st, 5, st->last_failure);
	db_bind_int64(u.st, 6, st->locked_until);
	return store_run_update_one(s, &u);
}

consult_err consult_store_limit_fail(
        consult_store *s, const uint8_t *key, const consult_ratelimit_cfg *cfg, int64_t now, consult_rl_state *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (key == NULL || cfg == NULL || cfg->max_failures == 0)
		return CONSULT_ERR_INVALID_FIELD;
	bool outer = false;
	if (!store_tx_begin(s, &outer))
		return CONSULT_ERR_INTERNAL;
	consult_rl_state st;
	consult_err e = hold(s, key, now, &st);
	if (e == CONSULT_OK) {
		consult_rl_state_fail(cfg, &st, now);
		e = put(s, key, &st);
	}
	e = store_tx_finish(s, outer, e);
	if (e == CONSULT_OK && out)
		*out = st;
	return e;
}

consult_err consult_store_limit_clear(consult_store *s, const uint8_t *key)
{
	if (key == NULL)
		return CONSULT_ERR_INVALID_FIELD;
	stmt_use u;
	if (!store_stmt(s, M_CLEAR, SQL(M_CLEAR), &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_blob(u.st, 1, key, CONSULT_LIMIT_KEY_LEN);
	return store_run_write(s, &u, NULL);
}

consult_err consult_store_limit_prune(consult_store *s, const consult_ratelimit_cfg *cfg, int64_t now, int64_t *removed)
{
	if (removed)
		*removed = 0;
	if (cfg == NULL)
		return CONSULT_ERR_INVALID_FIELD;
	/* forgettable (core/ratelimit.c): now >= locked_until + window and
	 * now >= last_failure + window, i.e. both <= now - window */
	return STORE_WRITE(s, M_PRUNE, SQL(M_PRUNE), removed, now - cfg->window_s + 1);
}
