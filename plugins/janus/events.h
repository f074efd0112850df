/* events.h - see glue.h, section "events": building and pushing the
 * asynchronous events of protocol.md and the per-practice live state. */
#ifndef CONSULT_GLUE_EVENTS_H
#define CONSULT_GLUE_EVENTS_H
#include "glue.h"
#endif
