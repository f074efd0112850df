/* store_sqlite.c - the connection of the SQLite backend: open, tune,
 * close and the settings of store_sqlite.h.
 *
 * Contract: one SQLite file per store handle, opened with WAL, synchronous
 * NORMAL, foreign keys, a 5 s busy timeout, secure_delete and
 * journal_size_limit (CONSULT_STORE_LOG_LIMIT); store_open.c then migrates
 * it (migrations.h). For a file, upkeep (store_maintain.c) gets its own
 * connection at open and the store's connection stops checkpointing inside
 * commits. The statements run through the SQLite driver (db_sqlite.c).
 * Silent: no logging.
 */
#include "store.h"
#include "store_internal.h"
#include "store_sqlite.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

bool store_exec_pragma(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return true;
	if (err && errlen)
		snprintf(err, errlen, "%s failed: %s", sql, sqlite3_errmsg(db));
	return false;
}

int store_pragma_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	buf[0] = '\0';
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			snprintf(buf, len, "%s", t ? (const char *)t : "");
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The connection settings every store connection gets before migration. */
static bool tune(consult_store *s, char *err, size_t errlen)
{
	char mode[16];
	if (!store_exec_pragma(s->db, "PRAGMA busy_timeout = 5000", err, errlen) ||
	        !store_exec_pragma(s->db, "PRAGMA foreign_keys = ON", err, errlen) ||
	        !store_exec_pragma(s->db, "PRAGMA secure_delete = ON", err, errlen))
		return false;
	if (store_pragma_text(s->db, "PRAGMA journal_mode = WAL", mode, sizeof mode) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set WAL mode: %s", sqlite3_errmsg(s->db));
		return false;
	}
	/* An in-memory database reports "memory"; a file must be in WAL. */
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
		snprintf(err, errlen, "cannot set WAL mode (journal mode is %s)", mode);
		return false;
	}
	return store_exec_pragma(s->db, "PRAGMA synchronous = NORMAL", err, errlen) &&
	        store_exec_pragma(s->db, STORE_WAL_LIMIT_PRAGMA, err, errlen);
}

bool db_sqlite_open(consult_store *s, const char *location, char *err, size_t errlen)
{
	s->drv = &db_sqlite_driver;
	bool memory = strcmp(location, ":memory:") == 0;
	if (!memory && !(s->path = strdup(location))) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	int rc = sqlite3_open_v2(location, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return false;
	}
	sqlite3_extended_result_codes(s->db, 1);
	return tune(s, err, errlen);
}

/* After migration: upkeep's own connection for a file. */
void store_sqlite_ready(consult_store *s)
{
	if (s->path)
		store_upkeep_start(s);
}

void store_sqlite_close(consult_store *s)
{
	store_upkeep_stop(s);
	sqlite3_close(s->db); /* the last connection to close checkpoints the WAL */
	s->db = NULL;
}

consult_err consult_store_get_settings(consult_store *s, consult_store_settings *out)
{
	if (!s->db) {
		memset(out, 0, sizeof *out);
		snprintf(s->last_error, sizeof s->last_error, "not an SQLite store");
		return CONSULT_ERR_INTERNAL;
	}
	static const char *const q[] = {
		"PRAGMA journal_mode",
		"PRAGMA foreign_keys",
		"PRAGMA secure_delete",
		"PRAGMA synchronous",
		"PRAGMA busy_timeout",
		"PRAGMA wal_autocheckpoint",
		"PRAGMA journal_size_limit",
	};
	char v[sizeof q / sizeof q[0]][32];
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		if (store_pragma_text(s->db, q[i], v[i], sizeof v[i]) != SQLITE_OK) {
			store_remember_error(s);
			return CONSULT_ERR_INTERNAL;
		}
	}
	out->wal = strcmp(v[0], "wal") == 0;
	out->foreign_keys = atoi(v[1]) == 1;
	out->secure_delete = atoi(v[2]) == 1;
	out->synchronous = atoi(v[3]);
	out->busy_timeout_ms = atoi(v[4]);
	out->wal_autocheckpoint = atoi(v[5]);
	out->journal_size_limit = strtoll(v[6], NULL, 10);
	return CONSULT_OK;
}
