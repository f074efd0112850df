/* cfg.h - the plugin's configuration (janus.plugin.consult.jcfg).
 *
 * Contract: glue_config_load() reads <config_path>/janus.plugin.consult.jcfg,
 * validates every key (see conf/janus.plugin.consult.jcfg.sample) and fills
 * a glue_config. Any missing required key or bad value: one LOG_FATAL line
 * naming the key and the allowed values (never the secret's value) and -1.
 */
#ifndef CONSULT_GLUE_CFG_H
#define CONSULT_GLUE_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include "core/code.h"
#include "core/turn.h"

#define GLUE_CONFIG_FILE "janus.plugin.consult.jcfg"

typedef enum { GLUE_COST_INTERACTIVE = 0, GLUE_COST_MODERATE } glue_pw_cost;

typedef struct glue_config {
	char *database;                 /* SQLite file path */
	uint8_t code_secret[CONSULT_CODE_KEY_LEN];
	char *public_url;               /* no trailing slash */
	int64_t grace_seconds;          /* 5..3600 */
	int64_t join_before_minutes;    /* 0..1440 */
	int64_t join_after_minutes;     /* 1..1440 */
	glue_pw_cost password_cost;
	bool events;
	/* TURN (issue 4): URIs validated by core/turn.h; lists may be empty. */
	char *stun_uris[CONSULT_TURN_URIS_MAX];   /* stun: only */
	size_t n_stun;
	char *turn_uris[CONSULT_TURN_URIS_MAX];   /* turn: / turns: only */
	size_t n_turn;
	char *turn_secret;              /* required when n_turn > 0; never logged */
	int64_t turn_ttl;               /* 60..86400, default 3600 */
	int64_t call_lost_seconds;      /* 5..300, default 20 */
} glue_config;

int glue_config_load(const char *config_path, glue_config *out);
void glue_config_clear(glue_config *cfg);

#endif
