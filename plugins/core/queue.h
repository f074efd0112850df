/* queue.h - the ordered waiting queue of one practice and patients' positions.
 *
 * Contract: holds the patients who wait (state WAITING or AWAY). Order: those
 * sent back to the head (doctor dropped) first, then appointment time, then
 * arrival. A patient's position ("ahead") counts the connected waiting
 * patients before them who compete for the same doctor: for a patient of
 * doctor D, those of D and of "any doctor" (doctor_id 0); for an "any
 * doctor" patient, everyone. An entry marked away (its patient's
 * connection is lost, AWAY) keeps its place but is not counted in anyone's
 * position until it is back. consult_queue_positions() reports only the
 * entries whose count (or the caller's extra value, e.g. an estimate)
 * changed since it was last reported, so an update costs messages only for
 * patients whose number really changed. Pure data structure, no I/O, no
 * clock.
 */
#ifndef CONSULT_QUEUE_H
#define CONSULT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSULT_AHEAD_UNKNOWN UINT32_MAX

typedef struct consult_queue_entry {
	int64_t visit_id;     /* unique key */
	int64_t doctor_id;    /* 0 = any doctor of the practice */
	int64_t appt_time;    /* unix seconds */
	uint64_t arrival_seq; /* tie break: smaller came first */
	bool head;            /* sent back to the head of the queue */
	bool away;            /* connection lost: keeps its place, counted in nobody's position */
	uint32_t told_ahead;  /* last reported position, CONSULT_AHEAD_UNKNOWN initially */
	uint64_t told_extra;  /* last reported extra value (consult_queue_positions_with), 0 initially */
	void *user;
} consult_queue_entry;

typedef struct consult_queue consult_queue;

consult_queue *consult_queue_new(void);
void consult_queue_free(consult_queue *q);

/* Inserts a copy (told_ahead reset to UNKNOWN, told_extra to 0). False if
 * visit_id is present. */
bool consult_queue_insert(consult_queue *q, const consult_queue_entry *e);
/* Removes; false if absent. */
bool consult_queue_remove(consult_queue *q, int64_t visit_id);
/* The pointer is valid until the next insert/remove. Do not change the
 * ordering keys (head, appt_time, arrival_seq) through it: remove and
 * insert again instead. */
consult_queue_entry *consult_queue_find(consult_queue *q, int64_t visit_id);
size_t consult_queue_len(const consult_queue *q);
/* Added: makes room for n entries in total, so that the next inserts up to
 * n cannot fail. False on allocation failure (queue unchanged). */
bool consult_queue_reserve(consult_queue *q, size_t n);

/* Marks an entry away or back (not an ordering key); false if absent. */
bool consult_queue_set_away(consult_queue *q, int64_t visit_id, bool away);

/* Current position of one entry (computed now), CONSULT_AHEAD_UNKNOWN if absent. */
uint32_t consult_queue_ahead(const consult_queue *q, int64_t visit_id);

/* Entries a doctor sees, in queue order: doctor_id == doctor or 0.
 * doctor 0 lists everyone. */
typedef void (*consult_queue_each_cb)(const consult_queue_entry *e, void *ud);
void consult_queue_foreach(const consult_queue *q, int64_t doctor_id, consult_queue_each_cb cb, void *ud);

/* Recomputes all positions in O(n) and calls cb for each entry whose
 * position differs from told_ahead, then stores it. Returns the count. */
typedef void (*consult_queue_pos_cb)(consult_queue_entry *e, uint32_t ahead, void *ud);
size_t consult_queue_positions(consult_queue *q, consult_queue_pos_cb cb, void *ud);

/* The same, with an extra value per entry: extra(e, ahead) is asked for
 * every entry (just before cb, if the entry is reported), and an entry is
 * reported when its position or its extra value differs from the last
 * reported (told_ahead, told_extra); both are stored after cb. extra NULL:
 * 0 for all. */
typedef uint64_t (*consult_queue_extra_cb)(const consult_queue_entry *e, uint32_t ahead, void *ud);
size_t consult_queue_positions_with(consult_queue *q, consult_queue_extra_cb extra, consult_queue_pos_cb cb, void *ud);

#endif
