/* request.c - parsing and validation of client and admin requests.
 *
 * Contract: see request.h. The request tables below are the rows of
 * requests.def and admin_requests.def (each row names its parser here);
 * every length and range bound comes from limits.def. For each string
 * field the checks run in this order: absent/null (missing_field if
 * required), not a string (invalid_field), longer than its limit
 * (too_long), not UTF-8 or control characters incl. NUL (invalid_utf8),
 * shorter than its minimum or empty after trimming spaces (invalid_field),
 * characters outside its set (invalid_field). Fields are checked in the
 * documented order, the first bad one is reported. Integers must be JSON
 * integers (17.0 is refused).
 * Nested candidate fields are named "candidate.candidate",
 * "candidate.sdpMid", "candidate.sdpMLineIndex". Booleans must be JSON
 * true/false (absent or null: missing_field; optional ones such as
 * accept's audio_only: false). hangup's optional "reason"
 * is an enumeration of one: any value but null and "connection_lost" is
 * invalid_field (not too_long/invalid_utf8), as protocol.md says.
 * report's words are checked as words, then must be one of the documented
 * values (connection states, candidate types, path), else invalid_field.
 * Enumerations (channel, forward cause, forward, audio and patient_share
 * policy, decline reason) are plain words; an unknown word is
 * invalid_field. A `media` signal's optional "screen" is a boolean (absent
 * or null: not relayed). create_appointment's e-mail address is
 * checked with consult_email_check (its error code is reported); the phone
 * number only for its characters here (E.164 needs the configured country).
 * Its patient_name and note (what reception types) are limited in
 * characters (code points), not bytes: over the maximum too_long (a string
 * of more than four bytes per allowed character is too_long before it is
 * decoded), then the usual UTF-8, control character and trimming checks.
 * readiness: camera and microphone are both required readiness words
 * (readiness.h), checked like enumerations. message_waiting's text is
 * limited in characters (code points), not bytes; it must hold no control
 * character (newlines neither) and more than spaces; exactly one of
 * visit_id, appointment_id, doctor_id names the target (none or more:
 * invalid_field, field "target").
 */
#include <string.h>
#include "request.h"
#include "limits.h"
#include "text.h"
#include "email.h"

#define MAX_RANGE_S (31 * 86400)

typedef enum fkind {
	F_NAME,     /* free text, refused if empty after trimming */
	F_SECRET,   /* password: free text, not trimmed */
	F_CODE,     /* access code as typed */
	F_SLUG,     /* [a-z0-9-] */
	F_USERNAME, /* [a-z0-9._-] */
	F_PHONE,    /* [0-9+-/() ] */
	F_WORD,     /* [a-z-] */
	F_SDP,      /* text with CR/LF/TAB */
	F_LINE,     /* text, may be empty (ICE candidate) */
	F_TOKEN,    /* base64url [A-Za-z0-9_-] (login device_token, resume session_token) */
} fkind;

static bool c_slug(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}
static bool c_user(unsigned char c)
{
	return c_slug(c) || c == '.' || c == '_';
}
static bool c_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || c == '-';
}
static bool c_token(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
static bool c_phone(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '/' || c == '(' || c == ')' || c == ' ';
}

static consult_err fail(consult_err e, const char *name, const char **field)
{
	if (field)
		*field = name;
	return e;
}

/* One string field; *out = NULL if optional and absent or null. */
static consult_err str_field(const json_t *obj, const char *key, const char *name, fkind kind, size_t min, size_t max,
        bool required, const char **out, const char **field)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return required ? fail(CONSULT_ERR_MISSING_FIELD, name, field) : CONSULT_OK;
	if (!json_is_string(v))
		return fail(CONSULT_ERR_INVALID_FIELD, name, field);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len > max)
		return fail(CONSULT_ERR_TOO_LONG, name, field);
	if (!consult_text_clean(s, len, kind == F_SDP))
		return fail(CONSULT_ERR_INVALID_UTF8, name, field);
	if (len < min)
		return fail(CONSULT_ERR_INVALID_FIELD, name, field);
	bool ok = true;
	switch (kind) {
	case F_NAME: {
		size_t n;
		consult_text_trim(s, &n);
		ok = n > 0;
		break;
	}
	case F_SLUG:
		ok = consult_ascii_only(s, len, c_slug);
		break;
	case F_USERNAME:
		ok = consult_ascii_only(s, len, c_user);
		break;
	case F_PHONE:
		ok = consult_ascii_only(s, len, c_phone);
		break;
	case F_WORD:
		ok = consult_ascii_only(s, len, c_word);
		break;
	case F_TOKEN:
		ok = consult_ascii_only(s, len, c_token);
		break;
	case F_SECRET:
	case F_CODE:
	case F_SDP:
	case F_LINE:
		break;
	}
	if (!ok)
		return fail(CONSULT_ERR_INVALID_FIELD, name, field);
	*out = s;
	return CONSULT_OK;
}

