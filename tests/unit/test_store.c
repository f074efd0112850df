/* test_store.c - the SQLite store on a real file in a fresh temp directory.
 *
 * Contract: each test gets its own mkdtemp() folder with a new database,
 * opened through store.h; a second raw sqlite3 connection inspects or
 * tampers with the file where the API cannot (schema, user_version).
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

typedef struct fixture {
	char dir[64];
	char path[96];
	consult_store *s;
	int64_t practice, other_practice, doctor, doctor2, reception, other_doctor;
} fixture;

static void hash_of(uint8_t out[CONSULT_CODE_HASH_LEN], int seed)
{
	for (int i = 0; i < CONSULT_CODE_HASH_LEN; i++)
		out[i] = (uint8_t)(seed * 31 + i);
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -999;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *raw_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *v = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/consult-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/consult.db", f->dir);
	char err[256];
	f->s = consult_store_open(f->path, err, sizeof err);
	if (!f->s) {
		fprintf(stderr, "open failed: %s\n", err);
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* setup plus two practices and their staff */
static int setup_people(void **state)
{
	if (setup(state) != 0)
		return -1;
	fixture *f = *state;
	consult_store *s = f->s;
	if (consult_store_add_practice(s, "am-markt", "Praxis am Markt", "0721-1", 100, &f->practice)
			|| consult_store_add_practice(s, "anderswo", "Praxis Anderswo", NULL, 100, &f->other_practice)
			|| consult_store_add_staff(s, f->practice, "dr.weber", "Dr. Weber", "doctor", "$h1", 100, &f->doctor)
			|| consult_store_add_staff(s, f->practice, "dr.adler", "Dr. Adler", "doctor", "$h2", 100, &f->doctor2)
			|| consult_store_add_staff(s, f->practice, "empfang", "Empfang", "reception", "$h3", 100, &f->reception)
			|| consult_store_add_staff(s, f->other_practice, "dr.other", "Dr. Other", "doctor", "$h4", 100,
				&f->other_doctor))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char p[128];
	consult_store_close(f->s);
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* --- schema and open --- */

static void test_migrate_from_empty(void **state)
{
	fixture *f = *state;
	assert_true(consult_store_latest_version() >= 1);
	assert_int_equal(consult_store_schema_version(f->s), consult_store_latest_version());
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), consult_store_latest_version());
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		" AND name IN ('practices','staff','appointments','visits')"), 4);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
		" AND name IN ('appointments_practice_starts','visits_appointment','visits_called_at')"), 3);
	assert_true(consult_store_healthy(f->s));
}

static void test_reopen_keeps_data(void **state)
{
	fixture *f = *state;
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(f->s, "am-markt", "Praxis am Markt", "0721", 5, &id), CONSULT_OK);
	assert_true(id > 0);
	consult_store_close(f->s);
	char err[256];
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	assert_int_equal(consult_store_schema_version(f->s), consult_store_latest_version());
	consult_practice p;
	assert_int_equal(consult_store_practice_by_slug(f->s, "am-markt", &p), CONSULT_OK);
	assert_int_equal(p.id, id);
	assert_string_equal(p.name, "Praxis am Markt");
	assert_string_equal(p.phone, "0721");
	consult_practice_clear(&p);
	assert_null(p.name);
	assert_int_equal(consult_store_practice_by_id(f->s, id, &p), CONSULT_OK);
	assert_string_equal(p.slug, "am-markt");
	consult_practice_clear(&p);
	assert_int_equal(consult_store_practice_by_slug(f->s, "nope", &p), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_practice_by_id(f->s, id + 100, &p), CONSULT_ERR_NOT_FOUND);
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
	assert_int_equal(consult_store_add_staff(f->s, pid, "dr.weber", "Dr. Weber", "doctor", "$h", 5, &sid), CONSULT_OK);
	consult_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path,
		"PRAGMA foreign_keys = OFF;"
		"BEGIN;"
		"DROP TABLE IF EXISTS outbox;"                 /* schema v3 tables: not in a v1 file */
		"DROP TABLE IF EXISTS appointment_contacts;"
		"DROP TABLE IF EXISTS staff_devices;"          /* schema v5 */
		"CREATE TABLE p1 (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
		"  phone TEXT, created_at INTEGER NOT NULL);"
		"INSERT INTO p1 SELECT id, slug, name, phone, created_at FROM practices;"
		"DROP TABLE practices;"
		"ALTER TABLE p1 RENAME TO practices;"
		"COMMIT;"
		"PRAGMA user_version = 1;");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('practices') WHERE name = 'relay_only'"), 0);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
	char err[256] = "";
	f->s = consult_store_open(f->path, err, sizeof err);
	if (!f->s)
		print_error("open: %s\n", err);
	assert_non_null(f->s);
	assert_int_equal(consult_store_schema_version(f->s), consult_store_latest_version());
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), consult_store_latest_version());
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('practices') WHERE name = 'relay_only'"), 1);
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
	assert_int_equal(consult_store_add_staff(f->s, pid + 99, "x.y", "X", "doctor", "$h", 5, &sid), CONSULT_ERR_NOT_FOUND);
}

