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
#include "deliver/smtp.h"
#include "deliver/sms_http.h"

#define GLUE_CONFIG_FILE "janus.plugin.consult.jcfg"

typedef enum { GLUE_COST_INTERACTIVE = 0, GLUE_COST_MODERATE } glue_pw_cost;

typedef struct glue_config {
	char *database; /* SQLite file path */
	uint8_t code_secret[CONSULT_CODE_KEY_LEN];
	char *public_url;            /* no trailing slash */
	int64_t grace_seconds;       /* 5..3600 */
	int64_t join_before_minutes; /* 0..1440 */
	int64_t join_after_minutes;  /* 1..1440 */
	glue_pw_cost password_cost;
	int64_t password_checks; /* login password checks at once, 1..64, default online CPUs */
	bool events;
	/* TURN (issue 4): URIs validated by core/turn.h; lists may be empty. */
	char *stun_uris[CONSULT_TURN_URIS_MAX]; /* stun: only */
	size_t n_stun;
	char *turn_uris[CONSULT_TURN_URIS_MAX]; /* turn: / turns: only */
	size_t n_turn;
	char *turn_secret;         /* required when n_turn > 0; never logged */
	int64_t turn_ttl;          /* 60..86400, default 3600 */
	int64_t call_lost_seconds; /* 5..300, default 20 */

	/* Invitations and retention (issue 3; config_delivery.c). Secrets
	 * (smtp_password, sms_auth_header) are never logged. */
	char *templates_dir;   /* default <config_path>/consult-messages */
	char *timezone;        /* IANA name for dates in messages, default Europe/Berlin */
	char *default_country; /* ISO code for national phone numbers, default DE */
	char *smtp_url;        /* smtp:// or smtps://; NULL = e-mail off */
	bool smtp_starttls;    /* smtp://: require STARTTLS (default true) */
	char *smtp_user, *smtp_password, *smtp_from, *smtp_from_name, *smtp_reply_to, *smtp_ca_file;
	int64_t smtp_timeout;          /* seconds, CONSULT_SMTP_TIMEOUT_MIN..MAX, default 30 */
	char *sms_url;                 /* http(s)://; NULL = SMS off */
	consult_sms_method sms_method; /* default POST */
	consult_sms_format sms_format; /* default JSON */
	char *sms_auth_header, *sms_body, *sms_sender;
	int64_t sms_timeout;            /* seconds, CONSULT_SMS_HTTP_TIMEOUT_MIN..MAX, default 15 */
	int64_t reminder_minutes;       /* 0 = off, default 120, max 10080 */
	int64_t retention_days;         /* 1..90, default 90 */
	int64_t contact_hours;          /* 1..2160, default 24, <= retention */
	int64_t purge_interval_minutes; /* 1..1440, default 60 */
	int64_t staff_idle_minutes;     /* 1..1440, default 60 */
	int64_t backoff_base;           /* seconds, 1..3600, default 30 */
	int64_t max_attempts;           /* 1..100, default 10 */

	/* Forwarding through Janus (issue 5). */
	int64_t p2p_timeout_seconds; /* 3..120, default 10 */
	bool forward_e2ee_test_off;  /* test only: needs CONSULT_TEST=1 in Janus' environment */

	/* PostgreSQL: the requests' pool of store connections (plock.c); SQLite: unused. */
	int64_t store_connections; /* 2..8, default 4 */

	/* Store health: `health` reports the disk low below this (0 = off). */
	int64_t min_free_disk_mb; /* 0..1048576, default 200 */

	/* Several instances on one store (leases.c). */
	char *instance;        /* this instance's name, 1..64 of [A-Za-z0-9._-]; default the host name */
	int64_t lease_seconds; /* 0 = off (one instance), else 3..600; default 5 */
} glue_config;

int glue_config_load(const char *config_path, glue_config *out);
/* The issue 3/5 keys (config_delivery.c); called by glue_config_load. */
void glue_config_clear_delivery(glue_config *cfg);
void glue_config_clear(glue_config *cfg);
/* The sender configurations of a loaded glue_config (pointers borrowed);
 * the loader checks them with consult_smtp_check / consult_sms_http_check. */
consult_smtp_cfg glue_smtp_cfg(const glue_config *c);
consult_sms_http_cfg glue_sms_cfg(const glue_config *c);

#endif
