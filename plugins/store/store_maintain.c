/* store_maintain.c - upkeep and the health probe of the store: for SQLite
 * WAL checkpoints off the writer's path and the TRUNCATE checkpoint after
 * a purge, for both backends the write probe, disk and WAL figures (store.h,
 * consult_store_maintain / consult_store_probe).
 *
 * Contract: SQLite normally checkpoints inside the commit that grows the
 * WAL past 1000 pages, with two fsyncs, while the caller holds its lock.
 * Instead, for a file, open gives upkeep a second connection and turns the
 * store connection's automatic checkpoint off (wal_autocheckpoint = 0); a
 * WAL hook on the store connection (run by SQLite after each commit, on the
 * writer's thread) publishes the WAL size and a commit count in atomics.
 * consult_store_maintain, on the caller's upkeep thread and without its
 * lock, reads those and checkpoints through its own connection only:
 * every UPKEEP_PERIOD seconds or once the WAL holds UPKEEP_FRAMES pages,
 * when something was committed since the last complete run. Each run is
 * PASSIVE (copies what it can, never waits for or blocks the writer) and,
 * if that copied everything, TRUNCATE (empties the -wal file, holding the
 * writer back at most the 200 ms busy timeout); a PASSIVE checkpoint alone
 * never shrinks the file. A run that could not truncate is tried again
 * after UPKEEP_PERIOD even without new commits. If the connection cannot
 * be had, SQLite keeps checkpointing inside commits and the first maintain
 * call says why. The probe runs on the store connection under the lock.
 * On PostgreSQL there is no upkeep connection (s->ckpt NULL, no note):
 * maintain does nothing, since the server checkpoints and vacuums itself;
 * the probe reports disk and WAL as unknown (-1).
 */
#include "store_internal.h"
#include "store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define UPKEEP_PERIOD 10 /* seconds */
#define UPKEEP_FRAMES 1000

struct store_ckpt {
	sqlite3 *db;
	int64_t at;       /* now of the last run */
	unsigned commits; /* commits counted at the last complete run */
};

/* sqlite3_wal_hook callback: after each commit on the writer's connection. */
static int wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	consult_store *s = ud;
	atomic_store(&s->wal_frames, frames);
	atomic_fetch_add(&s->wal_commits, 1u);
	return SQLITE_OK;
}

