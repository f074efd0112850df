/* migrations.c - ordered schema steps of the consult store (see migrations.h).
 *
 * Contract: step i (0-based) upgrades schema version i -> i + 1 and runs in
 * one transaction with the version bump. Append only. The steps are
 * written in SQLite's DDL; the PostgreSQL driver sends them with its
 * types (db_pg.c: BIGINT, an identity for "id INTEGER PRIMARY KEY",
 * BYTEA, byte-wise text ordering), so both backends have one schema.
 */
#include "migrations.h"
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>

/* Version 8, leases (store_leases.c): which instance serves a practice.
 * One row per practice: holder is the instance's name, expires_at a wall
 * time in milliseconds (BIGINT: more than 32 bits). Kept as its own block
 * and in the dialect SQLite and PostgreSQL both accept, so it carries over
 * to another backend's migration list unchanged. */
#define CONSULT_MIGRATION_LEASES                                                       \
	"CREATE TABLE leases ("                                                        \
	"  practice_id BIGINT PRIMARY KEY REFERENCES practices(id) ON DELETE CASCADE," \
	"  holder TEXT NOT NULL,"                                                      \
	"  expires_at BIGINT NOT NULL);"

static const char *const consult_migrations[] = {
	/* version 1: practices, staff, appointments, visits */
	"CREATE TABLE practices ("
	"  id INTEGER PRIMARY KEY,"
	"  slug TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  phone TEXT,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE staff ("
	"  id INTEGER PRIMARY KEY,"
	"  practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,"
	"  username TEXT NOT NULL UNIQUE,"
	"  display_name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('doctor','reception')),"
	"  pw_hash TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX staff_practice ON staff(practice_id);"
	"CREATE TABLE appointments ("
	"  id INTEGER PRIMARY KEY,"
	"  practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,"
	"  doctor_id INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  starts_at INTEGER NOT NULL,"
	"  valid_from INTEGER NOT NULL,"
	"  valid_until INTEGER NOT NULL,"
	"  code_hash BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32),"
	"  created_by INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  created_at INTEGER NOT NULL,"
	"  cancelled_at INTEGER,"
	"  CHECK (valid_from <= starts_at AND starts_at <= valid_until));"
	"CREATE INDEX appointments_practice_starts ON appointments(practice_id, starts_at);"
	"CREATE INDEX appointments_doctor ON appointments(doctor_id);"
	"CREATE INDEX appointments_created_by ON appointments(created_by);"
	"CREATE TABLE visits ("
	"  id INTEGER PRIMARY KEY,"
	"  appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,"
	"  first_name TEXT NOT NULL,"
	"  last_name TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'waiting'"
	"    CHECK (state IN ('waiting','away','ringing','in_call','ended')),"
	"  joined_at INTEGER NOT NULL,"
	"  called_at INTEGER,"
	"  called_by INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  connected_at INTEGER,"
	"  ended_at INTEGER,"
	"  end_reason TEXT,"
	"  media_path TEXT,"
	"  patient_conn_state TEXT,"
	"  doctor_conn_state TEXT,"
	"  patient_local_type TEXT,"
	"  patient_remote_type TEXT,"
	"  doctor_local_type TEXT,"
	"  doctor_remote_type TEXT);"
	"CREATE INDEX visits_appointment ON visits(appointment_id);"
	"CREATE INDEX visits_called_at ON visits(called_at);"
	"CREATE INDEX visits_called_by ON visits(called_by);"
	"CREATE INDEX visits_live ON visits(state) WHERE state <> 'ended';",
	/* version 2: per-practice "relay only" ICE policy (TURN) */
	"ALTER TABLE practices ADD COLUMN relay_only INTEGER NOT NULL DEFAULT 0"
	"  CHECK (relay_only IN (0,1));",
	/* version 3: contact data with consent, and the outbox that
	 * is also the delivery log. No addresses or texts in the outbox. */
	"CREATE TABLE appointment_contacts ("
	"  appointment_id INTEGER PRIMARY KEY REFERENCES appointments(id) ON DELETE CASCADE,"
	"  phone TEXT,"
	"  email TEXT,"
	"  consent_sms_at INTEGER,"
	"  consent_sms_by INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  consent_email_at INTEGER,"
	"  consent_email_by INTEGER REFERENCES staff(id) ON DELETE SET NULL,"
	"  code_box BLOB,"
	"  wiped_at INTEGER);"
	"CREATE INDEX appointment_contacts_sms_by ON appointment_contacts(consent_sms_by);"
	"CREATE INDEX appointment_contacts_email_by ON appointment_contacts(consent_email_by);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,"
	"  channel TEXT NOT NULL CHECK (channel IN ('email','sms')),"
	"  kind TEXT NOT NULL CHECK (kind IN ('invite','reminder','cancel')),"
	"  status TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (status IN ('queued','sending','sent','failed','dropped')),"
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
	"  due_at INTEGER NOT NULL,"
	"  next_at INTEGER NOT NULL,"
	"  sent_at INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  error TEXT,"
	"  msgid BLOB NOT NULL UNIQUE CHECK (length(msgid) = 16));"
	"CREATE INDEX outbox_appointment ON outbox(appointment_id, created_at, id);"
	"CREATE INDEX outbox_due ON outbox(next_at, id) WHERE status = 'queued';"
	"CREATE INDEX outbox_status ON outbox(status) WHERE status IN ('queued','sending','failed');",
	/* version 4: per-practice policy for forwarding through the server */
	"ALTER TABLE practices ADD COLUMN forward_never INTEGER NOT NULL DEFAULT 0"
	"  CHECK (forward_never IN (0,1));",
	/* version 5: known devices of staff (login protection): only the
	 * BLAKE2b-256 hash of each random device token is kept. */
	"CREATE TABLE staff_devices ("
	"  id INTEGER PRIMARY KEY,"
	"  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,"
	"  token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER NOT NULL);"
	"CREATE INDEX staff_devices_staff ON staff_devices(staff_id, last_used_at);"
	"CREATE INDEX staff_devices_used ON staff_devices(last_used_at);",
	/* version 6: a waiting room that survives the process, and staff
	 * sessions that survive the connection. visits.head: sent back to the
	 * head of the queue; visits.away_since: when the patient's connection
	 * went (NULL while a handle holds the visit). lifecycle: one row, the
	 * plugin's heartbeat and the time of its last clean stop.
	 * staff_sessions: only the BLAKE2b-256 hash of each session token. */
	"ALTER TABLE visits ADD COLUMN head INTEGER NOT NULL DEFAULT 0 CHECK (head IN (0,1));"
	"ALTER TABLE visits ADD COLUMN away_since INTEGER;"
	"CREATE TABLE lifecycle ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  alive_at INTEGER NOT NULL,"
	"  stopped_at INTEGER);"
	"CREATE TABLE staff_sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,"
	"  token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER NOT NULL);"
	"CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);"
	"CREATE INDEX staff_sessions_used ON staff_sessions(last_used_at);",
	/* version 7: the patient's name and a short note as reception booked
	 * them (personal data: kept with the appointment, deleted with it by
	 * the purge and the erasure), and the practice policy on accepting a
	 * call with audio only. */
	"ALTER TABLE appointments ADD COLUMN booked_name TEXT;"
	"ALTER TABLE appointments ADD COLUMN note TEXT;"
	"ALTER TABLE practices ADD COLUMN audio_only_never INTEGER NOT NULL DEFAULT 0"
	"  CHECK (audio_only_never IN (0,1));",
	/* version 8: leases (above) */
	CONSULT_MIGRATION_LEASES,
	/* version 9: the practice policy on a patient sharing a screen in a
	 * call (0 = never, the default; 1 = allowed) */
	"ALTER TABLE practices ADD COLUMN patient_share INTEGER NOT NULL DEFAULT 0"
	"  CHECK (patient_share IN (0,1));",
	/* version 10: an outbox row being sent names the instance that claimed
	 * it and when that claim ends (wall time in ms), so instances sharing
	 * the store never requeue or take over another's live claim. */
	"ALTER TABLE outbox ADD COLUMN claimed_by TEXT;"
	"ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;",
	/* version 11: failed logins per limiter key, shared by the instances
	 * of one store (store_limits.c). key is a keyed digest, never a user
	 * name; times in seconds. */
	"CREATE TABLE login_limits ("
	"  key BLOB PRIMARY KEY,"
	"  failures INTEGER NOT NULL,"
	"  lockouts INTEGER NOT NULL,"
	"  window_start BIGINT NOT NULL,"
	"  last_failure BIGINT NOT NULL,"
	"  locked_until BIGINT NOT NULL);"
	"CREATE INDEX login_limits_forget ON login_limits(last_failure, locked_until);",
};