/* Schema v4 (issue 5): the forwarding policy per practice, default allowed. */
static void test_forward_never(void **state)
{
	fixture *f = *state;
	bool never = true;
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &never), CONSULT_OK);
	assert_false(never);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &never), CONSULT_OK);
	assert_true(never);
	bool relay = true;   /* the other option is untouched */
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_false(relay);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "am-markt", false), CONSULT_OK);
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &never), CONSULT_OK);
	assert_false(never);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "no-such", true), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice + 99, &never), CONSULT_ERR_NOT_FOUND);
}

static void test_relay_only(void **state)
{
	fixture *f = *state;
	bool relay = true;
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_false(relay);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_true(relay);
	/* the other practice is untouched */
	assert_int_equal(consult_store_practice_relay_only(f->s, f->other_practice, &relay), CONSULT_OK);
	assert_false(relay);
	consult_practice p;
	assert_int_equal(consult_store_practice_by_id(f->s, f->practice, &p), CONSULT_OK);
	assert_true(p.relay_only);
	consult_practice_clear(&p);
	assert_int_equal(consult_store_practice_by_slug(f->s, "anderswo", &p), CONSULT_OK);
	assert_false(p.relay_only);
	consult_practice_clear(&p);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", false), CONSULT_OK);
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_false(relay);
	/* unknown practice */
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "nope", true), CONSULT_ERR_NOT_FOUND);
	relay = true;
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice + 999, &relay), CONSULT_ERR_NOT_FOUND);
	assert_false(relay);
	/* the column only takes 0/1 */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE practices SET relay_only = 2", NULL, NULL, NULL), SQLITE_OK);
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

static void test_open_bad_path(void **state)
{
	(void)state;
	char err[256] = "";
	assert_null(consult_store_open("/nonexistent-dir-consult/x.db", err, sizeof err));
	assert_true(strlen(err) > 0);
	assert_null(consult_store_open("/nonexistent-dir-consult/x.db", NULL, 0));
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
	/* WAL is a property of the file: a second connection sees it too */
	char *mode = raw_text(f->path, "PRAGMA journal_mode");
	assert_non_null(mode);
	assert_string_equal(mode, "wal");
	free(mode);
}

/* --- constraints --- */

