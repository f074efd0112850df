/* errors.h - the stable error codes of the consult protocol.
 *
 * Contract: every request that fails answers with exactly one of these codes
 * (number and name), documented in docs/protocol.md. Numbers never change
 * meaning once released; new codes get new numbers. No I/O, no state.
 */
#ifndef CONSULT_ERRORS_H
#define CONSULT_ERRORS_H

typedef enum consult_err {
	CONSULT_OK = 0,
	/* malformed requests */
	CONSULT_ERR_BAD_REQUEST = 400,        /* body is not a JSON object / no "request" */
	CONSULT_ERR_UNKNOWN_REQUEST = 401,    /* "request" names nothing we know */
	CONSULT_ERR_MISSING_FIELD = 402,      /* a required field is absent */
	CONSULT_ERR_INVALID_FIELD = 403,      /* wrong type, format or range */
	CONSULT_ERR_TOO_LONG = 404,           /* a string exceeds its documented limit */
	CONSULT_ERR_INVALID_UTF8 = 405,       /* a string is not valid UTF-8 or has control chars */
	/* who may do what */
	CONSULT_ERR_NOT_AUTHENTICATED = 410,  /* staff request on a handle that is not logged in */
	CONSULT_ERR_FORBIDDEN = 411,          /* request not allowed for this handle's role/kind */
	CONSULT_ERR_WRONG_STATE = 412,        /* request not valid in the current state */
	CONSULT_ERR_TOO_EARLY = 413,          /* valid access code, waiting room not open yet ("opens_at") */
	/* login and codes */
	CONSULT_ERR_LOGIN_FAILED = 420,       /* unknown user, wrong password or disabled account */
	CONSULT_ERR_RATE_LIMITED = 421,       /* too many failures; "retry_after" seconds given */
	CONSULT_ERR_BUSY = 422,               /* all password checks in use; retry after "retry_after" seconds */
	CONSULT_ERR_CODE_INVALID = 430,       /* access code unknown, wrong practice, cancelled or outside its window */
	/* the waiting room and the call */
	CONSULT_ERR_NOT_FOUND = 440,          /* no such visit/appointment/staff visible to this handle */
	CONSULT_ERR_ALREADY_CALLED = 441,     /* patient is no longer waiting (another doctor won) */
	CONSULT_ERR_DOCTOR_BUSY = 442,        /* the doctor is already ringing or in a call */
	CONSULT_ERR_PATIENT_AWAY = 443,       /* patient's connection dropped; place kept, cannot ring */
	CONSULT_ERR_CONFLICT = 444,           /* unique value taken (user name, practice slug) */
	/* invitations (issue 3) and forwarding (issue 5) */
	CONSULT_ERR_CONSENT_REQUIRED = 445,   /* contact given without the consent for its channel */
	CONSULT_ERR_CHANNEL_UNAVAILABLE = 446,/* e-mail or SMS delivery is not configured / contact wiped */
	CONSULT_ERR_FORWARD_REFUSED = 447,    /* the practice does not allow forwarding through the server */
	/* server side */
	CONSULT_ERR_INTERNAL = 500,           /* store or other internal failure; nothing changed */
} consult_err;

/* Stable lower-case name of an error, e.g. "code_invalid". Never NULL. */
const char *consult_err_name(consult_err err);
/* Short English explanation for logs and developers. Never NULL. */
const char *consult_err_text(consult_err err);

#endif
