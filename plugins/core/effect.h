/* effect.h - what a waiting-room decision asks the glue to carry out, as
 * plain data.
 *
 * Contract: a consult_effects list is a fixed array of tagged structs
 * (no allocation, nothing to free; every string in it is static). The
 * glue runs the effects in order: the store write comes first, so a failed
 * write stops the list before anything changed; then the room change, then
 * handle bookkeeping and pushes in the order the browsers must see them.
 * Handles are opaque pointers the room holds for the glue (a visit's
 * patient); doctors are named by staff id, the glue finds the handle that
 * holds the visit's call. Pure data, no I/O.
 */
#ifndef CONSULT_EFFECT_H
#define CONSULT_EFFECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "visit.h"

typedef enum consult_fx_kind {
	CONSULT_FX_STORE_RING = 0, /* store: visit rings, doctor_id, at */
	CONSULT_FX_STORE_END,      /* store: visit ended with reason, at */
	CONSULT_FX_STORE_STATE,    /* store: visit's new state, head flag and away_since */
	CONSULT_FX_APPLY,          /* the room takes the decided step (consult_room_apply) */
	CONSULT_FX_JOIN,           /* the room admits the arriving visit (consult_room_join) */
	CONSULT_FX_TAKE_OVER,      /* the room gives the visit to `patient` (consult_room_take_over) */
	CONSULT_FX_BIND_DOCTOR,    /* the acting doctor's handle holds the visit's call */
	CONSULT_FX_UNBIND_DOCTOR,  /* the call's doctor (doctor_id) holds no call any more */
	CONSULT_FX_BIND_PATIENT,   /* `patient` is the handle of visit_id (appointment_id) */
	CONSULT_FX_UNBIND_PATIENT, /* `patient`'s visit is over */
	CONSULT_FX_RETIRE_PATIENT, /* `patient` was taken over: inert from now on */
	CONSULT_FX_CALL_OVER, /* the call left IN_CALL: forwarding of `patient` and the doctor ends, its path is counted */
	CONSULT_FX_FORGET,    /* the visit ended: per-visit glue data (names, path) dropped */
	CONSULT_FX_NOTIFY,    /* event handlers: visit_id is in `state` (reason if ended) */
	CONSULT_FX_PUSH,      /* one event to a recipient (below) */
	CONSULT_FX_POSITIONS, /* patients whose place changed learn it (consult_room_positions) */
	CONSULT_FX_KIND_COUNT
} consult_fx_kind;

typedef enum consult_fx_to {
	CONSULT_TO_PATIENT = 0, /* the handle `patient` */
	CONSULT_TO_DOCTOR,      /* the handle of doctor_id that holds visit_id's call */
	CONSULT_TO_DOCTORS,     /* every logged-in doctor who sees a visit of doctor_id (consult_doctor_sees) */
	CONSULT_TO_STAFF,       /* every logged-in staff member of the practice */
} consult_fx_to;

/* One per row of events.def (the wire contract), named after the event:
 * CONSULT_PUSH_ringing, CONSULT_PUSH_waiting (the doctor's list, rendered
 * per doctor by the glue), CONSULT_PUSH_appointment (appointment_id,
 * status and the visit's patient name), ... */
typedef enum consult_push_event {
#define CONSULT_EVENT(name, to, fields) CONSULT_PUSH_##name,
#include "events.def"
#undef CONSULT_EVENT
	CONSULT_PUSH_EVENT_COUNT
} consult_push_event;

/* Fields of a push, beside the event name. */
enum {
	CONSULT_PF_VISIT = 1,     /* "visit_id" */
	CONSULT_PF_REASON = 2,    /* "reason": the end reason */
	CONSULT_PF_ICE = 4,       /* ICE servers and call timers, minted for this recipient */
	CONSULT_PF_DOCTOR = 8,    /* "doctor": display name of the call's doctor */
	CONSULT_PF_REQUEUED = 16, /* "requeued": true */
	CONSULT_PF_DECLINE = 32,  /* "reason": why the patient declined (decline) */
	CONSULT_PF_AUDIO = 64,    /* "audio_only": true/false, accepted with audio only (audio_only) */
	CONSULT_PF_POLICY = 128,  /* "audio_only": the practice's policy "allowed"/"never" (the glue reads it) */
};

typedef struct consult_effect {
	consult_fx_kind kind;
	int64_t visit_id;
	int64_t appointment_id; /* BIND_PATIENT, PUSH appointment */
	int64_t doctor_id;      /* STORE_RING, UNBIND_DOCTOR, TO_DOCTOR, JOIN; APPLY: the acting doctor;
	                               TO_DOCTORS: the visit's doctor (0 any) */
	void *patient; /* TO_PATIENT, *_PATIENT, TAKE_OVER, CALL_OVER, JOIN; APPLY: the new handle (PATIENT_BACK) */
	int64_t at;    /* STORE_RING, APPLY: the decision's now; STORE_END: ended_at */
	consult_visit_event ev;       /* APPLY */
	int64_t grace_s;              /* APPLY: AWAY lasts grace_s from now */
	int64_t appt_time, joined_at; /* JOIN */
	consult_visit_state state;    /* STORE_STATE, NOTIFY */
	bool head;                    /* STORE_STATE: the visit goes back to the head when queued */
	int64_t away_since;           /* STORE_STATE: when the patient's handle went, 0 while attached */
	consult_end_reason reason;    /* STORE_END, NOTIFY, PF_REASON */
	/* PF_DECLINE, PF_AUDIO */
	consult_decline_reason decline;
	bool audio_only;
	/* PUSH */
	consult_fx_to to;
	consult_push_event event;
	unsigned fields;    /* CONSULT_PF_* */
	const char *status; /* PUSH appointment: "waiting", ..., "ended", "cancelled" (static) */
} consult_effect;

#define CONSULT_FX_MAX 32

typedef struct consult_effects {
	size_t n;
	bool overflow; /* an effect did not fit (a bug: decide refuses then) */
	consult_effect fx[CONSULT_FX_MAX];
} consult_effects;

/* Appends a copy of e (sets overflow instead when full). */
void consult_effects_add(consult_effects *l, const consult_effect *e);

const char *consult_push_event_name(consult_push_event ev); /* "ringing", ...; "" if out of range */

#endif
