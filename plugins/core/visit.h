/* visit.h - the visit/call state machine of one patient's visit.
 *
 * Contract: a pure transition table. Given a state and an event it says the
 * next state, the end reason (if the visit ends) and whether the patient
 * goes back to the head of the queue; or an error code if the event is not
 * allowed in that state. No memory, no time, no I/O.
 *
 *   WAITING --CALL--> RINGING --ACCEPT--> IN_CALL --HANGUP_*--> ENDED
 *   RINGING --DECLINE/CANCEL_RING--> WAITING
 *   WAITING/RINGING --PATIENT_DROP--> AWAY --PATIENT_BACK--> WAITING
 *   AWAY --GRACE_EXPIRED--> ENDED          IN_CALL --PATIENT_DROP--> ENDED
 *   RINGING/IN_CALL --DOCTOR_DROP--> WAITING (head of the queue)
 *   any live state --LEAVE/CANCELLED--> ENDED
 *   IN_CALL --CONNECTION_LOST--> ENDED     (media path could not be recovered)
 *   IN_CALL --NO_PATH--> ENDED             (no peer-to-peer path, forwarding not allowed)
 *   IN_CALL --PATIENT_HOLD/PATIENT_RESUME/DOCTOR_HOLD/DOCTOR_RESUME--> IN_CALL
 *                                          (a side's signalling went / came back: the
 *                                          peer-to-peer call is held meanwhile)
 */
#ifndef CONSULT_VISIT_H
#define CONSULT_VISIT_H

#include <stdbool.h>
#include <stdint.h>
#include "errors.h"

typedef enum consult_visit_state {
	CONSULT_VISIT_WAITING = 0, /* in the waiting room */
	CONSULT_VISIT_AWAY,        /* connection lost, place kept until the grace period ends */
	CONSULT_VISIT_RINGING,     /* a doctor is calling, patient has not answered */
	CONSULT_VISIT_IN_CALL,     /* accepted; browsers negotiate/hold the call */
	CONSULT_VISIT_ENDED,
	CONSULT_VISIT_STATE_COUNT
} consult_visit_state;

typedef enum consult_visit_event {
	CONSULT_EV_CALL = 0,        /* doctor calls the patient */
	CONSULT_EV_ACCEPT,          /* patient accepts */
	CONSULT_EV_DECLINE,         /* patient declines: back to waiting */
	CONSULT_EV_CANCEL_RING,     /* doctor stops ringing before the answer */
	CONSULT_EV_HANGUP_DOCTOR,   /* doctor ends the visit */
	CONSULT_EV_HANGUP_PATIENT,  /* patient ends the call */
	CONSULT_EV_PATIENT_DROP,    /* patient's handle went away (not a clean leave) */
	CONSULT_EV_PATIENT_BACK,    /* same code joined again inside the grace period */
	CONSULT_EV_DOCTOR_DROP,     /* doctor's handle went away during ringing/call */
	CONSULT_EV_GRACE_EXPIRED,   /* AWAY for longer than the grace period */
	CONSULT_EV_LEAVE,           /* patient left the waiting room on purpose (tab closed, "leave") */
	CONSULT_EV_CANCELLED,       /* reception cancelled the appointment */
	CONSULT_EV_CONNECTION_LOST, /* additive (issue 4): a participant gave up after ICE could not recover */
	CONSULT_EV_NO_PATH,         /* additive (issue 5): no path, and the practice forbids forwarding */
	CONSULT_EV_PATIENT_HOLD,    /* patient's handle went away during the call: the call is held */
	CONSULT_EV_PATIENT_RESUME,  /* a patient handle (re)attaches to the held or running call */
	CONSULT_EV_DOCTOR_HOLD,     /* doctor's handle went away during the call: the call is held */
	CONSULT_EV_DOCTOR_RESUME,   /* the doctor's new handle attaches to the held call */
	CONSULT_EV_COUNT
} consult_visit_event;

typedef enum consult_end_reason {
	CONSULT_END_NONE = 0,
	CONSULT_END_LEFT,          /* patient left before/while waiting */
	CONSULT_END_DOCTOR_HANGUP, /* normal end */
	CONSULT_END_PATIENT_HANGUP,
	CONSULT_END_PATIENT_DROPPED, /* patient's connection lost during the call */
	CONSULT_END_GRACE_EXPIRED,   /* patient did not come back in time */
	CONSULT_END_CANCELLED,       /* appointment cancelled while the patient was there */
	CONSULT_END_CONNECTION_LOST, /* additive (issue 4): the media connection broke and did not recover */
	CONSULT_END_NO_PATH,         /* additive (issue 5): no connection possible, forwarding not allowed */
	CONSULT_END_SERVER_RESTART,  /* stored by earlier versions, which ended live visits at the next start */
	CONSULT_END_REASON_COUNT
} consult_end_reason;

/* Why a patient answered a call with `decline` (its "reason"): the doctor
 * reads "camera blocked" rather than "declined" when the browser refused
 * the devices. */
typedef enum consult_decline_reason {
	CONSULT_DECLINE_DECLINED = 0,       /* the patient said no (the default) */
	CONSULT_DECLINE_CAMERA_BLOCKED,     /* the camera permission was refused */
	CONSULT_DECLINE_MICROPHONE_BLOCKED, /* the microphone permission was refused */
	CONSULT_DECLINE_NO_DEVICES,         /* no camera and microphone usable */
	CONSULT_DECLINE_REASON_COUNT
} consult_decline_reason;

typedef struct consult_visit_step {
	consult_visit_state next;
	consult_end_reason reason; /* set when next == ENDED */
	bool to_head;              /* patient goes back to the head of the queue */
} consult_visit_step;

/* CONSULT_OK and *out filled, or CONSULT_ERR_WRONG_STATE (CALL on a
 * RINGING/IN_CALL visit gives CONSULT_ERR_ALREADY_CALLED, CALL on AWAY gives
 * CONSULT_ERR_PATIENT_AWAY). */
consult_err consult_visit_step_for(consult_visit_state from, consult_visit_event ev, consult_visit_step *out);

/* The one visibility rule: a doctor (> 0) sees, lists and may call the
 * visits of their own appointments and those for "any doctor" (0). */
bool consult_doctor_sees(int64_t visit_doctor_id, int64_t doctor_id);

const char *consult_visit_state_name(consult_visit_state s); /* "waiting", "away", ... */
const char *consult_end_reason_name(consult_end_reason r);   /* "doctor_hangup", ... ; "" for NONE */
const char *consult_visit_event_name(consult_visit_event ev);
/* "declined", "camera_blocked", "microphone_blocked", "no_devices"; "" if out of range. */
const char *consult_decline_reason_name(consult_decline_reason r);

#endif
