/* config.c - loads and validates janus.plugin.consult.jcfg (see config.h).
 *
 * Contract: every key of the `general` category is checked; the first bad
 * one is logged (key name and allowed range, never a secret value) and the
 * load fails with -1, so the plugin refuses to start. TURN keys (issue 4):
 * stun_uris / turn_uris are comma-separated lists checked by core/turn.h,
 * turn_secret is required with turn_uris and its value is never logged.
 * Both secrets pass secret_usable() first: a placeholder or a value shipped
 * in the conf/ samples would key the code hashes, the sealed codes or the
 * TURN credentials with a public value, so the plugin refuses to start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <config.h> /* Janus: -I$(JANUS_INCLUDES); ours is cfg.h */
#include <janus/debug.h>
#include <sodium.h>
#include "cfg.h"
#include "cfg_util.h"
#include "core/lease.h"

const char *glue_cfg_item(janus_config *cfg, janus_config_category *general, const char *key)
{
	janus_config_item *it = janus_config_get(cfg, general, janus_config_type_item, key);
	return (it && it->value) ? it->value : NULL;
}

/* Integer key with default and range; false (logged) if bad. */
bool glue_cfg_int(
        janus_config *cfg, janus_config_category *g, const char *key, int64_t def, int64_t lo, int64_t hi, int64_t *out)
{
	const char *v = glue_cfg_item(cfg, g, key);
	if (v == NULL) {
		*out = def;
		return true;
	}
	char *end = NULL;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		JANUS_LOG(LOG_FATAL, "[consult] config: %s must be an integer in %lld..%lld\n", key, (long long)lo,
		        (long long)hi);
		return false;
	}
	*out = n;
	return true;
}

/* true/yes/false/no key with a default; false (logged) if bad. */
bool glue_cfg_bool(janus_config *cfg, janus_config_category *g, const char *key, bool def, bool *out)
{
	const char *v = glue_cfg_item(cfg, g, key);
	if (v == NULL) {
		*out = def;
	} else if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
		*out = true;
	} else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0) {
		*out = false;
	} else {
		JANUS_LOG(LOG_FATAL, "[consult] config: %s must be true or false\n", key);
		return false;
	}
	return true;
}

/* The one check of a configured secret (code_secret, turn_secret), before
 * its format: refuses a value shorter than min_len, one made of a single
 * repeated character (the old all-zero sample) and one containing CHANGE_ME
 * or CHANGE-ME in any case (every placeholder in conf/). false: one FATAL
 * line naming the key, never the value. */
static bool secret_usable(const char *key, const char *v, size_t min_len)
{
	size_t n = v ? strlen(v) : 0;
	if (n < min_len) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: %s must be at least %zu characters: set a fresh random value, e.g. `openssl "
		        "rand -hex 32`\n",
		        key, min_len);
		return false;
	}
	const char *why = "one character repeated (e.g. the all-zero sample)";
	for (const char *p = v; *p; p++) {
		if (*p != v[0])
			why = NULL;
		if (g_ascii_strncasecmp(p, "change", 6) == 0 && (p[6] == '_' || p[6] == '-') &&
		        g_ascii_strncasecmp(p + 7, "me", 2) == 0) {
			why = "a placeholder from the samples (CHANGE_ME)";
			break;
		}
	}
	if (why == NULL)
		return true;
	JANUS_LOG(LOG_FATAL,
	        "[consult] config: %s is unusable, %s: set a fresh random value, e.g. `openssl rand -hex 32`\n", key,
	        why);
	return false;
}

static bool parse_secret(const char *v, uint8_t out[CONSULT_CODE_KEY_LEN])
{
	if (v == NULL || strlen(v) != 2 * CONSULT_CODE_KEY_LEN)
		return false;
	size_t bin_len = 0;
	if (sodium_hex2bin(out, CONSULT_CODE_KEY_LEN, v, strlen(v), NULL, &bin_len, NULL) != 0)
		return false;
	return bin_len == CONSULT_CODE_KEY_LEN;
}

static bool parse_url(const char *v, char **out)
{
	if (v == NULL)
		v = "http://127.0.0.1:8080";
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		return false;
	size_t n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	size_t scheme = v[4] == 's' ? 8 : 7;
	if (n <= scheme || n > 512)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == '"' || v[i] == '#' || v[i] == '?')
			return false;
	*out = g_strndup(v, n);
	return true;
}

/* Comma-separated URI list: each trimmed entry must be of one of the kinds
 * allowed (STUN only, or TURN/TURNS), at most CONSULT_TURN_URIS_MAX. */
