/* test_store_sqlite.c - what only the SQLite backend of the store shows:
 * the schema and its migrations, connection settings, raw columns and
 * CHECKs, commits per step, WAL upkeep off the writer's connection and
 * the health probe's figures, on a real file.
 *
 * Contract: each test gets its own mkdtemp() folder with a new database
 * (store_fixture.h), opened through store.h; a second raw sqlite3
 * connection inspects or tampers with the file where the API cannot. The
 * backend-neutral behaviour is in test_store_contract*.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"
#define STORE_FIXTURE_PEOPLE
#include "store_fixture.h"
#include "store_raw.h"

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int64_t file_size_wal(const char *path)
{
	char wal[128];
	snprintf(wal, sizeof wal, "%s-wal", path);
	off_t n = file_size(wal);
	return n < 0 ? 0 : (int64_t)n;
}

/* --- schema and connection --- */

static void test_migrate_from_empty(void **state)
{
	fixture *f = *state;
	assert_true(consult_store_latest_version() >= 1);
	assert_int_equal(consult_store_schema_version(f->s), consult_store_latest_version());
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), consult_store_latest_version());
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	                         " AND name IN ('practices','staff','appointments','visits')"),
	        4);
	assert_int_equal(
	        raw_int(f->path,
	                "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	                " AND name IN ('appointments_practice_starts','visits_appointment','visits_called_at')"),
	        3);
}

/* Schema v2 (issue 4): a v1 file (practices without relay_only) migrates
 * to the newest version, keeps its rows and gains relay_only = 0. The v1
 * practices table is rebuilt exactly as migration 1 created it. */
static void test_migrate_v1_to_v2(void **state)
{
	fixture *f = *state;
	int64_t pid = 0, sid = 0;
	assert_true(consult_store_latest_version() >= 2);
	assert_int_equal(consult_store_add_practice(f->s, "am-markt", "Praxis am Markt", "0721", 5, &pid), CONSULT_OK);
	assert_int_equal(
	        consult_store_add_staff(f->s, pid, "dr.weber", "Dr. Weber", CONSULT_ROLE_DOCTOR, "$h", 5, &sid),
	        CONSULT_OK);
	consult_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path,
	        "PRAGMA foreign_keys = OFF;"
	        "BEGIN;"
	        "DROP TABLE IF EXISTS outbox;" /* schema v3 tables: not in a v1 file */
	        "DROP TABLE IF EXISTS appointment_contacts;"
	        "DROP TABLE IF EXISTS staff_devices;" /* schema v5 */
	        "DROP TABLE IF EXISTS lifecycle;"     /* schema v6 */
	        "DROP TABLE IF EXISTS staff_sessions;"
	        "ALTER TABLE visits DROP COLUMN head;"
	        "ALTER TABLE visits DROP COLUMN away_since;"
	        "DROP TABLE login_limits;"                          /* schema v11 */
	        "DROP TABLE leases;"                                /* schema v8 */
	        "ALTER TABLE appointments DROP COLUMN booked_name;" /* schema v7 */
	        "ALTER TABLE appointments DROP COLUMN note;"
	        "CREATE TABLE p1 (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
	        "  phone TEXT, created_at INTEGER NOT NULL);"
	        "INSERT INTO p1 SELECT id, slug, name, phone, created_at FROM practices;"
	        "DROP TABLE practices;"
	        "ALTER TABLE p1 RENAME TO practices;"
	        "COMMIT;"
	        "PRAGMA user_version = 1;");
	assert_int_equal(
	        raw_int(f->path, "SELECT count(*) FROM pragma_table_info('practices') WHERE name = 'relay_only'"), 0);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
	char err[256] = "";
	f->s = consult_store_open(f->path, err, sizeof err);
	if (!f->s)
		print_error("open: %s\n", err);
	assert_non_null(f->s);
	assert_int_equal(consult_store_schema_version(f->s), consult_store_latest_version());
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), consult_store_latest_version());
	assert_int_equal(
	        raw_int(f->path, "SELECT count(*) FROM pragma_table_info('practices') WHERE name = 'relay_only'"), 1);
	/* data kept, the new column defaults to off */
	consult_practice p;
	assert_int_equal(consult_store_practice_by_slug(f->s, "am-markt", &p), CONSULT_OK);
	assert_int_equal(p.id, pid);
	assert_string_equal(p.name, "Praxis am Markt");
	assert_string_equal(p.phone, "0721");
	assert_false(p.relay_only);
	consult_practice_clear(&p);
	consult_staff st;
	assert_int_equal(consult_store_staff_by_username(f->s, "dr.weber", &st), CONSULT_OK);
	assert_int_equal(st.id, sid);
	assert_int_equal(st.practice_id, pid);
	consult_staff_clear(&st);
	bool relay = true;
	assert_int_equal(consult_store_practice_relay_only(f->s, pid, &relay), CONSULT_OK);
	assert_false(relay);
	/* foreign keys still hold after the rebuild */
	assert_int_equal(consult_store_add_staff(f->s, pid + 99, "x.y", "X", CONSULT_ROLE_DOCTOR, "$h", 5, &sid),
	        CONSULT_ERR_NOT_FOUND);
}

