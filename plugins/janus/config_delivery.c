/* config_delivery.c - the configuration keys of invitations, retention,
 * staff idle time (issue 3) and forwarding (issue 5).
 *
 * Contract: called by glue_config_load after the core keys; every key is
 * optional and checked (ranges from core/retention.h and core/backoff.h,
 * the country by core/phone.h). The SMTP and SMS gateway keys have one
 * validator each, the one the senders run before every send
 * (consult_smtp_check, consult_sms_http_check, with their limits in
 * deliver/smtp.h and deliver/sms_http.h); this file only reads the keys
 * and names the refused one. E-mail is on when smtp_url is set (then
 * smtp_from is required), SMS when sms_url is set (then sms_body is
 * required). The SMTP password and the SMS
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
#include "clock.h"
#include "core/email.h"
#include "core/phone.h"
#include "core/retention.h"
#include "core/backoff.h"
#include "deliver/smtp.h"
#include "deliver/sms_http.h"

/* The bound of a text value whose rule lives in deliver/ (the check there
 * is stricter); it only keeps absurd values out of memory. */
#define TEXT_MAX 8192

/* Optional string without control characters, at most max bytes. */
static bool str_key(janus_config *cfg, janus_config_category *g, const char *key, size_t max, char **out)
{
	const char *v = glue_cfg_item(cfg, g, key);
	*out = NULL;
	if (v == NULL || *v == '\0')
		return true;
	size_t n = strlen(v);
	bool ok = n <= max && g_utf8_validate(v, -1, NULL);
	for (size_t i = 0; ok && i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			ok = false;
	if (!ok) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: %s must be UTF-8 text of at most %zu bytes without control characters\n",
		        key, max);
		return false;
	}
	*out = g_strdup(v);
	return true;
}

consult_smtp_cfg glue_smtp_cfg(const glue_config *c)
{
	consult_smtp_cfg sc = {
		.url = c->smtp_url,
		.starttls = c->smtp_starttls,
		.user = c->smtp_user,
		.password = c->smtp_password,
		.from = c->smtp_from,
		.timeout_s = (long)c->smtp_timeout,
		.ca_file = c->smtp_ca_file,
	};
	return sc;
}

consult_sms_http_cfg glue_sms_cfg(const glue_config *c)
{
	consult_sms_http_cfg hc = {
		.url = c->sms_url,
		.method = c->sms_method,
		.auth_header = c->sms_auth_header,
		.format = c->sms_format,
		.body = c->sms_body,
		.sender = c->sms_sender,
		.timeout_s = (long)c->sms_timeout,
	};
	return hc;
}

/* The FATAL line for a key refused by consult_smtp_check or
 * consult_sms_http_check (the rules live there); -1. */
static int deliver_fatal(const char *field, consult_err e, const char *bad)
{
	static const struct {
		const char *key, *allowed;
	} hints[] = {
		{ "smtp_url",
		        "must be smtp://HOST[:PORT] or smtps://HOST[:PORT] (at most " G_STRINGIFY(
		                CONSULT_SMTP_URL_MAX) " bytes, no spaces or user@)" },
		{ "smtp_from", "(the sender address) is required with smtp_url and must be a plain address" },
		{ "smtp_ca_file", "must be a file path" },
		{ "smtp_timeout_seconds",
		        "must be an integer in " G_STRINGIFY(CONSULT_SMTP_TIMEOUT_MIN) ".." G_STRINGIFY(
		                CONSULT_SMTP_TIMEOUT_MAX) },
		{ "sms_url",
		        "must start with http:// or https:// followed by a host (at most " G_STRINGIFY(
		                CONSULT_SMS_HTTP_URL_MAX) " bytes, no spaces or fragment)" },
		{ "sms_body_format", "must be \"form\" with sms_method \"GET\"" },
		{ "sms_auth_header",
		        "must be a header line \"Name: value\" (at most " G_STRINGIFY(
		                CONSULT_SMS_HTTP_HEADER_MAX) " bytes)" },
		{ "sms_sender", "must be text of at most " G_STRINGIFY(CONSULT_SMS_HTTP_SENDER_MAX) " bytes" },
		{ "sms_timeout_seconds",
		        "must be an integer in " G_STRINGIFY(CONSULT_SMS_HTTP_TIMEOUT_MIN) ".." G_STRINGIFY(
		                CONSULT_SMS_HTTP_TIMEOUT_MAX) },
	};
	if (field && (strcmp(field, "smtp_user") == 0 || strcmp(field, "smtp_password") == 0)) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: smtp_user and smtp_password go together, each at most %d bytes without "
		        "control characters\n",
		        CONSULT_SMTP_CRED_MAX);
		return -1;
	}
	if (field && strcmp(field, "sms_body") == 0) {
		if (e == CONSULT_ERR_MISSING_FIELD)
			JANUS_LOG(LOG_FATAL,
			        "[consult] config: sms_body (the request body template with {{to}} {{text}} "
			        "{{sender}}) is required with sms_url\n");
		else if (bad && *bad)
			JANUS_LOG(LOG_FATAL,
			        "[consult] config: sms_body has the unknown placeholder \"%s\" (allowed: to, text, "
			        "sender)\n",
			        bad);
		else
			JANUS_LOG(LOG_FATAL,
			        "[consult] config: sms_body must be a template of at most %d bytes with {{to}} "
			        "{{text}} {{sender}}\n",
			        CONSULT_SMS_HTTP_REQ_MAX / 2);
		return -1;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(hints); i++) {
		if (field && strcmp(field, hints[i].key) == 0) {
			JANUS_LOG(LOG_FATAL, "[consult] config: %s %s\n", field, hints[i].allowed);
			return -1;
		}
	}
	JANUS_LOG(LOG_FATAL, "[consult] config: %s is invalid\n", field ? field : "the delivery configuration");
	return -1;
}

