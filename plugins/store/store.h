/* store.h - the persistence interface of consult, in domain terms only.
 *
 * Contract: everything durable goes through these functions; callers never
 * see SQL, connections, journals or schema versions. States, roles,
 * channels and kinds are the core's enums (core/visit.h, core/request.h,
 * core/compose.h) or the enums below, never strings.
 *
 * Backend: chosen at open by the location, both always built into one
 * library (libconsult_store): an SQLite file path (or ":memory:"), the
 * default, or a PostgreSQL connection URL ("postgresql://..." or
 * "postgres://...", libpq); any other URL scheme is refused with a clear
 * message. The domain files hold one copy of the SQL, in a dialect both
 * engines accept, on a small driver layer (db.h: db_sqlite.c, db_pg.c), so
 * the behaviour behind every function here is the same on both; the same
 * contract suite (tests/unit/test_store_contract*.c, which see the store
 * through this header only) runs against each backend (scripts/test,
 * stages unit and store-pg). Schema migration (the same versions on both),
 * connection tuning and handling and periodic upkeep (SQLite: WAL
 * checkpoints; PostgreSQL: none, the server vacuums and checkpoints) stay
 * inside the backend: the caller only runs consult_store_maintain().
 * PostgreSQL: one connection per handle; a lost connection is reset and
 * the statement run once more outside a transaction, while inside one the
 * call fails with INTERNAL and the transaction is reported lost at commit
 * (nothing of it is stored).
 *
 * Results: CONSULT_OK, CONSULT_ERR_NOT_FOUND, CONSULT_ERR_CONFLICT (unique
 * value taken), CONSULT_ERR_WRONG_STATE / CONSULT_ERR_INVALID_FIELD where
 * noted, or CONSULT_ERR_INTERNAL; on error nothing was changed. Thread
 * safety: a store handle is used under one caller lock (the glue's), except
 * consult_store_maintain() and the counters marked "any thread". The store
 * never logs; its messages and error names hold no values (no personal
 * data). Strings returned inside structs are owned by the struct and freed
 * by its *_clear function.
 */
#ifndef CONSULT_STORE_H
#define CONSULT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/errors.h"
#include "core/code.h"
#include "core/visit.h"
#include "core/request.h"
#include "core/compose.h"
#include "core/ratelimit.h"

typedef struct consult_store consult_store;

/* Opens (creating if needed) the store at location (SQLite: a file path or
 * ":memory:"; PostgreSQL: a postgresql:// URL of an existing database) and
 * brings its schema to the newest version. NULL on failure, with a message
 * (no personal data, never the URL or its password) in err (size errlen). */
consult_store *consult_store_open(const char *location, char *err, size_t errlen);
/* Finishes pending upkeep (SQLite: a last checkpoint) and frees s. */
void consult_store_close(consult_store *s);

/* --- upkeep and health --- */
typedef struct consult_store_upkeep {
	bool ran;          /* work was due and done in this call */
	bool complete;     /* it finished; false: the backend was busy, the next call tries again */
	int64_t done, due; /* units of work done / due (SQLite: WAL frames copied / in the WAL) */
	char error[160];   /* why it failed or cannot run, no values; "" if fine */
} consult_store_upkeep;
/* Does whatever the backend needs periodically (SQLite: checkpoints the
 * WAL through its own connection and truncates the -wal file, so commits
 * never pay for a checkpoint; bounded by CONSULT_STORE_LOG_LIMIT;
 * PostgreSQL: nothing, OK with r->ran false). Call it
 * about once a second from one background thread, WITHOUT the caller's
 * lock: it never takes the handle's connection and is safe concurrently
 * with every other call, but not with itself, open or close. now: unix
 * seconds (decides when work is due). OK with r->ran false when nothing is
 * due; INTERNAL with r->error when upkeep failed or is not possible (then
 * the backend does it inside ordinary calls; said once). r may be NULL. */
consult_err consult_store_maintain(consult_store *s, int64_t now, consult_store_upkeep *r);

/* The write-ahead log (SQLite: the -wal file) is cut back to at most this
 * many bytes by upkeep and never stays above it after a complete run. */
