/* store_health.c - store failures made visible: the error log line, the
 * `health` fields about the store, the disk and the WAL.
 *
 * Contract: glue_store_watch() registers the store's error hook, which logs
 * one line per store failure: the SQLite error name only (never values, so
 * never personal data). glue_store_health() fills the store part of the
 * admin `health` reply (see protocol.md, Admin API): a write probe (one real
 * commit that changes nothing), the free space of the database's file
 * system against min_free_disk_mb, and the size of the -wal file. Both run
 * under glue.lock (the probe uses the store's connection).
 */
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "store_health.h"

static void on_store_error(void *ud, int rc, const char *name) {
	(void)ud;
	JANUS_LOG(LOG_ERR, "[consult] store error %s (%d)\n", name, rc);
}

void glue_store_watch(void) {
	consult_store_set_error_hook(glue.store, on_store_error, NULL);
}

/* Free space for unprivileged writers of the database's folder, in MiB; -1 if unknown. */
static int64_t disk_free_mb(void) {
	gchar *dir = g_path_get_dirname(glue.cfg.database);
	struct statvfs v;
	int rc = statvfs(dir, &v);
	g_free(dir);
	if(rc != 0)
		return -1;
	return (int64_t)((guint64)v.f_bavail * v.f_frsize / (1024 * 1024));
}

static int64_t wal_bytes(void) {
	gchar *wal = g_strconcat(glue.cfg.database, "-wal", NULL);
	struct stat st;
	int rc = stat(wal, &st);
	g_free(wal);
	return rc == 0 ? (int64_t)st.st_size : 0;
}

bool glue_store_health(json_t *reply) {
	const char *name = NULL;
	bool store_ok = consult_store_write_probe(glue.store, &name) == CONSULT_OK;
	json_object_set_new(reply, "store", json_string(store_ok ? "ok" : "failing"));
	if(!store_ok) {
		json_object_set_new(reply, "store_error", json_string(name && *name ? name : "SQLITE_ERROR"));
		JANUS_LOG(LOG_ERR, "[consult] health: store failing (%s)\n", name && *name ? name : "SQLITE_ERROR");
	}
	int64_t free_mb = disk_free_mb();
	bool disk_ok = free_mb < 0 || glue.cfg.min_free_disk_mb == 0 || free_mb >= glue.cfg.min_free_disk_mb;
	json_object_set_new(reply, "disk", json_string(free_mb < 0 ? "unknown" : disk_ok ? "ok" : "low"));
	json_object_set_new(reply, "disk_free_mb", free_mb < 0 ? json_null() : json_integer(free_mb));
	json_object_set_new(reply, "min_free_disk_mb", json_integer(glue.cfg.min_free_disk_mb));
	if(!disk_ok)
		JANUS_LOG(LOG_WARN, "[consult] health: %"G_GINT64_FORMAT" MB free on the database's disk, below min_free_disk_mb %"G_GINT64_FORMAT"\n",
			free_mb, glue.cfg.min_free_disk_mb);
	json_object_set_new(reply, "wal_bytes", json_integer(wal_bytes()));
	json_object_set_new(reply, "wal_limit_bytes", json_integer(CONSULT_STORE_WAL_LIMIT));
	return store_ok && disk_ok;
}
