/* visit.c - the visit state machine as one table.
 *
 * Contract: consult_visit_step_for() looks (state, event) up in a static
 * table; cells not listed are errors. CALL on RINGING/IN_CALL/ENDED gives
 * ALREADY_CALLED, CALL on AWAY gives PATIENT_AWAY, every other illegal
 * pair gives WRONG_STATE. consult_doctor_sees() is the visibility rule
 * every layer uses. Pure, no state.
 */
#include "visit.h"

typedef struct cell {
	bool ok;
	consult_err err; /* when !ok; 0 means WRONG_STATE */
	consult_visit_step step;
} cell;

#define GO(st, rs, hd)                                                               \
	{                                                                            \
		.ok = true, .step = {.next = (st), .reason = (rs), .to_head = (hd) } \
	}
#define NO(e)                           \
	{                               \
		.ok = false, .err = (e) \
	}
#define W CONSULT_VISIT_WAITING
#define A CONSULT_VISIT_AWAY
#define R CONSULT_VISIT_RINGING
#define C CONSULT_VISIT_IN_CALL
#define E CONSULT_VISIT_ENDED

static const cell table[CONSULT_VISIT_STATE_COUNT][CONSULT_EV_COUNT] = {
	[W] = {
		[CONSULT_EV_CALL] = GO(R, CONSULT_END_NONE, false),
		[CONSULT_EV_PATIENT_DROP] = GO(A, CONSULT_END_NONE, false),
		[CONSULT_EV_LEAVE] = GO(E, CONSULT_END_LEFT, false),
		[CONSULT_EV_CANCELLED] = GO(E, CONSULT_END_CANCELLED, false),
	},
	[A] = {
		[CONSULT_EV_CALL] = NO(CONSULT_ERR_PATIENT_AWAY),
		[CONSULT_EV_PATIENT_BACK] = GO(W, CONSULT_END_NONE, false),
		[CONSULT_EV_GRACE_EXPIRED] = GO(E, CONSULT_END_GRACE_EXPIRED, false),
		[CONSULT_EV_LEAVE] = GO(E, CONSULT_END_LEFT, false),
		[CONSULT_EV_CANCELLED] = GO(E, CONSULT_END_CANCELLED, false),
	},
	[R] = {
		[CONSULT_EV_CALL] = NO(CONSULT_ERR_ALREADY_CALLED),
		[CONSULT_EV_ACCEPT] = GO(C, CONSULT_END_NONE, false),
		[CONSULT_EV_DECLINE] = GO(W, CONSULT_END_NONE, false),
		[CONSULT_EV_CANCEL_RING] = GO(W, CONSULT_END_NONE, false),
		[CONSULT_EV_PATIENT_DROP] = GO(A, CONSULT_END_NONE, false),
		[CONSULT_EV_DOCTOR_DROP] = GO(W, CONSULT_END_NONE, true),
		[CONSULT_EV_LEAVE] = GO(E, CONSULT_END_LEFT, false),
		[CONSULT_EV_CANCELLED] = GO(E, CONSULT_END_CANCELLED, false),
	},
	[C] = {
		[CONSULT_EV_CALL] = NO(CONSULT_ERR_ALREADY_CALLED),
		[CONSULT_EV_HANGUP_DOCTOR] = GO(E, CONSULT_END_DOCTOR_HANGUP, false),
		[CONSULT_EV_HANGUP_PATIENT] = GO(E, CONSULT_END_PATIENT_HANGUP, false),
		[CONSULT_EV_PATIENT_DROP] = GO(E, CONSULT_END_PATIENT_DROPPED, false),
		[CONSULT_EV_DOCTOR_DROP] = GO(W, CONSULT_END_NONE, true),
		[CONSULT_EV_LEAVE] = GO(E, CONSULT_END_LEFT, false),
		[CONSULT_EV_CANCELLED] = GO(E, CONSULT_END_CANCELLED, false),
		[CONSULT_EV_CONNECTION_LOST] = GO(E, CONSULT_END_CONNECTION_LOST, false),
		[CONSULT_EV_NO_PATH] = GO(E, CONSULT_END_NO_PATH, false),
		[CONSULT_EV_PATIENT_HOLD] = GO(C, CONSULT_END_NONE, false),
		[CONSULT_EV_PATIENT_RESUME] = GO(C, CONSULT_END_NONE, false),
		[CONSULT_EV_DOCTOR_HOLD] = GO(C, CONSULT_END_NONE, false),
		[CONSULT_EV_DOCTOR_RESUME] = GO(C, CONSULT_END_NONE, false),
	},
	[E] = {
		[CONSULT_EV_CALL] = NO(CONSULT_ERR_ALREADY_CALLED),
	},
};