#define CONSULT_STORE_LOG_LIMIT 1048576 /* bytes */

typedef struct consult_store_health {
	bool writable;           /* one real commit that changes nothing went through */
	const char *error;       /* if not writable: the backend's error name ("SQLITE_FULL", "PG_53100"); else "" */
	int64_t disk_free_mb;    /* free space where the data lives (MiB), -1 if unknown (PostgreSQL) */
	int64_t log_bytes;       /* size of the write-ahead log now, -1 if unknown (PostgreSQL) */
	int64_t log_limit_bytes; /* CONSULT_STORE_LOG_LIMIT, -1 if the backend has none */
} consult_store_health;
/* Health probe: a write that changes nothing, plus disk and log figures.
 * OK if writable, else INTERNAL (out filled either way). Under the lock. */
consult_err consult_store_probe(consult_store *s, consult_store_health *out);

/* --- store errors ---
 * Every failure of a store call that is not a plain answer (a taken unique
 * value -> CONFLICT, a missing parent -> NOT_FOUND) is counted and, if a
 * hook is set, reported to it on the caller's thread with the backend's
 * error name ("SQLITE_FULL", "SQLITE_IOERR", ...; PostgreSQL: "PG_" and
 * the SQLSTATE, or "PG_CONNECTION"). It holds no values. */
typedef void (*consult_store_error_hook)(void *ud, const char *name);
void consult_store_set_error_hook(consult_store *s, consult_store_error_hook hook, void *ud);
/* Failures counted so far; any thread. */
unsigned consult_store_error_count(consult_store *s);

/* --- waiting for the database server ---
 * If set, the hook is called on the caller's thread with begin = true
 * before the handle sends anything to a PostgreSQL server and with begin =
 * false once the answer is in (one pair per outermost round trip: a
 * statement, a transaction command, a reconnect). SQLite calls are local
 * and never call it. The glue drops its global lock there (store_pool.c);
 * the hook must not call the store. */
typedef void (*consult_store_wait_hook)(void *ud, bool begin);
void consult_store_set_wait_hook(consult_store *s, consult_store_wait_hook hook, void *ud);
/* Name of the newest counted failure ("" if none). */
const char *consult_store_last_error_name(consult_store *s);
/* The backend's message for the last failed call on this handle ("" if
 * none). It names tables/columns/constraints, never values: safe to log. */
const char *consult_store_last_error(consult_store *s);

/* --- practices --- */
typedef struct consult_practice {
	int64_t id;
	char *slug, *name, *phone;
	bool relay_only;       /* ICE transport policy "relay" for calls */
	bool forward_never;    /* as consult_store_practice_forward_never */
	bool audio_only_never; /* as consult_store_practice_audio_only_never */
	bool patient_share;    /* as consult_store_practice_patient_share */
} consult_practice;
void consult_practice_clear(consult_practice *p);
consult_err consult_store_add_practice(
        consult_store *s, const char *slug, const char *name, const char *phone, int64_t now, int64_t *id);
consult_err consult_store_practice_by_slug(consult_store *s, const char *slug, consult_practice *out);
consult_err consult_store_practice_by_id(consult_store *s, int64_t id, consult_practice *out);
/* Calls cb for every practice, by id. */
typedef void (*consult_practice_cb)(const consult_practice *p, void *ud);
consult_err consult_store_list_practices(consult_store *s, consult_practice_cb cb, void *ud);
/* The practice option "relay only" (TURN relay for every call, so neither
 * side learns the other's IP address). NOT_FOUND if there is no such practice. */
consult_err consult_store_practice_relay_only(consult_store *s, int64_t id, bool *relay_only);
consult_err consult_store_set_practice_relay_only(consult_store *s, const char *slug, bool relay_only);
/* The practice policy "never forward calls through the server" (default
 * false = forwarding allowed). NOT_FOUND if there is no such practice. */
consult_err consult_store_practice_forward_never(consult_store *s, int64_t id, bool *never);
consult_err consult_store_set_practice_forward_never(consult_store *s, const char *slug, bool never);
/* The practice policy "never accept a call with audio only" (default false
 * = a patient may take a call without the camera). NOT_FOUND if there is
 * no such practice. */
