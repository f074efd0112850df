/* effect.c - the effect list and the names of its tags.
 *
 * Contract: see effect.h. Names are the wire names of the pushed events,
 * from events.def.
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
#define CONSULT_EVENT(name, to, fields) [CONSULT_PUSH_##name] = #name,
#include "events.def"
#undef CONSULT_EVENT
	};
	return (unsigned)ev < CONSULT_PUSH_EVENT_COUNT ? n[ev] : "";
}
