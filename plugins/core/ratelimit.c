/* ratelimit.c - failure counting with doubling lockout.
 *
 * Contract: see ratelimit.h. Details chosen here:
 * - A key's failure window starts at its first failure; a failure after
 *   window_s starts a new window. The max_failures-th failure inside one
 *   window locks the key for lockout_s * 2^(k-1) (k = lockouts so far,
 *   capped at max_lockout_s) and starts a new window.
 * - Failures while locked are not counted (the caller should not have
 *   tried). The lockout level is kept until a full window_s passes after
 *   the last failure and after the lock ended; then the key is forgotten
 *   (prune) or reset (next failure), so the doubling restarts at lockout_s.
 * - The table holds at most max_keys keys; when full, a forgettable entry
 *   is dropped, else the one with the oldest last failure.
 * - Attempts in flight (reserve/settle) are counted per key; an entry
 *   with attempts in flight is never pruned and is evicted only if every
 *   entry has some. success() while others are in flight keeps the entry
 *   (cleared) so their settle finds it. A settle whose entry was evicted
 *   counts as a plain failure/success.
 * Lookup is a linear scan over a cached 64-bit hash of each key.
 */
#include <stdlib.h>
#include <string.h>
#include "ratelimit.h"

typedef struct rl_entry {
	char *key;
	uint64_t hash;
	consult_rl_state st;
	unsigned in_flight;
} rl_entry;

struct consult_ratelimit {
	consult_ratelimit_cfg cfg;
	rl_entry *e;
	size_t len;
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

consult_ratelimit *consult_ratelimit_new(const consult_ratelimit_cfg *cfg)
{
	if (!cfg || cfg->max_keys == 0 || cfg->max_failures == 0)
		return NULL;
	consult_ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return NULL;
	rl->cfg = *cfg;
	if (rl->cfg.lockout_s < 1)
		rl->cfg.lockout_s = 1;
	if (rl->cfg.max_lockout_s < rl->cfg.lockout_s)
		rl->cfg.max_lockout_s = rl->cfg.lockout_s;
	rl->e = calloc(cfg->max_keys, sizeof *rl->e);
	if (!rl->e) {
		free(rl);
		return NULL;
	}
	return rl;
}

void consult_ratelimit_free(consult_ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->len; i++)
		free(rl->e[i].key);
	free(rl->e);
	free(rl);
}

size_t consult_ratelimit_size(const consult_ratelimit *rl)
{
	return rl->len;
}

static rl_entry *find(consult_ratelimit *rl, const char *key)
{
	uint64_t h = hash_key(key);
	for (size_t i = 0; i < rl->len; i++)
		if (rl->e[i].hash == h && strcmp(rl->e[i].key, key) == 0)
			return &rl->e[i];
	return NULL;
}

static void drop(consult_ratelimit *rl, size_t i)
{
	free(rl->e[i].key);
	rl->e[i] = rl->e[--rl->len];
}

/* Nothing left to remember: not locked and a full window since the last
 * failure and since the end of the lock. */
static bool state_forgettable(const consult_ratelimit_cfg *cfg, const consult_rl_state *st, int64_t now)
{
	return now >= st->locked_until + cfg->window_s && now >= st->last_failure + cfg->window_s;
}

static bool forgettable(const consult_ratelimit *rl, const rl_entry *e, int64_t now)
{
	return e->in_flight == 0 && state_forgettable(&rl->cfg, &e->st, now);
}

const consult_ratelimit_cfg *consult_ratelimit_cfg_of(const consult_ratelimit *rl)
{
	return &rl->cfg;
}

void consult_rl_state_init(consult_rl_state *st, int64_t now)
{
	memset(st, 0, sizeof *st);
	st->window_start = now;
	st->last_failure = INT64_MIN / 2;
	st->locked_until = INT64_MIN / 2;
}

bool consult_rl_state_locked(const consult_rl_state *st, int64_t now, int64_t *retry_after)
{
	if (now >= st->locked_until)
		return false;
	if (retry_after) {
		int64_t w = st->locked_until - now;
		*retry_after = w < 1 ? 1 : w;
	}
	return true;
}

int64_t consult_rl_state_forget_at(const consult_ratelimit_cfg *cfg, const consult_rl_state *st)
{
	int64_t a = st->locked_until + cfg->window_s, b = st->last_failure + cfg->window_s;
	return a > b ? a : b;
}

bool consult_ratelimit_allowed(consult_ratelimit *rl, const char *key, int64_t now, int64_t *retry_after)
{
	rl_entry *e = find(rl, key);
	return !e || !consult_rl_state_locked(&e->st, now, retry_after);
}