consult_err consult_store_practice_audio_only_never(consult_store *s, int64_t id, bool *never);
consult_err consult_store_set_practice_audio_only_never(consult_store *s, const char *slug, bool never);
/* The practice policy "a patient may share a screen in a call" (default
 * false = never). NOT_FOUND if there is no such practice. */
consult_err consult_store_practice_patient_share(consult_store *s, int64_t id, bool *allowed);
consult_err consult_store_set_practice_patient_share(consult_store *s, const char *slug, bool allowed);

/* --- staff --- role DOCTOR or RECEPTION; pw_hash is an argon2id string */
typedef struct consult_staff {
	int64_t id, practice_id;
	char *username, *display_name, *pw_hash;
	consult_role role;
	bool disabled;
} consult_staff;
/* Frees the strings (the hash zeroed first) and zeroes the struct. */
void consult_staff_clear(consult_staff *st);
/* NOT_FOUND if no such practice, CONFLICT if the username is taken,
 * INVALID_FIELD for role NONE. */
consult_err consult_store_add_staff(consult_store *s, int64_t practice_id, const char *username,
        const char *display_name, consult_role role, const char *pw_hash, int64_t now, int64_t *id);
consult_err consult_store_staff_by_username(consult_store *s, const char *username, consult_staff *out);
consult_err consult_store_staff_by_id(consult_store *s, int64_t id, consult_staff *out);
consult_err consult_store_set_staff_disabled(consult_store *s, const char *username, bool disabled);
consult_err consult_store_set_staff_password(consult_store *s, const char *username, const char *pw_hash);
/* Calls cb for each staff member of a practice with this role (NONE = all),
 * ordered by display name (case-insensitive), then id. */
typedef void (*consult_staff_cb)(const consult_staff *st, void *ud);
consult_err consult_store_list_staff(
        consult_store *s, int64_t practice_id, consult_role role, consult_staff_cb cb, void *ud);

/* --- known staff devices (login protection) --- A device is a browser
 * that logged in before and keeps a random token; only the token's hash
 * (CONSULT_DEVICE_HASH_LEN bytes) is stored. */
#define CONSULT_DEVICE_HASH_LEN 32
typedef struct consult_device {
	int64_t id, staff_id, created_at, last_used_at;
	uint8_t hash[CONSULT_DEVICE_HASH_LEN];
} consult_device;
/* The device with this token hash; NOT_FOUND if none. */
consult_err consult_store_device_find(
        consult_store *s, const uint8_t hash[CONSULT_DEVICE_HASH_LEN], consult_device *out);
/* One unit of work. replace_id > 0: that device of staff_id gets the new
 * hash and last_used_at = now (rotation; NOT_FOUND if it is gone). Else a
 * new device row (NOT_FOUND if no such staff member); then only the keep
 * newest (by last use) devices of the staff member stay. *id (may be
 * NULL) = the device id. */
consult_err consult_store_device_issue(consult_store *s, int64_t staff_id, int64_t replace_id,
        const uint8_t hash[CONSULT_DEVICE_HASH_LEN], int64_t now, int keep, int64_t *id);
/* Deletes every device of a staff member (password reset, disabled); *n = rows (may be NULL). */
consult_err consult_store_devices_revoke(consult_store *s, int64_t staff_id, int64_t *n);
/* Deletes devices not used since unused_before (retention purge); *n = rows (may be NULL). */
consult_err consult_store_devices_purge(consult_store *s, int64_t unused_before, int64_t *n);

/* --- staff sessions (resumable logins) --- A session is one login; the
 * browser keeps its random token to re-attach after the connection to the
 * server was lost. Only the token's hash (CONSULT_SESSION_HASH_LEN bytes)
 * is stored. */
#define CONSULT_SESSION_HASH_LEN 32
typedef struct consult_staff_session {
	int64_t id, staff_id, created_at, last_used_at;
	uint8_t hash[CONSULT_SESSION_HASH_LEN];
} consult_staff_session;
/* A new session of staff_id, created and last used now; *id (may be NULL)
 * = its id. NOT_FOUND if no such staff member, CONFLICT if the hash is
 * taken. */
