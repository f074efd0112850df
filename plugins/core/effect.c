/* effect.c - the effect list and the names of its tags.
 *
 * Contract: see effect.h. Names are the wire names of the pushed events.
 */
#include "effect.h"

void consult_effects_add(consult_effects *l, const consult_effect *e)
{
	if (l->n >= CONSULT_FX_MAX) {
		l->overflow = true;
		return;
	}
	l->fx[l->n++] = *e;
}

const char *consult_push_event_name(consult_push_event ev)
{
	static const char *const n[CONSULT_PUSH_EVENT_COUNT] = {
		[CONSULT_PUSH_RINGING] = "ringing",
		[CONSULT_PUSH_CALL_ACCEPTED] = "call_accepted",
		[CONSULT_PUSH_CALL_DECLINED] = "call_declined",
		[CONSULT_PUSH_RING_CANCELLED] = "ring_cancelled",
		[CONSULT_PUSH_CALL_ENDED] = "call_ended",
		[CONSULT_PUSH_PATIENT_AWAY] = "patient_away",
		[CONSULT_PUSH_DOCTOR_LEFT] = "doctor_left",
		[CONSULT_PUSH_VISIT_ENDED] = "visit_ended",
		[CONSULT_PUSH_TAKEN_OVER] = "taken_over",
		[CONSULT_PUSH_PATIENT_ARRIVED] = "patient_arrived",
		[CONSULT_PUSH_WAITING] = "waiting",
		[CONSULT_PUSH_APPOINTMENT] = "appointment",
	};
	return (unsigned)ev < CONSULT_PUSH_EVENT_COUNT ? n[ev] : "";
}
