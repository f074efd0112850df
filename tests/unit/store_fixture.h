/* store_fixture.h - a fresh store per test, for the store's unit tests.
 *
 * Contract: store_test_open() makes a new mkdtemp() folder under /tmp and
 * opens a new store in it through store.h (SQLite: the file consult.db
 * there; path gets its name, for the SQLite-specific tests that inspect
 * the file). store_test_remove() closes the store and removes the file,
 * its -wal and -shm and the folder. The contract suite uses only these and
 * store.h, so another backend needs only another way to make a location.
 */
#ifndef CONSULT_TEST_STORE_FIXTURE_H
#define CONSULT_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>
#include "store/store.h"

#define STORE_TEST_DIR_LEN  64
#define STORE_TEST_PATH_LEN 96

static inline consult_store *store_test_open(char dir[STORE_TEST_DIR_LEN], char path[STORE_TEST_PATH_LEN])
{
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
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
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