static int load_smtp(janus_config *cfg, janus_config_category *g, glue_config *out)
{
	if (!str_key(cfg, g, "smtp_url", TEXT_MAX, &out->smtp_url) ||
	        !str_key(cfg, g, "smtp_user", TEXT_MAX, &out->smtp_user) ||
	        !str_key(cfg, g, "smtp_password", TEXT_MAX, &out->smtp_password) ||
	        !str_key(cfg, g, "smtp_from", TEXT_MAX, &out->smtp_from) ||
	        !str_key(cfg, g, "smtp_from_name", 120, &out->smtp_from_name) ||
	        !str_key(cfg, g, "smtp_reply_to", CONSULT_EMAIL_MAX, &out->smtp_reply_to) ||
	        !str_key(cfg, g, "smtp_ca_file", TEXT_MAX, &out->smtp_ca_file) ||
	        !glue_cfg_bool(cfg, g, "smtp_starttls", true, &out->smtp_starttls) ||
	        !glue_cfg_int(cfg, g, "smtp_timeout_seconds", CONSULT_SMTP_TIMEOUT_DEFAULT, CONSULT_SMTP_TIMEOUT_MIN,
	                CONSULT_SMTP_TIMEOUT_MAX, &out->smtp_timeout))
		return -1;
	if (out->smtp_url == NULL)
		return 0;
	const char *field = NULL;
	consult_smtp_cfg sc = glue_smtp_cfg(out);
	consult_err e = consult_smtp_check(&sc, &field);
	if (e != CONSULT_OK)
		return deliver_fatal(field, e, NULL);
	if (out->smtp_reply_to && consult_email_check(out->smtp_reply_to) != CONSULT_OK) {
		JANUS_LOG(LOG_FATAL, "[consult] config: smtp_reply_to must be a plain address\n");
		return -1;
	}
	return 0;
}

static int load_sms(janus_config *cfg, janus_config_category *g, glue_config *out)
{
	const char *m = glue_cfg_item(cfg, g, "sms_method");
	const char *f = glue_cfg_item(cfg, g, "sms_body_format");
	if (!str_key(cfg, g, "sms_url", TEXT_MAX, &out->sms_url) ||
	        !str_key(cfg, g, "sms_auth_header", TEXT_MAX, &out->sms_auth_header) ||
	        !str_key(cfg, g, "sms_body", TEXT_MAX, &out->sms_body) ||
	        !str_key(cfg, g, "sms_sender", TEXT_MAX, &out->sms_sender) ||
	        !glue_cfg_int(cfg, g, "sms_timeout_seconds", CONSULT_SMS_HTTP_TIMEOUT_DEFAULT,
	                CONSULT_SMS_HTTP_TIMEOUT_MIN, CONSULT_SMS_HTTP_TIMEOUT_MAX, &out->sms_timeout))
		return -1;
	if (!consult_sms_method_parse(m ? m : "POST", &out->sms_method)) {
		JANUS_LOG(LOG_FATAL, "[consult] config: sms_method must be \"POST\" or \"GET\"\n");
		return -1;
	}
	if (!consult_sms_format_parse(f ? f : "json", &out->sms_format)) {
		JANUS_LOG(LOG_FATAL, "[consult] config: sms_body_format must be \"json\" or \"form\"\n");
		return -1;
	}
	if (out->sms_url == NULL)
		return 0;
	const char *field = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1] = "";
	consult_sms_http_cfg hc = glue_sms_cfg(out);
	consult_err e = consult_sms_http_check(&hc, &field, bad);
	return e == CONSULT_OK ? 0 : deliver_fatal(field, e, bad);
}

