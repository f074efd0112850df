/* rejoin.c - successful joins per appointment in a sliding window, and the
 * keep rule of the ended-visit memory.
 *
 * Contract: see rejoin.h. Each key keeps the times of its last max_joins
 * joins in a ring; a join is inside the window while now - t < window_s.
 * The table grows by doubling up to max_keys; a hash map from key to
 * index finds an appointment's record in O(1) (every join asks, under the
 * plugin's lock, with up to max_keys appointments remembered).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "imap.h"
#include "rejoin.h"

typedef struct rj_entry {
	int64_t key;
	int64_t t[CONSULT_REJOIN_MAX_LIMIT]; /* ring of join times */
	unsigned n;                          /* joins stored (<= max) */
	unsigned next;                       /* ring slot of the next join */
	int64_t newest;
} rj_entry;

struct consult_rejoin {
	unsigned max;
	int64_t window_s;
	size_t max_keys;
	rj_entry *e;
	size_t len, cap;
	consult_imap at; /* key -> index in e + 1, so a join finds its record in O(1) */
};

consult_rejoin *consult_rejoin_new(unsigned max_joins, int64_t window_s, size_t max_keys)
{
	if (max_joins == 0 || max_joins > CONSULT_REJOIN_MAX_LIMIT || window_s < 1 || max_keys == 0)
		return NULL;
	consult_rejoin *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->max = max_joins;
	r->window_s = window_s;
	r->max_keys = max_keys;
	consult_imap_init(&r->at);
	return r;
}

void consult_rejoin_free(consult_rejoin *r)
{
	if (!r)
		return;
	consult_imap_clear(&r->at);
	free(r->e);
	free(r);
}

size_t consult_rejoin_size(const consult_rejoin *r)
{
	return r->len;
}

static rj_entry *find(consult_rejoin *r, int64_t key)
{
	uintptr_t at = (uintptr_t)consult_imap_get(&r->at, key);
	return at ? &r->e[at - 1] : NULL;
}

/* Joins of e inside the window at now, and the oldest of them. */
static unsigned inside(const consult_rejoin *r, const rj_entry *e, int64_t now, int64_t *oldest)
{
	unsigned k = 0;
	for (unsigned i = 0; i < e->n; i++) {
		if (now - e->t[i] >= r->window_s)
			continue;
		if (k == 0 || e->t[i] < *oldest)
			*oldest = e->t[i];
		k++;
	}
	return k;
}

bool consult_rejoin_allowed(consult_rejoin *r, int64_t key, int64_t now, int64_t *retry_after)
{
	rj_entry *e = find(r, key);
	int64_t oldest = now;
	if (!e || inside(r, e, now, &oldest) < r->max)
		return true;
	if (retry_after) {
		int64_t w = oldest + r->window_s - now;
		*retry_after = w < 1 ? 1 : w;
	}
	return false;
}

/* Removes entry i; the last entry takes its place (its index follows). */
static void drop(consult_rejoin *r, size_t i)
{
	consult_imap_del(&r->at, r->e[i].key);
	r->e[i] = r->e[--r->len];
	if (i < r->len)
		consult_imap_put(&r->at, r->e[i].key, (void *)(uintptr_t)(i + 1));
}

void consult_rejoin_note(consult_rejoin *r, int64_t key, int64_t now)
{
	rj_entry *e = find(r, key);
	if (!e) {
		if (r->len == r->max_keys) {
			size_t victim = 0;
			for (size_t i = 1; i < r->len; i++)
				if (r->e[i].newest < r->e[victim].newest)
					victim = i;
			drop(r, victim);
		}
		if (r->len == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 16;
			if (cap > r->max_keys)
				cap = r->max_keys;
			rj_entry *ne = realloc(r->e, cap * sizeof *ne);
			if (!ne)
				return;
			r->e = ne;
			r->cap = cap;
		}
		if (!consult_imap_put(&r->at, key, (void *)(uintptr_t)(r->len + 1)))
			return;
		e = &r->e[r->len++];
		memset(e, 0, sizeof *e);
		e->key = key;
	}
	e->t[e->next] = now;
	e->next = (e->next + 1) % r->max;
	if (e->n < r->max)
		e->n++;
	if (now > e->newest || e->n == 1)
		e->newest = now;
}

void consult_rejoin_prune(consult_rejoin *r, int64_t now)
{
	for (size_t i = 0; i < r->len;) {
		if (now - r->e[i].newest >= r->window_s)
			drop(r, i);
		else
			i++;
	}
}

bool consult_ended_kept(int64_t ended_at, int64_t now)
{
	return now - ended_at < CONSULT_ENDED_KEEP_S;
}