/* Schema v7: a v6 file (appointments without the booked name and note,
 * practices without the audio-only policy) migrates, keeps its rows, and
 * the new columns are empty / "allowed"; the policy takes only 0 and 1. */
static void test_migrate_v6_to_v7(void **state)
{
	fixture *f = *state;
	int64_t pid = 0, appt = 0, v = 0;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	memset(h, 7, sizeof h);
	assert_int_equal(consult_store_add_practice(f->s, "am-markt", "Praxis am Markt", "0721", 5, &pid), CONSULT_OK);
	assert_int_equal(consult_store_add_appointment(f->s, pid, 0, 1000, 900, 1200, h, 0, 50, &appt), CONSULT_OK);
	assert_int_equal(consult_store_visit_begin(f->s, appt, "Erika", "Muster", 950, &v), CONSULT_OK);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "am-markt", true), CONSULT_OK);
	consult_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path,
	        "BEGIN;"
	        "DROP TABLE login_limits;"                         /* schema v11 */
	        "ALTER TABLE outbox DROP COLUMN claimed_by;"       /* schema v10 */
	        "ALTER TABLE outbox DROP COLUMN claimed_until;"    /* schema v10 */
	        "ALTER TABLE practices DROP COLUMN patient_share;" /* schema v9 */
	        "DROP TABLE leases;"                               /* schema v8 */
	        "ALTER TABLE appointments DROP COLUMN booked_name;"
	        "ALTER TABLE appointments DROP COLUMN note;"
	        "ALTER TABLE practices DROP COLUMN audio_only_never;"
	        "COMMIT;"
	        "PRAGMA user_version = 6;");
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM pragma_table_info('appointments')"
	                         " WHERE name IN ('booked_name','note')"),
	        0);
	char err[256] = "";
	f->s = consult_store_open(f->path, err, sizeof err);
	if (!f->s)
		print_error("open: %s\n", err);
	assert_non_null(f->s);
	assert_int_equal(consult_store_latest_version(), 11);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 11);
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM pragma_table_info('appointments')"
	                         " WHERE name IN ('booked_name','note')"),
	        2);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(f->s, appt, &a), CONSULT_OK);
	assert_int_equal(a.starts_at, 1000);
	assert_string_equal(a.patient_first, "Erika");
	assert_null(a.booked_name);
	assert_null(a.note);
	consult_appointment_clear(&a);
	bool never = true, fwd = false;
	assert_int_equal(consult_store_practice_audio_only_never(f->s, pid, &never), CONSULT_OK);
	assert_false(never);
	assert_int_equal(consult_store_practice_forward_never(f->s, pid, &fwd), CONSULT_OK);
	assert_true(fwd);
	bool share = true;
	assert_int_equal(consult_store_practice_patient_share(f->s, pid, &share), CONSULT_OK);
	assert_false(share);
	assert_int_equal(consult_store_set_appointment_booking(f->s, appt, "Erika Muster", "Notiz"), CONSULT_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointments WHERE booked_name = 'Erika Muster'"), 1);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_not_equal(
	        sqlite3_exec(db, "UPDATE practices SET audio_only_never = 2", NULL, NULL, NULL), SQLITE_OK);
	/* v9: a patient's screen sharing, never unless set; only 0 and 1 */
	assert_int_not_equal(sqlite3_exec(db, "UPDATE practices SET patient_share = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_too_new_refused(void **state)
{
	fixture *f = *state;
	consult_store_close(f->s);
	f->s = NULL;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", consult_store_latest_version() + 1);
	raw_exec(f->path, sql);
	char err[256] = "";
	consult_store *s = consult_store_open(f->path, err, sizeof err);
	assert_null(s);
	assert_non_null(strstr(err, "newer"));
	/* the file was not touched */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), consult_store_latest_version() + 1);
	/* a version we know opens again */
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", consult_store_latest_version());
	raw_exec(f->path, sql);
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
}