consult_err consult_store_session_create(
        consult_store *s, int64_t staff_id, const uint8_t hash[CONSULT_SESSION_HASH_LEN], int64_t now, int64_t *id);
/* The session with this token hash; NOT_FOUND if none. */
consult_err consult_store_session_find(
        consult_store *s, const uint8_t hash[CONSULT_SESSION_HASH_LEN], consult_staff_session *out);
/* The session was used at now (last_used_at never moves back); NOT_FOUND if it is gone. */
consult_err consult_store_session_touch(consult_store *s, int64_t id, int64_t now);
/* Ends one session (logout); NOT_FOUND if it is gone. */
consult_err consult_store_session_delete(consult_store *s, int64_t id);
/* Ends every session of a staff member (password reset, disabled); *n = rows (may be NULL). */
consult_err consult_store_sessions_revoke(consult_store *s, int64_t staff_id, int64_t *n);
/* Deletes sessions not used since unused_before (expired); *n = rows (may be NULL). */
consult_err consult_store_sessions_purge(consult_store *s, int64_t unused_before, int64_t *n);
/* Calls cb with the id of every session of practice_id's staff members
 * who are not disabled: the sessions a live handle of that practice may
 * still hold (a revoked one is gone). */
typedef void (*consult_session_id_cb)(int64_t id, void *ud);
consult_err consult_store_practice_sessions(consult_store *s, int64_t practice_id, consult_session_id_cb cb, void *ud);

/* --- appointments --- */
/* What reception sees: BOOKED until a patient joined, then the newest
 * visit's state; CANCELLED once the appointment is cancelled. */
typedef enum consult_appt_status {
	CONSULT_APPT_BOOKED = 0,
	CONSULT_APPT_WAITING,
	CONSULT_APPT_AWAY,
	CONSULT_APPT_RINGING,
	CONSULT_APPT_IN_CALL,
	CONSULT_APPT_ENDED,
	CONSULT_APPT_CANCELLED,
	CONSULT_APPT_STATUS_COUNT
} consult_appt_status;
/* "booked", "waiting", "away", "ringing", "in_call", "ended", "cancelled"; "" if out of range. */
const char *consult_appt_status_name(consult_appt_status st);

typedef struct consult_appointment {
	int64_t id, practice_id, doctor_id /* 0 = any */, starts_at, valid_from, valid_until;
	int64_t created_by, created_at, cancelled_at /* 0 = not cancelled */;
	consult_appt_status status;
	consult_end_reason end_reason; /* newest visit's end reason, NONE if none */
	/* newest visit's names (NULL if no visit yet) and the display name of
	 * the appointment's doctor (NULL for "any doctor") */
	char *patient_first, *patient_last;
	char *doctor_name;
	/* the patient's name and a note as reception booked them (NULL if none) */
	char *booked_name, *note;
} consult_appointment;
void consult_appointment_clear(consult_appointment *a);
/* NOT_FOUND if no such practice, or doctor_id (0 = any) is not a doctor of
 * it; CONFLICT if the code hash is taken. */
consult_err consult_store_add_appointment(consult_store *s, int64_t practice_id, int64_t doctor_id, int64_t starts_at,
        int64_t valid_from, int64_t valid_until, const uint8_t code_hash[CONSULT_CODE_HASH_LEN], int64_t created_by,
        int64_t now, int64_t *id);
/* Sets the booked name and note of an appointment (NULL: none); NOT_FOUND
 * if there is no such appointment. They are deleted with the appointment
 * (consult_store_purge, consult_store_erase_appointment), not with the
 * contact data. */
consult_err consult_store_set_appointment_booking(
        consult_store *s, int64_t appointment_id, const char *booked_name, const char *note);
/* Looks up by keyed code hash (compared in constant time after the lookup). */
consult_err consult_store_appointment_by_code(
        consult_store *s, const uint8_t code_hash[CONSULT_CODE_HASH_LEN], consult_appointment *out);