static void test_constraints(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(s, "am-markt", "X", NULL, 1, &id), CONSULT_ERR_CONFLICT);
	assert_non_null(strstr(consult_store_last_error(s), "UNIQUE"));
	assert_int_equal(consult_store_add_staff(s, f->other_practice, "dr.weber", "X", "doctor", "$h", 1, &id),
		CONSULT_ERR_CONFLICT);
	/* bad role: refused, nothing stored */
	assert_int_equal(consult_store_add_staff(s, f->practice, "boss", "Boss", "admin", "$h", 1, &id),
		CONSULT_ERR_INTERNAL);
	consult_staff st;
	assert_int_equal(consult_store_staff_by_username(s, "boss", &st), CONSULT_ERR_NOT_FOUND);
	/* missing parent */
	assert_int_equal(consult_store_add_staff(s, 9999, "ghost", "Ghost", "doctor", "$h", 1, &id),
		CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_staff_by_username(s, "ghost", &st), CONSULT_ERR_NOT_FOUND);
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 1);
	assert_int_equal(consult_store_add_appointment(s, 9999, 0, 1000, 900, 1100, h, 0, 1, &id),
		CONSULT_ERR_NOT_FOUND);
	/* doctor of another practice, reception as doctor, unknown doctor */
	assert_int_equal(consult_store_add_appointment(s, f->practice, f->other_doctor, 1000, 900, 1100, h, 0, 1, &id),
		CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_add_appointment(s, f->practice, f->reception, 1000, 900, 1100, h, 0, 1, &id),
		CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_add_appointment(s, f->practice, 9999, 1000, 900, 1100, h, 0, 1, &id),
		CONSULT_ERR_NOT_FOUND);
	/* unknown creator: foreign key */
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1100, h, 9999, 1, &id),
		CONSULT_ERR_NOT_FOUND);
	/* window must contain starts_at */
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 1001, 1100, h, 0, 1, &id),
		CONSULT_ERR_INTERNAL);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointments"), 0);
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1100, h, f->reception, 1, &id),
		CONSULT_OK);
	int64_t id2 = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 2000, 1900, 2100, h, 0, 1, &id2),
		CONSULT_ERR_CONFLICT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointments"), 1);
	/* visits need an appointment; updates need a visit */
	assert_int_equal(consult_store_visit_begin(s, 9999, "A", "B", 1, &id2), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_state(s, 9999, "waiting"), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_called(s, 9999, f->doctor, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_connected(s, 9999, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_report(s, 9999, "doctor", "connected", "host", "host"),
		CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_end(s, 9999, "left", 1), CONSULT_ERR_NOT_FOUND);
	char *a, *b;
	assert_int_equal(consult_store_visit_names(s, 9999, &a, &b), CONSULT_ERR_NOT_FOUND);
	assert_null(a);
	/* a state outside the state machine is refused */
	assert_int_equal(consult_store_visit_begin(s, id, "A", "B", 1, &id2), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(s, id2, "dancing"), CONSULT_ERR_INTERNAL);
	assert_int_equal(consult_store_visit_report(s, id2, "nobody", "x", "y", "z"), CONSULT_ERR_INTERNAL);
}

/* --- staff --- */

typedef struct names { int n; char v[8][32]; } names;

static void collect_staff(const consult_staff *st, void *ud)
{
	names *n = ud;
	if (n->n < 8)
		snprintf(n->v[n->n++], 32, "%s", st->username);
}

static void test_staff(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	consult_staff st;
	assert_int_equal(consult_store_staff_by_username(s, "dr.weber", &st), CONSULT_OK);
	assert_int_equal(st.id, f->doctor);
	assert_int_equal(st.practice_id, f->practice);
	assert_string_equal(st.display_name, "Dr. Weber");
	assert_string_equal(st.role, "doctor");
	assert_string_equal(st.pw_hash, "$h1");
	assert_false(st.disabled);
	consult_staff_clear(&st);
	assert_int_equal(consult_store_set_staff_disabled(s, "dr.weber", true), CONSULT_OK);
	assert_int_equal(consult_store_set_staff_password(s, "dr.weber", "$new"), CONSULT_OK);
	assert_int_equal(consult_store_staff_by_id(s, f->doctor, &st), CONSULT_OK);
	assert_true(st.disabled);
	assert_string_equal(st.pw_hash, "$new");
	consult_staff_clear(&st);
	assert_int_equal(consult_store_set_staff_disabled(s, "nobody", true), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_set_staff_password(s, "nobody", "$x"), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_staff_by_id(s, 9999, &st), CONSULT_ERR_NOT_FOUND);

	names n = { 0 };
	assert_int_equal(consult_store_list_staff(s, f->practice, NULL, collect_staff, &n), CONSULT_OK);
	assert_int_equal(n.n, 3);   /* by display name: Dr. Adler, Dr. Weber, Empfang */
	assert_string_equal(n.v[0], "dr.adler");
	assert_string_equal(n.v[1], "dr.weber");
	assert_string_equal(n.v[2], "empfang");
	memset(&n, 0, sizeof n);
	assert_int_equal(consult_store_list_staff(s, f->practice, "doctor", collect_staff, &n), CONSULT_OK);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "dr.adler");
	assert_string_equal(n.v[1], "dr.weber");
	memset(&n, 0, sizeof n);
	assert_int_equal(consult_store_list_staff(s, f->other_practice, "reception", collect_staff, &n), CONSULT_OK);
	assert_int_equal(n.n, 0);
}

static void collect_practice(const consult_practice *p, void *ud)
{
	names *n = ud;
	if (n->n < 8)
		snprintf(n->v[n->n++], 32, "%s", p->slug);
}

static void test_list_practices(void **state)
{
	fixture *f = *state;
	names n = { 0 };
	assert_int_equal(consult_store_list_practices(f->s, collect_practice, &n), CONSULT_OK);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "am-markt");
	assert_string_equal(n.v[1], "anderswo");
}

/* --- appointments --- */