static void test_settings(void **state)
{
	fixture *f = *state;
	consult_store_settings st;
	assert_int_equal(consult_store_get_settings(f->s, &st), CONSULT_OK);
	assert_true(st.wal);
	assert_true(st.secure_delete);
	assert_true(st.foreign_keys);
	assert_int_equal(st.synchronous, 1);
	assert_int_equal(st.busy_timeout_ms, 5000);
	assert_int_equal(st.journal_size_limit, CONSULT_STORE_LOG_LIMIT);
	assert_int_equal(st.wal_autocheckpoint, 0); /* upkeep checkpoints, not the commits */
	/* WAL is a property of the file: a second connection sees it too */
	char *mode = raw_text(f->path, "PRAGMA journal_mode");
	assert_non_null(mode);
	assert_string_equal(mode, "wal");
	free(mode);
}

/* --- columns and CHECKs --- */

/* The schema's CHECKs back the API up: what the API refuses, SQL refuses too. */
static void test_raw_checks(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 1);
	int64_t id = 0;
	/* the window must contain starts_at */
	assert_int_equal(
	        consult_store_add_appointment(s, f->practice, 0, 1000, 1001, 1100, h, 0, 1, &id), CONSULT_ERR_INTERNAL);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointments"), 0);
	/* any doctor and no creator are NULL in SQL */
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1100, h, 0, 1, &id), CONSULT_OK);
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM appointments WHERE doctor_id IS NULL"
	                         " AND created_by IS NULL"),
	        1);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE practices SET relay_only = 2", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE staff SET role = 'admin'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* a state name the store does not know is a failure to read, not a guess */
	assert_int_equal(consult_store_visit_begin(s, id, "A", "B", 1, NULL), CONSULT_OK);
	raw_exec(f->path, "PRAGMA ignore_check_constraints = ON; UPDATE visits SET state = 'dancing'");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM visits WHERE state = 'dancing'"), 1);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_ERR_INTERNAL);
	assert_null(a.patient_first);
	/* an empty end reason is NONE (as a visit ended without a reason keeps it) */
	raw_exec(f->path, "UPDATE visits SET state = 'ended', end_reason = ''");
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
	assert_int_equal(a.status, CONSULT_APPT_ENDED);
	assert_int_equal(a.end_reason, CONSULT_END_NONE);
	consult_appointment_clear(&a);
}

