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
 * the writer. *wal_frames / *done_frames (may be NULL) as SQLite reports
 * them (-1 if unknown). OK also when SQLite was busy (nothing done). */
consult_err consult_store_checkpoint_run(consult_store_ckpt *c, int *wal_frames, int *done_frames);
/* SQLite's message of the last failure ("" if none); no values. */
const char *consult_store_checkpoint_error(consult_store_ckpt *c);
void consult_store_checkpoint_close(consult_store_ckpt *c);

#endif