consult_err consult_store_appointment_by_id(consult_store *s, int64_t id, consult_appointment *out);
/* NOT_FOUND if no such appointment in this practice; WRONG_STATE if already cancelled. */
consult_err consult_store_cancel_appointment(consult_store *s, int64_t practice_id, int64_t id, int64_t now);
typedef void (*consult_appointment_cb)(const consult_appointment *a, void *ud);
/* Appointments of a practice with from <= starts_at < to, by starts_at, id.
 * cb may call the store again. */
consult_err consult_store_list_appointments(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_appointment_cb cb, void *ud);

/* --- visit records --- */
/* One write: the new visit is stored in state WAITING. NOT_FOUND if there
 * is no such appointment. */
consult_err consult_store_visit_begin(consult_store *s, int64_t appointment_id, const char *first_name,
        const char *last_name, int64_t now, int64_t *visit_id);
/* The live state (core/visit.h), kept for reception's status column and
 * for the restore after a restart, with the visit's place: head (sent back
 * to the head of the queue) and away_since (when the patient's connection
 * went, 0 = attached). */
consult_err consult_store_visit_state(
        consult_store *s, int64_t visit_id, consult_visit_state state, bool head, int64_t away_since);
/* called_at keeps the first call (the wait ends there); called_by is the latest caller. */
consult_err consult_store_visit_called(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now);
/* State RINGING plus called_at/called_by as in visit_called, in one write. */
consult_err consult_store_visit_ring(consult_store *s, int64_t visit_id, int64_t doctor_id, int64_t now);
/* Sets connected_at only if it is not set yet. */
consult_err consult_store_visit_connected(consult_store *s, int64_t visit_id, int64_t now);
/* Who reports a connection. */
typedef enum consult_party { CONSULT_PARTY_PATIENT = 0, CONSULT_PARTY_DOCTOR } consult_party;
/* The reported connection state and candidate types (e.g. "host",
 * "relay"); NULL keeps the stored value. The doctor's report of both
 * types also sets the media path ("relay/srflx"). */
consult_err consult_store_visit_report(consult_store *s, int64_t visit_id, consult_party side,
        const char *connection_state, const char *local_type, const char *remote_type);
/* State ENDED, ended_at, end_reason; ending an ended visit keeps the first time and reason. */
consult_err consult_store_visit_end(consult_store *s, int64_t visit_id, consult_end_reason reason, int64_t now);
/* Names of a visit (for the doctor's list after a restart of a page); the
 * caller frees *first and *last with free(). */
consult_err consult_store_visit_names(consult_store *s, int64_t visit_id, char **first, char **last);
/* A visit not ended yet, as the restore at start needs it. */
typedef struct consult_live_visit {
	int64_t id, appointment_id, practice_id;
	int64_t doctor_id; /* the appointment's doctor, 0 = any */
	int64_t starts_at; /* the appointment's time */
	int64_t joined_at;
	consult_visit_state state;
	int64_t called_by; /* the doctor who called last, 0 none */
	bool head;
	int64_t away_since; /* 0 = not set */
} consult_live_visit;
typedef void (*consult_live_visit_cb)(const consult_live_visit *v, void *ud);
/* Every visit not ENDED, by visit id. cb may call the store again. */
consult_err consult_store_live_visits(consult_store *s, consult_live_visit_cb cb, void *ud);

/* --- lifecycle of the process using the store (store_lifecycle.c) --- */
/* Heartbeat: the process was alive at now. */
consult_err consult_store_alive(consult_store *s, int64_t now);
/* A clean stop at now. */
consult_err consult_store_stopped(consult_store *s, int64_t now);
/* The last heartbeat and the last clean stop (0 if none); NOT_FOUND if
 * neither was ever written. */
consult_err consult_store_lifecycle(consult_store *s, int64_t *alive_at, int64_t *stopped_at);

/* --- statistics for the admin API --- */
typedef struct consult_day_stats {
	int64_t calls_today;   /* visits with called_at in [from,to) */
	int64_t median_wait_s; /* median of called_at - joined_at over those, -1 if none */
} consult_day_stats;
consult_err consult_store_day_stats(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_day_stats *out);

/* --- lengths of connected calls, for the estimated wait (store_calls.c) --- */
/* One ended visit that was connected: its practice, the doctor who called
 * it last (0 unknown), when it ended and ended_at - connected_at. */
