/* test_store_purge.c - the store's retention: migration from v2, the
 * retention purge, the contact wipe, the GDPR erase, that purged personal
 * data (names, booked names and notes, contact data) is in no row any more
 * and, on SQLite, gone from the bytes of the database and -wal files.
 *
 * Contract: each test gets a new store (store_fixture.h: SQLite or, with
 * CONSULT_TEST_STORE, PostgreSQL); times are made-up small integers (an
 * injected clock). A raw second connection (sqlite3 or libpq) counts the
 * rows that are committed; on SQLite it also builds the v2 file and the
 * bytes test reads the files themselves after the store is closed. The
 * file and migration tests are skipped on PostgreSQL (its files are the
 * server's: docs/operations.md says what VACUUM and WAL mean there).
 */
#define _GNU_SOURCE /* memmem */
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
#include "store_fixture.h"
#include "store_raw.h"
#include "store_raw_pg.h"

typedef struct fixture {
	char dir[STORE_TEST_DIR_LEN];
	char path[STORE_TEST_PATH_LEN];
	consult_store *s;
	int64_t practice, other_practice, reception, other_staff;
} fixture;

static int64_t add_appt(fixture *f, int64_t practice, int64_t starts_at, int seed)
{
	uint8_t h[CONSULT_CODE_HASH_LEN];
	for (int i = 0; i < CONSULT_CODE_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 13 + i);
	int64_t id = 0;
	assert_int_equal(consult_store_add_appointment(
	                         f->s, practice, 0, starts_at, starts_at - 600, starts_at + 3600, h, 0, 10, &id),
	        CONSULT_OK);
	return id;
}

static void add_msgs(fixture *f, int64_t appt, int n, int seed)
{
	for (int i = 0; i < n; i++) {
		uint8_t m[16];
		for (int j = 0; j < 16; j++)
			m[j] = (uint8_t)(seed * 16 + i * 3 + j);
		assert_int_equal(consult_outbox_add(f->s, appt, i % 2 ? CONSULT_CHANNEL_SMS : CONSULT_CHANNEL_EMAIL,
		                         CONSULT_MSG_INVITE, 100, m, 20, NULL),
		        CONSULT_OK);
	}
}

static void add_visits(fixture *f, int64_t appt, int n, const char *first)
{
	for (int i = 0; i < n; i++) {
		int64_t v = 0;
		assert_int_equal(consult_store_visit_begin(f->s, appt, first, "Muster", 30, &v), CONSULT_OK);
		assert_int_equal(consult_store_visit_end(f->s, v, CONSULT_END_DOCTOR_HANGUP, 40), CONSULT_OK);
	}
}

static void set_contact(fixture *f, int64_t appt, const char *phone, const char *email)
{
	static uint8_t box[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	consult_contact c;
	memset(&c, 0, sizeof c);
	c.appointment_id = appt;
	c.phone = (char *)phone;
	c.email = (char *)email;
	if (phone) {
		c.consent_sms_at = 11;
		c.consent_sms_by = f->reception;
	}
	if (email) {
		c.consent_email_at = 12;
		c.consent_email_by = f->reception;
	}
	c.code_box = box;
	c.code_box_len = sizeof box;
	assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_OK);
}

static int64_t count(fixture *f, const char *table)
{
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	return store_test_pg() ? pg_raw_int(f->path, sql) : raw_int(f->path, sql);
}

/* Rows of any table that still hold the value (names, booked name and
 * note, phone, e-mail): what a query can reach, on either backend. */
