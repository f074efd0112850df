/* room.h - one practice's live waiting room: its visits, their queue, and
 * which doctor is ringing or talking to whom.
 *
 * Contract: the single authority for call races. consult_room_check()
 * says whether an event may happen (a doctor sees only own and "any
 * doctor" patients, consult_doctor_sees; one call per doctor; one doctor
 * per patient) and the step visit.h's table gives; consult_room_apply()
 * takes it. Deciding what follows from a step is decide.h's job. The
 * caller serialises access (one lock). Ended visits leave the live room
 * (the change record carries a copy) and are remembered for
 * CONSULT_ENDED_KEEP_S (rejoin.h), so a late CALL by a doctor who saw the
 * visit is answered ALREADY_CALLED.
 * Held calls: while a participant's signalling is away an IN_CALL visit
 * stays IN_CALL with that side detached (PATIENT_HOLD: patient NULL,
 * away_until; DOCTOR_HOLD: doctor_until) until it re-attaches
 * (PATIENT_RESUME / DOCTOR_RESUME) or its deadline passes
 * (consult_room_held_due). DOCTOR_DROP of a call whose patient is detached
 * goes to AWAY (at the head) instead of WAITING: nobody is there to wait.
 * consult_room_restore() puts a stored live visit back after a restart.
 * Each visit also holds its patient's device check (readiness.h): reported
 * while WAITING or RINGING, back to unchecked whenever a (new) handle takes
 * the visit (PATIENT_BACK, PATIENT_RESUME, take over), in memory only.
 * AWAY visits keep their place in the queue but count in nobody's
 * position (queue.h); positions can be reported together with each
 * patient's estimated wait (estimate.h).
 * Pure: time is an argument, no I/O.
 */
#ifndef CONSULT_ROOM_H
#define CONSULT_ROOM_H

#include <stddef.h>
#include <stdint.h>
#include "errors.h"
#include "estimate.h"
#include "readiness.h"
#include "visit.h"

typedef struct consult_visit {
	int64_t id; /* visit record id from the store */
	int64_t appointment_id;
	int64_t doctor_id; /* appointment's doctor, 0 = any doctor */
	int64_t appt_time; /* unix seconds */
	int64_t joined_at; /* unix seconds, first join */
	consult_visit_state state;
	int64_t call_doctor_id; /* doctor ringing/talking, 0 otherwise */
	int64_t away_until;     /* deadline while AWAY, or while the patient side of a held call is detached */
	int64_t away_since;     /* when the patient's handle went (AWAY, held call), 0 while attached */
	int64_t doctor_until;   /* IN_CALL: deadline while the doctor side is detached, 0 while attached */
	bool head;              /* sent back to the head of the queue (kept while ringing / in a call) */
	void *patient;          /* the glue's patient session (borrowed), NULL while AWAY or detached */
	/* the patient's device check (readiness.h), UNCHECKED until reported */
	consult_readiness camera, microphone;
} consult_visit;

typedef struct consult_visit_init {
	int64_t id, appointment_id, doctor_id, appt_time, joined_at;
	void *patient;
} consult_visit_init;

/* What one applied event did. `visit` is a copy after the step (state
 * ENDED: the visit is gone from the room). `doctor_id` is the doctor the
 * change concerns (the caller for CALL, the call's doctor otherwise), 0 if
 * none. */
typedef struct consult_room_change {
	consult_visit_state from;
	consult_visit_step step;
	int64_t doctor_id;
	consult_visit visit;
} consult_room_change;

typedef struct consult_room consult_room;

consult_room *consult_room_new(int64_t practice_id);
void consult_room_free(consult_room *r);
int64_t consult_room_practice(const consult_room *r);

/* New visit, WAITING, queued. CONSULT_ERR_CONFLICT if the id or the
 * appointment already has a live visit. */
consult_err consult_room_join(consult_room *r, const consult_visit_init *in, consult_visit **out);

consult_visit *consult_room_visit(consult_room *r, int64_t visit_id);
/* The live visit of an appointment, or NULL. */
consult_visit *consult_room_visit_of_appointment(consult_room *r, int64_t appointment_id);

/* Whether ev may happen to visit_id now, with the same checks and errors
 * as consult_room_apply(); fills *step (may be NULL). Changes nothing. */
consult_err consult_room_check(const consult_room *r, int64_t visit_id, consult_visit_event ev, int64_t actor_doctor,
        consult_visit_step *step);

/* Applies an event to a visit.
 * actor_doctor: the doctor sending CALL/CANCEL_RING/HANGUP_DOCTOR/DOCTOR_DROP
 *   (must be the visit's doctor or any-doctor for CALL, else NOT_FOUND; must
 *   be the call's doctor for the others, else NOT_FOUND). 0 for patient events.
 * CALL by a doctor who is ringing/in a call: CONSULT_ERR_DOCTOR_BUSY.
 * now/grace_s: used for PATIENT_DROP (away_until = now + grace_s).
 * patient: new patient session for PATIENT_BACK; ignored otherwise.
 * On error nothing changed. */
consult_err consult_room_apply(consult_room *r, int64_t visit_id, consult_visit_event ev, int64_t actor_doctor,
        int64_t now, int64_t grace_s, void *patient, consult_room_change *out);

