/* auth.c - argon2id password hashing, the cap on password checks running
 * at once, device tokens and the rate limiter helpers (see auth.h).
 *
 * The cap is a counter under its own mutex (never glue.lock): a check
 * takes a slot or the login is answered `busy` at once. One slot more
 * than password_checks exists for logins with a valid device token, so a
 * storm of strangers cannot keep the practice's own browsers out. Peak
 * memory of logins is therefore (password_checks + 1) x the argon2id
 * memory cost. Device and session tokens and their hashes are never
 * logged.
 */
#include <string.h>
#include <glib.h>
#include <sodium.h>
#include <janus/debug.h>
#include "auth.h"

static unsigned long long opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
static char dummy_hash[GLUE_HASH_LEN];
static gint verifications; /* password checks run for logins since start (admin stats) */
static GMutex slot_mutex;  /* guards the slot counters below */
static int slots_max = 1, slots_used;
static int64_t busy_count, rate_limited_count;

int glue_auth_init(glue_pw_cost cost)
{
	if (sodium_init() < 0) {
		JANUS_LOG(LOG_FATAL, "[consult] libsodium cannot be initialised\n");
		return -1;
	}
	if (cost == GLUE_COST_MODERATE) {
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
	if (!glue_auth_hash(random_pw, dummy_hash)) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot compute the dummy password hash (out of memory?)\n");
		return -1;
	}
	sodium_memzero(random_pw, sizeof(random_pw));
	return 0;
}

void glue_auth_deinit(void)
{
	sodium_memzero(dummy_hash, sizeof(dummy_hash));
}

bool glue_auth_hash(const char *password, char out[GLUE_HASH_LEN])
{
	return crypto_pwhash_str(out, password, strlen(password), opslimit, memlimit) == 0;
}

bool glue_auth_verify(const char *hash, const char *password)
{
	g_atomic_int_inc(&verifications);
	if (hash == NULL || hash[0] == '\0') {
		volatile int sink = crypto_pwhash_str_verify(dummy_hash, password, strlen(password));
		(void)sink;
		return false;
	}
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static consult_ratelimit *rl_new(unsigned max_failures, int64_t window_s)
{
	consult_ratelimit_cfg cfg = {
		.max_failures = max_failures,
		.window_s = window_s,
		.lockout_s = 60,
		.max_lockout_s = 3600,
		.max_keys = 100000,
	};
	return consult_ratelimit_new(&cfg);
}

/* Logins count failures over a day (and keep the doubling as long): with a
 * 10-minute window a guesser could place 4 guesses every 10 minutes without
 * ever being locked, or wait out the window after each 60 s lock. */
consult_ratelimit *glue_rl_new_login(void)
{
	return rl_new(5, 24 * 3600);
}

consult_ratelimit *glue_rl_new_join(void)
{
	return rl_new(5, 600);
}

consult_ratelimit *glue_rl_new_practice(void)
{
	return rl_new(50, 600);
}

bool glue_rl_allowed(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, int64_t *retry_after)
{
	bool ok = true;
	int64_t worst = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t wait = 0;
		if (!consult_ratelimit_allowed(rl, keys[i], now, &wait)) {
			ok = false;
			if (wait > worst)
				worst = wait;
		}
	}
	if (!ok && retry_after)
		*retry_after = worst > 0 ? worst : 1;
	return ok;
}

void glue_rl_fail(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++)
		consult_ratelimit_failure(rl, keys[i], now);
}

void glue_rl_ok(consult_ratelimit *rl, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		consult_ratelimit_success(rl, keys[i]);
}

int64_t glue_auth_verifications(void)
{
	return (int64_t)(guint)g_atomic_int_get(&verifications);
}

void glue_auth_slots_init(int64_t max)
{
	g_mutex_lock(&slot_mutex);
	slots_max = max < 1 ? 1 : (int)max;
	slots_used = 0;
	busy_count = rate_limited_count = 0;
	g_mutex_unlock(&slot_mutex);
}

