/* store_delivery.c - contact data and the outbox (delivery log) of the
 * store (store.h).
 *
 * Contract: statements live in the extension slots STORE_SLOT_DELIVERY..
 * (store_internal.h). Outbox transitions are single guarded UPDATEs
 * ("... WHERE id = ? AND status IN (allowed)"); when nothing changed a
 * second look tells NOT_FOUND from WRONG_STATE. Channels, kinds and
 * statuses are stored by name and read back as enums by the row reader. Claiming is a SELECT and an
 * UPDATE in one unit of work (store_tx_begin), so it is one commit; the
 * UPDATE repeats the SELECT's condition on the row (queued, or sending
 * with an ended claim), so of several instances claiming at once exactly
 * one changes the row (PostgreSQL re-checks the condition after the
 * winner's commit; SQLite has one writer): the others see no change and
 * look for the next row. A claim names its instance (claimed_by) and ends
 * at claimed_until (wall clock ms); the outcome of an attempt is stored
 * only by the instance that still holds the claim. The
 * sealed code is bound without a copy and zeroed when a contact struct is
 * cleared. No logging.
 */
#include "store_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

enum {
	D_CONTACT_SET = STORE_SLOT_DELIVERY,
	D_CONTACT_GET,
	D_OB_ADD,
	D_OB_DUE_ID,
	D_OB_CLAIM,
	D_OB_BY_ID,
	D_OB_NEXT_DUE,
	D_OB_STATUS,
	D_OB_SENT,
	D_OB_RETRY,
	D_OB_FAIL,
	D_OB_DROP,
	D_OB_REQUEUE,
	D_OB_LIST,
	D_OB_LIST_RANGE,
	D_OB_COUNTS,
	D_END
};
_Static_assert((int)D_END <= (int)STORE_SLOT_RETENTION, "store_delivery.c: too many statements for its slot range");

#define OUTBOX_COLS                                                                           \
	"SELECT o.id, o.appointment_id, a.practice_id, o.channel, o.kind, o.status, o.error," \
	" o.attempts, o.due_at, o.next_at, o.sent_at, o.created_at, o.updated_at, o.msgid"    \
	" FROM outbox o JOIN appointments a ON a.id = o.appointment_id "

/* With leases (?f <> 0): only rows of practices whose lease row names the
 * instance ?h and has not expired at ?t (ms). */
#define OWN_PRACTICES(f, h, t)                                                                    \
	" AND (?" #f " = 0 OR EXISTS (SELECT 1 FROM leases l WHERE l.practice_id = a.practice_id" \
	" AND l.holder = ?" #h " AND l.expires_at > ?" #t "))"
#define UNCLAIM " claimed_by = NULL, claimed_until = NULL"
/* Due: queued and next_at <= ?1, or sending with a claim ended at ?2 (ms). */
#define DUE_ROWS                                                                   \
	"SELECT o.id FROM outbox o JOIN appointments a ON a.id = o.appointment_id" \
	" WHERE ((o.status = 'queued' AND o.next_at <= ?1)"                        \
	" OR (o.status = 'sending' AND coalesce(o.claimed_until, 0) <= ?2))"