/* A stored live visit after a restart (ids, times and state as stored). */
typedef struct consult_visit_restore {
	int64_t id, appointment_id, doctor_id, appt_time, joined_at;
	consult_visit_state state; /* as stored: WAITING, AWAY, RINGING or IN_CALL */
	int64_t called_by;         /* the doctor who called (IN_CALL: the call's doctor) */
	bool head;
	int64_t away_since; /* when the patient went (0: unknown, use gone_at) */
	int64_t gone_at;    /* when the server went away */
	int64_t until;      /* deadline of every detached side */
} consult_visit_restore;

/* Puts a stored live visit back, nobody attached: WAITING/AWAY -> AWAY,
 * RINGING -> AWAY at the head, IN_CALL -> IN_CALL held on both sides (doctor
 * = called_by; AWAY at the head if that doctor cannot hold it: unknown, not
 * visible, already holding another visit). away_since = the stored one, else
 * gone_at. Queue order among restored visits: call in visit id order.
 * CONSULT_ERR_CONFLICT if the id or appointment is live, WRONG_STATE for
 * ENDED. */
consult_err consult_room_restore(consult_room *r, const consult_visit_restore *in, consult_visit **out);

/* A new handle takes a WAITING or RINGING visit over (the old one is the
 * caller's to retire); its readiness starts unchecked again. NOT_FOUND /
 * WRONG_STATE otherwise. */
consult_err consult_room_take_over(consult_room *r, int64_t visit_id, void *patient);

/* A visit that ended recently (still in the memory of ended visits), or
 * NULL; its state is ENDED, its patient NULL. */
const consult_visit *consult_room_ended(const consult_room *r, int64_t visit_id);

/* The memory of ended visits: how many it holds, and forgetting those no
 * longer kept at now (returns how many). */
size_t consult_room_ended_count(const consult_room *r);
size_t consult_room_ended_prune(consult_room *r, int64_t now);

/* The visit a doctor is ringing or in a call with, or NULL. */
consult_visit *consult_room_doctor_visit(consult_room *r, int64_t doctor_id);

/* AWAY visits whose grace period is over (now >= away_until), in queue
 * order: the first max ids go to ids; returns how many there are. */
size_t consult_room_due(consult_room *r, int64_t now, int64_t *ids, size_t max);

/* Held calls whose detached side's deadline passed (now >= deadline), as
 * the event that ends the hold: PATIENT_DROP (patient side; ends the
 * visit) or DOCTOR_DROP by doctor_id (doctor side). The first max go to
 * out; returns how many there are. */
typedef struct consult_room_due_item {
	int64_t visit_id;
	consult_visit_event ev;
	int64_t doctor_id; /* DOCTOR_DROP: the call's doctor (the actor) */
} consult_room_due_item;
size_t consult_room_held_due(consult_room *r, int64_t now, consult_room_due_item *out, size_t max);

/* Ends AWAY visits whose grace period is over (now >= away_until);
 * calls cb with each change. Returns how many. */
typedef void (*consult_room_change_cb)(const consult_room_change *c, void *ud);
size_t consult_room_expire(consult_room *r, int64_t now, consult_room_change_cb cb, void *ud);

/* Waiting visits (WAITING and AWAY) a doctor may call, in queue order;
 * doctor 0 = all. index counts from 0. */
typedef void (*consult_room_each_cb)(const consult_visit *v, uint32_t index, void *ud);
void consult_room_foreach_waiting(consult_room *r, int64_t doctor_id, consult_room_each_cb cb, void *ud);

/* Every live visit (any state but ENDED), no particular order. */
void consult_room_foreach(consult_room *r, consult_room_each_cb cb, void *ud);

/* The patient's device check of a WAITING or RINGING visit: NOT_FOUND (no
 * such live visit), WRONG_STATE (any other state), else OK and *changed
 * (may be NULL) says whether it differs from before. */
consult_err consult_room_set_readiness(
        consult_room *r, int64_t visit_id, consult_readiness camera, consult_readiness microphone, bool *changed);

/* Position of a waiting visit (connected patients ahead; an AWAY visit is
 * nobody's ahead), CONSULT_AHEAD_UNKNOWN (queue.h) if not waiting. */
uint32_t consult_room_ahead(consult_room *r, int64_t visit_id);

/* Reports the waiting visits whose position changed since last reported.
 * AWAY visits are included (their patient is NULL: skip sending); a visit
 * that re-enters the queue (decline, cancel_ring, doctor drop, ringing
 * patient dropped) is always reported again. */
typedef void (*consult_room_pos_cb)(consult_visit *v, uint32_t ahead, void *ud);
size_t consult_room_positions(consult_room *r, consult_room_pos_cb cb, void *ud);

/* The same with each patient's estimated wait: wait(v, ahead) is asked for
 * every waiting visit, and a visit is reported (with both) when its
 * position or its estimate changed since last reported. */
typedef consult_wait (*consult_room_wait_cb)(const consult_visit *v, uint32_t ahead, void *ud);
typedef void (*consult_room_told_cb)(consult_visit *v, uint32_t ahead, consult_wait wait, void *ud);
size_t consult_room_positions_wait(consult_room *r, consult_room_wait_cb wait, consult_room_told_cb cb, void *ud);

/* Counts of live visits by state (array of CONSULT_VISIT_STATE_COUNT). */
void consult_room_counts(const consult_room *r, size_t counts[CONSULT_VISIT_STATE_COUNT]);

#endif
