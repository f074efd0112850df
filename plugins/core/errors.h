/* errors.h - the stable error codes of the consult protocol.
 *
 * Contract: every request that fails answers with exactly one of these codes
 * (number and name), the rows of errors.def, documented in docs/protocol.md.
 * Numbers never change meaning once released; new codes get new numbers.
 * No I/O, no state.
 */
#ifndef CONSULT_ERRORS_H
#define CONSULT_ERRORS_H

typedef enum consult_err {
	CONSULT_OK = 0,
#define CONSULT_ERROR(id, number, name, text) CONSULT_ERR_##id = number,
#include "errors.def"
#undef CONSULT_ERROR
} consult_err;

/* Stable lower-case name of an error, e.g. "code_invalid". Never NULL. */
const char *consult_err_name(consult_err err);
/* Short English explanation for logs and developers. Never NULL. */
const char *consult_err_text(consult_err err);

#endif
