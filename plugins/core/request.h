/* request.h - parsing and validation of every client and admin request.
 *
 * Contract: consult_request_parse() turns a message body (a jansson object)
 * into a typed consult_request, or fails with one stable error code and the
 * name of the offending field. It checks presence, JSON type, ranges, string
 * limits (limits.h), UTF-8 validity and control characters. Strings in the
 * result borrow from the body: keep the body alive while using them. The
 * requests, their kinds and who may send them are the rows of requests.def
 * (admin: admin_requests.def); who may send what is enforced by the glue's
 * dispatcher, built from the same rows.
 * Unknown extra fields are ignored; consult_signal_relay() rebuilds what a
 * `signal` may carry to the other participant from the parsed fields only.
 */
#ifndef CONSULT_REQUEST_H
#define CONSULT_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "errors.h"
#include "readiness.h"
#include "visit.h"

/* Who may send a request (requests.def, column who). */
enum {
	CONSULT_WHO_ANON = 1,
	CONSULT_WHO_PATIENT = 2,
	CONSULT_WHO_RECEPTION = 4,
	CONSULT_WHO_DOCTOR = 8,
	CONSULT_WHO_STAFF = CONSULT_WHO_RECEPTION | CONSULT_WHO_DOCTOR
};
/* The state a request's handler requires (requests.def, column when). */
enum { CONSULT_WHEN_ALWAYS = 0, CONSULT_WHEN_IN_CALL, CONSULT_WHEN_FORWARDED };
/* requests.def, column flags. */
enum { CONSULT_REQF_SELF_LOCK = 1, CONSULT_REQF_JSEP = 2 };

/* One kind per row of requests.def, in its order. */
typedef enum consult_req_kind {
	CONSULT_REQ_NONE = 0,
#define CONSULT_REQUEST(name, id, who, when, parse, flags) CONSULT_REQ_##id,
#include "requests.def"
#undef CONSULT_REQUEST
	CONSULT_REQ_KIND_COUNT
} consult_req_kind;

/* One kind per row of admin_requests.def, in its order. */
typedef enum consult_admin_kind {
	CONSULT_ADMIN_NONE = 0,
#define CONSULT_ADMIN_REQUEST(name, id, parse) CONSULT_ADMIN_##id,
#include "admin_requests.def"
#undef CONSULT_ADMIN_REQUEST
	CONSULT_ADMIN_KIND_COUNT
} consult_admin_kind;

typedef enum consult_role { CONSULT_ROLE_NONE = 0, CONSULT_ROLE_DOCTOR, CONSULT_ROLE_RECEPTION } consult_role;

typedef enum consult_signal_type {
	CONSULT_SIGNAL_OFFER = 1,
	CONSULT_SIGNAL_ANSWER,
	CONSULT_SIGNAL_CANDIDATE,
	CONSULT_SIGNAL_END_OF_CANDIDATES,
	CONSULT_SIGNAL_E2EE_KEY, /* "e2ee-key": key = base64 raw ECDH public key */
	CONSULT_SIGNAL_MEDIA     /* "media": whether the sender's microphone (audio) and camera (video) are on */
} consult_signal_type;

/* Delivery channels of invitations. */
typedef enum consult_channel { CONSULT_CHANNEL_NONE = 0, CONSULT_CHANNEL_EMAIL, CONSULT_CHANNEL_SMS } consult_channel;
const char *consult_channel_name(consult_channel c); /* "email", "sms", "" */

/* Why the doctor's page moves a call to forwarding mode. */
typedef enum consult_forward_cause {
	CONSULT_FWD_TIMEOUT = 1,
	CONSULT_FWD_ICE_FAILED,
	CONSULT_FWD_TURN_FAILED,
	CONSULT_FWD_SERVER_RESTART, /* the forwarded legs died with the server: set up again */
	CONSULT_FWD_CAUSE_COUNT
} consult_forward_cause;
/* "timeout", "ice_failed", "turn_failed", "server_restart" */
const char *consult_forward_cause_name(consult_forward_cause c);

/* Practice policy for forwarding. */
typedef enum consult_forward_policy { CONSULT_FWD_ALLOWED = 0, CONSULT_FWD_NEVER = 1 } consult_forward_policy;

/* Practice policy for accepting a call with audio only ("allowed" / "never"). */
typedef enum consult_audio_policy { CONSULT_AUDIO_ALLOWED = 0, CONSULT_AUDIO_NEVER = 1 } consult_audio_policy;
const char *consult_audio_policy_name(consult_audio_policy p); /* "allowed", "never" */

/* hangup "reason": absent or null = a normal hangup; the only value allowed
 * is "connection_lost" (anything else: invalid_field, field "reason"). */
typedef enum consult_hangup_reason { CONSULT_HANGUP_NORMAL = 0, CONSULT_HANGUP_CONNECTION_LOST } consult_hangup_reason;

/* message_waiting: which one of visit_id, appointment_id, doctor_id names
 * the addressees (core/addressees.h). */
