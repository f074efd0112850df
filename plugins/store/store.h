/* store.h - the persistence interface of consult.
 *
 * Contract: everything durable goes through these functions; callers never
 * see SQL. One implementation today (store_sqlite.c: one SQLite file, WAL,
 * foreign keys on, schema migrated by version at open). Functions return
 * CONSULT_OK, CONSULT_ERR_NOT_FOUND, CONSULT_ERR_CONFLICT (unique value
 * taken) or CONSULT_ERR_INTERNAL; on error nothing was changed. Thread
 * safety: a store handle is used under one caller lock (the glue's). The
 * store never logs personal data; on failure it may log the SQLite error
 * text, which holds no values. Strings returned inside structs are owned by
 * the struct and freed by its *_clear function.
 */
#ifndef CONSULT_STORE_H
#define CONSULT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/errors.h"
#include "core/code.h"

typedef struct consult_store consult_store;

/* Opens (creating if needed) and migrates to the newest schema version.
 * NULL on failure, with a message (no personal data) in err (size errlen). */
consult_store *consult_store_open(const char *path, char *err, size_t errlen);
void consult_store_close(consult_store *s);
int consult_store_schema_version(consult_store *s);   /* PRAGMA user_version */
int consult_store_latest_version(void);

/* --- practices --- */
typedef struct consult_practice {
	int64_t id; char *slug, *name, *phone;
	bool relay_only;          /* additive (schema v2): ICE transport policy "relay" for calls */
} consult_practice;
void consult_practice_clear(consult_practice *p);
consult_err consult_store_add_practice(consult_store *s, const char *slug, const char *name,
	const char *phone, int64_t now, int64_t *id);
consult_err consult_store_practice_by_slug(consult_store *s, const char *slug, consult_practice *out);
consult_err consult_store_practice_by_id(consult_store *s, int64_t id, consult_practice *out);
/* Additive (schema v2): the practice option "relay only" (TURN relay for
 * every call, so neither side learns the other's IP address). NOT_FOUND if
 * there is no such practice. */
consult_err consult_store_practice_relay_only(consult_store *s, int64_t id, bool *relay_only);
consult_err consult_store_set_practice_relay_only(consult_store *s, const char *slug, bool relay_only);
/* Additive (schema v4, issue 5): the practice policy "never forward calls
 * through the server" (default false = forwarding allowed). NOT_FOUND if
 * there is no such practice. */
consult_err consult_store_practice_forward_never(consult_store *s, int64_t id, bool *never);
consult_err consult_store_set_practice_forward_never(consult_store *s, const char *slug, bool never);

/* --- staff --- role is "doctor" or "reception"; pw_hash is an argon2id string */
typedef struct consult_staff {
	int64_t id, practice_id;
	char *username, *display_name, *role, *pw_hash;
	bool disabled;
} consult_staff;
void consult_staff_clear(consult_staff *st);
consult_err consult_store_add_staff(consult_store *s, int64_t practice_id, const char *username,
	const char *display_name, const char *role, const char *pw_hash, int64_t now, int64_t *id);
consult_err consult_store_staff_by_username(consult_store *s, const char *username, consult_staff *out);
consult_err consult_store_staff_by_id(consult_store *s, int64_t id, consult_staff *out);
consult_err consult_store_set_staff_disabled(consult_store *s, const char *username, bool disabled);
consult_err consult_store_set_staff_password(consult_store *s, const char *username, const char *pw_hash);
/* Calls cb for each staff member of a practice (role NULL = all), ordered by display name. */
typedef void (*consult_staff_cb)(const consult_staff *st, void *ud);
consult_err consult_store_list_staff(consult_store *s, int64_t practice_id, const char *role,
	consult_staff_cb cb, void *ud);

/* --- known staff devices (schema v5, login protection) --- A device is a
 * browser that logged in before and keeps a random token; only the
 * token's hash (CONSULT_DEVICE_HASH_LEN bytes) is stored. */
#define CONSULT_DEVICE_HASH_LEN 32
typedef struct consult_device {
	int64_t id, staff_id, created_at, last_used_at;
	uint8_t hash[CONSULT_DEVICE_HASH_LEN];
} consult_device;
/* The device with this token hash (lookup by the UNIQUE index); NOT_FOUND if none. */
consult_err consult_store_device_find(consult_store *s, const uint8_t hash[CONSULT_DEVICE_HASH_LEN], consult_device *out);
/* One unit of work. replace_id > 0: that device of staff_id gets the new
 * hash and last_used_at = now (rotation; NOT_FOUND if it is gone). Else a
 * new device row; then only the keep newest (by last use) devices of the
 * staff member stay. *id (may be NULL) = the device id. */