static const char *const sql_of[D_END - STORE_SLOT_DELIVERY] = {
	[D_CONTACT_SET - STORE_SLOT_DELIVERY] =
	        "INSERT INTO appointment_contacts(appointment_id, phone, email, consent_sms_at,"
	        " consent_sms_by, consent_email_at, consent_email_by, code_box, wiped_at)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	        " ON CONFLICT(appointment_id) DO UPDATE SET phone = excluded.phone,"
	        " email = excluded.email, consent_sms_at = excluded.consent_sms_at,"
	        " consent_sms_by = excluded.consent_sms_by, consent_email_at = excluded.consent_email_at,"
	        " consent_email_by = excluded.consent_email_by, code_box = excluded.code_box,"
	        " wiped_at = excluded.wiped_at",
	[D_CONTACT_GET - STORE_SLOT_DELIVERY] =
	        "SELECT appointment_id, phone, email, consent_sms_at, consent_sms_by, consent_email_at,"
	        " consent_email_by, code_box, wiped_at FROM appointment_contacts WHERE appointment_id = ?1",
	[D_OB_ADD - STORE_SLOT_DELIVERY] =
	        "INSERT INTO outbox(appointment_id, channel, kind, status, attempts, due_at, next_at,"
	        " created_at, updated_at, msgid) VALUES (?1, ?2, ?3, 'queued', 0, ?4, ?4, ?5, ?5, ?6) RETURNING id",
	[D_OB_DUE_ID - STORE_SLOT_DELIVERY] = DUE_ROWS OWN_PRACTICES(3, 4, 2) " ORDER BY o.next_at, o.id LIMIT 1",
	[D_OB_CLAIM - STORE_SLOT_DELIVERY] =
	        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?2,"
	        " claimed_by = ?3, claimed_until = ?4 WHERE id = ?1"
	        " AND (status = 'queued' OR (status = 'sending' AND coalesce(claimed_until, 0) <= ?5))",
	[D_OB_BY_ID - STORE_SLOT_DELIVERY] = OUTBOX_COLS "WHERE o.id = ?1",
	[D_OB_NEXT_DUE - STORE_SLOT_DELIVERY] =
	        "SELECT min(o.next_at) FROM outbox o JOIN appointments a ON a.id = o.appointment_id"
	        " WHERE o.status = 'queued'" OWN_PRACTICES(1, 2, 3),
	[D_OB_STATUS - STORE_SLOT_DELIVERY] = "SELECT 1 FROM outbox WHERE id = ?1",
	[D_OB_SENT - STORE_SLOT_DELIVERY] =
	        "UPDATE outbox SET status = 'sent', sent_at = ?2, updated_at = ?2, error = NULL," UNCLAIM
	        " WHERE id = ?1 AND status = 'sending' AND claimed_by = ?3",
	[D_OB_RETRY - STORE_SLOT_DELIVERY] =
	        "UPDATE outbox SET status = 'queued', next_at = ?2, error = ?3, updated_at = ?4," UNCLAIM
	        " WHERE id = ?1 AND status = 'sending' AND claimed_by = ?5",
	[D_OB_FAIL - STORE_SLOT_DELIVERY] =
	        "UPDATE outbox SET status = 'failed', error = ?2, updated_at = ?3," UNCLAIM
	        " WHERE id = ?1 AND (status = 'queued' OR (status = 'sending' AND claimed_by = ?4))",
	[D_OB_DROP - STORE_SLOT_DELIVERY] =
	        "UPDATE outbox SET status = 'dropped', updated_at = ?2"
	        " WHERE appointment_id = ?1 AND status = 'queued' AND kind IN ('invite', 'reminder')",
	[D_OB_REQUEUE - STORE_SLOT_DELIVERY] =
	        "UPDATE outbox SET status = 'queued', next_at = ?1, updated_at = ?1," UNCLAIM
	        " WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by = ?2"
	        " OR coalesce(claimed_until, 0) <= ?3)",
	[D_OB_LIST - STORE_SLOT_DELIVERY] = OUTBOX_COLS "WHERE o.appointment_id = ?1 ORDER BY o.created_at, o.id",
	[D_OB_LIST_RANGE - STORE_SLOT_DELIVERY] =
	        OUTBOX_COLS "WHERE a.practice_id = ?1 AND a.starts_at >= ?2 AND a.starts_at < ?3"
	                    " ORDER BY a.starts_at, a.id, o.created_at, o.id",
	[D_OB_COUNTS - STORE_SLOT_DELIVERY] =
	        "SELECT coalesce(sum(CASE WHEN o.status IN ('queued', 'sending') THEN 1 ELSE 0 END), 0),"
	        " coalesce(sum(CASE WHEN o.status = 'failed' THEN 1 ELSE 0 END), 0)"
	        " FROM outbox o JOIN appointments a ON a.id = o.appointment_id"
	        " WHERE a.practice_id = ?1 OR ?1 = 0",
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt(s, slot, sql_of[slot - STORE_SLOT_DELIVERY], u);
}

