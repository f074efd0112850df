/* migrations.h - the schema of the consult store, as ordered SQL steps.
 *
 * Contract: consult_migrations[i] brings a database from user_version i to
 * i + 1. Steps are applied in order, each in its own IMMEDIATE transaction
 * together with the PRAGMA user_version bump, so a failed step changes
 * nothing. A database whose user_version is newer than the last step is
 * refused. To add schema version N+1: append one entry to the array in
 * migrations.c; never edit a released step. No logging.
 */
#ifndef CONSULT_STORE_MIGRATIONS_H
#define CONSULT_STORE_MIGRATIONS_H

#include <stddef.h>
#include <sqlite3.h>

/* Newest schema version this build knows (= number of steps). */
int consult_migrations_latest(void);

/* Reads PRAGMA user_version of db into *version. SQLite result code. */
int consult_migrations_version(sqlite3 *db, int *version);

/* Migrates db to the newest version. Returns 0 on success; on failure -1
 * and a message without personal data in err (may be NULL). The database
 * stays at the last version that was fully applied. */
int consult_migrations_apply(sqlite3 *db, char *err, size_t errlen);

#endif