/* The checkpoint-only connection to the store's file, or NULL with the reason in err. */
static sqlite3 *ckpt_connect(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	/* no CREATE: the store has made the file; no shared cache */
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_PRIVATECACHE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database for checkpoints: %s",
		        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	char mode[16];
	/* Reading the journal mode also opens the WAL on this connection. The
	 * short busy timeout bounds how long the TRUNCATE step holds writers
	 * back while it waits for a commit or a reader (e.g. a backup). This
	 * connection never writes rows and must not checkpoint on its own. */
	bool ok = store_exec_pragma(db, "PRAGMA busy_timeout = 200", err, errlen) &&
	        store_pragma_text(db, "PRAGMA journal_mode", mode, sizeof mode) == SQLITE_OK;
	if (ok && strcmp(mode, "wal") != 0) {
		snprintf(err, errlen, "checkpoint connection: journal mode is %s, not wal", mode);
		ok = false;
	}
	ok = ok && store_exec_pragma(db, "PRAGMA wal_autocheckpoint = 0", err, errlen) &&
	        store_exec_pragma(db, STORE_WAL_LIMIT_PRAGMA, err, errlen);
	if (!ok) {
		if (!err[0])
			snprintf(err, errlen, "checkpoint connection: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

void store_upkeep_start(consult_store *s)
{
	char err[sizeof s->upkeep_note - 48] = "";
	sqlite3 *db = ckpt_connect(s->path, err, sizeof err);
	if (db && !store_exec_pragma(s->db, "PRAGMA wal_autocheckpoint = 0", err, sizeof err)) {
		sqlite3_close(db);
		db = NULL;
	}
	if (db && !(s->ckpt = calloc(1, sizeof *s->ckpt))) {
		snprintf(err, sizeof err, "out of memory");
		sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 1000", NULL, NULL, NULL);
		sqlite3_close(db);
		db = NULL;
	}
	if (!db) {
		snprintf(s->upkeep_note, sizeof s->upkeep_note, "WAL checkpoints stay inside commits: %s", err);
		return;
	}
	s->ckpt->db = db;
	/* replaces the (now disabled) auto-checkpoint hook: counting only */
	sqlite3_wal_hook(s->db, wal_hook, s);
}

void store_upkeep_stop(consult_store *s)
{
	if (!s->ckpt)
		return;
	sqlite3_close(s->ckpt->db);
	free(s->ckpt);
	s->ckpt = NULL;
}

/* PASSIVE, then TRUNCATE if everything was copied; busy is not a failure. */
static consult_err checkpoint(store_ckpt *c, consult_store_upkeep *r)
{
	int log = -1, done = -1;
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
	r->due = log;
	r->done = done;
	if (rc == SQLITE_OK && log >= 0 && done == log) {
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		r->complete = rc == SQLITE_OK;
	}
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return CONSULT_OK;
	snprintf(r->error, sizeof r->error, "WAL checkpoint failed: %s", sqlite3_errmsg(c->db));
	return CONSULT_ERR_INTERNAL;
}

consult_err consult_store_maintain(consult_store *s, int64_t now, consult_store_upkeep *out)
{
	consult_store_upkeep r;
	memset(&r, 0, sizeof r);
	consult_err e = CONSULT_OK;
	store_ckpt *c = s ? s->ckpt : NULL;
	if (!c) {
		/* said once: s->upkeep_note belongs to this thread after open */
		if (s && s->upkeep_note[0]) {
			snprintf(r.error, sizeof r.error, "%s", s->upkeep_note);
			s->upkeep_note[0] = '\0';
			e = CONSULT_ERR_INTERNAL;
		}
	} else {
		int frames = atomic_load(&s->wal_frames);
		unsigned commits = atomic_load(&s->wal_commits);
		if (now < c->at)
			c->at = now; /* the clock went back: count the period from here */
		if (commits != c->commits && (frames >= UPKEEP_FRAMES || now - c->at >= UPKEEP_PERIOD)) {
			r.ran = true;
			e = checkpoint(c, &r);
			c->at = now;
			if (r.complete)
				c->commits = commits;
		}
	}
	if (out)
		*out = r;
	return e;
}

void consult_store_wal_status(consult_store *s, int *frames, unsigned *commits)
{
	if (frames)
		*frames = s ? atomic_load(&s->wal_frames) : 0;
	if (commits)
		*commits = s ? atomic_load(&s->wal_commits) : 0;
}

void store_checkpoint_truncate(consult_store *s)
{
	if (!s->db)
		return;
	if (consult_store_in_transaction(s)) {
		s->ckpt_pending = true;
		return;
	}
	int log = -1, done = -1;
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
	if (rc != SQLITE_OK) {
		snprintf(s->last_error, sizeof s->last_error, "truncate checkpoint incomplete: %s",
		        sqlite3_errmsg(s->db));
		return;
	}
	atomic_store(&s->wal_frames, 0);
}

/* --- health probe --- */

/* One real commit that changes nothing: the schema version set to its own
 * value (SQLite: PRAGMA user_version, the header page goes through the WAL
 * like any write; PostgreSQL: an UPDATE of the consult_schema row). */
static bool write_probe(consult_store *s)
{
	bool outer = false;
	int v = -1;
	bool ok = store_tx_begin(s, &outer);
	ok = ok && s->drv->version(s, &v) && s->drv->set_version(s, v);
	return store_tx_end(s, outer, ok) && ok;
}

/* Free space for unprivileged writers of the database's folder, in MiB; -1 if unknown. */
static int64_t disk_free_mb(const char *path)
{
	char *copy = path ? strdup(path) : NULL;
	if (!copy)
		return -1;
	struct statvfs v;
	int rc = statvfs(dirname(copy), &v);
	free(copy);
	return rc == 0 ? (int64_t)((unsigned long long)v.f_bavail * v.f_frsize / (1024 * 1024)) : -1;
}

static int64_t wal_bytes(const char *path)
{
	char wal[4096];
	struct stat st;
	if (!path || snprintf(wal, sizeof wal, "%s-wal", path) >= (int)sizeof wal)
		return path ? -1 : 0;
	return stat(wal, &st) == 0 ? (int64_t)st.st_size : 0;
}

consult_err consult_store_probe(consult_store *s, consult_store_health *out)
{
	unsigned before = consult_store_error_count(s);
	out->writable = write_probe(s);
	out->error = out->writable                       ? ""
	        : consult_store_error_count(s) != before ? consult_store_last_error_name(s)
	        : s->db                                  ? "SQLITE_ERROR"
	                                                 : "PG_ERROR";
	/* PostgreSQL's disk and WAL are the server's: unknown here */
	out->disk_free_mb = s->db ? disk_free_mb(s->path) : -1;
	out->log_bytes = s->db ? wal_bytes(s->path) : -1;
	out->log_limit_bytes = s->db ? CONSULT_STORE_LOG_LIMIT : -1;
	return out->writable ? CONSULT_OK : CONSULT_ERR_INTERNAL;
}