#define C_(kind, field)                                         \
	{                                                       \
		kind, offsetof(consult_contact, field), 0, NULL \
	}
static const store_col contact_cols[] = {
	C_(COL_I64, appointment_id),
	C_(COL_TEXT, phone),
	C_(COL_TEXT, email),
	C_(COL_I64, consent_sms_at),
	C_(COL_I64, consent_sms_by),
	C_(COL_I64, consent_email_at),
	C_(COL_I64, consent_email_by),
	{ COL_BLOB, offsetof(consult_contact, code_box), offsetof(consult_contact, code_box_len), NULL },
	C_(COL_I64, wiped_at),
};
#undef C_
static const store_row contact_row = STORE_ROW(consult_contact, contact_cols);

#define M_(kind, field, parse)                                      \
	{                                                           \
		kind, offsetof(consult_outbox_msg, field), 0, parse \
	}
static const store_col msg_cols[] = {
	M_(COL_I64, id, NULL),
	M_(COL_I64, appointment_id, NULL),
	M_(COL_I64, practice_id, NULL),
	M_(COL_ENUM, channel, store_parse_channel),
	M_(COL_ENUM, kind, store_parse_msg_kind),
	M_(COL_ENUM, status, store_parse_outbox_status),
	M_(COL_TEXT, error, NULL),
	M_(COL_INT, attempts, NULL),
	M_(COL_I64, due_at, NULL),
	M_(COL_I64, next_at, NULL),
	M_(COL_I64, sent_at, NULL),
	M_(COL_I64, created_at, NULL),
	M_(COL_I64, updated_at, NULL),
	{ COL_BYTES, offsetof(consult_outbox_msg, msgid), sizeof(((consult_outbox_msg *)0)->msgid), NULL },
};
#undef M_
static const store_row msg_row = STORE_ROW(consult_outbox_msg, msg_cols);

/* --- contacts --- */

void consult_contact_clear(consult_contact *c)
{
	store_row_free(&contact_row, c);
}