static bool uri_list(const char *v, bool stun, char **out, size_t *n)
{
	*n = 0;
	if (v == NULL)
		return true;
	gchar **parts = g_strsplit(v, ",", -1);
	bool ok = true;
	for (gchar **p = parts; *p && ok; p++) {
		char *u = g_strstrip(*p);
		if (*u == '\0' && p[1] == NULL && *n > 0)
			break; /* tolerate one trailing comma */
		consult_turn_scheme k = consult_turn_uri_check(u);
		if (*n >= CONSULT_TURN_URIS_MAX || k == CONSULT_TURN_URI_INVALID ||
		        (stun ? k != CONSULT_TURN_URI_STUN : k == CONSULT_TURN_URI_STUN)) {
			ok = false;
			break;
		}
		out[(*n)++] = g_strdup(u);
	}
	g_strfreev(parts);
	return ok;
}

static int load_turn(janus_config *cfg, janus_config_category *g, glue_config *out)
{
	if (!uri_list(glue_cfg_item(cfg, g, "stun_uris"), true, out->stun_uris, &out->n_stun)) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: stun_uris must be a comma-separated list of up to %d URIs "
		        "stun:HOST[:PORT]\n",
		        CONSULT_TURN_URIS_MAX);
		return -1;
	}
	if (!uri_list(glue_cfg_item(cfg, g, "turn_uris"), false, out->turn_uris, &out->n_turn)) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: turn_uris must be a comma-separated list of up to %d URIs "
		        "turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT][?transport=tcp]\n",
		        CONSULT_TURN_URIS_MAX);
		return -1;
	}
	const char *v = glue_cfg_item(cfg, g, "turn_secret");
	if (v != NULL && *v != '\0') {
		if (!secret_usable("turn_secret", v, CONSULT_TURN_SECRET_MIN))
			return -1;
		if (!consult_turn_secret_ok(v)) {
			JANUS_LOG(LOG_FATAL,
			        "[consult] config: turn_secret must be %d..%d printable ASCII characters without "
			        "spaces, '#', quotes or backslash (the same as coturn's static-auth-secret)\n",
			        CONSULT_TURN_SECRET_MIN, CONSULT_TURN_SECRET_MAX);
			return -1;
		}
		out->turn_secret = g_strdup(v);
	} else if (out->n_turn > 0) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: turn_secret is required when turn_uris is set (coturn's static-auth-secret, "
		        "e.g. `openssl rand -hex 32`)\n");
		return -1;
	}
	if (!glue_cfg_int(cfg, g, "turn_ttl", 3600, CONSULT_TURN_TTL_MIN, CONSULT_TURN_TTL_MAX, &out->turn_ttl) ||
	        !glue_cfg_int(cfg, g, "call_lost_seconds", 20, 5, 300, &out->call_lost_seconds))
		return -1;
	return 0;
}

/* An instance name: 1..64 of [A-Za-z0-9._-] (it is shown to operators and
 * sent to pages with practice_elsewhere). */
static bool instance_name_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(v[i]) && v[i] != '.' && v[i] != '_' && v[i] != '-')
			return false;
	return true;
}

/* instance (default: the host name) and lease_seconds (0 or 3..600). */
static int load_instance(janus_config *cfg, janus_config_category *g, glue_config *out)
{
	const char *v = glue_cfg_item(cfg, g, "instance");
	const char *name = v ? v : g_get_host_name();
	if (!instance_name_ok(name)) {
		JANUS_LOG(LOG_FATAL, "[consult] config: instance must be 1..64 characters of A-Z a-z 0-9 . _ -%s\n",
		        v ? "" : " (the host name is not: set instance)");
		return -1;
	}
	out->instance = g_strdup(name);
	if (!glue_cfg_int(cfg, g, "lease_seconds", 0, 0, CONSULT_LEASE_SECONDS_MAX, &out->lease_seconds))
		return -1;
	if (out->lease_seconds > 0 && out->lease_seconds < CONSULT_LEASE_SECONDS_MIN) {
		JANUS_LOG(LOG_FATAL, "[consult] config: lease_seconds must be 0 (one instance) or %d..%d\n",
		        CONSULT_LEASE_SECONDS_MIN, CONSULT_LEASE_SECONDS_MAX);
		return -1;
	}
	return 0;
}