/* What the visit calls write into their columns. */
static void test_visit_columns(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 11);
	int64_t id = 0, v = 0;
	char sql[200];
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &id), CONSULT_OK);
	assert_int_equal(consult_store_visit_begin(s, id, "Erika", "Muster", 950, &v), CONSULT_OK);
	assert_int_equal(consult_store_visit_called(s, v, f->doctor, 980), CONSULT_OK);
	assert_int_equal(consult_store_visit_called(s, v, f->doctor2, 990), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT called_at * 100000 + called_by FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 980 * 100000LL + f->doctor2);
	assert_int_equal(consult_store_visit_connected(s, v, 995), CONSULT_OK);
	assert_int_equal(consult_store_visit_connected(s, v, 999), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT connected_at FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 995);
	assert_int_equal(
	        consult_store_visit_report(s, v, CONSULT_PARTY_PATIENT, "connected", "srflx", "relay"), CONSULT_OK);
	assert_int_equal(consult_store_visit_report(s, v, CONSULT_PARTY_DOCTOR, "checking", NULL, NULL), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT media_path FROM visits WHERE id = %lld", (long long)v);
	char *t = raw_text(f->path, sql);
	assert_null(t);
	assert_int_equal(
	        consult_store_visit_report(s, v, CONSULT_PARTY_DOCTOR, "connected", "relay", "srflx"), CONSULT_OK);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "relay/srflx");
	free(t);
	snprintf(sql, sizeof sql,
	        "SELECT patient_conn_state || ',' || patient_local_type || ',' ||"
	        " patient_remote_type || ',' || doctor_conn_state FROM visits WHERE id = %lld",
	        (long long)v);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "connected,srflx,relay,connected");
	free(t);
	/* a report without types keeps the earlier ones */
	assert_int_equal(
	        consult_store_visit_report(s, v, CONSULT_PARTY_PATIENT, "disconnected", NULL, NULL), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT patient_conn_state || ',' || patient_local_type FROM visits WHERE id = %lld",
	        (long long)v);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "disconnected,srflx");
	free(t);
	/* states and reasons are kept by their core names */
	assert_int_equal(consult_store_visit_end(s, v, CONSULT_END_DOCTOR_HANGUP, 1100), CONSULT_OK);
	assert_int_equal(consult_store_visit_end(s, v, CONSULT_END_LEFT, 1110), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT state || ',' || end_reason || ',' || ended_at FROM visits WHERE id = %lld",
	        (long long)v);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "ended,doctor_hangup,1100");
	free(t);
	/* the place of a live visit: head flag and away_since (NULL while attached) */
	assert_int_equal(consult_store_visit_begin(s, id, "Max", "M", 1200, &v), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(s, v, CONSULT_VISIT_AWAY, true, 1210), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT state || ',' || head || ',' || away_since FROM visits WHERE id = %lld",
	        (long long)v);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "away,1,1210");
	free(t);
	assert_int_equal(consult_store_visit_state(s, v, CONSULT_VISIT_WAITING, true, 0), CONSULT_OK);
	snprintf(sql, sizeof sql,
	        "SELECT state || ',' || head || ',' || (away_since IS NULL) FROM visits WHERE id = %lld", (long long)v);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "waiting,1,1");
	free(t);
}

/* --- commits, upkeep, probe --- */