bool glue_auth_slot_take(bool trusted)
{
	g_mutex_lock(&slot_mutex);
	bool ok = slots_used < slots_max + (trusted ? 1 : 0);
	if (ok)
		slots_used++;
	else
		busy_count++;
	g_mutex_unlock(&slot_mutex);
	return ok;
}

void glue_auth_slot_give(void)
{
	g_mutex_lock(&slot_mutex);
	if (slots_used > 0)
		slots_used--;
	g_mutex_unlock(&slot_mutex);
}

void glue_auth_count_rate_limited(void)
{
	g_mutex_lock(&slot_mutex);
	rate_limited_count++;
	g_mutex_unlock(&slot_mutex);
}

json_t *glue_auth_stats(void)
{
	json_t *o = json_object();
	g_mutex_lock(&slot_mutex);
	json_object_set_new(o, "verifications", json_integer(glue_auth_verifications()));
	json_object_set_new(o, "active", json_integer(slots_used));
	json_object_set_new(o, "limit", json_integer(slots_max));
	json_object_set_new(o, "busy", json_integer(busy_count));
	json_object_set_new(o, "rate_limited", json_integer(rate_limited_count));
	g_mutex_unlock(&slot_mutex);
	return o;
}

void glue_device_token_new(char token[GLUE_DEVICE_TOKEN_LEN + 1], uint8_t hash[GLUE_DEVICE_HASH_LEN])
{
	uint8_t raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, GLUE_DEVICE_TOKEN_LEN + 1, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	glue_device_token_hash(token, hash);
}

/* BLAKE2b-256 of a domain string (with its NUL) and the token: a device
 * token is never valid as a session token and the reverse. */
static void token_hash(const char *domain, size_t domain_len, const char *token, uint8_t hash[GLUE_DEVICE_HASH_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, GLUE_DEVICE_HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)domain, domain_len);
	crypto_generichash_update(&st, (const unsigned char *)token, strlen(token));
	crypto_generichash_final(&st, hash, GLUE_DEVICE_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void glue_device_token_hash(const char *token, uint8_t hash[GLUE_DEVICE_HASH_LEN])
{
	static const char domain[] = "consult device token v1";
	token_hash(domain, sizeof(domain), token, hash);
}

void glue_session_token_new(char token[GLUE_SESSION_TOKEN_LEN + 1], uint8_t hash[GLUE_SESSION_HASH_LEN])
{
	uint8_t raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(
	        token, GLUE_SESSION_TOKEN_LEN + 1, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	glue_session_token_hash(token, hash);
}

void glue_session_token_hash(const char *token, uint8_t hash[GLUE_SESSION_HASH_LEN])
{
	static const char domain[] = "consult session token v1";
	token_hash(domain, sizeof(domain), token, hash);
}

bool glue_rl_reserve(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, int64_t *retry_after)
{
	for (size_t i = 0; i < n; i++) {
		int64_t wait = 1;
		if (!consult_ratelimit_reserve(rl, keys[i], now, &wait)) {
			/* all or nothing: undo the reservations made so far, and report
			 * the longest wait of any key */
			for (size_t j = 0; j < i; j++)
				consult_ratelimit_settle(rl, keys[j], now, CONSULT_RL_CANCELLED);
			int64_t worst = wait;
			for (size_t j = i + 1; j < n; j++) {
				int64_t w = 0;
				if (!consult_ratelimit_allowed(rl, keys[j], now, &w) && w > worst)
					worst = w;
			}
			if (retry_after)
				*retry_after = worst > 0 ? worst : 1;
			return false;
		}
	}
	return true;
}

void glue_rl_settle(consult_ratelimit *rl, const char *const *keys, size_t n, int64_t now, consult_rl_outcome outcome)
{
	for (size_t i = 0; i < n; i++)
		consult_ratelimit_settle(rl, keys[i], now, outcome);
}
