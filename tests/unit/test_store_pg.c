/* test_store_pg.c - what only the PostgreSQL backend of the store has: the
 * schema and its version in the database, a lost connection (the store's
 * backend terminated; PostgreSQL restarted) outside and inside a
 * transaction, health without local files, and error messages without
 * values.
 *
 * Contract: runs only with CONSULT_TEST_STORE set to a postgresql:// URL
 * (scripts/lib/with-postgres; else it exits 77: skipped). Each test gets a
 * new schema (store_fixture.h); the store's backend is found by its
 * application_name (the schema's name) and terminated from a second
 * connection, and the test waits until it is gone. The restart test runs
 * CONSULT_TEST_PG_RESTART (with-postgres: pg_ctl restart -m fast -w), so
 * no other test may use the server meanwhile (scripts/test: make -j1); it
 * is skipped without that variable. A raw libpq connection checks what is
 * committed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "store/store.h"
#include "store/store_sqlite.h"
#define STORE_FIXTURE_PEOPLE
#include "store_fixture.h"
#include "store_raw_pg.h"

/* Terminates the store's backend and waits (up to 30 s) until it is gone. */
static void kill_backend(fixture *f)
{
	char sql[256];
	snprintf(sql, sizeof sql,
	        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '%s'", f->dir);
	assert_int_equal(pg_raw_int(store_test_pg(), sql), 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'", f->dir);
	for (int i = 0; i < 3000 && pg_raw_int(store_test_pg(), sql) != 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	assert_int_equal(pg_raw_int(store_test_pg(), sql), 0);
}

static int64_t practices_named(fixture *f, const char *slug)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM practices WHERE slug = '%s'", slug);
	return pg_raw_int(f->path, sql);
}

/* A fresh database is migrated to the newest version, recorded in table
 * consult_schema; a newer version is refused and changes nothing. */
static void test_schema_version(void **state)
{
	fixture *f = *state;
	assert_int_equal(consult_store_schema_version(f->s), consult_store_latest_version());
	assert_int_equal(pg_raw_int(f->path, "SELECT version FROM consult_schema"), consult_store_latest_version());
	assert_int_equal(pg_raw_int(f->path,
	                         "SELECT count(*) FROM information_schema.tables WHERE table_schema ="
	                         " current_schema() AND table_name IN ('practices', 'staff_sessions')"),
	        2);
	char sql[96], err[256] = "";
	snprintf(sql, sizeof sql, "UPDATE consult_schema SET version = %d", consult_store_latest_version() + 1);
	pg_raw_exec(f->path, sql);
	assert_null(consult_store_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(pg_raw_int(f->path, "SELECT version FROM consult_schema"), consult_store_latest_version() + 1);
	snprintf(sql, sizeof sql, "UPDATE consult_schema SET version = %d", consult_store_latest_version());
	pg_raw_exec(f->path, sql);
}

/* Outside a transaction a lost connection is reset and the statement runs
 * again: the caller sees nothing but success, and cached statements are
 * prepared again on the new session. */
static void test_lost_connection_retried(void **state)
{
	fixture *f = *state;
	consult_practice p;
	assert_int_equal(consult_store_practice_by_slug(f->s, "am-markt", &p), CONSULT_OK);
	consult_practice_clear(&p);
	unsigned errors = consult_store_error_count(f->s);
	kill_backend(f);
	assert_int_equal(consult_store_practice_by_slug(f->s, "am-markt", &p), CONSULT_OK);
	assert_string_equal(p.name, "Praxis am Markt");
	consult_practice_clear(&p);
	kill_backend(f);
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(f->s, "nach-neustart", "Neu", NULL, 7, &id), CONSULT_OK);
	assert_true(id > 0);
	assert_int_equal(practices_named(f, "nach-neustart"), 1);
	assert_int_equal(consult_store_error_count(f->s), errors);
	consult_store_health h;
	assert_int_equal(consult_store_probe(f->s, &h), CONSULT_OK);
	assert_true(h.writable);
}

/* Inside a transaction the transaction is gone with the connection: the
 * next call and every one after it fail (INTERNAL, PG_CONNECTION), commit
 * fails, nothing of it is in the database; then the store works again. */
static void test_lost_connection_in_transaction(void **state)
{
	fixture *f = *state;
	int64_t id = 0;
	assert_int_equal(consult_store_begin(f->s), CONSULT_OK);
	assert_int_equal(consult_store_add_practice(f->s, "tx-eins", "Eins", NULL, 7, &id), CONSULT_OK);
	kill_backend(f);
	unsigned errors = consult_store_error_count(f->s);
	assert_int_equal(consult_store_add_practice(f->s, "tx-zwei", "Zwei", NULL, 7, &id), CONSULT_ERR_INTERNAL);
	assert_string_equal(consult_store_last_error_name(f->s), "PG_CONNECTION");
	assert_true(consult_store_error_count(f->s) > errors);
	assert_true(consult_store_in_transaction(f->s));
	consult_practice p;
	assert_int_equal(consult_store_practice_by_slug(f->s, "am-markt", &p), CONSULT_ERR_INTERNAL);
	assert_int_equal(consult_store_begin(f->s), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_store_commit(f->s), CONSULT_ERR_INTERNAL);
	assert_false(consult_store_in_transaction(f->s));
	assert_int_equal(practices_named(f, "tx-eins"), 0);
	assert_int_equal(practices_named(f, "tx-zwei"), 0);
	/* usable again, and the same with rollback */
	assert_int_equal(consult_store_practice_by_slug(f->s, "tx-eins", &p), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_begin(f->s), CONSULT_OK);
	assert_int_equal(consult_store_add_practice(f->s, "tx-drei", "Drei", NULL, 7, &id), CONSULT_OK);
	kill_backend(f);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", true), CONSULT_ERR_INTERNAL);
	assert_int_equal(consult_store_rollback(f->s), CONSULT_OK);
	assert_false(consult_store_in_transaction(f->s));
	assert_int_equal(practices_named(f, "tx-drei"), 0);
	assert_int_equal(consult_store_add_practice(f->s, "tx-vier", "Vier", NULL, 7, &id), CONSULT_OK);
	assert_int_equal(practices_named(f, "tx-vier"), 1);
}

/* A unit of work (one call, several statements) that loses its connection
 * fails as a whole and leaves nothing behind. */
static void test_lost_connection_in_unit(void **state)
{
	fixture *f = *state;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 3);
	int64_t appt = 0;
	assert_int_equal(consult_store_add_appointment(f->s, f->practice, 0, 100, 50, 200, h, 0, 1, &appt), CONSULT_OK);
	kill_backend(f);
	consult_purge_counts c;
	assert_int_equal(consult_store_purge(f->s, 1000, 1000, 5, &c), CONSULT_OK); /* BEGIN retried */
	assert_int_equal(c.appointments, 1);
	assert_int_equal(pg_raw_int(f->path, "SELECT count(*) FROM appointments"), 0);
}

/* PostgreSQL restarted (fast shutdown cuts every connection): an idle
 * store reconnects at its next call; a transaction open across the restart
 * is reported lost and nothing of it is stored. */
static void test_server_restart(void **state)
{
	fixture *f = *state;
	const char *restart = getenv("CONSULT_TEST_PG_RESTART");
	if (!restart)
		skip();
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(f->s, "vor-neustart", "Vor", NULL, 7, &id), CONSULT_OK);
	assert_int_equal(system(restart), 0);
	consult_practice p;
	assert_int_equal(consult_store_practice_by_slug(f->s, "vor-neustart", &p), CONSULT_OK);
	consult_practice_clear(&p);
	assert_int_equal(consult_store_begin(f->s), CONSULT_OK);
	assert_int_equal(consult_store_add_practice(f->s, "im-neustart", "Im", NULL, 7, &id), CONSULT_OK);
	assert_int_equal(system(restart), 0);
	assert_int_equal(consult_store_add_practice(f->s, "nach-neustart", "Nach", NULL, 7, &id), CONSULT_ERR_INTERNAL);
	assert_string_equal(consult_store_last_error_name(f->s), "PG_CONNECTION");
	assert_int_equal(consult_store_commit(f->s), CONSULT_ERR_INTERNAL);
	assert_int_equal(practices_named(f, "im-neustart"), 0);
	assert_int_equal(practices_named(f, "nach-neustart"), 0);
	assert_int_equal(consult_store_add_practice(f->s, "nach-neustart", "Nach", NULL, 7, &id), CONSULT_OK);
	assert_int_equal(practices_named(f, "nach-neustart"), 1);
}

