/* store_sqlite.c - the connection of the SQLite store: open, migrate,
 * close, settings and the error counters of store.h.
 *
 * Contract: one SQLite file per store handle, opened with WAL, synchronous
 * NORMAL, foreign keys, a 5 s busy timeout, secure_delete and
 * journal_size_limit (CONSULT_STORE_LOG_LIMIT), then migrated to the newest
 * schema (migrations.h). For a file, upkeep (store_maintain.c) gets its own
 * connection at open and the store's connection stops checkpointing inside
 * commits. A location that names another backend (a URL such as
 * "postgresql://...") is refused: this build links the SQLite backend. The
 * domain operations live in store_people.c, store_visits.c,
 * store_delivery.c, store_retention.c and store_devices.c; they share the
 * handle and helpers through store_internal.h. Silent: no logging.
 */
#include "store.h"
#include "store_internal.h"
#include "store_sqlite.h"
#include "migrations.h"

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

consult_store *consult_store_open(const char *location, char *err, size_t errlen)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (!location) {
		snprintf(err, errlen, "no database path");
		return NULL;
	}
	if (strstr(location, "://")) {
		snprintf(err, errlen, "this build stores in SQLite: the database must be a file path, not a URL");
		return NULL;
	}
	consult_store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bool memory = strcmp(location, ":memory:") == 0;
	if (!memory && !(s->path = strdup(location))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int rc = sqlite3_open_v2(location, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (!tune(s, err, errlen) || consult_migrations_apply(s->db, err, errlen) != 0)
		goto fail;
	if (!memory)
		store_upkeep_start(s);
	return s;
fail:
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	return NULL;
}

void consult_store_close(consult_store *s)
{
	if (!s)
		return;
	store_upkeep_stop(s);
	for (int i = 0; i < STORE_SLOTS; i++)
		sqlite3_finalize(s->cache[i]);
	sqlite3_close(s->db); /* the last connection to close checkpoints the WAL */
	free(s->path);
	free(s);
}

int consult_store_schema_version(consult_store *s)
{
	int v = -1;
	if (!s || consult_migrations_version(s->db, &v) != SQLITE_OK)
		return -1;
	return v;
}

int consult_store_latest_version(void)
{
	return consult_migrations_latest();
}

consult_err consult_store_get_settings(consult_store *s, consult_store_settings *out)
{
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

const char *consult_store_last_error(consult_store *s)
{
	return s ? s->last_error : "";
}

void consult_store_set_error_hook(consult_store *s, consult_store_error_hook hook, void *ud)
{
	s->hook = hook;
	s->hook_ud = ud;
}

unsigned consult_store_error_count(consult_store *s)
{
	return s ? atomic_load(&s->errors) : 0;
}

const char *consult_store_last_error_name(consult_store *s)
{
	return s && s->last_rc ? consult_store_rc_name(s->last_rc) : "";
}