#define N_STEPS ((int)(sizeof consult_migrations / sizeof consult_migrations[0]))

int consult_migrations_latest(void)
{
	return N_STEPS;
}

int consult_migrations_version(consult_store *s, int *version)
{
	return s->drv->version(s, version) ? 0 : -1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int fail(consult_store *s, char *err, size_t errlen, const char *what, int version)
{
	if (version > 0)
		set_err(err, errlen, "migration to version %d failed: %s", version, s->last_error);
	else
		set_err(err, errlen, "%s: %s", what, s->last_error);
	if (s->drv->in_tx(s))
		s->drv->tx(s, DB_ROLLBACK);
	return -1;
}

/* Each round: lock, re-read the version (another process may have migrated
 * meanwhile), apply exactly one step with its version bump, commit. */
int consult_migrations_apply(consult_store *s, char *err, size_t errlen)
{
	for (;;) {
		int version = 0;
		if (!s->drv->migrate_begin(s))
			return fail(s, err, errlen, "migration: cannot begin", 0);
		if (!s->drv->version(s, &version))
			return fail(s, err, errlen, "cannot read schema version", 0);
		if (version < 0 || version > N_STEPS) {
			set_err(err, errlen, "database schema version %d is newer than this build supports (%d)",
			        version, N_STEPS);
			s->drv->tx(s, DB_ROLLBACK);
			return -1;
		}
		if (version == N_STEPS) {
			if (!s->drv->tx(s, DB_COMMIT))
				return fail(s, err, errlen, "migration: cannot commit", 0);
			return 0;
		}
		if (!s->drv->exec_ddl(s, consult_migrations[version]) || !s->drv->set_version(s, version + 1) ||
		        !s->drv->tx(s, DB_COMMIT))
			return fail(s, err, errlen, "", version + 1);
	}
}