/* One integer field in [min, max]; *present false if optional and absent/null. */
static consult_err int_field(const json_t *obj, const char *key, const char *name, bool required, int64_t min,
        int64_t max, int64_t *out, bool *present, const char **field)
{
	const json_t *v = json_object_get(obj, key);
	if (present)
		*present = false;
	if (!v || json_is_null(v))
		return required ? fail(CONSULT_ERR_MISSING_FIELD, name, field) : CONSULT_OK;
	if (!json_is_integer(v))
		return fail(CONSULT_ERR_INVALID_FIELD, name, field);
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return fail(CONSULT_ERR_INVALID_FIELD, name, field);
	*out = (int64_t)i;
	if (present)
		*present = true;
	return CONSULT_OK;
}

/* One required boolean field. */
static consult_err bool_field(const json_t *obj, const char *key, bool *out, const char **field)
{
	const json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return fail(CONSULT_ERR_MISSING_FIELD, key, field);
	if (!json_is_boolean(v))
		return fail(CONSULT_ERR_INVALID_FIELD, key, field);
	*out = json_is_true(v);
	return CONSULT_OK;
}

/* One optional boolean field: absent or null = false. */
static consult_err opt_bool_field(const json_t *obj, const char *key, bool *out, const char **field)
{
	const json_t *v = json_object_get(obj, key);
	*out = false;
	if (!v || json_is_null(v))
		return CONSULT_OK;
	if (!json_is_boolean(v))
		return fail(CONSULT_ERR_INVALID_FIELD, key, field);
	*out = json_is_true(v);
	return CONSULT_OK;
}

/* Characters (code points) of a string jansson holds: its bytes that do
 * not continue a UTF-8 sequence. */
static size_t chars_of(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* The checks of free text limited in characters (code points), see the
 * top: too_long (more than four bytes per allowed character, or more
 * characters), then invalid_utf8 (control characters), then invalid_field
 * (fewer than min characters, or only spaces). *trimmed / *kept: the text
 * without its outer spaces. */
static consult_err chars_text(const char *s, size_t len, const char *key, size_t min, size_t max, const char **trimmed,
        size_t *kept, const char **field)
{
	if (len > 4 * max)
		return fail(CONSULT_ERR_TOO_LONG, key, field);
	size_t chars = chars_of(s, len);
	if (chars > max)
		return fail(CONSULT_ERR_TOO_LONG, key, field);
	if (!consult_text_clean(s, len, false))
		return fail(CONSULT_ERR_INVALID_UTF8, key, field);
	*trimmed = consult_text_trim(s, kept);
	if (chars < min || *kept == 0)
		return fail(CONSULT_ERR_INVALID_FIELD, key, field);
	return CONSULT_OK;
}

/* Free text limited in characters (chars_text), kept as sent. *out =
 * NULL if optional and absent or null. */
static consult_err chars_field(
        const json_t *obj, const char *key, size_t min, size_t max, bool required, const char **out, const char **field)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return required ? fail(CONSULT_ERR_MISSING_FIELD, key, field) : CONSULT_OK;
	if (!json_is_string(v))
		return fail(CONSULT_ERR_INVALID_FIELD, key, field);
	const char *s = json_string_value(v);
	const char *trimmed;
	size_t kept;
	consult_err e = chars_text(s, json_string_length(v), key, min, max, &trimmed, &kept, field);
	if (e != CONSULT_OK)
		return e;
	*out = s;
	return CONSULT_OK;
}

/* A word field that must be one of names[0..n) (index into *out). */
static consult_err enum_field(const json_t *obj, const char *key, bool required, const char *const *names, size_t n,
        int *out, const char **field)
{
	const char *w;
	consult_err e = str_field(obj, key, key, F_USERNAME, CONSULT_MIN_STATE, CONSULT_MAX_STATE, required, &w, field);
	*out = -1;
	if (e != CONSULT_OK)
		return e == CONSULT_ERR_TOO_LONG || e == CONSULT_ERR_INVALID_UTF8
		        ? fail(CONSULT_ERR_INVALID_FIELD, key, field)
		        : e;
	if (!w)
		return CONSULT_OK;
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, names[i]) == 0) {
			*out = (int)i;
			return CONSULT_OK;
		}
	return fail(CONSULT_ERR_INVALID_FIELD, key, field);
}

#define TRY(x)                        \
	do {                          \
		consult_err e_ = (x); \
		if (e_ != CONSULT_OK) \
			return e_;    \
	} while (0)
