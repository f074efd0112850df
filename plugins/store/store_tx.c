/* store_tx.c - explicit transactions of the store and the internal unit of
 * work (store_internal.h).
 *
 * Contract: consult_store_begin/commit/rollback map to the driver's BEGIN
 * (SQLite: IMMEDIATE, the write lock at once) / COMMIT / ROLLBACK on the
 * store's connection; "a transaction is open" is the driver's own view
 * (SQLite: sqlite3_get_autocommit; PostgreSQL: the connection's
 * transaction status, or a transaction the lost connection took with it),
 * so there is no flag to get out of step. Internal multi-statement
 * functions use store_tx_begin/end: a SAVEPOINT inside an outer
 * transaction, BEGIN otherwise; s->unit counts the open units (the
 * PostgreSQL driver guards single statements of an outer transaction with
 * their own savepoint, units need none). A checkpoint requested inside an
 * outer transaction runs after its commit (SQLite). No logging; the
 * driver's message of a failure is kept.
 */
#include "store_internal.h"

#include <stdio.h>

bool consult_store_in_transaction(consult_store *s)
{
	return s && s->drv->in_tx(s);
}

consult_err consult_store_begin(consult_store *s)
{
	if (consult_store_in_transaction(s)) {
		snprintf(s->last_error, sizeof s->last_error, "transaction already open");
		return CONSULT_ERR_WRONG_STATE;
	}
	s->ckpt_pending = false;
	return s->drv->tx(s, DB_BEGIN) ? CONSULT_OK : CONSULT_ERR_INTERNAL;
}

consult_err consult_store_commit(consult_store *s)
{
	if (!consult_store_in_transaction(s)) {
		snprintf(s->last_error, sizeof s->last_error, "no transaction open");
		return CONSULT_ERR_WRONG_STATE;
	}
	if (!s->drv->tx(s, DB_COMMIT)) {
		if (s->drv->in_tx(s))
			s->drv->tx(s, DB_ROLLBACK);
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
	return s->drv->tx(s, DB_ROLLBACK) ? CONSULT_OK : CONSULT_ERR_INTERNAL;
}

bool store_tx_begin(consult_store *s, bool *outer)
{
	*outer = consult_store_in_transaction(s);
	if (!s->drv->tx(s, *outer ? DB_SAVEPOINT : DB_BEGIN))
		return false;
	s->unit++;
	return true;
}

static bool tx_end(consult_store *s, bool outer, bool ok)
{
	if (outer) {
		if (ok)
			return s->drv->tx(s, DB_RELEASE);
		/* The database may already have rolled the whole transaction
		 * back (SQLite: I/O error, disk full): then there is no
		 * savepoint left. */
		if (!s->drv->in_tx(s))
			return false;
		bool done = s->drv->tx(s, DB_ROLLBACK_TO);
		return s->drv->tx(s, DB_RELEASE) && done;
	}
	if (ok) {
		if (s->drv->tx(s, DB_COMMIT))
			return true;
		if (s->drv->in_tx(s))
			s->drv->tx(s, DB_ROLLBACK);
		return false;
	}
	if (!s->drv->in_tx(s))
		return false;
	return s->drv->tx(s, DB_ROLLBACK);
}

bool store_tx_end(consult_store *s, bool outer, bool ok)
{
	bool r = tx_end(s, outer, ok);
	if (s->unit > 0)
		s->unit--;
	return r;
}

consult_err store_tx_finish(consult_store *s, bool outer, consult_err e)
{
	if (!store_tx_end(s, outer, e == CONSULT_OK) && e == CONSULT_OK)
		e = CONSULT_ERR_INTERNAL;
	return e;
}
