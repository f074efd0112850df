/* plock.h - per-practice locks and the pool of store handles (plock.c).
 *
 * Contract (docs/architecture.md, "Concurrency"): every practice has a
 * mutex of its own (created on first use, kept until the plugin stops, so
 * a practice's memory may be dropped and rebuilt - leases.c - while its
 * lock stays valid). Its live state (room, staff list, visits, its
 * handles' fields) is CHANGED only with both its lock and glue.lock held,
 * and may be READ under glue.lock alone. Lock order: a practice lock,
 * then the pool, then glue.lock, then the sessions mutex; a thread holds
 * at most one practice lock.
 *
 * On PostgreSQL the requests' store calls run on a handle checked out of a
 * pool (store_connections handles, 2..8); a request "in drop mode" holds
 * glue.lock for everything but its pooled handle's round trips, which run
 * without it (the store's wait hook drops and re-takes it). Drop mode is
 * for requests that hold their practice's lock or touch no practice state
 * across a store call (the anonymous code lookup); code running in it keeps
 * no pointer into other glue.lock data across a store call. On SQLite
 * there is no pool (glue_store() is glue.store) and nothing is ever
 * dropped: behaviour is that of the single lock. With leases a practice's
 * memory is dropped and rebuilt only under its lock too (leases.c).
 */
#ifndef CONSULT_GLUE_PLOCK_H
#define CONSULT_GLUE_PLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "store/store.h"
#include "session.h"

/* At init (after glue.store is open and the config loaded): the pool, on
 * PostgreSQL only. 0 or -1 (logged). */
int glue_pool_open(void);
void glue_pool_close(void);
/* Handles in the pool (0 on SQLite). */
unsigned glue_pool_size(void);
/* Store failures of the pooled handles so far; any thread. */
unsigned glue_pool_errors(void);

/* The store handle of this thread: its checked-out pooled handle, else glue.store. */
consult_store *glue_store(void);
/* Checks a pooled handle out for this thread (waits for a free one; a
 * no-op without a pool or if it has one). Never under glue.lock. */
void glue_pool_checkout(void);
/* Gives it back (a no-op without one). Never under glue.lock. */
void glue_pool_checkin(void);
/* Drop mode on or off for this thread (ignored without a pool); the
 * thread holds glue.lock while it is on. */
void glue_pool_drop(bool on);

/* Takes practice_id's lock; the thread holds no practice lock and not glue.lock. */
void glue_practice_lock(int64_t practice_id);
/* Gives back the practice lock this thread holds (a no-op if none). */
void glue_practice_unlock(void);
/* The practice whose lock this thread holds, 0 none. */
int64_t glue_practice_held(void);
/* Inside a handler holding glue.lock and no practice lock: glue.lock (and
 * a pooled handle) given up, practice_id's lock taken, then the handle
 * and glue.lock again. Whatever was read under glue.lock before may have
 * changed: the caller checks again what it needs. */
void glue_practice_enter(int64_t practice_id);
/* Locks s's practice (if s is a patient or staff handle) and glue.lock,
 * so that s's practice cannot change meanwhile; returns that practice
 * (its lock held) or 0 (no practice lock taken); glue.lock is held on
 * return either way. The thread holds neither lock before. */
int64_t glue_lock_session_practice(glue_session *s);
/* Changes to practice_id's live state need its lock: with the check on
 * (environment CONSULT_LOCK_CHECK=1 at init, the tests), a change without
 * it is logged and aborts. */
void glue_practice_check(int64_t practice_id);

#endif