static int load_retention(janus_config *cfg, janus_config_category *g, glue_config *out)
{
	if (!glue_cfg_int(cfg, g, "retention_days", CONSULT_RETENTION_DAYS_DEFAULT, CONSULT_RETENTION_DAYS_MIN,
	            CONSULT_RETENTION_DAYS_MAX, &out->retention_days) ||
	        !glue_cfg_int(cfg, g, "contact_hours", CONSULT_CONTACT_HOURS_DEFAULT, CONSULT_CONTACT_HOURS_MIN,
	                CONSULT_CONTACT_HOURS_MAX, &out->contact_hours) ||
	        !glue_cfg_int(cfg, g, "purge_interval_minutes", 60, 1, 1440, &out->purge_interval_minutes))
		return -1;
	const char *bad = NULL;
	if (consult_retention_check(out->retention_days, out->contact_hours, &bad) != CONSULT_OK) {
		JANUS_LOG(LOG_FATAL, "[consult] config: contact_hours must not be longer than retention_days\n");
		return -1;
	}
	return 0;
}

int glue_config_load_delivery(janus_config *cfg, janus_config_category *g, const char *config_path, glue_config *out)
{
	if (load_smtp(cfg, g, out) != 0 || load_sms(cfg, g, out) != 0 || load_retention(cfg, g, out) != 0)
		return -1;
	if (!str_key(cfg, g, "templates_dir", 1024, &out->templates_dir) ||
	        !str_key(cfg, g, "timezone", 64, &out->timezone) ||
	        !str_key(cfg, g, "default_country", 2, &out->default_country))
		return -1;
	if (out->templates_dir == NULL)
		out->templates_dir = g_build_filename(config_path ? config_path : ".", "consult-messages", NULL);
	if (out->timezone == NULL)
		out->timezone = g_strdup("Europe/Berlin");
	GTimeZone *tz = g_time_zone_new_identifier(out->timezone);
	if (tz == NULL) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: timezone must be an IANA time zone name such as \"Europe/Berlin\"\n");
		return -1;
	}
	g_time_zone_unref(tz);
	if (out->default_country == NULL)
		out->default_country = g_strdup("DE");
	if (consult_phone_country_find(out->default_country) == NULL) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: default_country must be one of DE AT CH FR NL BE GB LU IT DK PL\n");
		return -1;
	}
	consult_backoff bo = consult_backoff_default();
	if (!glue_cfg_int(cfg, g, "reminder_minutes", 120, 0, 10080, &out->reminder_minutes) ||
	        !glue_cfg_int(cfg, g, "staff_idle_minutes", 60, 1, 1440, &out->staff_idle_minutes) ||
	        !glue_cfg_int(cfg, g, "delivery_backoff_base_seconds", bo.base_s, CONSULT_BACKOFF_BASE_MIN,
	                CONSULT_BACKOFF_BASE_MAX, &out->backoff_base) ||
	        !glue_cfg_int(cfg, g, "delivery_max_attempts", bo.max_attempts, CONSULT_BACKOFF_ATTEMPTS_MIN,
	                CONSULT_BACKOFF_ATTEMPTS_MAX, &out->max_attempts) ||
	        !glue_cfg_int(cfg, g, "p2p_timeout_seconds", 10, 3, 120, &out->p2p_timeout_seconds) ||
	        !glue_cfg_bool(cfg, g, "forward_e2ee_test_off", false, &out->forward_e2ee_test_off))
		return -1;
	if (out->forward_e2ee_test_off && !glue_test_mode()) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: forward_e2ee_test_off is for tests only (needs CONSULT_TEST=1)\n");
		return -1;
	}
	return 0;
}

static void wipe(char **s)
{
	if (*s) {
		sodium_memzero(*s, strlen(*s));
		g_free(*s);
		*s = NULL;
	}
}

void glue_config_clear_delivery(glue_config *cfg)
{
	char **plain[] = { &cfg->templates_dir, &cfg->timezone, &cfg->default_country, &cfg->smtp_url, &cfg->smtp_user,
		&cfg->smtp_from, &cfg->smtp_from_name, &cfg->smtp_reply_to, &cfg->smtp_ca_file, &cfg->sms_url,
		&cfg->sms_body, &cfg->sms_sender };
	for (size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
		g_free(*plain[i]);
		*plain[i] = NULL;
	}
	wipe(&cfg->smtp_password);
	wipe(&cfg->sms_auth_header);
}
