/* retention_glue.c - the three-month rule inside the plugin: the periodic
 * purge (timer thread, every purge_interval_minutes, first one at start)
 * and the admin request `purge`.
 *
 * Contract: cutoffs from core/retention (retention_days, contact_hours of
 * the configuration, `now` given by the caller); the store deletes and
 * wipes in one transaction and truncates the WAL (store.h). Runs on the
 * store handle it is given: the admin request's under glue.lock, the
 * timer's own one without it (timer_store.c); it reads only the
 * configuration and changes nothing in memory. Logs counts only (never which appointments). Device tokens
 * unused for GLUE_DEVICE_TTL_DAYS and staff sessions past their idle
 * expiry (auth.h) are deleted in the same run.
 */
#include <string.h>
#include <glib.h>
#include <janus/debug.h>
#include "core/retention.h"
#include "glue.h"
#include "auth.h"

consult_err glue_retention_run(consult_store *st, int64_t now, consult_purge_counts *out)
{
	consult_retention_cutoffs cut;
	consult_purge_counts n;
	memset(&n, 0, sizeof(n));
	consult_err e = consult_retention_cutoffs_at(now, glue.cfg.retention_days, glue.cfg.contact_hours, &cut);
	if (e == CONSULT_OK)
		e = consult_store_purge(st, cut.purge_before, cut.wipe_contact_before, now, &n);
	if (e != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] retention purge failed (%s): %s\n", consult_err_name(e),
		        consult_store_last_error(st));
		return CONSULT_ERR_INTERNAL;
	}
	int64_t devices = 0;
	if (consult_store_devices_purge(st, now - (int64_t)GLUE_DEVICE_TTL_DAYS * 24 * 3600, &devices) != CONSULT_OK)
		JANUS_LOG(
		        LOG_ERR, "[consult] purge of unused device tokens failed: %s\n", consult_store_last_error(st));
	else if (devices > 0)
		JANUS_LOG(LOG_INFO,
		        "[consult] retention purge: %" G_GINT64_FORMAT " device tokens unused for %d days deleted\n",
		        devices, GLUE_DEVICE_TTL_DAYS);
	int64_t sessions = 0;
	int64_t unused = glue.cfg.staff_idle_minutes * 60 + GLUE_SESSION_TOUCH_S;
	if (consult_store_sessions_purge(st, now - unused, &sessions) != CONSULT_OK)
		JANUS_LOG(LOG_ERR, "[consult] purge of expired staff sessions failed: %s\n",
		        consult_store_last_error(st));
	else if (sessions > 0)
		JANUS_LOG(LOG_VERB, "[consult] retention purge: %" G_GINT64_FORMAT " expired staff sessions deleted\n",
		        sessions);
	int level = (n.appointments > 0 || n.contacts_wiped > 0) ? LOG_INFO : LOG_VERB;
	JANUS_LOG(level,
	        "[consult] retention purge: %" G_GINT64_FORMAT " appointments, %" G_GINT64_FORMAT
	        " visits, %" G_GINT64_FORMAT " deliveries deleted; %" G_GINT64_FORMAT " contacts wiped\n",
	        n.appointments, n.visits, n.deliveries, n.contacts_wiped);
	if (out)
		*out = n;
	return CONSULT_OK;
}
