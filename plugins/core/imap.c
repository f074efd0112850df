/* imap.c - internal int64 -> pointer hash map, see imap.h. */
#include <stdlib.h>
#include "imap.h"

static size_t slot_of(int64_t key, size_t cap)
{
	uint64_t h = (uint64_t)key;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

void consult_imap_init(consult_imap *m)
{
	m->slots = NULL;
	m->cap = m->len = 0;
}

void consult_imap_clear(consult_imap *m)
{
	free(m->slots);
	consult_imap_init(m);
}

bool consult_imap_reserve(consult_imap *m, size_t n)
{
	/* keep the load factor <= 1/2 */
	if (n * 2 <= m->cap)
		return true;
	size_t cap = m->cap ? m->cap : 16;
	while (cap < n * 2)
		cap *= 2;
	consult_imap_slot *s = calloc(cap, sizeof *s);
	if (!s)
		return false;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].val)
			continue;
		size_t j = slot_of(m->slots[i].key, cap);
		while (s[j].val)
			j = (j + 1) & (cap - 1);
		s[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = s;
	m->cap = cap;
	return true;
}

static consult_imap_slot *find(const consult_imap *m, int64_t key)
{
	if (!m->cap)
		return NULL;
	size_t i = slot_of(key, m->cap);
	while (m->slots[i].val) {
		if (m->slots[i].key == key)
			return &m->slots[i];
		i = (i + 1) & (m->cap - 1);
	}
	return NULL;
}

void *consult_imap_get(const consult_imap *m, int64_t key)
{
	consult_imap_slot *s = find(m, key);
	return s ? s->val : NULL;
}

bool consult_imap_put(consult_imap *m, int64_t key, void *val)
{
	consult_imap_slot *s = find(m, key);
	if (s) {
		s->val = val;
		return true;
	}
	if (!consult_imap_reserve(m, m->len + 1))
		return false;
	size_t i = slot_of(key, m->cap);
	while (m->slots[i].val)
		i = (i + 1) & (m->cap - 1);
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->len++;
	return true;
}

void *consult_imap_del(consult_imap *m, int64_t key)
{
	consult_imap_slot *s = find(m, key);
	if (!s)
		return NULL;
	void *old = s->val;
	size_t mask = m->cap - 1;
	size_t i = (size_t)(s - m->slots);
	/* backward-shift deletion keeps probe chains intact without tombstones */
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->slots[j].val)
			break;
		size_t home = slot_of(m->slots[j].key, m->cap);
		/* move j into the hole at i if its home is not in (i, j] cyclically */
		bool between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].val = NULL;
	m->len--;
	return old;
}
