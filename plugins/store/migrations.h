/* migrations.h - the schema of the consult store, as ordered SQL steps.
 *
 * Contract: consult_migrations[i] brings a database from schema version i
 * to i + 1. Steps are applied in order, each in its own transaction
 * together with the version bump, so a failed step changes nothing; the
 * driver locks the schema for that transaction (SQLite: BEGIN IMMEDIATE;
 * PostgreSQL: an advisory lock). The version is recorded by the driver
 * (SQLite: PRAGMA user_version; PostgreSQL: the one row of table
 * consult_schema). A database whose version is newer than the last step is
 * refused. To add schema version N+1: append one entry to the array in
 * migrations.c; never edit a released step. No logging.
 */
#ifndef CONSULT_STORE_MIGRATIONS_H
#define CONSULT_STORE_MIGRATIONS_H

#include <stddef.h>

typedef struct consult_store consult_store;

/* Newest schema version this build knows (= number of steps). */
int consult_migrations_latest(void);

/* Reads the schema version of the store into *version: 0, or -1 on failure. */
int consult_migrations_version(consult_store *s, int *version);

/* Migrates the store's database to the newest version. Returns 0 on success; on failure -1
 * and a message without personal data in err (may be NULL). The database
 * stays at the last version that was fully applied. */
int consult_migrations_apply(consult_store *s, char *err, size_t errlen);

#endif