consult_err consult_store_device_issue(consult_store *s, int64_t staff_id, int64_t replace_id,
	const uint8_t hash[CONSULT_DEVICE_HASH_LEN], int64_t now, int keep, int64_t *id);
/* Deletes every device of a staff member (password reset, disabled); *n = rows (may be NULL). */
consult_err consult_store_devices_revoke(consult_store *s, int64_t staff_id, int64_t *n);
/* Deletes devices not used since unused_before (retention purge); *n = rows (may be NULL). */
consult_err consult_store_devices_purge(consult_store *s, int64_t unused_before, int64_t *n);

/* --- appointments --- */
typedef struct consult_appointment {
	int64_t id, practice_id, doctor_id /* 0 = any */, starts_at, valid_from, valid_until;
	int64_t created_by, created_at, cancelled_at /* 0 = not cancelled */;
	/* derived from the newest visit of this appointment, for reception:
	 * "booked", "waiting", "away", "ringing", "in_call", "ended", "cancelled" */
	char *status;
	char *end_reason;   /* newest visit's end reason or NULL */
	/* additive: newest visit's names (NULL if no visit yet) and the
	 * display name of the appointment's doctor (NULL for "any doctor") */
	char *patient_first, *patient_last;
	char *doctor_name;
} consult_appointment;
void consult_appointment_clear(consult_appointment *a);
consult_err consult_store_add_appointment(consult_store *s, int64_t practice_id, int64_t doctor_id,
	int64_t starts_at, int64_t valid_from, int64_t valid_until,
	const uint8_t code_hash[CONSULT_CODE_HASH_LEN], int64_t created_by, int64_t now, int64_t *id);
/* Looks up by keyed code hash (compared in constant time after the lookup). */
consult_err consult_store_appointment_by_code(consult_store *s,
	const uint8_t code_hash[CONSULT_CODE_HASH_LEN], consult_appointment *out);
consult_err consult_store_appointment_by_id(consult_store *s, int64_t id, consult_appointment *out);
/* NOT_FOUND if no such appointment in this practice; WRONG_STATE if already cancelled. */
consult_err consult_store_cancel_appointment(consult_store *s, int64_t practice_id, int64_t id, int64_t now);
typedef void (*consult_appointment_cb)(const consult_appointment *a, void *ud);
/* Appointments of a practice with from <= starts_at < to, by starts_at. */
consult_err consult_store_list_appointments(consult_store *s, int64_t practice_id, int64_t from,
	int64_t to, consult_appointment_cb cb, void *ud);

/* --- visit records --- */
/* One write: the new visit is stored in state "waiting" (no separate
 * consult_store_visit_state needed after it). */
consult_err consult_store_visit_begin(consult_store *s, int64_t appointment_id, const char *first_name,
	const char *last_name, int64_t now, int64_t *visit_id);
/* state: the live state name (visit.h) kept for reception's status column. */
consult_err consult_store_visit_state(consult_store *s, int64_t visit_id, const char *state);
/* called_at keeps the first call (the wait ends there); called_by is the latest caller. */
consult_err consult_store_visit_called(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now);
/* Additive: state "ringing" plus called_at/called_by as in visit_called,
 * in one write (a call used to be two commits: state, then called). */
consult_err consult_store_visit_ring(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now);
/* Sets connected_at only if it is not set yet. */
consult_err consult_store_visit_connected(consult_store *s, int64_t visit_id, int64_t now);
/* side: "patient" or "doctor"; media_path e.g. "host/host", "relay/srflx". */
consult_err consult_store_visit_report(consult_store *s, int64_t visit_id, const char *side,
	const char *connection_state, const char *local_type, const char *remote_type);
/* state "ended", ended_at, end_reason; ending an ended visit keeps the first time and reason. */
consult_err consult_store_visit_end(consult_store *s, int64_t visit_id, const char *reason, int64_t now);
/* Names of a visit (for the doctor's list after a restart of a page); the
 * caller frees *first and *last with free(). */
consult_err consult_store_visit_names(consult_store *s, int64_t visit_id, char **first, char **last);

/* --- statistics for the admin API --- */
typedef struct consult_day_stats {
	int64_t calls_today;      /* visits with called_at in [from,to) */
	int64_t median_wait_s;    /* median of called_at - joined_at over those, -1 if none */
} consult_day_stats;
consult_err consult_store_day_stats(consult_store *s, int64_t practice_id, int64_t from, int64_t to,
	consult_day_stats *out);