/* Health on PostgreSQL: a real commit; disk and WAL are the server's. */
static void test_probe_and_upkeep(void **state)
{
	fixture *f = *state;
	consult_store_health h;
	assert_int_equal(consult_store_probe(f->s, &h), CONSULT_OK);
	assert_true(h.writable);
	assert_string_equal(h.error, "");
	assert_int_equal(h.disk_free_mb, -1);
	assert_int_equal(h.log_bytes, -1);
	assert_int_equal(h.log_limit_bytes, -1);
	consult_store_upkeep r;
	assert_int_equal(consult_store_maintain(f->s, 100, &r), CONSULT_OK);
	assert_false(r.ran);
	assert_string_equal(r.error, "");
	consult_store_settings st;
	assert_int_equal(consult_store_get_settings(f->s, &st), CONSULT_ERR_INTERNAL); /* SQLite's only */
}

/* PostgreSQL's details (DETAIL: Key (username)=(...)) and data exceptions
 * quote values: the store's messages and names never do. */
static void test_errors_without_values(void **state)
{
	fixture *f = *state;
	int64_t id = 0;
	assert_int_equal(consult_store_add_staff(
	                         f->s, f->practice, "dr.geheimname", "Dr. G", CONSULT_ROLE_DOCTOR, "$h9", 1, &id),
	        CONSULT_OK);
	assert_int_equal(consult_store_add_staff(
	                         f->s, f->practice, "dr.geheimname", "Dr. G", CONSULT_ROLE_DOCTOR, "$h9", 1, &id),
	        CONSULT_ERR_CONFLICT);
	assert_null(strstr(consult_store_last_error(f->s), "geheimname"));
	assert_non_null(strstr(consult_store_last_error(f->s), "unique"));
	/* not valid UTF-8: refused by the server, named without the value */
	unsigned errors = consult_store_error_count(f->s);
	assert_int_equal(consult_store_add_practice(f->s, "bad",
	                         "Geheim\xff"
	                         "name",
	                         NULL, 1, &id),
	        CONSULT_ERR_INTERNAL);
	assert_null(strstr(consult_store_last_error(f->s), "Geheim"));
	assert_string_equal(consult_store_last_error_name(f->s), "PG_22021");
	assert_int_equal(consult_store_error_count(f->s), errors + 1);
}

int main(void)
{
	if (!store_test_pg()) {
		fprintf(stderr, "CONSULT_TEST_STORE is not a postgresql:// URL: skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_version, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_lost_connection_retried, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_lost_connection_in_transaction, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_lost_connection_in_unit, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_server_restart, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_probe_and_upkeep, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_errors_without_values, setup_people, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
