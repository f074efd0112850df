/* errors.c - names and English texts of the stable error codes.
 *
 * Contract: total functions; unknown values map to "internal" so a caller
 * never prints NULL. Names match docs/protocol.md's error table.
 */
#include "errors.h"

const char *consult_err_name(consult_err err)
{
	switch (err) {
	case CONSULT_OK: return "ok";
	case CONSULT_ERR_BAD_REQUEST: return "bad_request";
	case CONSULT_ERR_UNKNOWN_REQUEST: return "unknown_request";
	case CONSULT_ERR_MISSING_FIELD: return "missing_field";
	case CONSULT_ERR_INVALID_FIELD: return "invalid_field";
	case CONSULT_ERR_TOO_LONG: return "too_long";
	case CONSULT_ERR_INVALID_UTF8: return "invalid_utf8";
	case CONSULT_ERR_NOT_AUTHENTICATED: return "not_authenticated";
	case CONSULT_ERR_FORBIDDEN: return "forbidden";
	case CONSULT_ERR_WRONG_STATE: return "wrong_state";
	case CONSULT_ERR_LOGIN_FAILED: return "login_failed";
	case CONSULT_ERR_RATE_LIMITED: return "rate_limited";
	case CONSULT_ERR_BUSY: return "busy";
	case CONSULT_ERR_CODE_INVALID: return "code_invalid";
	case CONSULT_ERR_NOT_FOUND: return "not_found";
	case CONSULT_ERR_ALREADY_CALLED: return "already_called";
	case CONSULT_ERR_DOCTOR_BUSY: return "doctor_busy";
	case CONSULT_ERR_PATIENT_AWAY: return "patient_away";
	case CONSULT_ERR_CONFLICT: return "conflict";
	case CONSULT_ERR_TOO_EARLY: return "too_early";
	case CONSULT_ERR_CONSENT_REQUIRED: return "consent_required";
	case CONSULT_ERR_CHANNEL_UNAVAILABLE: return "channel_unavailable";
	case CONSULT_ERR_FORWARD_REFUSED: return "forward_refused";
	case CONSULT_ERR_INTERNAL: return "internal";
	}
	return "internal";
}

const char *consult_err_text(consult_err err)
{
	switch (err) {
	case CONSULT_OK: return "Success";
	case CONSULT_ERR_BAD_REQUEST: return "The body is not a JSON object or has no string \"request\"";
	case CONSULT_ERR_UNKNOWN_REQUEST: return "Unknown request";
	case CONSULT_ERR_MISSING_FIELD: return "A required field is missing";
	case CONSULT_ERR_INVALID_FIELD: return "A field has the wrong type, format or range";
	case CONSULT_ERR_TOO_LONG: return "A string is too long";
	case CONSULT_ERR_INVALID_UTF8: return "A string is not valid UTF-8 or contains control characters";
	case CONSULT_ERR_NOT_AUTHENTICATED: return "Not logged in";
	case CONSULT_ERR_FORBIDDEN: return "This request is not allowed for this handle";
	case CONSULT_ERR_WRONG_STATE: return "This request is not valid in the current state";
	case CONSULT_ERR_LOGIN_FAILED: return "Login failed";
	case CONSULT_ERR_RATE_LIMITED: return "Too many failed attempts, try again later";
	case CONSULT_ERR_BUSY: return "Too many logins at this moment, try again in a moment";
	case CONSULT_ERR_CODE_INVALID: return "The access code is not valid";
	case CONSULT_ERR_NOT_FOUND: return "Not found";
	case CONSULT_ERR_ALREADY_CALLED: return "The patient is no longer waiting";
	case CONSULT_ERR_DOCTOR_BUSY: return "The doctor is already ringing or in a call";
	case CONSULT_ERR_PATIENT_AWAY: return "The patient's connection was lost; the place is kept";
	case CONSULT_ERR_CONFLICT: return "This value is already taken";
	case CONSULT_ERR_TOO_EARLY: return "The waiting room is not open yet";
	case CONSULT_ERR_CONSENT_REQUIRED: return "No consent recorded for this contact channel";
	case CONSULT_ERR_CHANNEL_UNAVAILABLE: return "This delivery channel is not available";
	case CONSULT_ERR_FORWARD_REFUSED: return "The practice does not allow calls through its server";
	case CONSULT_ERR_INTERNAL: return "Internal error; nothing changed";
	}
	return "Internal error; nothing changed";
}
