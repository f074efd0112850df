/* store_sqlite.h - what only the SQLite backend of store.h has.
 *
 * Contract: for the SQLite store's own tests and tools, never for the glue
 * (which speaks store.h only). Schema versions are PRAGMA user_version;
 * the connection settings are what SQLite reports on the store's
 * connection (INTERNAL on a PostgreSQL store). No personal data anywhere.
 */
#ifndef CONSULT_STORE_SQLITE_H
#define CONSULT_STORE_SQLITE_H

#include "store.h"

/* The schema version of the open store (SQLite: PRAGMA user_version; also
 * PostgreSQL's, from table consult_schema), -1 on failure. */
int consult_store_schema_version(consult_store *s);
/* The newest schema version this build migrates to. */
int consult_store_latest_version(void);

/* Connection settings as SQLite reports them. */
typedef struct consult_store_settings {
	bool wal, foreign_keys, secure_delete;
	int synchronous; /* 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA */
	int busy_timeout_ms;
	int wal_autocheckpoint; /* 0 while upkeep (consult_store_maintain) checkpoints */
	int64_t journal_size_limit;
} consult_store_settings;
consult_err consult_store_get_settings(consult_store *s, consult_store_settings *out);

/* Commits on the store's connection since open and the WAL's frames after
 * the newest one, as upkeep sees them (both 0 for an in-memory store, whose
 * checkpoints SQLite keeps doing itself). Any thread. */
void consult_store_wal_status(consult_store *s, int *frames, unsigned *commits);

/* "SQLITE_FULL" etc. for a (possibly extended) SQLite result code. */
const char *consult_store_rc_name(int rc);

#endif
