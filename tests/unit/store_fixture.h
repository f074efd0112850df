/* store_fixture.h - a fresh store per test, for the store's unit tests.
 *
 * Contract: the backend comes from the environment: CONSULT_TEST_STORE
 * unset (or not a postgresql:// URL) is SQLite, a postgresql:// URL (set
 * by scripts/lib/with-postgres) is PostgreSQL. store_test_open() opens a
 * new, empty store through store.h: SQLite: the file consult.db in a new
 * mkdtemp() folder under /tmp (path gets its name, for the SQLite-specific
 * tests that inspect the file); PostgreSQL: a new schema of that database
 * (dir gets its name, path the URL that selects it as search_path, so a
 * second consult_store_open(path) sees the same store). store_test_remove()
 * closes the store and removes the file, its -wal and -shm and the folder,
 * or drops the schema. store_test_two_open() gives two handles on one new
 * store. The contract suite uses only these and store.h.
 */
#ifndef CONSULT_TEST_STORE_FIXTURE_H
#define CONSULT_TEST_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>
#include "store/store.h"

#include <libpq-fe.h>

#define STORE_TEST_DIR_LEN  64
#define STORE_TEST_PATH_LEN 512

/* The PostgreSQL URL under test, or NULL for SQLite. */
static inline const char *store_test_pg(void)
{
	const char *u = getenv("CONSULT_TEST_STORE");
	return u && (strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0) ? u : NULL;
}

/* Runs one SQL command on the test database (base URL, no schema); false
 * with a message on stderr if it failed. */
static inline void store_test_pg_quiet(void *ud, const char *message)
{
	(void)ud;
	(void)message;
}

static inline bool store_test_pg_exec(const char *sql)
{
	PGconn *c = PQconnectdb(store_test_pg());
	PQsetNoticeProcessor(c, store_test_pg_quiet, NULL);
	PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
	bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "%s: %s\n", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok;
}

static inline consult_store *store_test_open_pg(char dir[STORE_TEST_DIR_LEN], char path[STORE_TEST_PATH_LEN])
{
	static unsigned n;
	const char *base = store_test_pg();
	char sql[STORE_TEST_DIR_LEN + 32];
	snprintf(dir, STORE_TEST_DIR_LEN, "t_%ld_%u", (long)getpid(), ++n);
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s", dir);
	if (!store_test_pg_exec(sql))
		return NULL;
	/* the schema is the search path; application_name finds the backend */
	snprintf(path, STORE_TEST_PATH_LEN, "%s%soptions=-csearch_path%%3D%s&application_name=%s", base,
	        strchr(base, '?') ? "&" : "?", dir, dir);
	char err[256] = "";
	consult_store *s = consult_store_open(path, err, sizeof err);
	if (!s)
		fprintf(stderr, "open failed: %s\n", err);
	return s;
}

static inline consult_store *store_test_open(char dir[STORE_TEST_DIR_LEN], char path[STORE_TEST_PATH_LEN])
{
	if (store_test_pg())
		return store_test_open_pg(dir, path);
	snprintf(dir, STORE_TEST_DIR_LEN, "/tmp/consult-store-XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	snprintf(path, STORE_TEST_PATH_LEN, "%s/consult.db", dir);
	char err[256] = "";
	consult_store *s = consult_store_open(path, err, sizeof err);
	if (!s) {
		fprintf(stderr, "open failed: %s\n", err);
		rmdir(dir);
	}
	return s;
}

static inline void store_test_remove(const char *dir, const char *path, consult_store *s)
{
	char p[STORE_TEST_PATH_LEN + 8];
	consult_store_close(s);
	if (store_test_pg()) {
		snprintf(p, sizeof p, "DROP SCHEMA %s CASCADE", dir);
		store_test_pg_exec(p);
		return;
	}
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

/* Two handles a and b on one new store, as two instances sharing it
 * have; NULL on failure. store_test_two_close() closes both and removes
 * the store. */
typedef struct store_test_two {
	char dir[STORE_TEST_DIR_LEN];
	char path[STORE_TEST_PATH_LEN];
	consult_store *a, *b;
} store_test_two;

static inline bool store_test_two_open(store_test_two *t)
{
	memset(t, 0, sizeof *t);
	if (!(t->a = store_test_open(t->dir, t->path)))
		return false;
	char err[256] = "";
	t->b = consult_store_open(t->path, err, sizeof err);
	if (!t->b)
		fprintf(stderr, "second handle: %s\n", err);
	return t->b != NULL;
}

static inline void store_test_two_close(store_test_two *t)
{
	if (t->b)
		consult_store_close(t->b);
	if (t->a)
		store_test_remove(t->dir, t->path, t->a);
}

#ifdef STORE_FIXTURE_PEOPLE
/* The fixture of the store tests that need people: a store and, with
 * setup_people, two practices with two doctors, reception and a doctor of
 * the other practice (hash_of gives distinct code hashes by seed). */
typedef struct fixture {
	char dir[STORE_TEST_DIR_LEN];
	char path[STORE_TEST_PATH_LEN];
	consult_store *s;
	int64_t practice, other_practice, doctor, doctor2, reception, other_doctor;
} fixture;

static inline void hash_of(uint8_t out[CONSULT_CODE_HASH_LEN], int seed)
{
	for (int i = 0; i < CONSULT_CODE_HASH_LEN; i++)
		out[i] = (uint8_t)(seed * 31 + i);
}

static inline int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	if (!(f->s = store_test_open(f->dir, f->path))) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* setup plus two practices and their staff */
static inline int setup_people(void **state)
{
	if (setup(state) != 0)
		return -1;
	fixture *f = *state;
	consult_store *s = f->s;
	if (consult_store_add_practice(s, "am-markt", "Praxis am Markt", "0721-1", 100, &f->practice) ||
	        consult_store_add_practice(s, "anderswo", "Praxis Anderswo", NULL, 100, &f->other_practice) ||
	        consult_store_add_staff(
	                s, f->practice, "dr.weber", "Dr. Weber", CONSULT_ROLE_DOCTOR, "$h1", 100, &f->doctor) ||
	        consult_store_add_staff(
	                s, f->practice, "dr.adler", "Dr. Adler", CONSULT_ROLE_DOCTOR, "$h2", 100, &f->doctor2) ||
	        consult_store_add_staff(
	                s, f->practice, "empfang", "Empfang", CONSULT_ROLE_RECEPTION, "$h3", 100, &f->reception) ||
	        consult_store_add_staff(s, f->other_practice, "dr.other", "Dr. Other", CONSULT_ROLE_DOCTOR, "$h4", 100,
	                &f->other_doctor))
		return -1;
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;
	store_test_remove(f->dir, f->path, f->s);
	free(f);
	return 0;
}
#endif

#endif