static void test_appointment_by_code(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN], other[CONSULT_CODE_HASH_LEN];
	hash_of(h, 7);
	hash_of(other, 8);
	int64_t id = 0, id_any = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, f->doctor, 1000, 900, 1200, h,
		f->reception, 50, &id), CONSULT_OK);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_code(s, h, &a), CONSULT_OK);
	assert_int_equal(a.id, id);
	assert_int_equal(a.practice_id, f->practice);
	assert_int_equal(a.doctor_id, f->doctor);
	assert_int_equal(a.starts_at, 1000);
	assert_int_equal(a.valid_from, 900);
	assert_int_equal(a.valid_until, 1200);
	assert_int_equal(a.created_by, f->reception);
	assert_int_equal(a.created_at, 50);
	assert_int_equal(a.cancelled_at, 0);
	assert_string_equal(a.status, "booked");
	assert_null(a.end_reason);
	assert_null(a.patient_first);
	assert_string_equal(a.doctor_name, "Dr. Weber");
	consult_appointment_clear(&a);
	assert_int_equal(consult_store_appointment_by_code(s, other, &a), CONSULT_ERR_NOT_FOUND);
	assert_null(a.status);
	/* any doctor: 0 in the API, NULL in SQL */
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, other, 0, 50, &id_any),
		CONSULT_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointments WHERE doctor_id IS NULL"
		" AND created_by IS NULL"), 1);
	assert_int_equal(consult_store_appointment_by_id(s, id_any, &a), CONSULT_OK);
	assert_int_equal(a.doctor_id, 0);
	assert_int_equal(a.created_by, 0);
	assert_null(a.doctor_name);
	consult_appointment_clear(&a);
	assert_int_equal(consult_store_appointment_by_id(s, 9999, &a), CONSULT_ERR_NOT_FOUND);
}

static void test_cancel(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 9);
	int64_t id = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &id), CONSULT_OK);
	assert_int_equal(consult_store_cancel_appointment(s, f->other_practice, id, 60), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, 9999, 60), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 60), CONSULT_OK);
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 70), CONSULT_ERR_WRONG_STATE);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
	assert_int_equal(a.cancelled_at, 60);
	assert_string_equal(a.status, "cancelled");
	consult_appointment_clear(&a);
}

static void expect_status(fixture *f, int64_t id, const char *status, const char *reason)
{
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(f->s, id, &a), CONSULT_OK);
	assert_string_equal(a.status, status);
	if (reason)
		assert_string_equal(a.end_reason, reason);
	else
		assert_null(a.end_reason);
	consult_appointment_clear(&a);
}

static void test_visit_lifecycle(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 11);
	int64_t id = 0, v = 0, v2 = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &id), CONSULT_OK);
	expect_status(f, id, "booked", NULL);
	assert_int_equal(consult_store_visit_begin(s, id, "Erika", "Muster", 950, &v), CONSULT_OK);
	expect_status(f, id, "waiting", NULL);
	char *first, *last;
	assert_int_equal(consult_store_visit_names(s, v, &first, &last), CONSULT_OK);
	assert_string_equal(first, "Erika");
	assert_string_equal(last, "Muster");
	free(first);
	free(last);
	assert_int_equal(consult_store_visit_state(s, v, "away"), CONSULT_OK);
	expect_status(f, id, "away", NULL);
	assert_int_equal(consult_store_visit_state(s, v, "waiting"), CONSULT_OK);
	assert_int_equal(consult_store_visit_called(s, v, f->doctor, 980), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(s, v, "ringing"), CONSULT_OK);
	expect_status(f, id, "ringing", NULL);
	/* declined, called again by another doctor: first call time stays */
	assert_int_equal(consult_store_visit_called(s, v, f->doctor2, 990), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(s, v, "in_call"), CONSULT_OK);
	expect_status(f, id, "in_call", NULL);
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT called_at * 100000 + called_by FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 980 * 100000LL + f->doctor2);
	assert_int_equal(consult_store_visit_connected(s, v, 995), CONSULT_OK);
	assert_int_equal(consult_store_visit_connected(s, v, 999), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT connected_at FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 995);
	/* reports: the doctor's pair of candidate types is the media path */
	assert_int_equal(consult_store_visit_report(s, v, "patient", "connected", "srflx", "relay"), CONSULT_OK);
	assert_int_equal(consult_store_visit_report(s, v, "doctor", "checking", NULL, NULL), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT media_path FROM visits WHERE id = %lld", (long long)v);
	char *t = raw_text(f->path, sql);
	assert_null(t);
	assert_int_equal(consult_store_visit_report(s, v, "doctor", "connected", "relay", "srflx"), CONSULT_OK);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "relay/srflx");
	free(t);
	snprintf(sql, sizeof sql, "SELECT patient_conn_state || ',' || patient_local_type || ',' ||"
		" patient_remote_type || ',' || doctor_conn_state FROM visits WHERE id = %lld", (long long)v);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "connected,srflx,relay,connected");
	free(t);
	/* a report without types keeps the earlier ones */
	assert_int_equal(consult_store_visit_report(s, v, "patient", "disconnected", NULL, NULL), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT patient_conn_state || ',' || patient_local_type FROM visits WHERE id = %lld",
		(long long)v);
	t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "disconnected,srflx");
	free(t);
	assert_int_equal(consult_store_visit_end(s, v, "hangup_doctor", 1100), CONSULT_OK);
	expect_status(f, id, "ended", "hangup_doctor");
	/* ending again keeps the first reason */
	assert_int_equal(consult_store_visit_end(s, v, "left", 1110), CONSULT_OK);
	expect_status(f, id, "ended", "hangup_doctor");
	snprintf(sql, sizeof sql, "SELECT ended_at FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 1100);
	/* a new join: the newest visit decides status and name */
	assert_int_equal(consult_store_visit_begin(s, id, "Max", "Mustermann", 1120, &v2), CONSULT_OK);
	assert_true(v2 > v);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
	assert_string_equal(a.status, "waiting");
	assert_null(a.end_reason);
	assert_string_equal(a.patient_first, "Max");
	assert_string_equal(a.patient_last, "Mustermann");
	consult_appointment_clear(&a);
	/* cancelled wins over the visit's state */
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 1130), CONSULT_OK);
	expect_status(f, id, "cancelled", NULL);
}