typedef struct consult_call_row {
	int64_t practice_id, doctor_id, ended_at, seconds;
} consult_call_row;
typedef void (*consult_call_cb)(const consult_call_row *c, void *ud);
/* Every visit of every practice with connected_at set that ended in
 * [from, to) (and was called at most a day before from), in no order. */
consult_err consult_store_calls_ended(consult_store *s, int64_t from, int64_t to, consult_call_cb cb, void *ud);
/* A visit's connected_at, 0 if not connected; NOT_FOUND if no such visit. */
consult_err consult_store_visit_connected_at(consult_store *s, int64_t visit_id, int64_t *at);

/* Every function below is atomic on its own and also works inside an outer
 * transaction (consult_store_begin), where its changes become durable only
 * with consult_store_commit. */

/* --- transactions --- */
/* Groups several calls into one commit (the write lock is taken at once).
 * WRONG_STATE if a transaction is already open (no nesting). A failing call inside leaves the transaction open with that
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
/* The contact rows of all appointments of a practice with from <= starts_at
 * < to, ordered like consult_store_list_appointments (starts_at,
 * appointment id), in ONE query (the reception list): appointments without
 * a contact row are skipped. code_box is not read (NULL/0 in every row). */
typedef void (*consult_contact_cb)(const consult_contact *c, void *ud);
consult_err consult_store_contacts_range(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_contact_cb cb, void *ud);

/* --- outbox = delivery log ---
 * status QUEUED -> SENDING (claimed) -> SENT | QUEUED (retry) | FAILED;
 * QUEUED -> DROPPED | FAILED. SENT, FAILED and DROPPED are final: every
 * further transition answers WRONG_STATE. Rows hold no address and no text
 * (rendered at send time); msgid (16 random bytes of the caller) is fixed
 * per row, so a retry keeps its Message-ID. Rows are deleted with their
 * appointment. error: a reason without personal data. */
typedef enum consult_outbox_status {
	CONSULT_OUTBOX_QUEUED = 0,
	CONSULT_OUTBOX_SENDING,
	CONSULT_OUTBOX_SENT,
	CONSULT_OUTBOX_FAILED,
	CONSULT_OUTBOX_DROPPED,
	CONSULT_OUTBOX_STATUS_COUNT
} consult_outbox_status;
/* "queued", "sending", "sent", "failed", "dropped"; "" if out of range. */
const char *consult_outbox_status_name(consult_outbox_status st);
typedef struct consult_outbox_msg {
	int64_t id, appointment_id, practice_id;
	consult_channel channel;
	consult_msg_kind kind;
	consult_outbox_status status;
	char *error; /* NULL if none */
	int attempts;
	int64_t due_at, next_at, sent_at /* 0 = not sent */, created_at, updated_at;
	uint8_t msgid[16];
} consult_outbox_msg;
void consult_outbox_msg_clear(consult_outbox_msg *m);
/* Queues a message: status QUEUED, attempts 0, next_at = due_at,
 * created_at = updated_at = now. NOT_FOUND if no such appointment,
 * CONFLICT if msgid is taken, INVALID_FIELD for channel NONE or an unknown kind. */
consult_err consult_outbox_add(consult_store *s, int64_t appointment_id, consult_channel channel, consult_msg_kind kind,
        int64_t due_at, const uint8_t msgid[16], int64_t now, int64_t *id);
/* Who claims outbox rows, and when (several instances may share a store).
 * instance: this instance's name, kept in the row as claimed_by; now: the
 * store's clock in s (next_at, updated_at); now_ms: wall clock in ms,
 * the clock of claims and leases; until_ms: when a claim taken now ends;
 * leases: only rows of practices whose lease row names this instance and
 * has not expired at now_ms (false: every practice, one instance). */