#define ID_MAX INT64_MAX

static consult_err p_practice_info(const json_t *b, consult_request *r, const char **f)
{
	return str_field(b, "practice", "practice", F_SLUG, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, true,
	        &r->u.practice_info.practice, f);
}

static consult_err p_login(const json_t *b, consult_request *r, const char **f)
{
	TRY(str_field(b, "username", "username", F_USERNAME, CONSULT_MIN_USERNAME, CONSULT_MAX_USERNAME, true,
	        &r->u.login.username, f));
	TRY(str_field(b, "password", "password", F_SECRET, CONSULT_MIN_LOGIN_PASSWORD, CONSULT_MAX_LOGIN_PASSWORD, true,
	        &r->u.login.password, f));
	return str_field(b, "device_token", "device_token", F_TOKEN, CONSULT_MIN_DEVICE_TOKEN, CONSULT_MAX_DEVICE_TOKEN,
	        false, &r->u.login.device_token, f);
}

static consult_err p_resume(const json_t *b, consult_request *r, const char **f)
{
	TRY(str_field(b, "session_token", "session_token", F_TOKEN, CONSULT_MIN_SESSION_TOKEN,
	        CONSULT_MAX_SESSION_TOKEN, true, &r->u.resume.session_token, f));
	return int_field(b, "resume_call", "resume_call", false, 1, ID_MAX, &r->u.resume.resume_call, NULL, f);
}

static consult_err p_join(const json_t *b, consult_request *r, const char **f)
{
	TRY(str_field(
	        b, "practice", "practice", F_SLUG, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, true, &r->u.join.practice, f));
	TRY(str_field(
	        b, "code", "code", F_CODE, CONSULT_MIN_CODE_INPUT, CONSULT_MAX_CODE_INPUT, true, &r->u.join.code, f));
	TRY(str_field(b, "first_name", "first_name", F_NAME, CONSULT_MIN_NAME, CONSULT_MAX_NAME, true,
	        &r->u.join.first_name, f));
	TRY(str_field(b, "last_name", "last_name", F_NAME, CONSULT_MIN_NAME, CONSULT_MAX_NAME, true,
	        &r->u.join.last_name, f));
	const json_t *t = json_object_get(b, "accept_terms");
	if (!t)
		return fail(CONSULT_ERR_MISSING_FIELD, "accept_terms", f);
	if (!json_is_true(t))
		return fail(CONSULT_ERR_INVALID_FIELD, "accept_terms", f);
	return int_field(b, "resume_call", "resume_call", false, 1, ID_MAX, &r->u.join.resume_call, NULL, f);
}

static consult_err p_none(const json_t *b, consult_request *r, const char **f)
{
	return CONSULT_OK;
}

static consult_err p_list_appointments(const json_t *b, consult_request *r, const char **f)
{
	bool hf, ht;
	int64_t from = 0, to = 0;
	TRY(int_field(b, "from", "from", false, 0, INT64_MAX / 2, &from, &hf, f));
	TRY(int_field(b, "to", "to", false, 0, INT64_MAX / 2, &to, &ht, f));
	if (hf != ht)
		return fail(CONSULT_ERR_MISSING_FIELD, hf ? "to" : "from", f);
	if (hf && (to < from || to - from > MAX_RANGE_S))
		return fail(CONSULT_ERR_INVALID_FIELD, "to", f);
	r->u.list_appointments.has_range = hf;
	r->u.list_appointments.from = from;
	r->u.list_appointments.to = to;
	return CONSULT_OK;
}

static consult_err p_create_appointment(const json_t *b, consult_request *r, const char **f)
{
	bool has;
	int64_t doc = 0;
	TRY(int_field(b, "doctor_id", "doctor_id", false, 1, ID_MAX, &doc, &has, f));
	r->u.create_appointment.doctor_id = has ? doc : 0;
	TRY(int_field(
	        b, "starts_at", "starts_at", true, 0, INT64_MAX / 2, &r->u.create_appointment.starts_at, NULL, f));
	TRY(str_field(b, "phone", "phone", F_PHONE, CONSULT_MIN_PHONE, CONSULT_MAX_PHONE, false,
	        &r->u.create_appointment.phone, f));
	const json_t *em = json_object_get(b, "email");
	if (em && !json_is_null(em)) {
		if (!json_is_string(em))
			return fail(CONSULT_ERR_INVALID_FIELD, "email", f);
		if (json_string_length(em) != strlen(json_string_value(em)))
			return fail(CONSULT_ERR_INVALID_UTF8, "email", f);
		consult_err e = consult_email_check(json_string_value(em));
		if (e != CONSULT_OK)
			return fail(e, "email", f);
		r->u.create_appointment.email = json_string_value(em);
	}
	TRY(opt_bool_field(b, "consent_sms", &r->u.create_appointment.consent_sms, f));
	TRY(opt_bool_field(b, "consent_email", &r->u.create_appointment.consent_email, f));
	TRY(int_field(b, "send_at", "send_at", false, 0, INT64_MAX / 2, &r->u.create_appointment.send_at,
	        &r->u.create_appointment.has_send_at, f));
	TRY(chars_field(b, "patient_name", CONSULT_MIN_PATIENT_NAME, CONSULT_MAX_PATIENT_NAME, false,
	        &r->u.create_appointment.patient_name, f));
	return chars_field(b, "note", CONSULT_MIN_NOTE, CONSULT_MAX_NOTE, false, &r->u.create_appointment.note, f);
}