typedef struct appt_list {
	int n;
	int64_t starts[8];
	consult_store *s;
	int nested;       /* rows seen by a nested list inside the callback */
} appt_list;

static void collect_appt(const consult_appointment *a, void *ud)
{
	appt_list *l = ud;
	if (l->n < 8)
		l->starts[l->n++] = a->starts_at;
}

static void count_appt(const consult_appointment *a, void *ud)
{
	(void)a;
	(*(int *)ud)++;
}

/* re-enters the store from the callback: the same query and a lookup */
static void reenter_appt(const consult_appointment *a, void *ud)
{
	appt_list *l = ud;
	collect_appt(a, ud);
	int n = 0;
	assert_int_equal(consult_store_list_appointments(l->s, a->practice_id, 0, 100000, count_appt, &n), CONSULT_OK);
	l->nested += n;
	consult_appointment b;
	assert_int_equal(consult_store_appointment_by_id(l->s, a->id, &b), CONSULT_OK);
	assert_int_equal(b.starts_at, a->starts_at);
	consult_appointment_clear(&b);
}

static void test_list_appointments(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	const int64_t starts[] = { 300, 100, 200, 400, 200 };
	for (int i = 0; i < 5; i++) {
		uint8_t h[CONSULT_CODE_HASH_LEN];
		hash_of(h, 20 + i);
		assert_int_equal(consult_store_add_appointment(s, f->practice, 0, starts[i], starts[i] - 50,
			starts[i] + 50, h, 0, 1, NULL), CONSULT_OK);
	}
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 40);
	assert_int_equal(consult_store_add_appointment(s, f->other_practice, 0, 250, 200, 300, h, 0, 1, NULL),
		CONSULT_OK);
	appt_list l = { 0 };
	assert_int_equal(consult_store_list_appointments(s, f->practice, 100, 400, collect_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 4);      /* 400 is outside [100,400); other practice excluded */
	assert_int_equal(l.starts[0], 100);
	assert_int_equal(l.starts[1], 200);
	assert_int_equal(l.starts[2], 200);
	assert_int_equal(l.starts[3], 300);
	memset(&l, 0, sizeof l);
	assert_int_equal(consult_store_list_appointments(s, f->practice, 101, 200, collect_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 0);
	memset(&l, 0, sizeof l);
	l.s = s;
	assert_int_equal(consult_store_list_appointments(s, f->practice, 0, 1000, reenter_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.nested, 25);
	assert_int_equal(l.starts[4], 400);
}

/* --- statistics and restart --- */

static int64_t called_visit(fixture *f, int seed, int64_t practice, int64_t joined, int64_t called)
{
	uint8_t h[CONSULT_CODE_HASH_LEN];
	int64_t a = 0, v = 0;
	hash_of(h, seed);
	assert_int_equal(consult_store_add_appointment(f->s, practice, 0, joined, joined, joined + 3600, h, 0, 1, &a),
		CONSULT_OK);
	assert_int_equal(consult_store_visit_begin(f->s, a, "P", "Q", joined, &v), CONSULT_OK);
	if (called >= 0)
		assert_int_equal(consult_store_visit_called(f->s, v, 0, called), CONSULT_OK);
	return v;
}

static void test_day_stats(void **state)
{
	fixture *f = *state;
	consult_day_stats st;
	assert_int_equal(consult_store_day_stats(f->s, f->practice, 0, 100000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 0);
	assert_int_equal(st.median_wait_s, -1);
	/* waits 10, 30, 20 inside [1000, 2000) */
	called_visit(f, 50, f->practice, 1000, 1010);
	called_visit(f, 51, f->practice, 1100, 1130);
	called_visit(f, 52, f->practice, 1200, 1220);
	/* not counted: outside the day, other practice, never called */
	called_visit(f, 53, f->practice, 1900, 2000);
	called_visit(f, 54, f->other_practice, 1000, 1500);
	called_visit(f, 55, f->practice, 1000, -1);
	assert_int_equal(consult_store_day_stats(f->s, f->practice, 1000, 2000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 3);
	assert_int_equal(st.median_wait_s, 20);
	/* even count: 10, 20, 30, 100 -> (20 + 30) / 2 */
	called_visit(f, 56, f->practice, 1300, 1400);
	assert_int_equal(consult_store_day_stats(f->s, f->practice, 1000, 2000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 4);
	assert_int_equal(st.median_wait_s, 25);
	assert_int_equal(consult_store_day_stats(f->s, f->other_practice, 1000, 2000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 1);
	assert_int_equal(st.median_wait_s, 500);
}

static void test_end_stale(void **state)
{
	fixture *f = *state;
	int64_t v1 = called_visit(f, 60, f->practice, 1000, -1);
	int64_t v2 = called_visit(f, 61, f->practice, 1000, 1010);
	int64_t v3 = called_visit(f, 62, f->other_practice, 1000, 1010);
	assert_int_equal(consult_store_visit_state(f->s, v2, "in_call"), CONSULT_OK);
	assert_int_equal(consult_store_visit_end(f->s, v3, "left", 1050), CONSULT_OK);
	assert_int_equal(consult_store_end_stale_visits(f->s, 5000), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM visits WHERE state = 'ended'"
		" AND end_reason = 'server_restart' AND ended_at = 5000"), 2);
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM visits WHERE id IN (%lld, %lld) AND end_reason = 'server_restart'",
		(long long)v1, (long long)v2);
	assert_int_equal(raw_int(f->path, sql), 2);
	snprintf(sql, sizeof sql, "SELECT end_reason FROM visits WHERE id = %lld", (long long)v3);
	char *t = raw_text(f->path, sql);
	assert_non_null(t);
	assert_string_equal(t, "left");
	free(t);
	assert_int_equal(consult_store_end_stale_visits(f->s, 6000), 0);
}

/* --- one-write join and call, WAL checkpoints on a second connection --- */

static void test_one_write_steps(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 21);
	int64_t id = 0, v = 0;
	assert_int_equal(consult_store_manual_checkpoints(s), CONSULT_OK);
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &id), CONSULT_OK);
	unsigned c0, c1;
	consult_store_wal_status(s, NULL, &c0);
	assert_int_equal(consult_store_visit_begin(s, id, "Erika", "Muster", 950, &v), CONSULT_OK);
	consult_store_wal_status(s, NULL, &c1);
	assert_int_equal(c1, c0 + 1);                   /* a join is one commit */
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT state = 'waiting' FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 1);
	expect_status(f, id, "waiting", NULL);
	/* ring: state and the call time in one commit; the first call time stays */
	assert_int_equal(consult_store_visit_ring(s, v, f->doctor, 980), CONSULT_OK);
	consult_store_wal_status(s, NULL, &c0);
	assert_int_equal(c0, c1 + 1);
	expect_status(f, id, "ringing", NULL);
	assert_int_equal(consult_store_visit_state(s, v, "waiting"), CONSULT_OK);
	assert_int_equal(consult_store_visit_ring(s, v, f->doctor2, 990), CONSULT_OK);
	snprintf(sql, sizeof sql, "SELECT called_at * 100000 + called_by FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 980 * 100000LL + f->doctor2);
	assert_int_equal(consult_store_visit_ring(s, 9999, f->doctor, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_ring(s, v, 0, 995), CONSULT_OK);   /* 0: no caller recorded */
	snprintf(sql, sizeof sql, "SELECT called_by IS NULL FROM visits WHERE id = %lld", (long long)v);
	assert_int_equal(raw_int(f->path, sql), 1);
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_checkpoint(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	int frames = -1;
	unsigned commits = 99;
	consult_store_wal_status(s, &frames, &commits);
	assert_int_equal(frames, 0);
	assert_int_equal(commits, 0);
	assert_int_equal(consult_store_manual_checkpoints(s), CONSULT_OK);
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 31);
	int64_t appt = 0, v = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &appt), CONSULT_OK);
	/* Far past SQLite's default of 1000 pages: nothing checkpoints by itself. */
	int n = 0;
	for (; n < 5000 && frames <= 1500; n++) {
		assert_int_equal(consult_store_visit_begin(s, appt, "Erika", "Muster", 950 + n, &v), CONSULT_OK);
		consult_store_wal_status(s, &frames, &commits);
	}
	assert_true(frames > 1500);
	assert_int_equal(commits, (unsigned)n + 1);
	char wal[128];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	off_t db_before = file_size(f->path), wal_size = file_size(wal);
	assert_true(wal_size >= (off_t)frames * 4096);

	char err[256] = "x";
	consult_store_ckpt *c = consult_store_checkpoint_open(f->path, err, sizeof err);
	if (!c)
		fail_msg("checkpoint_open: %s", err);
	assert_string_equal(err, "");
	int log = -2, done = -2;
	assert_int_equal(consult_store_checkpoint_run(c, &log, &done), CONSULT_OK);
	assert_int_equal(log, frames);
	assert_int_equal(done, frames);                 /* everything copied */
	assert_true(file_size(f->path) > db_before);   /* into the database file */
	assert_true(consult_store_checkpoint_truncated(c));
	assert_int_equal(file_size(wal), 0);            /* and the -wal file emptied */
	/* nothing new: a second run copies nothing more */
	assert_int_equal(consult_store_checkpoint_run(c, &log, &done), CONSULT_OK);
	assert_int_equal(done, log);
	/* the next commit starts the WAL over: it shrinks to a few frames */
	assert_int_equal(consult_store_visit_begin(s, appt, "Max", "Muster", 9000, &v), CONSULT_OK);
	consult_store_wal_status(s, &frames, &commits);
	assert_true(frames > 0 && frames < 50);
	assert_int_equal(commits, (unsigned)n + 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM visits"), n + 1);

	/* A reader holding an old snapshot: PASSIVE neither waits nor fails,
	 * it copies only what the reader does not need. */
	sqlite3 *rd = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &rd, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM visits;", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 20; i++)
		assert_int_equal(consult_store_visit_begin(s, appt, "Max", "Muster", 9001 + i, &v), CONSULT_OK);
	consult_store_wal_status(s, &frames, NULL);
	assert_int_equal(consult_store_checkpoint_run(c, &log, &done), CONSULT_OK);
	assert_int_equal(log, frames);
	assert_true(done < log);
	assert_false(consult_store_checkpoint_truncated(c));   /* the reader still needs the WAL */
	assert_true(file_size(wal) > 0);
	assert_int_equal(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(rd);
	assert_int_equal(consult_store_checkpoint_run(c, &log, &done), CONSULT_OK);
	assert_int_equal(done, log);
	assert_true(consult_store_checkpoint_truncated(c));
	assert_int_equal(file_size(wal), 0);
	assert_string_equal(consult_store_checkpoint_error(c), "");
	consult_store_checkpoint_close(c);
	consult_store_checkpoint_close(NULL);
	assert_true(consult_store_healthy(s));
}

/* The health write probe is a real commit that changes nothing; plain
 * answers (a taken slug) are not counted as store errors. */
static void test_write_probe(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	assert_int_equal(consult_store_manual_checkpoints(s), CONSULT_OK);
	int version = consult_store_schema_version(s);
	unsigned c0 = 0, c1 = 0;
	int frames = 0;
	consult_store_wal_status(s, NULL, &c0);
	const char *name = "x";
	assert_int_equal(consult_store_write_probe(s, &name), CONSULT_OK);
	assert_string_equal(name, "");
	consult_store_wal_status(s, &frames, &c1);
	assert_int_equal(c1, c0 + 1);                   /* one commit ... */
	assert_true(frames > 0);                        /* ... through the WAL */
	assert_int_equal(consult_store_schema_version(s), version);   /* nothing changed */
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

static void test_checkpoint_refused(void **state)
{
	fixture *f = *state;
	char err[256];
	char path[160];
	snprintf(path, sizeof path, "%s/missing.db", f->dir);
	assert_null(consult_store_checkpoint_open(path, err, sizeof err));
	assert_true(err[0] != '\0');
	assert_int_equal(file_size(path), -1);          /* not created */
	assert_null(consult_store_checkpoint_open(NULL, err, sizeof err));
	assert_null(consult_store_checkpoint_open(":memory:", err, sizeof err));
	assert_non_null(strstr(err, "memory"));
	/* a rollback-journal database is no WAL */
	snprintf(path, sizeof path, "%s/plain.db", f->dir);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(consult_store_checkpoint_open(path, err, sizeof err));
	assert_non_null(strstr(err, "not wal"));
	unlink(path);
	/* an in-memory store keeps SQLite's own behaviour */
	consult_store *m = consult_store_open(":memory:", err, sizeof err);
	assert_non_null(m);
	assert_int_equal(consult_store_manual_checkpoints(m), CONSULT_ERR_INTERNAL);
	assert_non_null(strstr(consult_store_last_error(m), "memory"));
	consult_store_close(m);
}

/* Schema v5: known staff devices, by token hash; rotation, trim per staff,
 * revoke, purge of unused, cascade with the staff row, constraints. */
static void dev_hash(uint8_t h[CONSULT_DEVICE_HASH_LEN], int seed)
{
	for (int i = 0; i < CONSULT_DEVICE_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 31 + i);
}

static void test_devices(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	assert_true(consult_store_latest_version() >= 5);
	uint8_t h1[32], h2[32], h3[32];
	dev_hash(h1, 1);
	dev_hash(h2, 2);
	dev_hash(h3, 3);
	consult_device d;
	assert_int_equal(consult_store_device_find(s, h1, &d), CONSULT_ERR_NOT_FOUND);
	int64_t id = 0;
	assert_int_equal(consult_store_device_issue(s, f->doctor, 0, h1, 1000, 3, &id), CONSULT_OK);
	assert_true(id > 0);
	assert_int_equal(consult_store_device_find(s, h1, &d), CONSULT_OK);
	assert_int_equal(d.id, id);
	assert_int_equal(d.staff_id, f->doctor);
	assert_int_equal(d.created_at, 1000);
	assert_int_equal(d.last_used_at, 1000);
	assert_memory_equal(d.hash, h1, 32);
	/* rotation: same device, new hash, new last use; the old hash is gone */
	int64_t id2 = 0;
	assert_int_equal(consult_store_device_issue(s, f->doctor, id, h2, 2000, 3, &id2), CONSULT_OK);
	assert_int_equal(id2, id);
	assert_int_equal(consult_store_device_find(s, h1, &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_device_find(s, h2, &d), CONSULT_OK);
	assert_int_equal(d.last_used_at, 2000);
	assert_int_equal(d.created_at, 1000);
	/* rotating a device of another staff member changes nothing */
	assert_int_equal(consult_store_device_issue(s, f->doctor2, id, h3, 2100, 3, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_device_find(s, h2, &d), CONSULT_OK);
	/* the same hash twice: conflict, nothing added */
	assert_int_equal(consult_store_device_issue(s, f->doctor2, 0, h2, 2100, 3, NULL), CONSULT_ERR_CONFLICT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM staff_devices"), 1);
	/* no such staff member */
	assert_int_equal(consult_store_device_issue(s, 999999, 0, h3, 2100, 3, NULL), CONSULT_ERR_NOT_FOUND);
	/* at most `keep` per staff member: the least recently used go */
	for (int i = 10; i < 15; i++) {
		uint8_t h[32];
		dev_hash(h, i);
		assert_int_equal(consult_store_device_issue(s, f->doctor, 0, h, 3000 + i, 3, NULL), CONSULT_OK);
	}
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM staff_devices WHERE staff_id = (SELECT id FROM staff WHERE username = 'dr.weber')"), 3);
	assert_int_equal(consult_store_device_find(s, h2, &d), CONSULT_ERR_NOT_FOUND);
	uint8_t h14[32];
	dev_hash(h14, 14);
	assert_int_equal(consult_store_device_find(s, h14, &d), CONSULT_OK);
	/* another staff member's devices are separate */
	assert_int_equal(consult_store_device_issue(s, f->doctor2, 0, h3, 3100, 3, NULL), CONSULT_OK);
	/* purge of unused: before 3012 -> 3010, 3011 gone? (only 3012..3014 of dr.weber remain) */
	int64_t n = -1;
	assert_int_equal(consult_store_devices_purge(s, 3013, &n), CONSULT_OK);
	assert_int_equal(n, 1);          /* 3012 */
	assert_int_equal(consult_store_device_find(s, h14, &d), CONSULT_OK);
	/* revoke: only that staff member's */
	assert_int_equal(consult_store_devices_revoke(s, f->doctor, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(consult_store_device_find(s, h14, &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_device_find(s, h3, &d), CONSULT_OK);
	/* the hash column holds exactly 32 bytes */
	assert_int_equal(raw_int(f->path, "SELECT length(token_hash) FROM staff_devices"), 32);
	/* deleting the staff member deletes the devices (cascade) */
	raw_exec(f->path, "PRAGMA foreign_keys = ON; DELETE FROM appointments; DELETE FROM staff WHERE username = 'dr.adler'");
	assert_int_equal(consult_store_device_find(s, h3, &d), CONSULT_ERR_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_from_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_new_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_to_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_only, setup_people, teardown),
		cmocka_unit_test(test_open_bad_path),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constraints, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_staff, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_list_practices, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_appointment_by_code, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_visit_lifecycle, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_list_appointments, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_day_stats, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_end_stale, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_one_write_steps, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_never, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_devices, setup_people, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
