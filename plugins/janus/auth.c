/* auth.c - argon2id password hashing and rate limiter helpers (see auth.h). */
#include <string.h>
#include <glib.h>
#include <sodium.h>
#include <janus/debug.h>
#include "auth.h"

static unsigned long long opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
static char dummy_hash[GLUE_HASH_LEN];
static gint verifications;      /* password checks run for logins since start (admin stats) */

int glue_auth_init(glue_pw_cost cost) {
	if(sodium_init() < 0) {
		JANUS_LOG(LOG_FATAL, "[consult] libsodium cannot be initialised\n");
		return -1;
	}
	if(cost == GLUE_COST_MODERATE) {
		opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
		memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
	} else {
		opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	}
	char random_pw[33];
	uint8_t raw[16];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(random_pw, sizeof(random_pw), raw, sizeof(raw));
	if(!glue_auth_hash(random_pw, dummy_hash)) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot compute the dummy password hash (out of memory?)\n");
		return -1;
	}
	sodium_memzero(random_pw, sizeof(random_pw));
	return 0;
}

void glue_auth_deinit(void) {
	sodium_memzero(dummy_hash, sizeof(dummy_hash));
}

bool glue_auth_hash(const char *password, char out[GLUE_HASH_LEN]) {
	return crypto_pwhash_str(out, password, strlen(password), opslimit, memlimit) == 0;
}

bool glue_auth_verify(const char *hash, const char *password) {
	g_atomic_int_inc(&verifications);
	if(hash == NULL || hash[0] == '\0') {
		volatile int sink = crypto_pwhash_str_verify(dummy_hash, password, strlen(password));
		(void)sink;
		return false;
	}
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static consult_ratelimit *rl_new(unsigned max_failures) {
	consult_ratelimit_cfg cfg = {
		.max_failures = max_failures, .window_s = 600, .lockout_s = 60,
		.max_lockout_s = 3600, .max_keys = 100000,
	};
	return consult_ratelimit_new(&cfg);
}

consult_ratelimit *glue_rl_new_login(void) {
	return rl_new(5);
}

consult_ratelimit *glue_rl_new_practice(void) {
	return rl_new(50);
}

bool glue_rl_allowed(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, int64_t *retry_after) {
	bool ok = true;
	int64_t worst = 0;
	for(size_t i = 0; i < n; i++) {
		int64_t wait = 0;
		if(!consult_ratelimit_allowed(rl, keys[i], now, &wait)) {
			ok = false;
			if(wait > worst) worst = wait;
		}
	}
	if(!ok && retry_after)
		*retry_after = worst > 0 ? worst : 1;
	return ok;
}

void glue_rl_fail(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now) {
	for(size_t i = 0; i < n; i++)
		consult_ratelimit_failure(rl, keys[i], now);
}

void glue_rl_ok(consult_ratelimit *rl, const char *const *keys, size_t n) {
	for(size_t i = 0; i < n; i++)
		consult_ratelimit_success(rl, keys[i]);
}

int64_t glue_auth_verifications(void) {
	return (int64_t)(guint)g_atomic_int_get(&verifications);
}
