/* config_delivery.c - the configuration keys of invitations, retention,
 * staff idle time (issue 3) and forwarding (issue 5).
 *
 * Contract: called by glue_config_load after the core keys; every key is
 * optional and checked (ranges from core/retention.h and core/backoff.h,
 * URLs by scheme, addresses by core/email.h, the country by core/phone.h).
 * E-mail is on when smtp_url is set (then smtp_from is required), SMS when
 * sms_url is set (then sms_body is required). The SMTP password and the SMS
 * auth header are secrets: never logged, wiped at clear. A test-only key
 * (forward_e2ee_test_off) is refused unless CONSULT_TEST=1 is in the
 * environment, so a production server can never run it.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <janus/debug.h>
#include <sodium.h>
#include "cfg_util.h"
#include "core/email.h"
#include "core/phone.h"
#include "core/retention.h"
#include "core/backoff.h"

bool glue_cfg_bool(janus_config *cfg, janus_config_category *g, const char *key, bool def, bool *out) {
	const char *v = glue_cfg_item(cfg, g, key);
	if(v == NULL) {
		*out = def;
	} else if(strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
		*out = true;
	} else if(strcmp(v, "false") == 0 || strcmp(v, "no") == 0) {
		*out = false;
	} else {
		JANUS_LOG(LOG_FATAL, "[consult] config: %s must be true or false\n", key);
		return false;
	}
	return true;
}

/* Optional string without control characters, at most max bytes. */
static bool str_key(janus_config *cfg, janus_config_category *g, const char *key, size_t max, char **out) {
	const char *v = glue_cfg_item(cfg, g, key);
	*out = NULL;
	if(v == NULL || *v == '\0')
		return true;
	size_t n = strlen(v);
	bool ok = n <= max && g_utf8_validate(v, -1, NULL);
	for(size_t i = 0; ok && i < n; i++)
		if((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			ok = false;
	if(!ok) {
		JANUS_LOG(LOG_FATAL, "[consult] config: %s must be UTF-8 text of at most %zu bytes without control characters\n", key, max);
		return false;
	}
	*out = g_strdup(v);
	return true;
}

static bool url_ok(const char *u, const char *const *schemes) {
	for(; *schemes; schemes++) {
		size_t n = strlen(*schemes);
		if(strncmp(u, *schemes, n) == 0 && u[n] != '\0') {
			for(const char *c = u; *c; c++)
				if((unsigned char)*c <= ' ' || *c == '"')
					return false;
			return true;
		}
	}
	return false;
}

static int load_smtp(janus_config *cfg, janus_config_category *g, glue_config *out) {
	static const char *const smtp[] = { "smtp://", "smtps://", NULL };
	if(!str_key(cfg, g, "smtp_url", 512, &out->smtp_url) || !str_key(cfg, g, "smtp_user", 256, &out->smtp_user) ||
			!str_key(cfg, g, "smtp_password", 256, &out->smtp_password) ||
			!str_key(cfg, g, "smtp_from", CONSULT_EMAIL_MAX, &out->smtp_from) ||
			!str_key(cfg, g, "smtp_from_name", 120, &out->smtp_from_name) ||
			!str_key(cfg, g, "smtp_reply_to", CONSULT_EMAIL_MAX, &out->smtp_reply_to) ||
			!str_key(cfg, g, "smtp_ca_file", 1024, &out->smtp_ca_file) ||
			!glue_cfg_bool(cfg, g, "smtp_starttls", true, &out->smtp_starttls) ||
			!glue_cfg_int(cfg, g, "smtp_timeout_seconds", 30, 1, 300, &out->smtp_timeout))
		return -1;
	if(out->smtp_url == NULL)
		return 0;
	if(!url_ok(out->smtp_url, smtp)) {
		JANUS_LOG(LOG_FATAL, "[consult] config: smtp_url must be smtp://HOST[:PORT] or smtps://HOST[:PORT]\n");
		return -1;
	}
	if(out->smtp_from == NULL || consult_email_check(out->smtp_from) != CONSULT_OK) {
		JANUS_LOG(LOG_FATAL, "[consult] config: smtp_from (the sender address) is required with smtp_url and must be a plain address\n");
		return -1;
	}
	if(out->smtp_reply_to && consult_email_check(out->smtp_reply_to) != CONSULT_OK) {
		JANUS_LOG(LOG_FATAL, "[consult] config: smtp_reply_to must be a plain address\n");
		return -1;
	}
	if((out->smtp_user == NULL) != (out->smtp_password == NULL)) {
		JANUS_LOG(LOG_FATAL, "[consult] config: smtp_user and smtp_password go together\n");
		return -1;
	}
	return 0;
}

static int load_sms(janus_config *cfg, janus_config_category *g, glue_config *out) {
	static const char *const http[] = { "http://", "https://", NULL };
	const char *m = glue_cfg_item(cfg, g, "sms_method");
	const char *f = glue_cfg_item(cfg, g, "sms_body_format");
	if(!str_key(cfg, g, "sms_url", 1024, &out->sms_url) || !str_key(cfg, g, "sms_auth_header", 1024, &out->sms_auth_header) ||
			!str_key(cfg, g, "sms_body", 4096, &out->sms_body) || !str_key(cfg, g, "sms_sender", 32, &out->sms_sender) ||
			!glue_cfg_int(cfg, g, "sms_timeout_seconds", 15, 1, 120, &out->sms_timeout))
		return -1;
	if(m != NULL && strcmp(m, "POST") != 0 && strcmp(m, "GET") != 0) {
		JANUS_LOG(LOG_FATAL, "[consult] config: sms_method must be \"POST\" or \"GET\"\n");
		return -1;
	}
	out->sms_get = m != NULL && strcmp(m, "GET") == 0;
	if(f != NULL && strcmp(f, "json") != 0 && strcmp(f, "form") != 0) {
		JANUS_LOG(LOG_FATAL, "[consult] config: sms_body_format must be \"json\" or \"form\"\n");
		return -1;
	}
	out->sms_form = f != NULL && strcmp(f, "form") == 0;
	if(out->sms_url == NULL)
		return 0;
	if(!url_ok(out->sms_url, http)) {
		JANUS_LOG(LOG_FATAL, "[consult] config: sms_url must start with http:// or https://\n");
		return -1;
	}
	if(out->sms_body == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] config: sms_body (the request body template with {{to}} {{text}} {{sender}}) is required with sms_url\n");
		return -1;
	}
	if(out->sms_auth_header && strchr(out->sms_auth_header, ':') == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] config: sms_auth_header must be a header line \"Name: value\"\n");
		return -1;
	}
	return 0;
}