static int64_t lock_for(const consult_ratelimit_cfg *cfg, unsigned lockouts)
{
	int64_t d = cfg->lockout_s;
	for (unsigned i = 1; i < lockouts && d < cfg->max_lockout_s; i++)
		d *= 2;
	return d > cfg->max_lockout_s ? cfg->max_lockout_s : d;
}

/* A fresh entry for key (evicting one if the table is full), or NULL. */
static rl_entry *add(consult_ratelimit *rl, const char *key, int64_t now)
{
	if (rl->len == rl->cfg.max_keys) {
		size_t victim = 0;
		bool found = false;
		for (size_t i = 0; i < rl->len && !found; i++)
			if (forgettable(rl, &rl->e[i], now)) {
				victim = i;
				found = true;
			}
		for (size_t i = 1; i < rl->len && !found; i++) {
			const rl_entry *a = &rl->e[i], *v = &rl->e[victim];
			/* oldest last failure, entries without attempts in flight first */
			if ((a->in_flight == 0 && v->in_flight > 0) ||
			        ((a->in_flight == 0) == (v->in_flight == 0) && a->st.last_failure < v->st.last_failure))
				victim = i;
		}
		drop(rl, victim);
	}
	char *k = strdup(key);
	if (!k)
		return NULL;
	rl_entry *e = &rl->e[rl->len++];
	memset(e, 0, sizeof *e);
	e->key = k;
	e->hash = hash_key(key);
	consult_rl_state_init(&e->st, now);
	return e;
}

/* One failure of a state; may_forget: a forgettable state starts over
 * (not while attempts of the key are in flight). */
static void state_fail(const consult_ratelimit_cfg *cfg, consult_rl_state *st, int64_t now, bool may_forget)
{
	if (now < st->locked_until)
		return;
	if (may_forget && state_forgettable(cfg, st, now) && st->failures + st->lockouts > 0) {
		st->failures = 0;
		st->lockouts = 0;
	}
	if (now - st->window_start >= cfg->window_s || st->failures == 0) {
		st->window_start = now;
		st->failures = 0;
	}
	st->failures++;
	st->last_failure = now;
	if (st->failures >= cfg->max_failures) {
		st->lockouts++;
		st->locked_until = now + lock_for(cfg, st->lockouts);
		st->failures = 0;
		st->window_start = now;
	}
}

void consult_rl_state_fail(const consult_ratelimit_cfg *cfg, consult_rl_state *st, int64_t now)
{
	state_fail(cfg, st, now, true);
}

void consult_ratelimit_failure(consult_ratelimit *rl, const char *key, int64_t now)
{
	rl_entry *e = find(rl, key);
	if (!e) {
		e = add(rl, key, now);
		if (!e)
			return;
		e->st.last_failure = now;
	}
	state_fail(&rl->cfg, &e->st, now, e->in_flight == 0);
}

void consult_ratelimit_success(consult_ratelimit *rl, const char *key)
{
	rl_entry *e = find(rl, key);
	if (!e)
		return;
	if (e->in_flight == 0) {
		drop(rl, (size_t)(e - rl->e));
		return;
	}
	e->st.failures = 0;
	e->st.lockouts = 0;
	e->st.last_failure = INT64_MIN / 2;
	e->st.locked_until = INT64_MIN / 2;
}

bool consult_ratelimit_reserve(consult_ratelimit *rl, const char *key, int64_t now, int64_t *retry_after)
{
	rl_entry *e = find(rl, key);
	if (e && now < e->st.locked_until) {
		if (retry_after)
			*retry_after = e->st.locked_until - now < 1 ? 1 : e->st.locked_until - now;
		return false;
	}
	unsigned failures = 0;
	if (e && !forgettable(rl, e, now) && now - e->st.window_start < rl->cfg.window_s)
		failures = e->st.failures;
	if (e && failures + e->in_flight >= rl->cfg.max_failures) {
		if (retry_after)
			*retry_after = 1;
		return false;
	}
	if (!e)
		e = add(rl, key, now);
	if (!e)
		return true; /* out of memory: never lock anybody out for it */
	e->in_flight++;
	return true;
}

void consult_ratelimit_settle(consult_ratelimit *rl, const char *key, int64_t now, consult_rl_outcome outcome)
{
	rl_entry *e = find(rl, key);
	if (e && e->in_flight > 0)
		e->in_flight--;
	if (outcome == CONSULT_RL_FAILED)
		consult_ratelimit_failure(rl, key, now);
	else if (outcome == CONSULT_RL_SUCCEEDED)
		consult_ratelimit_success(rl, key);
}

void consult_ratelimit_prune(consult_ratelimit *rl, int64_t now)
{
	for (size_t i = 0; i < rl->len;) {
		if (forgettable(rl, &rl->e[i], now))
			drop(rl, i);
		else
			i++;
	}
}
