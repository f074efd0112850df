/* store_tx.c - explicit transactions of the store and the internal unit of
 * work (store_internal.h), plus the TRUNCATE checkpoint after a purge.
 *
 * Contract: consult_store_begin/commit/rollback map to BEGIN IMMEDIATE /
 * COMMIT / ROLLBACK on the store's connection; "a transaction is open" is
 * SQLite's own view (sqlite3_get_autocommit), so there is no flag to get
 * out of step. Internal multi-statement functions use store_tx_begin/end:
 * a SAVEPOINT inside an outer transaction, BEGIN IMMEDIATE otherwise.
 * A checkpoint requested inside an outer transaction runs after its
 * commit. No logging; SQLite's message of a failure is kept.
 */
#include "store_internal.h"

#include <stdio.h>

static bool exec(consult_store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return true;
	store_remember_error(s);
	return false;
}

bool consult_store_in_transaction(consult_store *s)
{
	return s && !sqlite3_get_autocommit(s->db);
}

consult_err consult_store_begin(consult_store *s)
{
	if (consult_store_in_transaction(s)) {
		snprintf(s->last_error, sizeof s->last_error, "transaction already open");
		return CONSULT_ERR_WRONG_STATE;
	}
	s->ckpt_pending = false;
	return exec(s, "BEGIN IMMEDIATE") ? CONSULT_OK : CONSULT_ERR_INTERNAL;
}

consult_err consult_store_commit(consult_store *s)
{
	if (!consult_store_in_transaction(s)) {
		snprintf(s->last_error, sizeof s->last_error, "no transaction open");
		return CONSULT_ERR_WRONG_STATE;
	}
	if (!exec(s, "COMMIT")) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->ckpt_pending = false;
		return CONSULT_ERR_INTERNAL;
	}
	if (s->ckpt_pending) {
		s->ckpt_pending = false;
		store_checkpoint_truncate(s);
	}
	return CONSULT_OK;
}

consult_err consult_store_rollback(consult_store *s)
{
	if (!consult_store_in_transaction(s)) {
		snprintf(s->last_error, sizeof s->last_error, "no transaction open");
		return CONSULT_ERR_WRONG_STATE;
	}
	s->ckpt_pending = false;
	return exec(s, "ROLLBACK") ? CONSULT_OK : CONSULT_ERR_INTERNAL;
}

bool store_tx_begin(consult_store *s, bool *outer)
{
	*outer = consult_store_in_transaction(s);
	return exec(s, *outer ? "SAVEPOINT consult_unit" : "BEGIN IMMEDIATE");
}

bool store_tx_end(consult_store *s, bool outer, bool ok)
{
	if (outer) {
		if (ok)
			return exec(s, "RELEASE consult_unit");
		/* SQLite may already have rolled the whole transaction back
		 * (I/O error, disk full): then there is no savepoint left. */
		if (sqlite3_get_autocommit(s->db))
			return false;
		bool done = exec(s, "ROLLBACK TO consult_unit");
		return exec(s, "RELEASE consult_unit") && done;
	}
	if (ok) {
		if (exec(s, "COMMIT"))
			return true;
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return false;
	}
	if (sqlite3_get_autocommit(s->db))
		return false;
	return exec(s, "ROLLBACK");
}

void store_checkpoint_truncate(consult_store *s)
{
	if (consult_store_in_transaction(s)) {
		s->ckpt_pending = true;
		return;
	}
	int log = -1, done = -1;
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
	if (rc != SQLITE_OK) {
		snprintf(s->last_error, sizeof s->last_error, "truncate checkpoint incomplete: %s",
		        sqlite3_errmsg(s->db));
		return;
	}
	atomic_store(&s->wal_frames, 0);
}

consult_err store_tx_finish(consult_store *s, bool outer, consult_err e)
{
	if (!store_tx_end(s, outer, e == CONSULT_OK) && e == CONSULT_OK)
		e = CONSULT_ERR_INTERNAL;
	return e;
}