/* Calls cb for every practice. */
typedef void (*consult_practice_cb)(const consult_practice *p, void *ud);
consult_err consult_store_list_practices(consult_store *s, consult_practice_cb cb, void *ud);
/* Cheap liveness check (SELECT 1). */
bool consult_store_healthy(consult_store *s);
/* Write probe for health checks: one real commit that changes nothing
 * (PRAGMA user_version set to its own value: the header page goes through
 * the WAL like any write). OK, or INTERNAL with *name (may be NULL) the
 * SQLite error name, e.g. "SQLITE_FULL" on a full disk. */
consult_err consult_store_write_probe(consult_store *s, const char **name);

/* --- store errors (additive) ---
 * Every failure of a store call that is not a plain answer (UNIQUE or
 * FOREIGN KEY -> CONFLICT / NOT_FOUND) is counted and, if a hook is set,
 * reported to it on the caller's thread with the SQLite result code and its
 * name ("SQLITE_FULL", "SQLITE_IOERR", ...). Neither holds values. */
typedef void (*consult_store_error_hook)(void *ud, int sqlite_rc, const char *name);
void consult_store_set_error_hook(consult_store *s, consult_store_error_hook hook, void *ud);
/* Failures counted so far (see above); safe from any thread. */
unsigned consult_store_error_count(consult_store *s);
/* Name of the newest counted failure ("" if none). */
const char *consult_store_last_error_name(consult_store *s);
/* "SQLITE_FULL" etc. for a (possibly extended) SQLite result code. */
const char *consult_store_rc_name(int rc);
/* The -wal file never stays above this after a checkpoint (PRAGMA
 * journal_size_limit on both connections; a TRUNCATE checkpoint empties it). */
#define CONSULT_STORE_WAL_LIMIT 1048576     /* bytes */

/* --- diagnostics (additive) --- */
/* SQLite's message for the last failed call on this handle ("" if none).
 * It names tables/columns/constraints, never values: safe to log. */
const char *consult_store_last_error(consult_store *s);
/* Connection settings as SQLite reports them (for health checks and tests). */
typedef struct consult_store_settings {
	bool wal, foreign_keys, secure_delete;
	int synchronous;          /* 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA */
	int busy_timeout_ms;
} consult_store_settings;
consult_err consult_store_get_settings(consult_store *s, consult_store_settings *out);

/* Marks visits that were live when the process stopped as ended with
 * reason "server_restart" (called at open by the glue). Returns count,
 * -1 on a store failure. */
int64_t consult_store_end_stale_visits(consult_store *s, int64_t now);

/* --- WAL checkpoints off the writer's path (additive) ---
 * SQLite normally checkpoints inside the commit that grows the WAL past
 * 1000 pages, with two fsyncs, while the caller holds its lock. Instead a
 * second connection, owned by one background thread, checkpoints. */
/* Turns this handle's automatic checkpoint off (PRAGMA wal_autocheckpoint
 * = 0) and counts WAL frames per commit instead (consult_store_wal_status).
 * Only if a checkpoint connection below runs regularly, or the WAL grows
 * without bound (it is checkpointed at close). INTERNAL for a non-WAL
 * (in-memory) database: nothing changed then. */
consult_err consult_store_manual_checkpoints(consult_store *s);
/* Frames in the WAL after the newest commit and the commits counted so
 * far (both 0 until manual checkpoints are on). Safe from any thread. */
void consult_store_wal_status(consult_store *s, int *frames, unsigned *commits);

typedef struct consult_store_ckpt consult_store_ckpt;
/* Opens a checkpoint-only connection to an existing store file in WAL
 * mode. NULL on failure (no file, not WAL, e.g. ":memory:") with a
 * message (no personal data) in err. */
consult_store_ckpt *consult_store_checkpoint_open(const char *path, char *err, size_t errlen);
/* PRAGMA wal_checkpoint(PASSIVE): copies the committed WAL frames it can
 * into the database file and fsyncs, never waiting for and never blocking
 * the writer; then, if that copied everything, wal_checkpoint(TRUNCATE),
 * which copies what was committed meanwhile and truncates the -wal file to
 * zero bytes (it holds the writer back only for that short rest, waiting
 * at most 200 ms for a commit or a reader in progress; a PASSIVE
 * checkpoint alone never shrinks the file). *wal_frames / *done_frames
 * (may be NULL) as SQLite reports them for the PASSIVE step (-1 if
 * unknown). OK also when SQLite was busy (a reader on an older snapshot or
 * the writer kept it from finishing: consult_store_checkpoint_truncated
 * says false then; try again). */
