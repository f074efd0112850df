/* store_health.h - store failures made visible (store_health.c). */
#ifndef CONSULT_GLUE_STORE_HEALTH_H
#define CONSULT_GLUE_STORE_HEALTH_H

#include <stdbool.h>
#include <jansson.h>
#include "store/store.h"

/* Logs every store failure (error name only) from now on. */
void glue_store_watch(void);
/* The same for another handle on the database (timer_store.c). */
void glue_store_watch_handle(consult_store *st);
/* Sets store, store_error?, disk, disk_free_mb, min_free_disk_mb,
 * wal_bytes, wal_limit_bytes on reply; true if store and disk are ok.
 * Under glue.lock. */
bool glue_store_health(json_t *reply);

#endif