typedef enum consult_msg_target {
	CONSULT_MSG_VISIT = 1,
	CONSULT_MSG_APPOINTMENT,
	CONSULT_MSG_DOCTOR
} consult_msg_target;

typedef struct consult_request {
	consult_req_kind kind;
	const char *name; /* the "request" string */
	union {
		struct {
			const char *practice;
		} practice_info;
		struct {
			const char *username, *password, *device_token /* NULL if absent */;
		} login;
		struct {
			const char *practice, *code, *first_name, *last_name;
			int64_t resume_call; /* the call (visit id) this page still holds, 0 if absent */
		} join;
		struct {
			const char *session_token;
			int64_t resume_call; /* the call the page still holds; 0 if absent */
		} resume;
		struct {
			bool has_range;
			int64_t from, to;
		} list_appointments;
		struct {
			int64_t doctor_id; /* 0 = any */
			int64_t starts_at;
			const char *phone; /* as typed (NULL if absent); normalised to E.164 by the glue */
			const char *email; /* checked with consult_email_check (NULL if absent) */
			bool consent_sms, consent_email; /* absent/null = false */
			bool has_send_at;
			int64_t send_at; /* range checked by the glue against now and starts_at */
			/* as booked by reception (NULL if absent); untrimmed, the glue stores the trim */
			const char *patient_name, *note;
		} create_appointment;
		struct {
			const char *practice, *code;
		} appointment_info;
		struct {
			int64_t appointment_id;
			consult_channel channel;
		} resend;
		struct {
			int64_t appointment_id;
		} erase_appointment;
		struct {
			consult_forward_cause cause;
		} forward;
		struct {
			int64_t appointment_id;
		} cancel_appointment;
		struct {
			int64_t visit_id;
		} call;
		struct {
			bool audio_only; /* absent/null = false */
		} accept;
		struct {
			consult_decline_reason reason; /* absent/null = DECLINED */
		} decline;
		struct {
			consult_hangup_reason reason;
		} hangup;
		struct {
			consult_signal_type type;
			const char *sdp;       /* offer/answer */
			const char *candidate; /* candidate: the a= line value, may be "" */
			const char *sdp_mid;   /* may be NULL */
			int sdp_mline_index;   /* -1 if absent */
			const char *key;       /* e2ee-key: base64, 1..CONSULT_MAX_E2EE_KEY */
			bool audio, video;     /* media */
			bool has_screen;       /* media: "screen" present (true/false; null = absent) */
			bool screen;           /* media: the sender shares a screen on its video */
		} signal;
		/* documented words only; static strings (see p_report), NULL if absent */
		struct {
			const char *connection_state, *local_candidate_type, *remote_candidate_type;
		} report;
		struct {
			consult_readiness camera, microphone;
		} readiness;
		struct {
			const char *text; /* trimmed of outer ASCII spaces: text_len bytes, not NUL-terminated there */
			size_t text_len;
			consult_msg_target target;
			int64_t id; /* of the target */
		} message_waiting;
	} u;
} consult_request;

typedef struct consult_admin_request {
	consult_admin_kind kind;
	const char *name;
	const char *practice, *slug, *pname, *phone, *username, *display_name, *password;
	consult_role role;
	bool disabled;
	bool has_relay_only, relay_only; /* set_practice */
	bool has_forward;                /* set_practice */
	consult_forward_policy forward;
	bool has_audio_only; /* set_practice */
	consult_audio_policy audio_only;
	bool has_patient_share;     /* set_practice */
	bool patient_share_allowed; /* "allowed" (true) / "never" (false) */
	int64_t offset_seconds;     /* test_clock */
} consult_admin_request;

/* test_clock's offset_seconds: at most ten years either way. */
#define CONSULT_TEST_CLOCK_MAX_OFFSET (3650LL * 86400)

/* On failure returns the code and, if field is given, points it at the
 * offending field name (static string; "request" for the name itself). */
consult_err consult_request_parse(const json_t *body, consult_request *out, const char **field);
consult_err consult_admin_parse(const json_t *body, consult_admin_request *out, const char **field);

const char *consult_role_name(consult_role r); /* "doctor", "reception" */
/* The fields of the `signal` event for the other participant, built from a
 * parsed signal request alone: "type" and, by type, "sdp", "candidate"
 * {"candidate", "sdpMid"?, "sdpMLineIndex"?}, "key" (each within its
 * limit, checked by the parser) or "audio" and "video" (booleans) and
 * "screen" (a boolean, only if the request had one). Nothing else of the body is relayed.
 * A new reference; NULL if r is not a signal. */
json_t *consult_signal_relay(const consult_request *r);

/* Added: the text without outer ASCII spaces: returns the first kept byte
 * and sets *len to the kept length (not NUL-terminated there). Names are
 * accepted untrimmed by the parser (limits count the untrimmed bytes) but
 * refused if nothing is left after trimming; the glue stores the trim. */
const char *consult_text_trim(const char *s, size_t *len);

#endif