consult_err consult_store_checkpoint_run(consult_store_ckpt *c, int *wal_frames, int *done_frames);
/* true if the last consult_store_checkpoint_run emptied the -wal file. */
bool consult_store_checkpoint_truncated(consult_store_ckpt *c);
/* SQLite's message of the last failure ("" if none); no values. */
const char *consult_store_checkpoint_error(consult_store_ckpt *c);
void consult_store_checkpoint_close(consult_store_ckpt *c);

/* ===== schema v3 (issue 3): transactions, contacts, outbox, retention =====
 * Additive. Errors as above, plus CONSULT_ERR_WRONG_STATE where noted and
 * CONSULT_ERR_INVALID_FIELD for a channel/kind/status name this store does
 * not know. Every function below is atomic on its own and also works inside
 * an outer transaction (consult_store_begin), where its changes become
 * durable only with consult_store_commit. */

/* --- transactions --- */
/* Groups several calls into one commit (BEGIN IMMEDIATE: the write lock is
 * taken at once). WRONG_STATE if a transaction is already open (no
 * nesting). A failing call inside leaves the transaction open with that
 * call's changes undone; the caller decides to commit or roll back. */
consult_err consult_store_begin(consult_store *s);
/* WRONG_STATE if no transaction is open. If COMMIT fails everything since
 * begin is rolled back and INTERNAL returned. */
consult_err consult_store_commit(consult_store *s);
/* Undoes everything since consult_store_begin. WRONG_STATE if none is open. */
consult_err consult_store_rollback(consult_store *s);
/* true while a transaction opened by consult_store_begin is open. */
bool consult_store_in_transaction(consult_store *s);

/* --- contact data of an appointment (one row per appointment) ---
 * phone: E.164 or NULL; email or NULL; consent_*_at (unix) and consent_*_by
 * (staff id): 0 = no consent recorded. code_box: the access code sealed by
 * the caller (opaque bytes, may be NULL/0). wiped_at: 0 = not wiped; after
 * the wipe (consult_store_purge) phone, email and code_box are NULL and
 * the consents stay (they document what was allowed). */
typedef struct consult_contact {
	int64_t appointment_id;
	char *phone, *email;
	int64_t consent_sms_at, consent_sms_by, consent_email_at, consent_email_by, wiped_at;
	uint8_t *code_box;
	size_t code_box_len;
} consult_contact;
/* Frees the strings, zeroes and frees code_box, zeroes the struct. */
void consult_contact_clear(consult_contact *c);
/* Inserts or replaces the contact row of c->appointment_id (every column
 * as given). NOT_FOUND if there is no such appointment, or a consent_*_by
 * names no staff member. */
consult_err consult_store_set_contact(consult_store *s, const consult_contact *c);
/* NOT_FOUND if the appointment has no contact row (out zeroed then). */
consult_err consult_store_contact(consult_store *s, int64_t appointment_id, consult_contact *out);

/* --- outbox = delivery log ---
 * channel "email" | "sms"; kind "invite" | "reminder" | "cancel";
 * status "queued" -> "sending" (claimed) -> "sent" | "queued" (retry) |
 * "failed"; "queued" -> "dropped" | "failed". sent, failed and dropped are
 * final: every further transition answers WRONG_STATE. Rows hold no
 * address and no text (rendered at send time); msgid (16 random bytes of
 * the caller) is fixed per row, so a retry keeps its Message-ID. Rows are
 * deleted with their appointment. error: a reason without personal data. */
typedef struct consult_outbox_msg {
	int64_t id, appointment_id, practice_id;
	char *channel, *kind, *status, *error;   /* error NULL if none */
	int attempts;
	int64_t due_at, next_at, sent_at /* 0 = not sent */, created_at, updated_at;
	uint8_t msgid[16];
} consult_outbox_msg;
void consult_outbox_msg_clear(consult_outbox_msg *m);
/* Queues a message: status queued, attempts 0, next_at = due_at,
 * created_at = updated_at = now. NOT_FOUND if no such appointment,
 * CONFLICT if msgid is taken, INVALID_FIELD for an unknown channel/kind. */
consult_err consult_outbox_add(consult_store *s, int64_t appointment_id, const char *channel,
	const char *kind, int64_t due_at, const uint8_t msgid[16], int64_t now, int64_t *id);
