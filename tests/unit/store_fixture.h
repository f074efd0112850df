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
#include "store/store.h"

#define STORE_TEST_DIR_LEN 64
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

#endif
