/* readiness.h - what a patient's device check found: camera and microphone.
 *
 * Contract: each device is one of four words (wire names below). A visit
 * starts UNCHECKED on both and keeps what its patient reported last, in
 * memory only (room.h); the doctor's waiting list shows it. Pure.
 */
#ifndef CONSULT_READINESS_H
#define CONSULT_READINESS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum consult_readiness {
	CONSULT_READY_UNCHECKED = 0, /* "unchecked": no device check reported (yet) */
	CONSULT_READY_OK,            /* "ok": the device works and may be used */
	CONSULT_READY_BLOCKED,       /* "blocked": the browser's permission was refused */
	CONSULT_READY_MISSING,       /* "missing": no such device, or it failed */
	CONSULT_READINESS_COUNT
} consult_readiness;

/* The wire name ("unchecked", "ok", "blocked", "missing"); "" if out of range. */
const char *consult_readiness_name(consult_readiness r);
/* The value of a wire name of len bytes; false if it is none of them. */
bool consult_readiness_parse(const char *s, size_t len, consult_readiness *out);

#endif