static void test_one_write_steps(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 21);
	int64_t id = 0, v = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &id), CONSULT_OK);
	unsigned c0, c1;
	consult_store_wal_status(s, NULL, &c0);
	assert_int_equal(consult_store_visit_begin(s, id, "Erika", "Muster", 950, &v), CONSULT_OK);
	consult_store_wal_status(s, NULL, &c1);
	assert_int_equal(c1, c0 + 1); /* a join is one commit */
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT state = 'waiting' FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 1);
	/* ring: state and the call time in one commit; the first call time stays */
	assert_int_equal(consult_store_visit_ring(s, v, f->doctor, 980), CONSULT_OK);
	consult_store_wal_status(s, NULL, &c0);
	assert_int_equal(c0, c1 + 1);
	assert_int_equal(consult_store_visit_state(s, v, CONSULT_VISIT_WAITING, false, 0), CONSULT_OK);
	assert_int_equal(consult_store_visit_ring(s, v, f->doctor2, 990), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT called_at * 100000 + called_by FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 980 * 100000LL + f->doctor2);
	assert_int_equal(consult_store_visit_ring(s, 9999, f->doctor, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_ring(s, v, 0, 995), CONSULT_OK); /* 0: no caller recorded */
	snprintf(sql, sizeof sql, "SELECT called_by IS NULL FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 1);
}

/* Upkeep checkpoints through its own connection, never on the writer's:
 * commits grow the WAL far past SQLite's automatic 1000 pages, then one
 * maintain call copies everything and empties the -wal file; a reader on
 * an old snapshot keeps it from truncating until it is done. */
static void test_upkeep_checkpoints(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	int frames = -1;
	unsigned c0 = 0, commits = 0;
	consult_store_wal_status(s, &frames, &c0);
	assert_int_equal(c0, 6); /* the fixture's practices and staff */
	assert_true(frames > 0);
	consult_store_upkeep r;
	assert_int_equal(consult_store_maintain(s, 90, &r), CONSULT_OK);
	assert_true(r.ran && r.complete); /* commits since open, never run: due */
	assert_int_equal(consult_store_maintain(s, 95, &r), CONSULT_OK);
	assert_false(r.ran); /* nothing committed since */
	frames = 0;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 31);
	int64_t appt = 0, v = 0;
	assert_int_equal(
	        consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &appt), CONSULT_OK);
	int n = 0;
	for (; n < 5000 && frames <= 1500; n++) {
		assert_int_equal(consult_store_visit_begin(s, appt, "Erika", "Muster", 950 + n, &v), CONSULT_OK);
		consult_store_wal_status(s, &frames, &commits);
	}
	assert_true(frames > 1500); /* nothing checkpointed by itself */
	assert_int_equal(commits, c0 + (unsigned)n + 1);
	char wal[128];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	off_t db_before = file_size(f->path), wal_size = file_size(wal);
	assert_true(wal_size >= (off_t)frames * 4096);
	consult_store_health hl;
	assert_int_equal(consult_store_probe(s, &hl), CONSULT_OK);
	assert_true(hl.log_bytes > CONSULT_STORE_LOG_LIMIT);
	frames++; /* the probe's own commit */

	/* due at once: more than 1000 frames, even before the period is over */
	assert_int_equal(consult_store_maintain(s, 101, &r), CONSULT_OK);
	assert_true(r.ran);
	assert_int_equal(r.due, frames);
	assert_int_equal(r.done, frames); /* everything copied */
	assert_true(r.complete);
	assert_true(file_size(f->path) > db_before); /* into the database file */
	assert_int_equal(file_size(wal), 0);         /* and the -wal file emptied */
	assert_int_equal(consult_store_probe(s, &hl), CONSULT_OK);
	assert_true(hl.log_bytes <= CONSULT_STORE_LOG_LIMIT);
	/* a few commits: not due before UPKEEP_PERIOD (10 s) has passed */
	assert_int_equal(consult_store_visit_begin(s, appt, "Max", "Muster", 9000, &v), CONSULT_OK);
	consult_store_wal_status(s, &frames, &commits);
	assert_true(frames > 0 && frames < 50);
	assert_int_equal(consult_store_maintain(s, 106, &r), CONSULT_OK);
	assert_false(r.ran);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM visits"), n + 1);

	/* A reader holding an old snapshot: PASSIVE neither waits nor fails,
	 * it copies only what the reader does not need. */
	sqlite3 *rd = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &rd, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM visits;", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 20; i++)
		assert_int_equal(consult_store_visit_begin(s, appt, "Max", "Muster", 9001 + i, &v), CONSULT_OK);
	consult_store_wal_status(s, &frames, NULL);
	assert_int_equal(consult_store_maintain(s, 111, &r), CONSULT_OK);
	assert_true(r.ran);
	assert_int_equal(r.due, frames);
	assert_true(r.done < r.due);
	assert_false(r.complete); /* the reader still needs the WAL */
	assert_true(file_size(wal) > 0);
	assert_int_equal(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(rd);
	/* incomplete: tried again after the period even without new commits */
	assert_int_equal(consult_store_maintain(s, 115, &r), CONSULT_OK);
	assert_false(r.ran);
	assert_int_equal(consult_store_maintain(s, 121, &r), CONSULT_OK);
	assert_true(r.ran);
	assert_int_equal(r.done, r.due);
	assert_true(r.complete);
	assert_int_equal(file_size(wal), 0);
	assert_string_equal(r.error, "");
	/* complete and nothing new: never due again */
	assert_int_equal(consult_store_maintain(s, 1000, &r), CONSULT_OK);
	assert_false(r.ran);
}

/* The health probe is a real commit that changes nothing; plain answers
 * (a taken slug) are not counted as store errors. */
