/* request.h - parsing and validation of every client and admin request.
 *
 * Contract: consult_request_parse() turns a message body (a jansson object)
 * into a typed consult_request, or fails with one stable error code and the
 * name of the offending field. It checks presence, JSON type, ranges, string
 * limits (limits.h), UTF-8 validity and control characters. Strings in the
 * result borrow from the body: keep the body alive while using them. Who may
 * send which request is not decided here (see the glue's dispatch table).
 * Unknown extra fields are ignored.
 */
#ifndef CONSULT_REQUEST_H
#define CONSULT_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "errors.h"

typedef enum consult_req_kind {
	CONSULT_REQ_NONE = 0,
	/* anonymous handle */
	CONSULT_REQ_PRACTICE_INFO,    /* practice */
	CONSULT_REQ_LOGIN,            /* username, password */
	CONSULT_REQ_JOIN,             /* practice, code, first_name, last_name, accept_terms */
	/* staff */
	CONSULT_REQ_LOGOUT,
	CONSULT_REQ_LIST_DOCTORS,
	CONSULT_REQ_LIST_APPOINTMENTS, /* from, to (unix s; optional: today's window chosen by the caller) */
	CONSULT_REQ_CREATE_APPOINTMENT,/* doctor_id (int >0 or null/absent = any doctor), starts_at */
	CONSULT_REQ_CANCEL_APPOINTMENT,/* appointment_id */
	/* doctor */
	CONSULT_REQ_WAITING_LIST,
	CONSULT_REQ_CALL,             /* visit_id */
	CONSULT_REQ_CANCEL_CALL,
	/* patient */
	CONSULT_REQ_LEAVE,
	CONSULT_REQ_ACCEPT,
	CONSULT_REQ_DECLINE,
	/* both call participants */
	CONSULT_REQ_HANGUP,           /* reason? (absent/null or "connection_lost") */
	CONSULT_REQ_SIGNAL,           /* type, sdp | candidate */
	CONSULT_REQ_REPORT,           /* connection_state, local_candidate_type, remote_candidate_type */
	CONSULT_REQ_ICE_SERVERS,      /* no fields (issue 4) */
	CONSULT_REQ_KIND_COUNT
} consult_req_kind;

typedef enum consult_admin_kind {
	CONSULT_ADMIN_NONE = 0,
	CONSULT_ADMIN_ADD_PRACTICE,   /* slug, name, phone? */
	CONSULT_ADMIN_ADD_STAFF,      /* practice (slug), username, display_name, role, password */
	CONSULT_ADMIN_SET_DISABLED,   /* username, disabled */
	CONSULT_ADMIN_RESET_PASSWORD, /* username, password */
	CONSULT_ADMIN_LIST_STAFF,     /* practice */
	CONSULT_ADMIN_STATS,          /* practice? (all if absent) */
	CONSULT_ADMIN_LIVE_VISITS,    /* practice? */
	CONSULT_ADMIN_HEALTH,
	CONSULT_ADMIN_SET_PRACTICE,   /* practice (slug), relay_only (issue 4) */
	CONSULT_ADMIN_KIND_COUNT
} consult_admin_kind;

typedef enum consult_role { CONSULT_ROLE_NONE = 0, CONSULT_ROLE_DOCTOR, CONSULT_ROLE_RECEPTION } consult_role;

typedef enum consult_signal_type {
	CONSULT_SIGNAL_OFFER = 1, CONSULT_SIGNAL_ANSWER, CONSULT_SIGNAL_CANDIDATE, CONSULT_SIGNAL_END_OF_CANDIDATES
} consult_signal_type;

/* hangup "reason": absent or null = a normal hangup; the only value allowed
 * is "connection_lost" (anything else: invalid_field, field "reason"). */
typedef enum consult_hangup_reason {
	CONSULT_HANGUP_NORMAL = 0, CONSULT_HANGUP_CONNECTION_LOST
} consult_hangup_reason;

typedef struct consult_request {
	consult_req_kind kind;
	const char *name;               /* the "request" string */
	union {
		struct { const char *practice; } practice_info;
		struct { const char *username, *password; } login;
		struct { const char *practice, *code, *first_name, *last_name; } join;
		struct { bool has_range; int64_t from, to; } list_appointments;
		struct { int64_t doctor_id; /* 0 = any */ int64_t starts_at; } create_appointment;
		struct { int64_t appointment_id; } cancel_appointment;
		struct { int64_t visit_id; } call;
		struct { consult_hangup_reason reason; } hangup;
		struct {
			consult_signal_type type;
			const char *sdp;            /* offer/answer */
			const char *candidate;      /* candidate: the a= line value, may be "" */
			const char *sdp_mid;        /* may be NULL */
			int sdp_mline_index;        /* -1 if absent */
		} signal;
		struct { const char *connection_state, *local_candidate_type, *remote_candidate_type; } report;
	} u;
} consult_request;

typedef struct consult_admin_request {
	consult_admin_kind kind;
	const char *name;
	const char *practice, *slug, *pname, *phone, *username, *display_name, *password;
	consult_role role;
	bool disabled;
	bool relay_only;                /* set_practice (required boolean) */
} consult_admin_request;

/* On failure returns the code and, if field is given, points it at the
 * offending field name (static string; "request" for the name itself). */
consult_err consult_request_parse(const json_t *body, consult_request *out, const char **field);
consult_err consult_admin_parse(const json_t *body, consult_admin_request *out, const char **field);

const char *consult_role_name(consult_role r);     /* "doctor", "reception" */
consult_role consult_role_from_name(const char *s); /* NONE if unknown */
const char *consult_signal_type_name(consult_signal_type t);

/* Exposed for reuse: UTF-8 without control characters (tab/newline are
 * refused too), length in bytes 1..max. */
consult_err consult_check_text(const char *s, size_t max);

/* Added: the text without outer ASCII spaces: returns the first kept byte
 * and sets *len to the kept length (not NUL-terminated there). Names are
 * accepted untrimmed by the parser (limits count the untrimmed bytes) but
 * refused if nothing is left after trimming; the glue stores the trim. */
const char *consult_text_trim(const char *s, size_t *len);

#endif