static consult_err p_appointment_info(const json_t *b, consult_request *r, const char **f)
{
	TRY(str_field(b, "practice", "practice", F_SLUG, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, true,
	        &r->u.appointment_info.practice, f));
	return str_field(b, "code", "code", F_CODE, CONSULT_MIN_CODE_INPUT, CONSULT_MAX_CODE_INPUT, true,
	        &r->u.appointment_info.code, f);
}

static consult_err p_resend(const json_t *b, consult_request *r, const char **f)
{
	static const char *const names[] = { "email", "sms" };
	int i;
	TRY(int_field(b, "appointment_id", "appointment_id", true, 1, ID_MAX, &r->u.resend.appointment_id, NULL, f));
	TRY(enum_field(b, "channel", true, names, 2, &i, f));
	r->u.resend.channel = i == 0 ? CONSULT_CHANNEL_EMAIL : CONSULT_CHANNEL_SMS;
	return CONSULT_OK;
}

static consult_err p_erase_appointment(const json_t *b, consult_request *r, const char **f)
{
	return int_field(b, "appointment_id", "appointment_id", true, 1, ID_MAX, &r->u.erase_appointment.appointment_id,
	        NULL, f);
}

static consult_err p_forward(const json_t *b, consult_request *r, const char **f)
{
	static const char *const names[] = { "timeout", "ice_failed", "turn_failed", "server_restart" };
	int i;
	TRY(enum_field(b, "cause", true, names, 4, &i, f));
	r->u.forward.cause = (consult_forward_cause)(i + 1);
	return CONSULT_OK;
}

static consult_err p_cancel_appointment(const json_t *b, consult_request *r, const char **f)
{
	return int_field(b, "appointment_id", "appointment_id", true, 1, ID_MAX,
	        &r->u.cancel_appointment.appointment_id, NULL, f);
}

static consult_err p_call(const json_t *b, consult_request *r, const char **f)
{
	return int_field(b, "visit_id", "visit_id", true, 1, ID_MAX, &r->u.call.visit_id, NULL, f);
}

static consult_err p_accept(const json_t *b, consult_request *r, const char **f)
{
	return opt_bool_field(b, "audio_only", &r->u.accept.audio_only, f);
}

/* reason: absent or null = "declined"; else one of the documented words. */
static consult_err p_decline(const json_t *b, consult_request *r, const char **f)
{
	static const char *const names[CONSULT_DECLINE_REASON_COUNT] = { "declined", "camera_blocked",
		"microphone_blocked", "no_devices" };
	int i;
	TRY(enum_field(b, "reason", false, names, CONSULT_DECLINE_REASON_COUNT, &i, f));
	r->u.decline.reason = i < 0 ? CONSULT_DECLINE_DECLINED : (consult_decline_reason)i;
	return CONSULT_OK;
}

static consult_err p_hangup(const json_t *b, consult_request *r, const char **f)
{
	static const char lost[] = "connection_lost";
	const json_t *v = json_object_get(b, "reason");
	r->u.hangup.reason = CONSULT_HANGUP_NORMAL;
	if (!v || json_is_null(v))
		return CONSULT_OK;
	if (!json_is_string(v) || json_string_length(v) != sizeof lost - 1 ||
	        memcmp(json_string_value(v), lost, sizeof lost - 1) != 0)
		return fail(CONSULT_ERR_INVALID_FIELD, "reason", f);
	r->u.hangup.reason = CONSULT_HANGUP_CONNECTION_LOST;
	return CONSULT_OK;
}