typedef struct consult_outbox_claimer {
	const char *instance;
	int64_t now, now_ms, until_ms;
	bool leases;
} consult_outbox_claimer;
/* Claims the due row with the smallest (next_at, id) among the QUEUED rows
 * with next_at <= now and the SENDING rows whose claim has ended
 * (claimed_until <= now_ms, or no claim recorded), of the practices c
 * allows: status SENDING, claimed_by = instance, claimed_until = until_ms,
 * attempts + 1, updated_at = now, in one commit (a guarded UPDATE: of two
 * instances claiming at once exactly one gets the row); out gets the row
 * after the change. NOT_FOUND if nothing is due. */
consult_err consult_outbox_claim_next(consult_store *s, const consult_outbox_claimer *c, consult_outbox_msg *out);
/* Smallest next_at of the QUEUED rows of the practices c allows (may be in
 * the past). NOT_FOUND if none is queued. */
consult_err consult_outbox_next_due(consult_store *s, const consult_outbox_claimer *c, int64_t *at);
/* SENDING (claimed by `by`) -> SENT (sent_at = updated_at = now, error
 * cleared, claim cleared). NOT_FOUND if no such row, WRONG_STATE if not
 * sending or claimed by another instance (it took over an ended claim). */
consult_err consult_outbox_sent(consult_store *s, int64_t id, const char *by, int64_t now);
/* SENDING (claimed by `by`) -> QUEUED again at next_at, with the reason of
 * the failed attempt (error, may be NULL). NOT_FOUND / WRONG_STATE as above. */
consult_err consult_outbox_retry(
        consult_store *s, int64_t id, const char *by, int64_t next_at, const char *error, int64_t now);
/* QUEUED, or SENDING claimed by `by` -> FAILED (final) with its reason.
 * NOT_FOUND / WRONG_STATE (already sent, failed or dropped, or claimed by
 * another instance). */
consult_err consult_outbox_fail(consult_store *s, int64_t id, const char *by, const char *error, int64_t now);
/* Cancel: the appointment's queued invites and reminders -> DROPPED;
 * *n (may be NULL) = rows dropped. A row being sent right now (SENDING)
 * is left to the worker. OK with *n = 0 if there is nothing to drop. */
consult_err consult_outbox_drop_pending(consult_store *s, int64_t appointment_id, int64_t now, int64_t *n);
/* Startup of instance `instance`: rows left in SENDING by this instance
 * (it died during the attempt), with no claim recorded, or whose claim
 * ended before now_ms -> QUEUED with next_at = updated_at = now, claim
 * cleared; attempts are kept. A live claim of another instance is left
 * alone (that instance is sending it). *n may be NULL. */
consult_err consult_outbox_requeue_sending(
        consult_store *s, const char *instance, int64_t now, int64_t now_ms, int64_t *n);
consult_err consult_outbox_by_id(consult_store *s, int64_t id, consult_outbox_msg *out);
/* The rows of one appointment in creation order (created_at, id). */
typedef void (*consult_outbox_cb)(const consult_outbox_msg *m, void *ud);
consult_err consult_outbox_list(consult_store *s, int64_t appointment_id, consult_outbox_cb cb, void *ud);
/* The rows of all appointments of a practice with from <= starts_at < to,
 * ordered like consult_store_list_appointments (starts_at, appointment id)
 * and then by creation: one query for the reception list. */
consult_err consult_outbox_list_range(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_outbox_cb cb, void *ud);
/* Counts for the admin stats: *queued = rows not finished (QUEUED or
 * SENDING), *failed = FAILED rows; practice_id 0 = all practices. Either
 * pointer may be NULL. */
consult_err consult_outbox_counts(consult_store *s, int64_t practice_id, int64_t *queued, int64_t *failed);

/* --- retention and erasure --- */
typedef struct consult_purge_counts {
	int64_t appointments;   /* appointment rows deleted */
	int64_t visits;         /* visit rows deleted with them */
	int64_t deliveries;     /* outbox rows deleted with them */
	int64_t contacts_wiped; /* purge: contact rows wiped (of appointments that stay);
	                           * erase: contact rows deleted with the appointment */
} consult_purge_counts;
/* One transaction: deletes appointments with starts_at < purge_before (with
 * their booked name and note) and with them (cascade) their visits,
 * contact rows and outbox rows; then
 * wipes the contact rows (phone, email, code_box NULL, wiped_at = now) of
 * appointments with starts_at < wipe_contact_before that still hold data
 * or were never marked wiped. The deleted and wiped values are then gone
 * from the storage, not only unreachable (SQLite: secure_delete and a
 * TRUNCATE checkpoint of the WAL, at consult_store_commit when called
 * inside a transaction; a checkpoint a reader keeps from completing is not
 * an error: last_error says so, the next run checkpoints again).
 * PostgreSQL deletes the rows alike but keeps old row versions in its
 * files and WAL until vacuum and checkpoints reuse them
 * (docs/operations.md, "PostgreSQL as the store").
 * out (may be NULL) gets the counts; zeroed on error (nothing changed). */
