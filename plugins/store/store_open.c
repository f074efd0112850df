/* store_open.c - opening and closing a store handle, whichever the backend,
 * and the error counters of store.h.
 *
 * Contract: consult_store_open() picks the driver from the location: a
 * URL "postgresql://..." or "postgres://..." (a libpq connection URI) is
 * PostgreSQL (db_pg.c), any other URL scheme is refused, everything else is
 * an SQLite file path or ":memory:" (store_sqlite.c). The driver connects,
 * then the schema is migrated to the newest version (migrations.h) and the
 * backend's upkeep starts (SQLite). Messages in err name no values (the
 * URL may hold a password: it never appears). The domain operations live
 * in store_people.c, store_visits.c, store_delivery.c, store_retention.c,
 * store_devices.c, store_sessions.c, store_lifecycle.c and store_calls.c;
 * they share the handle and helpers through store_internal.h. No logging.
 */
#include "store.h"
#include "store_internal.h"
#include "store_sqlite.h"
#include "migrations.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which driver speaks this location: 1 PostgreSQL, 0 SQLite, -1 none. */
static int backend_of(const char *location)
{
	if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0)
		return 1;
	return strstr(location, "://") ? -1 : 0;
}

static void release(consult_store *s)
{
	for (int i = 0; i < STORE_SLOTS; i++) {
		if (s->cache[i])
			s->drv->finalize(s->cache[i]);
		s->cache[i] = NULL;
	}
	if (s->drv)
		s->drv->close(s);
	free(s->path);
	free(s);
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
	int backend = backend_of(location);
	if (backend < 0) {
		snprintf(err, errlen,
		        "the database must be a file path (SQLite) or a postgresql:// URL, not another URL scheme");
		return NULL;
	}
	consult_store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	bool ok = backend ? db_pg_open(s, location, err, errlen) : db_sqlite_open(s, location, err, errlen);
	if (!ok || consult_migrations_apply(s, err, errlen) != 0) {
		release(s);
		return NULL;
	}
	if (s->db)
		store_sqlite_ready(s);
	s->last_error[0] = '\0';
	s->err_name[0] = '\0';
	atomic_store(&s->errors, 0u);
	return s;
}

void consult_store_close(consult_store *s)
{
	if (s)
		release(s);
}

int consult_store_schema_version(consult_store *s)
{
	int v = -1;
	if (!s || consult_migrations_version(s, &v) != 0)
		return -1;
	return v;
}

int consult_store_latest_version(void)
{
	return consult_migrations_latest();
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

void consult_store_set_wait_hook(consult_store *s, consult_store_wait_hook hook, void *ud)
{
	s->wait_hook = hook;
	s->wait_ud = ud;
}

unsigned consult_store_error_count(consult_store *s)
{
	return s ? atomic_load(&s->errors) : 0;
}

const char *consult_store_last_error_name(consult_store *s)
{
	return s ? s->err_name : "";
}