static consult_err p_signal(const json_t *b, consult_request *r, const char **f)
{
	static const struct {
		const char *name;
		consult_signal_type t;
	} types[] = {
		{ "offer", CONSULT_SIGNAL_OFFER },
		{ "answer", CONSULT_SIGNAL_ANSWER },
		{ "candidate", CONSULT_SIGNAL_CANDIDATE },
		{ "end-of-candidates", CONSULT_SIGNAL_END_OF_CANDIDATES },
		{ "e2ee-key", CONSULT_SIGNAL_E2EE_KEY },
		{ "media", CONSULT_SIGNAL_MEDIA },
	};
	const char *type;
	TRY(str_field(b, "type", "type", F_USERNAME, CONSULT_MIN_STATE, CONSULT_MAX_STATE, true, &type, f));
	r->u.signal.type = 0;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(type, types[i].name) == 0)
			r->u.signal.type = types[i].t;
	if (!r->u.signal.type)
		return fail(CONSULT_ERR_INVALID_FIELD, "type", f);
	r->u.signal.sdp = NULL;
	r->u.signal.candidate = NULL;
	r->u.signal.sdp_mid = NULL;
	r->u.signal.sdp_mline_index = -1;
	r->u.signal.key = NULL;
	r->u.signal.audio = r->u.signal.video = false;
	r->u.signal.has_screen = r->u.signal.screen = false;
	switch (r->u.signal.type) {
	case CONSULT_SIGNAL_OFFER:
	case CONSULT_SIGNAL_ANSWER:
		return str_field(b, "sdp", "sdp", F_SDP, CONSULT_MIN_SDP, CONSULT_MAX_SDP, true, &r->u.signal.sdp, f);
	case CONSULT_SIGNAL_CANDIDATE: {
		const json_t *c = json_object_get(b, "candidate");
		if (!c || json_is_null(c))
			return fail(CONSULT_ERR_MISSING_FIELD, "candidate", f);
		if (!json_is_object(c))
			return fail(CONSULT_ERR_INVALID_FIELD, "candidate", f);
		TRY(str_field(c, "candidate", "candidate.candidate", F_LINE, CONSULT_MIN_CANDIDATE,
		        CONSULT_MAX_CANDIDATE, true, &r->u.signal.candidate, f));
		TRY(str_field(c, "sdpMid", "candidate.sdpMid", F_LINE, CONSULT_MIN_SDP_MID, CONSULT_MAX_SDP_MID, false,
		        &r->u.signal.sdp_mid, f));
		int64_t idx = -1;
		TRY(int_field(c, "sdpMLineIndex", "candidate.sdpMLineIndex", false, CONSULT_MIN_SDP_MLINE_INDEX,
		        CONSULT_MAX_SDP_MLINE_INDEX, &idx, NULL, f));
		r->u.signal.sdp_mline_index = (int)idx;
		return CONSULT_OK;
	}
	case CONSULT_SIGNAL_END_OF_CANDIDATES:
		return CONSULT_OK;
	case CONSULT_SIGNAL_E2EE_KEY: {
		TRY(str_field(b, "key", "key", F_LINE, CONSULT_MIN_E2EE_KEY, CONSULT_MAX_E2EE_KEY, true,
		        &r->u.signal.key, f));
		for (const char *k = r->u.signal.key; *k; k++)
			if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
			            *k == '+' || *k == '/' || *k == '=' || *k == '-' || *k == '_'))
				return fail(CONSULT_ERR_INVALID_FIELD, "key", f);
		return CONSULT_OK;
	}
	case CONSULT_SIGNAL_MEDIA: {
		TRY(bool_field(b, "audio", &r->u.signal.audio, f));
		TRY(bool_field(b, "video", &r->u.signal.video, f));
		const json_t *sc = json_object_get(b, "screen");
		r->u.signal.has_screen = sc && !json_is_null(sc);
		return opt_bool_field(b, "screen", &r->u.signal.screen, f);
	}
	}
	return fail(CONSULT_ERR_INVALID_FIELD, "type", f);
}

/* A report word: checked as a word (too_long, invalid_utf8, invalid_field),
 * then it must be one of names (else invalid_field); *out points at the
 * static name. */
static consult_err word_of(const json_t *b, const char *key, bool required, const char *const *names, size_t n,
        const char **out, const char **f)
{
	const char *w;
	TRY(str_field(b, key, key, F_WORD, CONSULT_MIN_STATE, CONSULT_MAX_STATE, required, &w, f));
	*out = NULL;
	if (!w)
		return CONSULT_OK;
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, names[i]) == 0) {
			*out = names[i];
			return CONSULT_OK;
		}
	return fail(CONSULT_ERR_INVALID_FIELD, key, f);
}