consult_err consult_store_purge(
        consult_store *s, int64_t purge_before, int64_t wipe_contact_before, int64_t now, consult_purge_counts *out);
/* GDPR erase: deletes one appointment of practice_id and everything tied
 * to it in one transaction, then removes it from the storage as in purge. NOT_FOUND (and
 * nothing changed) if there is no such appointment in that practice.
 * Ending a live visit of it first is the caller's business. */
consult_err consult_store_erase_appointment(
        consult_store *s, int64_t practice_id, int64_t appointment_id, consult_purge_counts *out);

/* --- leases: which instance serves a practice (core/lease.h) ---
 * One row per practice: the holder (an instance's name) and when its lease
 * ends, expires_at_ms (wall time in milliseconds, as every lease time
 * here). Several instances share the store; the rule of who may serve is
 * the core's, the store only applies a claim atomically. */
typedef struct consult_lease {
	int64_t practice_id;
	char *holder;
	int64_t expires_at_ms;
} consult_lease;
void consult_lease_clear(consult_lease *l);
/* Claims or renews practice_id's lease for holder in ONE conditional
 * statement: it is written (holder, expires_at_ms) only if there is no row,
 * the row is holder's, or the row's expires_at is before now_ms; a row
 * of holder's own keeps a later expires_at than the one given (a late
 * renewal never shortens a newer claim of the same holder); *held says
 * whether holder holds it now. Two instances claiming at once: at
 * most one gets held = true. NOT_FOUND if there is no such practice. */
consult_err consult_store_lease_claim(
        consult_store *s, int64_t practice_id, const char *holder, int64_t now_ms, int64_t expires_at_ms, bool *held);
/* Gives up holder's lease of practice_id (0: every lease of holder), so
 * another instance may claim at once; another holder's row stays. OK also
 * when holder held none; *released (may be NULL) = rows given up. */
consult_err consult_store_lease_release(consult_store *s, int64_t practice_id, const char *holder, int64_t *released);
/* Calls cb for every lease row (expired ones too), by practice id. */
typedef void (*consult_lease_cb)(const consult_lease *l, void *ud);
consult_err consult_store_list_leases(consult_store *s, consult_lease_cb cb, void *ud);

/* --- login limits shared by the instances of one store (core/ratelimit.h) ---
 * A limiter key's failures and lock, so that guesses spread over several
 * instances count once. key: CONSULT_LIMIT_KEY_LEN opaque bytes (the
 * caller's keyed digest; never a user name). Times in seconds. */
#define CONSULT_LIMIT_KEY_LEN 32
/* The key's state; NOT_FOUND if it has none. */
consult_err consult_store_limit_get(consult_store *s, const uint8_t *key, consult_rl_state *out);
/* Counts one failure of key at now under cfg's policy in one unit of work
 * that holds the key's row (two instances failing at once both count);
 * *out (may be NULL) = the state after it. */
consult_err consult_store_limit_fail(
        consult_store *s, const uint8_t *key, const consult_ratelimit_cfg *cfg, int64_t now, consult_rl_state *out);
/* Forgets key (a success, a new password). OK also if it had no state. */
consult_err consult_store_limit_clear(consult_store *s, const uint8_t *key);
/* Removes every key with nothing left to keep at now under cfg (neither
 * its last failure nor its lock's end within a window); *removed (may be
 * NULL) = rows removed. */
consult_err consult_store_limit_prune(
        consult_store *s, const consult_ratelimit_cfg *cfg, int64_t now, int64_t *removed);

#endif
