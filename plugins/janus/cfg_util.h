/* cfg_util.h - helpers shared by the configuration loaders (config.c,
 * config_delivery.c).
 *
 * Contract: each reads one key of the `general` category. A bad value is
 * logged once at LOG_FATAL with the key name and the allowed values (never
 * the value itself: it may be a secret) and the helper returns false.
 */
#ifndef CONSULT_GLUE_CFG_UTIL_H
#define CONSULT_GLUE_CFG_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <config.h> /* Janus */
#include "cfg.h"

/* The raw value of a key, NULL if absent. */
const char *glue_cfg_item(janus_config *cfg, janus_config_category *general, const char *key);
/* Integer with default and range. */
bool glue_cfg_int(janus_config *cfg, janus_config_category *g, const char *key, int64_t def, int64_t lo, int64_t hi,
        int64_t *out);
/* true/yes/false/no with a default. */
bool glue_cfg_bool(janus_config *cfg, janus_config_category *g, const char *key, bool def, bool *out);
/* The issue 3/5 keys (config_delivery.c); 0 or -1 (logged). */
int glue_config_load_delivery(janus_config *cfg, janus_config_category *g, const char *config_path, glue_config *out);

#endif