static consult_err p_report(const json_t *b, consult_request *r, const char **f)
{
	/* RTCPeerConnectionState, plus the RTCIceConnectionState words a page
	 * sends where connectionState is missing; RTCIceCandidateType. */
	static const char *const states[] = {
		"new",
		"connecting",
		"connected",
		"disconnected",
		"failed",
		"closed",
		"checking",
		"completed",
	};
	static const char *const types[] = { "host", "srflx", "prflx", "relay" };
	static const char *const paths[] = { "p2p", "forward" };
	int path;
	TRY(word_of(b, "connection_state", true, states, sizeof states / sizeof states[0],
	        &r->u.report.connection_state, f));
	TRY(word_of(b, "local_candidate_type", false, types, 4, &r->u.report.local_candidate_type, f));
	TRY(word_of(b, "remote_candidate_type", false, types, 4, &r->u.report.remote_candidate_type, f));
	return enum_field(b, "path", false, paths, 2, &path, f);
}

static consult_err p_readiness(const json_t *b, consult_request *r, const char **f)
{
	const char *names[CONSULT_READINESS_COUNT];
	for (int i = 0; i < CONSULT_READINESS_COUNT; i++)
		names[i] = consult_readiness_name((consult_readiness)i);
	int cam, mic;
	TRY(enum_field(b, "camera", true, names, CONSULT_READINESS_COUNT, &cam, f));
	TRY(enum_field(b, "microphone", true, names, CONSULT_READINESS_COUNT, &mic, f));
	r->u.readiness.camera = (consult_readiness)cam;
	r->u.readiness.microphone = (consult_readiness)mic;
	return CONSULT_OK;
}

static consult_err p_message_waiting(const json_t *b, consult_request *r, const char **f)
{
	const json_t *t = json_object_get(b, "text");
	if (!t || json_is_null(t))
		return fail(CONSULT_ERR_MISSING_FIELD, "text", f);
	if (!json_is_string(t))
		return fail(CONSULT_ERR_INVALID_FIELD, "text", f);
	const char *k;
	size_t kept;
	TRY(chars_text(json_string_value(t), json_string_length(t), "text", CONSULT_MIN_MESSAGE, CONSULT_MAX_MESSAGE,
	        &k, &kept, f));
	r->u.message_waiting.text = k;
	r->u.message_waiting.text_len = kept;
	static const struct {
		const char *key;
		consult_msg_target target;
	} targets[] = {
		{ "visit_id", CONSULT_MSG_VISIT },
		{ "appointment_id", CONSULT_MSG_APPOINTMENT },
		{ "doctor_id", CONSULT_MSG_DOCTOR },
	};
	int given = 0;
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		bool has;
		int64_t id = 0;
		TRY(int_field(b, targets[i].key, targets[i].key, false, 1, ID_MAX, &id, &has, f));
		if (!has)
			continue;
		given++;
		r->u.message_waiting.target = targets[i].target;
		r->u.message_waiting.id = id;
	}
	if (given != 1)
		return fail(CONSULT_ERR_INVALID_FIELD, "target", f);
	return CONSULT_OK;
}

typedef consult_err (*req_parser)(const json_t *b, consult_request *r, const char **f);
static const struct {
	const char *name;
	consult_req_kind kind;
	req_parser parse;
} requests[] = {
#define CONSULT_REQUEST(name, id, who, when, parse, flags) { #name, CONSULT_REQ_##id, parse },
#include "requests.def"
#undef CONSULT_REQUEST
};

/* The "request" string, or an error. */
static consult_err request_name(const json_t *body, const char **name, const char **field)
{
	if (!body || !json_is_object(body))
		return fail(CONSULT_ERR_BAD_REQUEST, "request", field);
	const json_t *n = json_object_get(body, "request");
	if (!n || !json_is_string(n))
		return fail(CONSULT_ERR_BAD_REQUEST, "request", field);
	*name = json_string_value(n);
	if (strlen(*name) != json_string_length(n)) /* embedded NUL: matches nothing */
		return fail(CONSULT_ERR_UNKNOWN_REQUEST, "request", field);
	return CONSULT_OK;
}

consult_err consult_request_parse(const json_t *body, consult_request *out, const char **field)
{
	const char *name;
	memset(out, 0, sizeof *out);
	TRY(request_name(body, &name, field));
	for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
		if (strcmp(name, requests[i].name) != 0)
			continue;
		consult_request r;
		memset(&r, 0, sizeof r);
		r.kind = requests[i].kind;
		r.name = requests[i].name;
		TRY(requests[i].parse(body, &r, field));
		*out = r;
		return CONSULT_OK;
	}
	return fail(CONSULT_ERR_UNKNOWN_REQUEST, "request", field);
}

/* ---- admin ---- */

static consult_role role_from_name(const char *s); /* NONE if unknown */

static consult_err a_slug(const json_t *b, const char *key, bool req, const char **out, const char **f)
{
	return str_field(b, key, key, F_SLUG, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, req, out, f);
}