/* Claims the queued row with the smallest (next_at, id) and next_at <= now:
 * status sending, attempts + 1, updated_at = now, in one commit; out gets
 * the row after the change. NOT_FOUND if nothing is due. */
consult_err consult_outbox_claim_next(consult_store *s, int64_t now, consult_outbox_msg *out);
/* Smallest next_at of the queued rows (may be in the past). NOT_FOUND if
 * none is queued. */
consult_err consult_outbox_next_due(consult_store *s, int64_t *at);
/* sending -> sent (sent_at = updated_at = now, error cleared).
 * NOT_FOUND if no such row, WRONG_STATE if not sending. */
consult_err consult_outbox_sent(consult_store *s, int64_t id, int64_t now);
/* sending -> queued again at next_at, with the reason of the failed
 * attempt (error, may be NULL). NOT_FOUND / WRONG_STATE as above. */
consult_err consult_outbox_retry(consult_store *s, int64_t id, int64_t next_at, const char *error,
	int64_t now);
/* queued or sending -> failed (final) with its reason. NOT_FOUND /
 * WRONG_STATE (already sent, failed or dropped). */
consult_err consult_outbox_fail(consult_store *s, int64_t id, const char *error, int64_t now);
/* Cancel: the appointment's queued invites and reminders -> dropped;
 * *n (may be NULL) = rows dropped. A row being sent right now (sending)
 * is left to the worker. OK with *n = 0 if there is nothing to drop. */
consult_err consult_outbox_drop_pending(consult_store *s, int64_t appointment_id, int64_t now,
	int64_t *n);
/* Startup: rows left in sending (the process died during the attempt) ->
 * queued with next_at = updated_at = now; attempts are kept. *n may be NULL. */
consult_err consult_outbox_requeue_sending(consult_store *s, int64_t now, int64_t *n);
consult_err consult_outbox_by_id(consult_store *s, int64_t id, consult_outbox_msg *out);
/* The rows of one appointment in creation order (created_at, id). */
typedef void (*consult_outbox_cb)(const consult_outbox_msg *m, void *ud);
consult_err consult_outbox_list(consult_store *s, int64_t appointment_id, consult_outbox_cb cb, void *ud);
/* The rows of all appointments of a practice with from <= starts_at < to,
 * ordered like consult_store_list_appointments (starts_at, appointment id)
 * and then by creation: one query for the reception list. */
consult_err consult_outbox_list_range(consult_store *s, int64_t practice_id, int64_t from, int64_t to,
	consult_outbox_cb cb, void *ud);
/* Counts for the admin stats: *queued = rows not finished (queued or
 * sending), *failed = failed rows; practice_id 0 = all practices. Either
 * pointer may be NULL. */
consult_err consult_outbox_counts(consult_store *s, int64_t practice_id, int64_t *queued, int64_t *failed);

/* --- retention and erasure --- */
typedef struct consult_purge_counts {
	int64_t appointments;     /* appointment rows deleted */
	int64_t visits;           /* visit rows deleted with them */
	int64_t deliveries;       /* outbox rows deleted with them */
	int64_t contacts_wiped;   /* purge: contact rows wiped (of appointments that stay);
	                           * erase: contact rows deleted with the appointment */
} consult_purge_counts;
/* One transaction: deletes appointments with starts_at < purge_before and
 * with them (cascade) their visits, contact rows and outbox rows; then
 * wipes the contact rows (phone, email, code_box NULL, wiped_at = now) of
 * appointments with starts_at < wipe_contact_before that still hold data
 * or were never marked wiped. Then PRAGMA wal_checkpoint(TRUNCATE) on this
 * connection (at consult_store_commit when called inside a transaction);
 * with secure_delete the data is then gone from the file and the -wal
 * file. A checkpoint that SQLite cannot complete (a reader holds the WAL)
 * is not an error: last_error says so, the next run checkpoints again.
 * out (may be NULL) gets the counts; zeroed on error (nothing changed). */
consult_err consult_store_purge(consult_store *s, int64_t purge_before, int64_t wipe_contact_before,
	int64_t now, consult_purge_counts *out);
/* GDPR erase: deletes one appointment of practice_id and everything tied
 * to it in one transaction, then checkpoints as in purge. NOT_FOUND (and
 * nothing changed) if there is no such appointment in that practice.
 * Ending a live visit of it first is the caller's business. */
consult_err consult_store_erase_appointment(consult_store *s, int64_t practice_id, int64_t appointment_id,
	consult_purge_counts *out);

#endif
