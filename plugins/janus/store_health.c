/* store_health.c - store failures made visible: the error log line and the
 * `health` fields about the store, the disk and the write-ahead log.
 *
 * Contract: glue_store_watch() registers the store's error hook, which logs
 * one line per store failure: the backend's error name only (never values,
 * so never personal data). glue_store_health() fills the store part of the
 * admin `health` reply (see protocol.md, Admin API) from the store's probe
 * (consult_store_probe: one real commit that changes nothing, free disk
 * space where the data lives, the size of the log), judging the disk
 * against min_free_disk_mb, plus the count of store failures since start
 * (the main handle's, the request pool's, plock.c, the timer's,
 * timer_store.c, and the lease renewer's, leases.c). Both run under
 * glue.lock; the probe runs on the caller's handle (glue_store(): the
 * admin request's pooled one in drop mode on PostgreSQL, so a slow
 * database does not stall the plugin for it).
 */
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "glue.h"
#include "store_health.h"

static void on_store_error(void *ud, const char *name)
{
	(void)ud;
	JANUS_LOG(LOG_ERR, "[consult] store error %s\n", name);
}

void glue_store_watch(void)
{
	consult_store_set_error_hook(glue.store, on_store_error, NULL);
}

void glue_store_watch_handle(consult_store *st)
{
	consult_store_set_error_hook(st, on_store_error, NULL);
}

bool glue_store_health(json_t *reply)
{
	consult_store_health h;
	bool store_ok = consult_store_probe(glue_store(), &h) == CONSULT_OK;
	const char *name = h.error && *h.error ? h.error : "SQLITE_ERROR";
	json_object_set_new(reply, "store", json_string(store_ok ? "ok" : "failing"));
	json_object_set_new(reply, "store_errors",
	        json_integer(consult_store_error_count(glue.store) + glue_timer_store_errors() + glue_pool_errors() +
	                glue_leases_store_errors()));
	if (!store_ok) {
		json_object_set_new(reply, "store_error", json_string(name));
		JANUS_LOG(LOG_ERR, "[consult] health: store failing (%s)\n", name);
	}
	int64_t free_mb = h.disk_free_mb;
	bool disk_ok = free_mb < 0 || glue.cfg.min_free_disk_mb == 0 || free_mb >= glue.cfg.min_free_disk_mb;
	json_object_set_new(reply, "disk", json_string(free_mb < 0 ? "unknown" : disk_ok ? "ok" : "low"));
	json_object_set_new(reply, "disk_free_mb", free_mb < 0 ? json_null() : json_integer(free_mb));
	json_object_set_new(reply, "min_free_disk_mb", json_integer(glue.cfg.min_free_disk_mb));
	if (!disk_ok)
		JANUS_LOG(LOG_WARN,
		        "[consult] health: %" G_GINT64_FORMAT
		        " MB free on the database's disk, below min_free_disk_mb %" G_GINT64_FORMAT "\n",
		        free_mb, glue.cfg.min_free_disk_mb);
	json_object_set_new(reply, "wal_bytes", h.log_bytes < 0 ? json_null() : json_integer(h.log_bytes));
	json_object_set_new(
	        reply, "wal_limit_bytes", h.log_limit_bytes < 0 ? json_null() : json_integer(h.log_limit_bytes));
	return store_ok && disk_ok;
}