static consult_err a_user(const json_t *b, consult_admin_request *r, const char **f)
{
	return str_field(b, "username", "username", F_USERNAME, CONSULT_MIN_USERNAME, CONSULT_MAX_USERNAME, true,
	        &r->username, f);
}

static consult_err a_pass(const json_t *b, consult_admin_request *r, const char **f)
{
	return str_field(
	        b, "password", "password", F_SECRET, CONSULT_MIN_PASSWORD, CONSULT_MAX_PASSWORD, true, &r->password, f);
}

static consult_err a_add_practice(const json_t *b, consult_admin_request *r, const char **f)
{
	TRY(a_slug(b, "slug", true, &r->slug, f));
	TRY(str_field(b, "name", "name", F_NAME, CONSULT_MIN_DISPLAY, CONSULT_MAX_DISPLAY, true, &r->pname, f));
	return str_field(b, "phone", "phone", F_PHONE, CONSULT_MIN_PRACTICE_PHONE, CONSULT_MAX_PRACTICE_PHONE, false,
	        &r->phone, f);
}

static consult_err a_add_staff(const json_t *b, consult_admin_request *r, const char **f)
{
	const char *role;
	TRY(a_slug(b, "practice", true, &r->practice, f));
	TRY(a_user(b, r, f));
	TRY(str_field(b, "display_name", "display_name", F_NAME, CONSULT_MIN_DISPLAY, CONSULT_MAX_DISPLAY, true,
	        &r->display_name, f));
	TRY(str_field(b, "role", "role", F_WORD, CONSULT_MIN_STATE, CONSULT_MAX_STATE, true, &role, f));
	r->role = role_from_name(role);
	if (r->role == CONSULT_ROLE_NONE)
		return fail(CONSULT_ERR_INVALID_FIELD, "role", f);
	return a_pass(b, r, f);
}

static consult_err a_set_disabled(const json_t *b, consult_admin_request *r, const char **f)
{
	TRY(a_user(b, r, f));
	return bool_field(b, "disabled", &r->disabled, f);
}

/* At least one of relay_only (bool), forward, audio_only and patient_share
 * ("allowed" / "never"); none of them: missing_field "relay_only". */
static consult_err a_set_practice(const json_t *b, consult_admin_request *r, const char **f)
{
	static const char *const policies[] = { "allowed", "never" };
	int i;
	TRY(a_slug(b, "practice", true, &r->practice, f));
	const json_t *ro = json_object_get(b, "relay_only");
	if (ro && !json_is_null(ro)) {
		TRY(bool_field(b, "relay_only", &r->relay_only, f));
		r->has_relay_only = true;
	}
	TRY(enum_field(b, "forward", false, policies, 2, &i, f));
	if (i >= 0) {
		r->has_forward = true;
		r->forward = i == 0 ? CONSULT_FWD_ALLOWED : CONSULT_FWD_NEVER;
	}
	TRY(enum_field(b, "audio_only", false, policies, 2, &i, f));
	if (i >= 0) {
		r->has_audio_only = true;
		r->audio_only = i == 0 ? CONSULT_AUDIO_ALLOWED : CONSULT_AUDIO_NEVER;
	}
	TRY(enum_field(b, "patient_share", false, policies, 2, &i, f));
	if (i >= 0) {
		r->has_patient_share = true;
		r->patient_share_allowed = i == 0;
	}
	if (!r->has_relay_only && !r->has_forward && !r->has_audio_only && !r->has_patient_share)
		return fail(CONSULT_ERR_MISSING_FIELD, "relay_only", f);
	return CONSULT_OK;
}

static consult_err a_reset_password(const json_t *b, consult_admin_request *r, const char **f)
{
	TRY(a_user(b, r, f));
	return a_pass(b, r, f);
}

static consult_err a_practice_req(const json_t *b, consult_admin_request *r, const char **f)
{
	return a_slug(b, "practice", true, &r->practice, f);
}

static consult_err a_practice_opt(const json_t *b, consult_admin_request *r, const char **f)
{
	return a_slug(b, "practice", false, &r->practice, f);
}

/* Test clock offset: at most ten years either way. */
static consult_err a_test_clock(const json_t *b, consult_admin_request *r, const char **f)
{
	const int64_t max = CONSULT_TEST_CLOCK_MAX_OFFSET;
	return int_field(b, "offset_seconds", "offset_seconds", true, -max, max, &r->offset_seconds, NULL, f);
}

static consult_err a_none(const json_t *b, consult_admin_request *r, const char **f)
{
	return CONSULT_OK;
}

