/* imap.h - internal: a small int64 -> pointer hash map (open addressing,
 * linear probing, backward-shift deletion). Used by room.c.
 *
 * Contract: keys are any int64; values are non-NULL pointers. Growth only
 * happens in consult_imap_reserve()/consult_imap_put(), so a reserve
 * beforehand makes the next puts infallible. Not part of the public API.
 */
#ifndef CONSULT_IMAP_H
#define CONSULT_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct consult_imap_slot {
	int64_t key;
	void *val;
} consult_imap_slot;
typedef struct consult_imap {
	consult_imap_slot *slots; /* val == NULL: empty */
	size_t cap;               /* power of two or 0 */
	size_t len;
} consult_imap;

void consult_imap_init(consult_imap *m);
void consult_imap_clear(consult_imap *m); /* frees the table, not the values */
/* Makes room for n entries in total; false on allocation failure. */
bool consult_imap_reserve(consult_imap *m, size_t n);
void *consult_imap_get(const consult_imap *m, int64_t key);
/* Inserts or replaces; false on allocation failure (map unchanged). */
bool consult_imap_put(consult_imap *m, int64_t key, void *val);
/* Removes and returns the old value or NULL. */
void *consult_imap_del(consult_imap *m, int64_t key);

#endif