static int64_t rows_holding(fixture *f, const char *v)
{
	char sql[640];
	snprintf(sql, sizeof sql,
	        "SELECT (SELECT count(*) FROM appointment_contacts WHERE email = '%s' OR phone = '%s')"
	        " + (SELECT count(*) FROM appointments WHERE booked_name = '%s' OR note = '%s')"
	        " + (SELECT count(*) FROM visits WHERE first_name = '%s' OR last_name = '%s')",
	        v, v, v, v, v, v);
	return store_test_pg() ? pg_raw_int(f->path, sql) : raw_int(f->path, sql);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->s = store_test_open(f->dir, f->path);
	if (!f->s || consult_store_add_practice(f->s, "am-markt", "Praxis am Markt", "0721-1", 1, &f->practice) ||
	        consult_store_add_practice(f->s, "anderswo", "Praxis Anderswo", NULL, 1, &f->other_practice) ||
	        consult_store_add_staff(
	                f->s, f->practice, "empfang", "Empfang", CONSULT_ROLE_RECEPTION, "$h2", 1, &f->reception) ||
	        consult_store_add_staff(f->s, f->other_practice, "empfang2", "Empfang 2", CONSULT_ROLE_RECEPTION, "$h3",
	                1, &f->other_staff)) {
		if (f->s)
			store_test_remove(f->dir, f->path, f->s);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	store_test_remove(f->dir, f->path, f->s);
	free(f);
	return 0;
}

/* Makes the file a schema v2 file again: the v3 tables never existed. */
static void downgrade_to_v2(fixture *f)
{
	consult_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path,
	        "BEGIN; DROP TABLE outbox; DROP TABLE appointment_contacts;"
	        " ALTER TABLE practices DROP COLUMN forward_never;" /* v4 */
	        " DROP TABLE staff_devices;"                        /* v5 */
	        " DROP TABLE lifecycle; DROP TABLE staff_sessions;" /* v6 */
	        " ALTER TABLE visits DROP COLUMN head; ALTER TABLE visits DROP COLUMN away_since;"
	        " ALTER TABLE appointments DROP COLUMN booked_name; ALTER TABLE appointments DROP COLUMN note;"
	        " ALTER TABLE practices DROP COLUMN audio_only_never;" /* v7 */
	        " DROP TABLE login_limits;"                            /* v11 */
	        " DROP TABLE leases;"                                  /* v8 */
	        " ALTER TABLE practices DROP COLUMN patient_share;"    /* v9 */
	        " COMMIT;"
	        "PRAGMA user_version = 2;");
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM sqlite_master WHERE name IN"
	                         " ('outbox','appointment_contacts','outbox_due','outbox_appointment')"),
	        0);
}

/* --- migration --- */

static void test_migrate_v2_to_v3(void **state)
{
	if (store_test_pg())
		skip(); /* SQLite's files */
	fixture *f = *state;
	assert_int_equal(consult_store_latest_version(), 11);
	int64_t appt = add_appt(f, f->practice, 5000, 1);
	int64_t visit = 0;
	assert_int_equal(consult_store_visit_begin(f->s, appt, "Erika", "Muster", 4900, &visit), CONSULT_OK);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", true), CONSULT_OK);
	downgrade_to_v2(f);

	char err[256] = "";
	f->s = consult_store_open(f->path, err, sizeof err);
	if (!f->s)
		print_error("open: %s\n", err);
	assert_non_null(f->s);
	assert_int_equal(consult_store_schema_version(f->s), 11);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), consult_store_latest_version());
	assert_int_equal(raw_int(f->path,
	                         "SELECT count(*) FROM sqlite_master WHERE name IN"
	                         " ('outbox','appointment_contacts','outbox_due','outbox_appointment')"),
	        4);
	/* old data kept */
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(f->s, appt, &a), CONSULT_OK);
	assert_int_equal(a.starts_at, 5000);
	assert_int_equal(a.status, CONSULT_APPT_WAITING);
	assert_string_equal(a.patient_first, "Erika");
	assert_null(a.booked_name); /* v7: none booked before */
	assert_null(a.note);
	consult_appointment_clear(&a);
	bool audio_never = true;
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->practice, &audio_never), CONSULT_OK);
	assert_false(audio_never);
	bool share = true; /* v9: never by default */
	assert_int_equal(consult_store_practice_patient_share(f->s, f->practice, &share), CONSULT_OK);
	assert_false(share);
	assert_int_equal(consult_store_set_appointment_booking(f->s, appt, "Erika Muster", "Notiz"), CONSULT_OK);
	bool relay = false;
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_true(relay);
	/* the new tables work with the old rows, foreign keys included */
	set_contact(f, appt, "+491710000001", NULL);
	add_msgs(f, appt, 1, 1);
	assert_int_equal(count(f, "outbox"), 1);
	uint8_t m[16] = { 0 };
	assert_int_equal(consult_outbox_add(f->s, appt + 99, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 1, m, 1, NULL),
	        CONSULT_ERR_NOT_FOUND);
}