static int load(janus_config *cfg, const char *config_path, glue_config *out)
{
	janus_config_category *g = janus_config_get(cfg, NULL, janus_config_type_category, "general");
	const char *v = glue_cfg_item(cfg, g, "database");
	if (v == NULL || *v == '\0') {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: database (path of the SQLite file, or a postgresql:// URL) is required\n");
		return -1;
	}
	out->database = g_strdup(v);
	/* a URL may hold a password: log the backend only, never the URL */
	if (g_str_has_prefix(v, "postgresql://") || g_str_has_prefix(v, "postgres://"))
		JANUS_LOG(LOG_INFO, "[consult] store: PostgreSQL\n");
	else
		JANUS_LOG(LOG_INFO, "[consult] store: SQLite file %s\n", v);
	v = glue_cfg_item(cfg, g, "code_secret");
	if (v == NULL || *v == '\0') {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: code_secret is required: exactly 64 hex characters (32 bytes, e.g. `openssl "
		        "rand -hex 32`)\n");
		return -1;
	}
	if (!secret_usable("code_secret", v, 2 * CONSULT_CODE_KEY_LEN))
		return -1;
	if (!parse_secret(v, out->code_secret)) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: code_secret is required: exactly 64 hex characters (32 bytes, e.g. `openssl "
		        "rand -hex 32`)\n");
		return -1;
	}
	if (!parse_url(glue_cfg_item(cfg, g, "public_url"), &out->public_url)) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] config: public_url must start with http:// or https:// (no spaces, query or "
		        "fragment)\n");
		return -1;
	}
	if (!glue_cfg_int(cfg, g, "grace_seconds", 120, 5, 3600, &out->grace_seconds) ||
	        !glue_cfg_int(cfg, g, "join_before_minutes", 60, 0, 1440, &out->join_before_minutes) ||
	        !glue_cfg_int(cfg, g, "join_after_minutes", 240, 1, 1440, &out->join_after_minutes) ||
	        !glue_cfg_int(cfg, g, "min_free_disk_mb", 200, 0, 1048576, &out->min_free_disk_mb))
		return -1;
	v = glue_cfg_item(cfg, g, "password_cost");
	if (v == NULL || strcmp(v, "interactive") == 0) {
		out->password_cost = GLUE_COST_INTERACTIVE;
	} else if (strcmp(v, "moderate") == 0) {
		out->password_cost = GLUE_COST_MODERATE;
	} else {
		JANUS_LOG(LOG_FATAL, "[consult] config: password_cost must be \"interactive\" or \"moderate\"\n");
		return -1;
	}
	/* Each check holds 64 MiB (256 MiB at moderate): this caps the memory of a login storm. */
	int64_t cpus = (int64_t)g_get_num_processors();
	if (!glue_cfg_int(
	            cfg, g, "password_checks", cpus < 1 ? 1 : (cpus > 64 ? 64 : cpus), 1, 64, &out->password_checks))
		return -1;
	if (!glue_cfg_int(cfg, g, "store_connections", 4, 2, 8, &out->store_connections))
		return -1;
	if (!glue_cfg_bool(cfg, g, "events", false, &out->events))
		return -1;
	if (load_instance(cfg, g, out) != 0)
		return -1;
	if (load_turn(cfg, g, out) != 0)
		return -1;
	return glue_config_load_delivery(cfg, g, config_path, out);
}

int glue_config_load(const char *config_path, glue_config *out)
{
	memset(out, 0, sizeof(*out));
	char *file = g_build_filename(config_path ? config_path : ".", GLUE_CONFIG_FILE, NULL);
	janus_config *cfg = janus_config_parse(file);
	if (cfg == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] config: cannot read or parse %s\n", file);
		g_free(file);
		return -1;
	}
	g_free(file);
	int rc = load(cfg, config_path, out);
	janus_config_destroy(cfg);
	if (rc != 0)
		glue_config_clear(out);
	return rc;
}

void glue_config_clear(glue_config *cfg)
{
	g_free(cfg->database);
	g_free(cfg->public_url);
	g_free(cfg->instance);
	sodium_memzero(cfg->code_secret, sizeof(cfg->code_secret));
	for (size_t i = 0; i < cfg->n_stun; i++)
		g_free(cfg->stun_uris[i]);
	for (size_t i = 0; i < cfg->n_turn; i++)
		g_free(cfg->turn_uris[i]);
	if (cfg->turn_secret) {
		sodium_memzero(cfg->turn_secret, strlen(cfg->turn_secret));
		g_free(cfg->turn_secret);
	}
	glue_config_clear_delivery(cfg);
	memset(cfg, 0, sizeof(*cfg));
}
