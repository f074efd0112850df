/* decide.h - the waiting room's decisions: what an event does, as a list
 * of effects for the glue to carry out.
 *
 * Contract: consult_room_decide() looks at the room and one input and
 * answers either an error (the request's error code; nothing is to be
 * done) or the step plus the effects (effect.h) in the order they must
 * happen: store write, room change, handle bookkeeping, pushes. It changes
 * nothing itself: the room changes only when the glue runs the APPLY /
 * JOIN / TAKE_OVER effect, after the store write succeeded. All rules live
 * here or below: who may do what (room.h), who hears which event, the
 * takeover/resume policy of a second join, which event a leaving doctor
 * causes, when waiting lists and positions are pushed. A patient handle
 * only ever receives events about its own visit. Pure: time is an
 * argument, no I/O, no allocation.
 *
 * Inputs:
 *   VISIT         a visit event `ev` on visit_id by the actor.
 *   JOIN          a patient handle (`patient`) presents a valid code of
 *                 appointment_id. No live visit: outcome NEW. AWAY: it
 *                 comes back (PATIENT_BACK), RESUMED. WAITING/RINGING: the
 *                 new handle takes it over (the old one hears taken_over
 *                 and is retired; a ringing visit rings again on the new
 *                 handle; the readiness starts unchecked again, and the
 *                 doctors get a fresh list if that changed a waiting
 *                 one), RESUMED. IN_CALL and resume_call == its id:
 *                 the new handle takes the call over (PATIENT_RESUME; the
 *                 old handle, if any, hears taken_over and is retired; the
 *                 doctor hears nothing), RESUMED. IN_CALL otherwise: the
 *                 call ends (PATIENT_DROP, patient_dropped), the old handle
 *                 is retired, outcome NEW. No live visit, but resume_call
 *                 names this appointment's visit that ended recently (the
 *                 call ended while the page was away): outcome ENDED, no
 *                 effects (the page learns the call is over; no new visit).
 *   PATIENT_GONE  the handle of visit_id vanished: PATIENT_HOLD in a call
 *                 (held, the doctor hears nothing), else PATIENT_DROP.
 *   ARRIVE        the store began visit `arrive.id`: admit it (CONFLICT if
 *                 its id or appointment is live).
 *   DOCTOR_LEAVE  the acting doctor leaves while holding visit_id's call:
 *                 if the handle vanished: DOCTOR_HOLD in a call (held, the
 *                 patient hears nothing), DOCTOR_DROP while ringing; else
 *                 CANCEL_RING while ringing, HANGUP_DOCTOR in a call. No
 *                 effects if the doctor holds no call of that visit (or its
 *                 doctor side is held already and the handle vanished).
 * Ends with nobody back (GRACE_EXPIRED, PATIENT_DROP of a held call) are
 * stored with ended_at = the visit's away_since (when the patient went).
 * The patient's answer to a call carries what the doctor hears with it:
 * DECLINE its reason (call_declined "reason"), ACCEPT whether it is with
 * audio only (call_accepted "audio_only"); an audio-only ACCEPT in a
 * practice whose policy is "never" is FORBIDDEN and changes nothing (the
 * call keeps ringing). `ringing` carries the practice's audio-only policy.
 */
#ifndef CONSULT_DECIDE_H
#define CONSULT_DECIDE_H

#include <stdbool.h>
#include <stdint.h>
#include "effect.h"
#include "errors.h"
#include "room.h"

typedef enum consult_actor_kind {
	CONSULT_ACTOR_NONE = 0, /* the system: timer, reception, forwarding */
	CONSULT_ACTOR_PATIENT,  /* the visit's patient handle */
	CONSULT_ACTOR_DOCTOR,   /* a doctor (doctor_id) */
} consult_actor_kind;

typedef struct consult_actor {
	consult_actor_kind kind;
	int64_t doctor_id; /* DOCTOR */
} consult_actor;

typedef enum consult_input {
	CONSULT_IN_VISIT = 0,
	CONSULT_IN_JOIN,
	CONSULT_IN_ARRIVE,
	CONSULT_IN_DOCTOR_LEAVE,
	CONSULT_IN_PATIENT_GONE,
} consult_input;

typedef struct consult_room_event {
	consult_input in;
	consult_visit_event ev;    /* VISIT */
	int64_t visit_id;          /* VISIT, DOCTOR_LEAVE, PATIENT_GONE */
	int64_t appointment_id;    /* JOIN */
	int64_t resume_call;       /* JOIN: the call this page still holds (visit id), 0 none */
	void *patient;             /* JOIN: the new handle; VISIT PATIENT_BACK: the returning handle */
	bool handle_gone;          /* DOCTOR_LEAVE */
	consult_visit_init arrive; /* ARRIVE */
	int64_t grace_s;           /* an AWAY visit is kept grace_s from now */
	/* VISIT DECLINE: why (DECLINED if not given); VISIT ACCEPT: with audio
	 * only (audio_only), which the practice may not allow (audio_never) */
	consult_decline_reason decline;
	bool audio_only, audio_never;
} consult_room_event;

typedef enum consult_join_outcome {
	CONSULT_JOIN_NEW = 0, /* no live visit left: the glue begins one and sends ARRIVE */
	CONSULT_JOIN_RESUMED, /* the handle has the appointment's live visit now */
	CONSULT_JOIN_ENDED,   /* resume_call: that call ended meanwhile; nothing to join */
} consult_join_outcome;

typedef struct consult_decision {
	bool has_step; /* a visit event was decided (ev, visit_id, from, step) */
	consult_visit_event ev;
	int64_t visit_id;
	consult_visit_state from;
	consult_visit_step step;
	consult_join_outcome join; /* JOIN */
	size_t changed;            /* VISIT, ARRIVE: fx[0..changed) are the store write and the room
	                               change, the rest follows from them (the timer runs the first
	                               part of every due visit before the rest of any) */
	consult_effects fx;
} consult_decision;

/* CONSULT_OK and *out filled, or the error (then out holds no effects;
 * out->ev and out->visit_id name the event refused, if one was chosen). */
consult_err consult_room_decide(const consult_room *r, const consult_room_event *e, const consult_actor *actor,
        int64_t now, consult_decision *out);

#endif