/* A step that fails leaves the file at v2 with its data (one transaction). */
static void test_migrate_v3_failure_keeps_v2(void **state)
{
	if (store_test_pg())
		skip(); /* SQLite's files */
	fixture *f = *state;
	int64_t appt = add_appt(f, f->practice, 5000, 1);
	(void)appt;
	downgrade_to_v2(f);
	raw_exec(f->path, "CREATE TABLE appointment_contacts (x INTEGER)"); /* in the way of step 3 */
	char err[256] = "";
	assert_null(consult_store_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "version 3"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'outbox'"), 0);
	assert_int_equal(count(f, "appointments"), 1);
	raw_exec(f->path, "DROP TABLE appointment_contacts");
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	assert_int_equal(consult_store_schema_version(f->s), 11);
}

/* --- purge --- */

static void test_purge_counts_and_cascade(void **state)
{
	fixture *f = *state;
	int64_t old1 = add_appt(f, f->practice, 1000, 1);
	int64_t old2 = add_appt(f, f->other_practice, 2000, 2);
	int64_t recent = add_appt(f, f->practice, 50000, 3);
	int64_t future = add_appt(f, f->practice, 100000, 4);
	add_visits(f, old1, 2, "A");
	add_visits(f, old2, 1, "B");
	add_visits(f, recent, 1, "C");
	add_msgs(f, old1, 3, 1);
	add_msgs(f, recent, 2, 2);
	add_msgs(f, future, 1, 3);
	set_contact(f, old1, "+491710000001", "a@example.org");
	set_contact(f, recent, "+491710000002", "b@example.org");
	set_contact(f, future, NULL, "c@example.org");

	consult_purge_counts c;
	memset(&c, 0xff, sizeof c);
	assert_int_equal(consult_store_purge(f->s, 10000, 60000, 99999, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 2);
	assert_int_equal(c.visits, 3);
	assert_int_equal(c.deliveries, 3);
	assert_int_equal(c.contacts_wiped, 1);
	/* cascade: nothing of old1/old2 is left */
	assert_int_equal(count(f, "appointments"), 2);
	assert_int_equal(count(f, "visits"), 1);
	assert_int_equal(count(f, "outbox"), 3);
	assert_int_equal(count(f, "appointment_contacts"), 2);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(f->s, old1, &a), CONSULT_ERR_NOT_FOUND);
	consult_contact ct;
	assert_int_equal(consult_store_contact(f->s, old1, &ct), CONSULT_ERR_NOT_FOUND);
	/* practices and staff are not personal data of patients: kept */
	assert_int_equal(count(f, "practices"), 2);
	assert_int_equal(count(f, "staff"), 2);
	/* the recent one is wiped but kept, consents and outbox stay */
	assert_int_equal(consult_store_contact(f->s, recent, &ct), CONSULT_OK);
	assert_null(ct.phone);
	assert_null(ct.email);
	assert_null(ct.code_box);
	assert_int_equal(ct.code_box_len, 0);
	assert_int_equal(ct.wiped_at, 99999);
	assert_int_equal(ct.consent_sms_at, 11);
	assert_int_equal(ct.consent_sms_by, f->reception);
	assert_int_equal(ct.consent_email_at, 12);
	consult_contact_clear(&ct);
	assert_int_equal(consult_store_appointment_by_id(f->s, recent, &a), CONSULT_OK);
	consult_appointment_clear(&a);
	/* the future one is untouched */
	assert_int_equal(consult_store_contact(f->s, future, &ct), CONSULT_OK);
	assert_string_equal(ct.email, "c@example.org");
	assert_int_equal(ct.code_box_len, 24);
	assert_int_equal(ct.wiped_at, 0);
	consult_contact_clear(&ct);

	/* a second run finds nothing */
	assert_int_equal(consult_store_purge(f->s, 10000, 60000, 100500, &c), CONSULT_OK);
	assert_int_equal(c.appointments + c.visits + c.deliveries + c.contacts_wiped, 0);
	assert_int_equal(consult_store_contact(f->s, recent, &ct), CONSULT_OK);
	assert_int_equal(ct.wiped_at, 99999); /* first wipe time kept */
	consult_contact_clear(&ct);
	assert_int_equal(consult_store_purge(f->s, 10000, 60000, 1, NULL), CONSULT_OK);
}

/* The contact goes at its own, earlier cutoff; both cutoffs are strict (<). */
static void test_contact_wipe_cutoff(void **state)
{
	fixture *f = *state;
	int64_t at_cut = add_appt(f, f->practice, 7200, 1);
	int64_t before_cut = add_appt(f, f->practice, 7199, 2);
	set_contact(f, at_cut, "+491710000001", NULL);
	set_contact(f, before_cut, "+491710000002", NULL);
	consult_purge_counts c;
	/* purge cutoff far back: nothing deleted, one contact wiped */
	assert_int_equal(consult_store_purge(f->s, 100, 7200, 9000, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 0);
	assert_int_equal(c.contacts_wiped, 1);
	consult_contact ct;
	assert_int_equal(consult_store_contact(f->s, before_cut, &ct), CONSULT_OK);
	assert_null(ct.phone);
	assert_int_equal(ct.wiped_at, 9000);
	consult_contact_clear(&ct);
	assert_int_equal(consult_store_contact(f->s, at_cut, &ct), CONSULT_OK);
	assert_string_equal(ct.phone, "+491710000001");
	assert_int_equal(ct.wiped_at, 0);
	consult_contact_clear(&ct);
	/* an hour later the other one goes; then the appointments themselves */
	assert_int_equal(consult_store_purge(f->s, 100, 10800, 12600, &c), CONSULT_OK);
	assert_int_equal(c.contacts_wiped, 1);
	assert_int_equal(consult_store_purge(f->s, 7200, 10800, 12600, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_int_equal(c.contacts_wiped, 0);
	assert_int_equal(count(f, "appointments"), 1);
	assert_int_equal(consult_store_purge(f->s, 7201, 10800, 12600, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_int_equal(count(f, "appointments"), 0);
	assert_int_equal(count(f, "appointment_contacts"), 0);
}

static int file_has(const char *path, const char *needle);

static void test_erase(void **state)
{
	fixture *f = *state;
	int64_t mine = add_appt(f, f->practice, 50000, 1);
	int64_t keep = add_appt(f, f->practice, 50000, 2);
	add_visits(f, mine, 2, "E");
	add_visits(f, keep, 1, "K");
	add_msgs(f, mine, 3, 1);
	add_msgs(f, keep, 1, 2);
	set_contact(f, mine, NULL, "erase-probe-QRS@example.org");
	set_contact(f, keep, NULL, "k@example.org");
	assert_int_equal(
	        consult_store_set_appointment_booking(f->s, mine, "EraseProbeBooked", "EraseProbeNote"), CONSULT_OK);
	consult_purge_counts c;
	memset(&c, 0xff, sizeof c);
	/* another practice cannot erase it */
	assert_int_equal(consult_store_erase_appointment(f->s, f->other_practice, mine, &c), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(c.appointments + c.visits + c.deliveries + c.contacts_wiped, 0);
	assert_int_equal(count(f, "appointments"), 2);
	assert_int_equal(count(f, "outbox"), 4);
	static const char *const gone[] = { "erase-probe-QRS@example.org", "EraseProbeBooked", "EraseProbeNote" };
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		assert_int_equal(rows_holding(f, gone[i]), 1);
	char wal[STORE_TEST_PATH_LEN + 8];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	bool files = !store_test_pg();
	if (files)
		assert_true(file_has(f->path, "erase-probe-QRS@example.org") ||
		        file_has(wal, "erase-probe-QRS@example.org"));
	assert_int_equal(consult_store_erase_appointment(f->s, f->practice, mine, &c), CONSULT_OK);
	/* in no row, and on SQLite gone from the bytes at once (store still open) */
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
		assert_int_equal(rows_holding(f, gone[i]), 0);
		if (files) {
			assert_false(file_has(f->path, gone[i]));
			assert_false(file_has(wal, gone[i]));
		}
	}
	assert_int_equal(rows_holding(f, "k@example.org"), 1);
	if (files)
		assert_true(file_has(f->path, "k@example.org"));
	assert_int_equal(c.appointments, 1);
	assert_int_equal(c.visits, 2);
	assert_int_equal(c.deliveries, 3);
	assert_int_equal(c.contacts_wiped, 1);
	assert_int_equal(count(f, "appointments"), 1);
	assert_int_equal(count(f, "visits"), 1);
	assert_int_equal(count(f, "outbox"), 1);
	assert_int_equal(count(f, "appointment_contacts"), 1);
	assert_int_equal(consult_store_erase_appointment(f->s, f->practice, mine, &c), CONSULT_ERR_NOT_FOUND);
	/* without outbox, visits or contact */
	int64_t bare = add_appt(f, f->practice, 60000, 3);
	assert_int_equal(consult_store_erase_appointment(f->s, f->practice, bare, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_int_equal(c.visits + c.deliveries + c.contacts_wiped, 0);
	assert_int_equal(consult_store_erase_appointment(f->s, f->practice, keep, NULL), CONSULT_OK);
	assert_int_equal(count(f, "appointments"), 0);
}

/* Inside an outer transaction the purge joins it: rollback undoes it,
 * commit makes it durable and then truncates the WAL. */
static void test_purge_in_transaction(void **state)
{
	fixture *f = *state;
	int64_t old = add_appt(f, f->practice, 1000, 1);
	add_visits(f, old, 1, "T");
	consult_purge_counts c;
	assert_int_equal(consult_store_begin(f->s), CONSULT_OK);
	assert_int_equal(consult_store_purge(f->s, 5000, 5000, 9000, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_true(consult_store_in_transaction(f->s));
	assert_int_equal(consult_store_rollback(f->s), CONSULT_OK);
	assert_int_equal(count(f, "appointments"), 1);
	assert_int_equal(count(f, "visits"), 1);

	assert_int_equal(consult_store_begin(f->s), CONSULT_OK);
	assert_int_equal(consult_store_erase_appointment(f->s, f->practice, old, &c), CONSULT_OK);
	assert_int_equal(c.visits, 1);
	assert_int_equal(count(f, "appointments"), 1); /* not committed yet */
	assert_int_equal(consult_store_commit(f->s), CONSULT_OK);
	assert_int_equal(count(f, "appointments"), 0);
	if (store_test_pg())
		return; /* no WAL file of the store's own */
	char wal[STORE_TEST_PATH_LEN + 8];
	struct stat st;
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_size, 0);
}

/* --- the bytes on disk --- */

/* 1 if needle occurs in the file, 0 if not or the file does not exist. */
static int file_has(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return 0;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len, fp)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			assert_non_null(nb);
			buf = nb;
		}
	}
	fclose(fp);
	int found = memmem(buf, len, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

static int on_disk(fixture *f, const char *needle, int *in_db, int *in_wal)
{
	char wal[STORE_TEST_PATH_LEN + 8];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	*in_db = file_has(f->path, needle);
	*in_wal = file_has(wal, needle);
	return *in_db || *in_wal;
}

static const char *const probes[] = {
	"purge-probe-XYZ@example.org", /* contact of a purged appointment, checkpointed into the db */
	"PurgeProbeName",              /* visit name of a purged appointment, in the db */
	"+4917100099988",              /* phone of a purged appointment */
	"PurgeProbeWal",               /* visit name written after the last checkpoint: only in the WAL */
	"wipe-probe-ABC@example.org",  /* contact of an appointment that stays, wiped */
	"+4917100077766",              /* its phone */
	"PurgeProbeBooked",            /* booked name of a purged appointment */
	"PurgeProbeNote",              /* its note */
};

static void bytes_gone(fixture *f, bool upkeep)
{
	char err[256];
	int64_t old = add_appt(f, f->practice, 1000, 1);
	int64_t stays = add_appt(f, f->practice, 50000, 2);
	add_visits(f, old, 1, "PurgeProbeName");
	add_msgs(f, old, 2, 1);
	set_contact(f, old, "+4917100099988", "purge-probe-XYZ@example.org");
	set_contact(f, stays, "+4917100077766", "wipe-probe-ABC@example.org");
	add_visits(f, stays, 1, "Bleibt");
	assert_int_equal(
	        consult_store_set_appointment_booking(f->s, old, "PurgeProbeBooked", "PurgeProbeNote"), CONSULT_OK);
	/* the booking of an appointment that stays survives the contact wipe */
	assert_int_equal(consult_store_set_appointment_booking(f->s, stays, "BleibtGebucht", NULL), CONSULT_OK);
	/* close checkpoints everything into the main file and removes the WAL */
	consult_store_close(f->s);
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	int in_db = 0, in_wal = 0;
	assert_true(on_disk(f, "purge-probe-XYZ@example.org", &in_db, &in_wal));
	assert_true(in_db);
	add_visits(f, old, 1, "PurgeProbeWal");
	assert_true(on_disk(f, "PurgeProbeWal", &in_db, &in_wal));
	assert_true(in_wal);
	assert_false(in_db);
	consult_store_upkeep r;
	if (upkeep) { /* the production upkeep copies it into the db file too */
		assert_int_equal(consult_store_maintain(f->s, 1000000, &r), CONSULT_OK);
		assert_true(r.ran && r.complete);
	}
	/* before the purge every probe is somewhere in the files */
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		if (!on_disk(f, probes[i], &in_db, &in_wal))
			fail_msg("probe %zu not on disk before the purge", i);
	}
	consult_purge_counts c;
	assert_int_equal(consult_store_purge(f->s, 10000, 60000, 70000, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_int_equal(c.visits, 2);
	assert_int_equal(c.deliveries, 2);
	assert_int_equal(c.contacts_wiped, 1);
	/* right after the purge (store still open) and after closing it */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
			on_disk(f, probes[i], &in_db, &in_wal);
			if (in_db || in_wal)
				fail_msg("probe %zu still on disk (round %d, db %d, wal %d)", i, round, in_db, in_wal);
		}
		if (round == 0) {
			consult_store_close(f->s);
			f->s = NULL;
		}
	}
	/* what stays is still there and readable */
	assert_int_equal(file_has(f->path, "Bleibt"), 1);
	assert_int_equal(file_has(f->path, "BleibtGebucht"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM visits"), 1);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	consult_contact ct;
	assert_int_equal(consult_store_contact(f->s, stays, &ct), CONSULT_OK);
	assert_null(ct.email);
	assert_int_equal(ct.wiped_at, 70000);
	consult_contact_clear(&ct);
}

static void test_bytes_gone(void **state)
{
	if (store_test_pg())
		skip(); /* SQLite's files */
	bytes_gone(*state, false);
}

static void test_bytes_gone_after_upkeep(void **state)
{
	if (store_test_pg())
		skip(); /* SQLite's files */
	bytes_gone(*state, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_v2_to_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v3_failure_keeps_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_counts_and_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_wipe_cutoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_in_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_gone_after_upkeep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