consult_err consult_store_set_contact(consult_store *s, const consult_contact *c)
{
	stmt_use u;
	if (!get(s, D_CONTACT_SET, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, c->appointment_id);
	store_bind_text(u.st, 2, c->phone);
	store_bind_text(u.st, 3, c->email);
	store_bind_id_or_null(u.st, 4, c->consent_sms_at);
	store_bind_id_or_null(u.st, 5, c->consent_sms_by);
	store_bind_id_or_null(u.st, 6, c->consent_email_at);
	store_bind_id_or_null(u.st, 7, c->consent_email_by);
	if (c->code_box && c->code_box_len)
		db_bind_blob(u.st, 8, c->code_box, c->code_box_len);
	else
		db_bind_null(u.st, 8);
	store_bind_id_or_null(u.st, 9, c->wiped_at);
	return store_run_write(s, &u, NULL); /* release clears the binding to code_box */
}

consult_err consult_store_contact(consult_store *s, int64_t appointment_id, consult_contact *out)
{
	return store_find(
	        s, D_CONTACT_GET, sql_of[D_CONTACT_GET - STORE_SLOT_DELIVERY], &contact_row, out, NULL, appointment_id);
}

/* --- outbox --- */

void consult_outbox_msg_clear(consult_outbox_msg *m)
{
	store_row_free(&msg_row, m);
}

consult_err consult_outbox_add(consult_store *s, int64_t appointment_id, consult_channel channel, consult_msg_kind kind,
        int64_t due_at, const uint8_t msgid[16], int64_t now, int64_t *id)
{
	const char *ch = consult_channel_name(channel), *k = consult_msg_kind_name(kind);
	if (!ch || !*ch || !k || !msgid) {
		snprintf(s->last_error, sizeof s->last_error, "outbox: unknown channel or kind");
		return CONSULT_ERR_INVALID_FIELD;
	}
	stmt_use u;
	if (!get(s, D_OB_ADD, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, appointment_id);
	store_bind_text(u.st, 2, ch);
	store_bind_text(u.st, 3, k);
	db_bind_int64(u.st, 4, due_at);
	db_bind_int64(u.st, 5, now);
	db_bind_blob(u.st, 6, msgid, 16);
	return store_run_insert(s, &u, id); /* no appointment: FK -> NOT_FOUND */
}

consult_err consult_outbox_by_id(consult_store *s, int64_t id, consult_outbox_msg *out)
{
	return store_find(s, D_OB_BY_ID, sql_of[D_OB_BY_ID - STORE_SLOT_DELIVERY], &msg_row, out, NULL, id);
}

/* The id of the next row c may claim: OK / NOT_FOUND. */
static consult_err due_id(consult_store *s, const consult_outbox_claimer *c, int64_t *id)
{
	stmt_use u;
	if (!get(s, D_OB_DUE_ID, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, c->now);
	db_bind_int64(u.st, 2, c->now_ms);
	db_bind_int64(u.st, 3, c->leases ? 1 : 0);
	store_bind_text(u.st, 4, c->instance);
	return store_run_int(s, &u, id);
}

/* Tries to claim row id for c: OK, or NOT_FOUND if another instance
 * claimed it first. */
static consult_err claim_one(consult_store *s, const consult_outbox_claimer *c, int64_t id)
{
	stmt_use u;
	if (!get(s, D_OB_CLAIM, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, id);
	db_bind_int64(u.st, 2, c->now);
	store_bind_text(u.st, 3, c->instance);
	db_bind_int64(u.st, 4, c->until_ms);
	db_bind_int64(u.st, 5, c->now_ms);
	return store_run_update_one(s, &u);
}

/* Rows lost to another instance's claim before this one looks no further. */
#define CLAIM_TRIES 4

consult_err consult_outbox_claim_next(consult_store *s, const consult_outbox_claimer *c, consult_outbox_msg *out)
{
	memset(out, 0, sizeof *out);
	if (c == NULL || c->instance == NULL) {
		snprintf(s->last_error, sizeof s->last_error, "outbox: claim without an instance");
		return CONSULT_ERR_INVALID_FIELD;
	}
	consult_err e = CONSULT_ERR_NOT_FOUND;
	for (int i = 0; i < CLAIM_TRIES && e == CONSULT_ERR_NOT_FOUND; i++) {
		bool outer;
		if (!store_tx_begin(s, &outer))
			return CONSULT_ERR_INTERNAL;
		int64_t id = 0;
		bool lost = false;
		e = due_id(s, c, &id);
		if (e == CONSULT_OK) {
			e = claim_one(s, c, id);
			lost = e == CONSULT_ERR_NOT_FOUND;
		}
		if (e == CONSULT_OK)
			e = consult_outbox_by_id(s, id, out);
		if ((e = store_tx_finish(s, outer, e)) != CONSULT_OK)
			consult_outbox_msg_clear(out);
		if (!lost)
			break;
	}
	return e;
}

consult_err consult_outbox_next_due(consult_store *s, const consult_outbox_claimer *c, int64_t *at)
{
	stmt_use u;
	if (!get(s, D_OB_NEXT_DUE, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, c->leases ? 1 : 0);
	store_bind_text(u.st, 2, c->instance);
	db_bind_int64(u.st, 3, c->now_ms);
	return store_run_int(s, &u, at);
}

/* A guarded transition matched no row: missing row or wrong state? */
static consult_err why_unchanged(consult_store *s, int64_t id)
{
	stmt_use u;
	if (!get(s, D_OB_STATUS, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, id);
	consult_err e = store_run_exists(s, &u);
	if (e == CONSULT_OK) {
		snprintf(s->last_error, sizeof s->last_error, "outbox: transition not allowed from this status");
		return CONSULT_ERR_WRONG_STATE;
	}
	return e;
}

static consult_err finish_transition(consult_store *s, stmt_use *u, int64_t id)
{
	int changes = 0;
	consult_err e = store_run_write(s, u, &changes);
	if (e == CONSULT_OK && changes == 0)
		e = why_unchanged(s, id);
	return e;
}

consult_err consult_outbox_sent(consult_store *s, int64_t id, const char *by, int64_t now)
{
	stmt_use u;
	if (!get(s, D_OB_SENT, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, id);
	db_bind_int64(u.st, 2, now);
	store_bind_text(u.st, 3, by);
	return finish_transition(s, &u, id);
}

consult_err consult_outbox_retry(
        consult_store *s, int64_t id, const char *by, int64_t next_at, const char *error, int64_t now)
{
	stmt_use u;
	if (!get(s, D_OB_RETRY, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, id);
	db_bind_int64(u.st, 2, next_at);
	store_bind_text(u.st, 3, error);
	db_bind_int64(u.st, 4, now);
	store_bind_text(u.st, 5, by);
	return finish_transition(s, &u, id);
}

consult_err consult_outbox_fail(consult_store *s, int64_t id, const char *by, const char *error, int64_t now)
{
	stmt_use u;
	if (!get(s, D_OB_FAIL, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, id);
	store_bind_text(u.st, 2, error);
	db_bind_int64(u.st, 3, now);
	store_bind_text(u.st, 4, by);
	return finish_transition(s, &u, id);
}

consult_err consult_outbox_drop_pending(consult_store *s, int64_t appointment_id, int64_t now, int64_t *n)
{
	return STORE_WRITE(s, D_OB_DROP, sql_of[D_OB_DROP - STORE_SLOT_DELIVERY], n, appointment_id, now);
}

consult_err consult_outbox_requeue_sending(
        consult_store *s, const char *instance, int64_t now, int64_t now_ms, int64_t *n)
{
	if (n)
		*n = 0;
	stmt_use u;
	if (!get(s, D_OB_REQUEUE, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, now);
	store_bind_text(u.st, 2, instance);
	db_bind_int64(u.st, 3, now_ms);
	return store_run_count(s, &u, n);
}

static consult_err each_msg(consult_store *s, stmt_use *u, consult_outbox_cb cb, void *ud)
{
	consult_outbox_msg m;
	consult_err e;
	while ((e = store_next(s, u, &msg_row, &m)) == CONSULT_OK) {
		cb(&m, ud);
		consult_outbox_msg_clear(&m);
	}
	return store_done(e);
}

consult_err consult_outbox_list(consult_store *s, int64_t appointment_id, consult_outbox_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, D_OB_LIST, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, appointment_id);
	return each_msg(s, &u, cb, ud);
}

consult_err consult_outbox_list_range(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_outbox_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, D_OB_LIST_RANGE, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, practice_id);
	db_bind_int64(u.st, 2, from);
	db_bind_int64(u.st, 3, to);
	return each_msg(s, &u, cb, ud);
}

consult_err consult_outbox_counts(consult_store *s, int64_t practice_id, int64_t *queued, int64_t *failed)
{
	if (queued)
		*queued = 0;
	if (failed)
		*failed = 0;
	stmt_use u;
	if (!get(s, D_OB_COUNTS, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, practice_id);
	int rc = db_step(s, u.st);
	consult_err e = CONSULT_OK;
	if (rc == DB_ROW) {
		if (queued)
			*queued = db_col_int64(u.st, 0);
		if (failed)
			*failed = db_col_int64(u.st, 1);
	} else {
		e = store_failed(s);
	}
	store_stmt_release(&u);
	return e;
}