consult_err consult_visit_step_for(consult_visit_state from, consult_visit_event ev, consult_visit_step *out)
{
	if ((unsigned)from >= CONSULT_VISIT_STATE_COUNT || (unsigned)ev >= CONSULT_EV_COUNT)
		return CONSULT_ERR_WRONG_STATE;
	const cell *c = &table[from][ev];
	if (!c->ok)
		return c->err ? c->err : CONSULT_ERR_WRONG_STATE;
	if (out)
		*out = c->step;
	return CONSULT_OK;
}

bool consult_doctor_sees(int64_t visit_doctor_id, int64_t doctor_id)
{
	return doctor_id > 0 && (visit_doctor_id == 0 || visit_doctor_id == doctor_id);
}

const char *consult_visit_state_name(consult_visit_state s)
{
	static const char *const n[CONSULT_VISIT_STATE_COUNT] = {
		[W] = "waiting",
		[A] = "away",
		[R] = "ringing",
		[C] = "in_call",
		[E] = "ended",
	};
	return (unsigned)s < CONSULT_VISIT_STATE_COUNT ? n[s] : "";
}

const char *consult_end_reason_name(consult_end_reason r)
{
	static const char *const n[CONSULT_END_REASON_COUNT] = {
		[CONSULT_END_NONE] = "",
		[CONSULT_END_LEFT] = "left",
		[CONSULT_END_DOCTOR_HANGUP] = "doctor_hangup",
		[CONSULT_END_PATIENT_HANGUP] = "patient_hangup",
		[CONSULT_END_PATIENT_DROPPED] = "patient_dropped",
		[CONSULT_END_GRACE_EXPIRED] = "grace_expired",
		[CONSULT_END_CANCELLED] = "cancelled",
		[CONSULT_END_CONNECTION_LOST] = "connection_lost",
		[CONSULT_END_NO_PATH] = "no_path",
		[CONSULT_END_SERVER_RESTART] = "server_restart",
	};
	return (unsigned)r < CONSULT_END_REASON_COUNT ? n[r] : "";
}

const char *consult_decline_reason_name(consult_decline_reason r)
{
	static const char *const n[CONSULT_DECLINE_REASON_COUNT] = {
		[CONSULT_DECLINE_DECLINED] = "declined",
		[CONSULT_DECLINE_CAMERA_BLOCKED] = "camera_blocked",
		[CONSULT_DECLINE_MICROPHONE_BLOCKED] = "microphone_blocked",
		[CONSULT_DECLINE_NO_DEVICES] = "no_devices",
	};
	return (unsigned)r < CONSULT_DECLINE_REASON_COUNT ? n[r] : "";
}

const char *consult_visit_event_name(consult_visit_event ev)
{
	static const char *const n[CONSULT_EV_COUNT] = {
		[CONSULT_EV_CALL] = "call",
		[CONSULT_EV_ACCEPT] = "accept",
		[CONSULT_EV_DECLINE] = "decline",
		[CONSULT_EV_CANCEL_RING] = "cancel_ring",
		[CONSULT_EV_HANGUP_DOCTOR] = "hangup_doctor",
		[CONSULT_EV_HANGUP_PATIENT] = "hangup_patient",
		[CONSULT_EV_PATIENT_DROP] = "patient_drop",
		[CONSULT_EV_PATIENT_BACK] = "patient_back",
		[CONSULT_EV_DOCTOR_DROP] = "doctor_drop",
		[CONSULT_EV_GRACE_EXPIRED] = "grace_expired",
		[CONSULT_EV_LEAVE] = "leave",
		[CONSULT_EV_CANCELLED] = "cancelled",
		[CONSULT_EV_CONNECTION_LOST] = "connection_lost",
		[CONSULT_EV_NO_PATH] = "no_path",
		[CONSULT_EV_PATIENT_HOLD] = "patient_hold",
		[CONSULT_EV_PATIENT_RESUME] = "patient_resume",
		[CONSULT_EV_DOCTOR_HOLD] = "doctor_hold",
		[CONSULT_EV_DOCTOR_RESUME] = "doctor_resume",
	};
	return (unsigned)ev < CONSULT_EV_COUNT ? n[ev] : "";
}