static int load_retention(janus_config *cfg, janus_config_category *g, glue_config *out) {
	if(!glue_cfg_int(cfg, g, "retention_days", CONSULT_RETENTION_DAYS_DEFAULT, CONSULT_RETENTION_DAYS_MIN,
				CONSULT_RETENTION_DAYS_MAX, &out->retention_days) ||
			!glue_cfg_int(cfg, g, "contact_hours", CONSULT_CONTACT_HOURS_DEFAULT, CONSULT_CONTACT_HOURS_MIN,
				CONSULT_CONTACT_HOURS_MAX, &out->contact_hours) ||
			!glue_cfg_int(cfg, g, "purge_interval_minutes", 60, 1, 1440, &out->purge_interval_minutes))
		return -1;
	const char *bad = NULL;
	if(consult_retention_check(out->retention_days, out->contact_hours, &bad) != CONSULT_OK) {
		JANUS_LOG(LOG_FATAL, "[consult] config: contact_hours must not be longer than retention_days\n");
		return -1;
	}
	return 0;
}

int glue_config_load_delivery(janus_config *cfg, janus_config_category *g, const char *config_path, glue_config *out) {
	if(load_smtp(cfg, g, out) != 0 || load_sms(cfg, g, out) != 0 || load_retention(cfg, g, out) != 0)
		return -1;
	if(!str_key(cfg, g, "templates_dir", 1024, &out->templates_dir) || !str_key(cfg, g, "timezone", 64, &out->timezone) ||
			!str_key(cfg, g, "default_country", 2, &out->default_country))
		return -1;
	if(out->templates_dir == NULL)
		out->templates_dir = g_build_filename(config_path ? config_path : ".", "consult-messages", NULL);
	if(out->timezone == NULL)
		out->timezone = g_strdup("Europe/Berlin");
	GTimeZone *tz = g_time_zone_new_identifier(out->timezone);
	if(tz == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] config: timezone must be an IANA time zone name such as \"Europe/Berlin\"\n");
		return -1;
	}
	g_time_zone_unref(tz);
	if(out->default_country == NULL)
		out->default_country = g_strdup("DE");
	if(consult_phone_country_find(out->default_country) == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] config: default_country must be one of DE AT CH FR NL BE GB LU IT DK PL\n");
		return -1;
	}
	consult_backoff bo = consult_backoff_default();
	if(!glue_cfg_int(cfg, g, "reminder_minutes", 120, 0, 10080, &out->reminder_minutes) ||
			!glue_cfg_int(cfg, g, "staff_idle_minutes", 60, 1, 1440, &out->staff_idle_minutes) ||
			!glue_cfg_int(cfg, g, "delivery_backoff_base_seconds", bo.base_s, 1, 3600, &out->backoff_base) ||
			!glue_cfg_int(cfg, g, "delivery_max_attempts", bo.max_attempts, 1, 100, &out->max_attempts) ||
			!glue_cfg_int(cfg, g, "p2p_timeout_seconds", 10, 3, 120, &out->p2p_timeout_seconds) ||
			!glue_cfg_bool(cfg, g, "forward_e2ee_test_off", false, &out->forward_e2ee_test_off))
		return -1;
	if(out->forward_e2ee_test_off && g_strcmp0(g_getenv("CONSULT_TEST"), "1") != 0) {
		JANUS_LOG(LOG_FATAL, "[consult] config: forward_e2ee_test_off is for tests only (needs CONSULT_TEST=1)\n");
		return -1;
	}
	return 0;
}

static void wipe(char **s) {
	if(*s) {
		sodium_memzero(*s, strlen(*s));
		g_free(*s);
		*s = NULL;
	}
}

void glue_config_clear_delivery(glue_config *cfg) {
	char **plain[] = { &cfg->templates_dir, &cfg->timezone, &cfg->default_country, &cfg->smtp_url, &cfg->smtp_user,
		&cfg->smtp_from, &cfg->smtp_from_name, &cfg->smtp_reply_to, &cfg->smtp_ca_file, &cfg->sms_url,
		&cfg->sms_body, &cfg->sms_sender };
	for(size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
		g_free(*plain[i]);
		*plain[i] = NULL;
	}
	wipe(&cfg->smtp_password);
	wipe(&cfg->sms_auth_header);
}