typedef consult_err (*admin_parser)(const json_t *b, consult_admin_request *r, const char **f);
static const struct {
	const char *name;
	consult_admin_kind kind;
	admin_parser parse;
} admins[] = {
#define CONSULT_ADMIN_REQUEST(name, id, parse) { #name, CONSULT_ADMIN_##id, parse },
#include "admin_requests.def"
#undef CONSULT_ADMIN_REQUEST
};

consult_err consult_admin_parse(const json_t *body, consult_admin_request *out, const char **field)
{
	const char *name;
	memset(out, 0, sizeof *out);
	TRY(request_name(body, &name, field));
	for (size_t i = 0; i < sizeof admins / sizeof admins[0]; i++) {
		if (strcmp(name, admins[i].name) != 0)
			continue;
		consult_admin_request r;
		memset(&r, 0, sizeof r);
		r.kind = admins[i].kind;
		r.name = admins[i].name;
		TRY(admins[i].parse(body, &r, field));
		*out = r;
		return CONSULT_OK;
	}
	return fail(CONSULT_ERR_UNKNOWN_REQUEST, "request", field);
}

const char *consult_role_name(consult_role r)
{
	switch (r) {
	case CONSULT_ROLE_DOCTOR:
		return "doctor";
	case CONSULT_ROLE_RECEPTION:
		return "reception";
	default:
		return "";
	}
}

static consult_role role_from_name(const char *s)
{
	if (!s)
		return CONSULT_ROLE_NONE;
	if (strcmp(s, "doctor") == 0)
		return CONSULT_ROLE_DOCTOR;
	if (strcmp(s, "reception") == 0)
		return CONSULT_ROLE_RECEPTION;
	return CONSULT_ROLE_NONE;
}

static const char *signal_type_name(consult_signal_type t)
{
	switch (t) {
	case CONSULT_SIGNAL_OFFER:
		return "offer";
	case CONSULT_SIGNAL_ANSWER:
		return "answer";
	case CONSULT_SIGNAL_CANDIDATE:
		return "candidate";
	case CONSULT_SIGNAL_END_OF_CANDIDATES:
		return "end-of-candidates";
	case CONSULT_SIGNAL_E2EE_KEY:
		return "e2ee-key";
	case CONSULT_SIGNAL_MEDIA:
		return "media";
	}
	return "";
}

json_t *consult_signal_relay(const consult_request *r)
{
	if (!r || r->kind != CONSULT_REQ_SIGNAL)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(signal_type_name(r->u.signal.type)));
	switch (r->u.signal.type) {
	case CONSULT_SIGNAL_OFFER:
	case CONSULT_SIGNAL_ANSWER:
		json_object_set_new(o, "sdp", json_string(r->u.signal.sdp ? r->u.signal.sdp : ""));
		break;
	case CONSULT_SIGNAL_CANDIDATE: {
		json_t *c = json_object();
		json_object_set_new(c, "candidate", json_string(r->u.signal.candidate ? r->u.signal.candidate : ""));
		if (r->u.signal.sdp_mid)
			json_object_set_new(c, "sdpMid", json_string(r->u.signal.sdp_mid));
		if (r->u.signal.sdp_mline_index >= 0)
			json_object_set_new(c, "sdpMLineIndex", json_integer(r->u.signal.sdp_mline_index));
		json_object_set_new(o, "candidate", c);
		break;
	}
	case CONSULT_SIGNAL_E2EE_KEY:
		json_object_set_new(o, "key", json_string(r->u.signal.key ? r->u.signal.key : ""));
		break;
	case CONSULT_SIGNAL_MEDIA:
		json_object_set_new(o, "audio", json_boolean(r->u.signal.audio));
		json_object_set_new(o, "video", json_boolean(r->u.signal.video));
		if (r->u.signal.has_screen)
			json_object_set_new(o, "screen", json_boolean(r->u.signal.screen));
		break;
	case CONSULT_SIGNAL_END_OF_CANDIDATES:
		break;
	}
	return o;
}

const char *consult_channel_name(consult_channel c)
{
	switch (c) {
	case CONSULT_CHANNEL_EMAIL:
		return "email";
	case CONSULT_CHANNEL_SMS:
		return "sms";
	default:
		return "";
	}
}

const char *consult_audio_policy_name(consult_audio_policy p)
{
	return p == CONSULT_AUDIO_NEVER ? "never" : "allowed";
}

const char *consult_forward_cause_name(consult_forward_cause c)
{
	switch (c) {
	case CONSULT_FWD_TIMEOUT:
		return "timeout";
	case CONSULT_FWD_ICE_FAILED:
		return "ice_failed";
	case CONSULT_FWD_TURN_FAILED:
		return "turn_failed";
	case CONSULT_FWD_SERVER_RESTART:
		return "server_restart";
	default:
		return "";
	}
}
