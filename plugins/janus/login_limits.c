/* login_limits.c - the shared count of failed logins (login_limits.h).
 *
 * The policy is the login limiter's own (auth.c glue_rl_new_login, read
 * through consult_ratelimit_cfg_of), so a key locks at the same count
 * whether its guesses came to one instance or to several. Digests are
 * BLAKE2b-256 of a domain string and the key, keyed with code_secret;
 * nothing here logs a key or a digest.
 */
#include <string.h>
#include <sodium.h>
#include "glue.h"
#include "login_limits.h"

static void digest(const char *key, uint8_t out[CONSULT_LIMIT_KEY_LEN])
{
	static const char domain[] = "consult login limit v1";
	crypto_generichash_state st;
	crypto_generichash_init(&st, glue.cfg.code_secret, sizeof(glue.cfg.code_secret), CONSULT_LIMIT_KEY_LEN);
	crypto_generichash_update(&st, (const unsigned char *)domain, sizeof(domain));
	crypto_generichash_update(&st, (const unsigned char *)key, strlen(key));
	crypto_generichash_final(&st, out, CONSULT_LIMIT_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

bool glue_login_limit_locked(consult_store *s, const char *key, int64_t now, int64_t *retry_after)
{
	uint8_t d[CONSULT_LIMIT_KEY_LEN];
	digest(key, d);
	consult_rl_state st;
	bool locked =
	        consult_store_limit_get(s, d, &st) == CONSULT_OK && consult_rl_state_locked(&st, now, retry_after);
	sodium_memzero(d, sizeof(d));
	return locked;
}

void glue_login_limit_settle(consult_store *s, const char *key, int64_t now, consult_rl_outcome outcome)
{
	if (outcome == CONSULT_RL_CANCELLED)
		return;
	uint8_t d[CONSULT_LIMIT_KEY_LEN];
	digest(key, d);
	if (outcome == CONSULT_RL_FAILED)
		(void)consult_store_limit_fail(s, d, consult_ratelimit_cfg_of(glue.rl_login), now, NULL);
	else
		(void)consult_store_limit_clear(s, d);
	sodium_memzero(d, sizeof(d));
}

void glue_login_limit_clear(consult_store *s, const char *key)
{
	glue_login_limit_settle(s, key, 0, CONSULT_RL_SUCCEEDED);
}

void glue_login_limit_prune(consult_store *s, int64_t now)
{
	(void)consult_store_limit_prune(s, consult_ratelimit_cfg_of(glue.rl_login), now, NULL);
}
