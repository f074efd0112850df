/* snapshot.h - per-practice copy in memory of the store data that changes
 * only through admin writes: the practice row with its flags (relay_only,
 * forward_never, audio_only_never, patient_share) and its staff (names,
 * roles, disabled). The requests of every call, accept, ICE push and join
 * read it instead of the store.
 *
 * Contract: under glue.lock only (the handlers, the timer and the admin
 * API hold it). A practice's snapshot is read from the store (the practice
 * row, then its staff list: two round trips) when it is missing or no
 * longer fresh (core/snapshot.h: older than CONSULT_SNAPSHOT_TTL_MS on the
 * monotonic clock), so a change another instance sharing the store wrote
 * is seen within that time. This instance's own admin writes drop the
 * practice's snapshot (glue_snapshot_forget) before they reply, so they
 * are seen by the next request at once. A staff id the snapshot does not
 * know is looked up by reloading the snapshot once (a member added on
 * another instance). On a store failure nothing is cached and NULL comes
 * back with *e INTERNAL; callers keep their fail-closed answers. Pointers
 * returned stay valid until the next glue_snapshot_* call or store round
 * trip of the calling thread. Callers in drop mode (plock.h: requests,
 * the anonymous join and practice_info) are fine: a reload builds the new
 * copy aside, puts it in the table only after its round trips, and keeps
 * no table pointer across them.
 */
#ifndef CONSULT_GLUE_SNAPSHOT_H
#define CONSULT_GLUE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include "store/store.h"

typedef struct glue_snap_staff {
	int64_t id;
	char *display_name;
	consult_role role;
	bool disabled;
} glue_snap_staff;

typedef struct glue_snapshot {
	consult_practice pr; /* the practice row with its flags */
	GHashTable *staff;   /* &id -> glue_snap_staff* of every staff member of the practice */
	int64_t loaded_ms;   /* monotonic ms of the store read */
} glue_snapshot;

/* The practice's snapshot; NULL with *e NOT_FOUND (no such practice) or
 * INTERNAL (store failure). e may be NULL. */
const glue_snapshot *glue_snapshot_get(int64_t practice_id, consult_err *e);
/* The same by the practice's slug. */
const glue_snapshot *glue_snapshot_by_slug(const char *slug, consult_err *e);
/* A staff member of practice_id; NULL with *e NOT_FOUND if it is none of
 * that practice, INTERNAL on a store failure. */
const glue_snap_staff *glue_snapshot_staff(int64_t practice_id, int64_t staff_id, consult_err *e);
/* A copy of a snapshot's practice row (the caller clears it with
 * consult_practice_clear), for callers that keep it across other calls. */
void glue_snapshot_copy_practice(const glue_snapshot *sn, consult_practice *out);
/* Drops a practice's snapshot (0: every practice's), after an admin write. */
void glue_snapshot_forget(int64_t practice_id);
/* Frees everything (plugin stop). */
void glue_snapshot_free(void);

#endif