static void test_probe(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	int version = consult_store_schema_version(s);
	unsigned c0 = 0, c1 = 0;
	int frames = 0;
	consult_store_wal_status(s, NULL, &c0);
	consult_store_health h;
	assert_int_equal(consult_store_probe(s, &h), CONSULT_OK);
	assert_true(h.writable);
	assert_string_equal(h.error, "");
	consult_store_wal_status(s, &frames, &c1);
	assert_int_equal(c1, c0 + 1); /* one commit ... */
	assert_true(frames > 0);      /* ... through the WAL */
	assert_int_equal(h.log_bytes, file_size_wal(f->path));
	assert_int_equal(h.log_limit_bytes, CONSULT_STORE_LOG_LIMIT);
	assert_true(h.disk_free_mb > 0);
	assert_int_equal(consult_store_schema_version(s), version); /* nothing changed */
	assert_int_equal(consult_store_error_count(s), 0);
	assert_string_equal(consult_store_last_error_name(s), "");
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(s, "probe", "P", NULL, 1, &id), CONSULT_OK);
	assert_int_equal(consult_store_add_practice(s, "probe", "P", NULL, 1, &id), CONSULT_ERR_CONFLICT);
	assert_int_equal(consult_store_error_count(s), 0);
	assert_string_equal(consult_store_rc_name(SQLITE_FULL), "SQLITE_FULL");
	assert_string_equal(consult_store_rc_name(SQLITE_IOERR_WRITE), "SQLITE_IOERR");
	assert_string_equal(consult_store_rc_name(SQLITE_BUSY_SNAPSHOT), "SQLITE_BUSY");
}

/* An in-memory store has no second connection: SQLite keeps checkpointing
 * inside commits, and the first maintain call says so once. A URL names
 * another backend: PostgreSQL's is tried, others are refused. */
static void test_upkeep_refused(void **state)
{
	(void)state;
	char err[256];
	consult_store *m = consult_store_open(":memory:", err, sizeof err);
	assert_non_null(m);
	consult_store_upkeep r;
	assert_int_equal(consult_store_maintain(m, 1, &r), CONSULT_OK); /* nothing to say for memory */
	assert_false(r.ran);
	consult_store_settings st;
	assert_int_equal(consult_store_get_settings(m, &st), CONSULT_OK);
	assert_true(st.wal_autocheckpoint > 0);
	consult_store_health h;
	assert_int_equal(consult_store_probe(m, &h), CONSULT_OK);
	assert_int_equal(h.disk_free_mb, -1);
	assert_int_equal(h.log_bytes, 0);
	consult_store_close(m);
	/* another URL scheme is refused; a PostgreSQL URL goes to libpq (port
	 * 1 on loopback: nobody listens), and the message never holds the
	 * URL's password */
	assert_null(consult_store_open("mysql://localhost/consult", err, sizeof err));
	assert_non_null(strstr(err, "postgresql://"));
	assert_null(consult_store_open("postgresql://consult:s3cret-pw@127.0.0.1:1/consult", err, sizeof err));
	assert_non_null(strstr(err, "PostgreSQL"));
	assert_null(strstr(err, "s3cret-pw"));
}

/* The device hash column holds exactly 32 bytes; devices go with their staff row. */
static void test_device_rows(void **state)
{
	fixture *f = *state;
	uint8_t h[CONSULT_DEVICE_HASH_LEN];
	for (int i = 0; i < CONSULT_DEVICE_HASH_LEN; i++)
		h[i] = (uint8_t)i;
	consult_device d;
	assert_int_equal(consult_store_device_issue(f->s, f->doctor2, 0, h, 10, 3, NULL), CONSULT_OK);
	assert_int_equal(raw_int(f->path, "SELECT length(token_hash) FROM staff_devices"), 32);
	raw_exec(f->path, "PRAGMA foreign_keys = ON; DELETE FROM staff WHERE username = 'dr.adler'");
	assert_int_equal(consult_store_device_find(f->s, h, &d), CONSULT_ERR_NOT_FOUND);
}

int main(void)
{
	unsetenv("CONSULT_TEST_STORE"); /* these tests are about SQLite's files */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_from_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_new_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_to_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v6_to_v7, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_checks, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_visit_columns, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_one_write_steps, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_upkeep_checkpoints, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test(test_upkeep_refused),
		cmocka_unit_test_setup_teardown(test_device_rows, setup_people, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
