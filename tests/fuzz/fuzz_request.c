/* fuzz_request.c - consult_request_parse() on any bytes the Janus core
 * could hand over as a message body (any JSON value, strings with \u0000).
 *
 * Checks: the result is one stable error code (never "internal"); a failure
 * names its field (for 402..405 and 400/401 alike) and leaves the result
 * zeroed; parsing is deterministic (a deep copy parses the same); on success
 * the kind matches the "request" string and every string handed out is
 * within its documented limit, valid UTF-8 and free of control characters
 * (SDP may have CR/LF/TAB), without embedded NUL; slugs, user names, report
 * words and phone numbers keep to their character sets, names are not
 * blank, e-mail addresses pass consult_email_check, ranges hold; the
 * booked name and note are within their limits in characters (code
 * points), enumerations (decline reason) in range, a media signal's two
 * booleans are the body's.
 */
#include "fuzz.h"
#include <jansson.h>
#include "core/request.h"
#include "core/limits.h"
#include "core/email.h"
#include "core/errors.h"

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

/* s is a clean string of min..max bytes (lines: CR/LF/TAB allowed). */
static void str_ok(const char *s, size_t min, size_t max, bool lines)
{
	if (!s)
		return;
	size_t n = strlen(s);
	FZ_CHECK(n >= min && n <= max);
	FZ_CHECK(fz_utf8(s, n));
	FZ_CHECK(!fz_has_ctl(s, n, lines ? "\r\n\t" : ""));
	/* C1 controls are refused too */
	for (size_t i = 0; i + 1 < n; i++)
		FZ_CHECK(!((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
		        (unsigned char)s[i + 1] <= 0x9f));
}

static void set_ok(const char *s, const char *set)
{
	if (s)
		for (const char *p = s; *p; p++)
			FZ_CHECK((*p >= 'a' && *p <= 'z') || strchr(set, *p));
}

/* A clean, not blank text of 1..max characters (code points). */
static void chars_ok(const char *s, size_t max)
{
	if (!s)
		return;
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		chars += (*p & 0xc0) != 0x80;
	FZ_CHECK(chars >= 1 && chars <= max);
	str_ok(s, 1, 4 * max, false);
	size_t n;
	consult_text_trim(s, &n);
	FZ_CHECK(n > 0);
}

static void name_ok(const char *s, size_t max)
{
	str_ok(s, 1, max, false);
	if (s) {
		size_t n;
		consult_text_trim(s, &n);
		FZ_CHECK(n > 0);
	}
}

static void check_ok(const json_t *body, const consult_request *r)
{
	FZ_CHECK(r->kind > CONSULT_REQ_NONE && r->kind < CONSULT_REQ_KIND_COUNT);
	FZ_CHECK(r->name && strcmp(r->name, json_string_value(json_object_get(body, "request"))) == 0);
	switch (r->kind) {
	case CONSULT_REQ_PRACTICE_INFO:
		FZ_CHECK(r->u.practice_info.practice);
		str_ok(r->u.practice_info.practice, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, false);
		set_ok(r->u.practice_info.practice, "0123456789-");
		break;
	case CONSULT_REQ_LOGIN:
		FZ_CHECK(r->u.login.username && r->u.login.password);
		str_ok(r->u.login.username, 1, CONSULT_MAX_USERNAME, false);
		set_ok(r->u.login.username, "0123456789._-");
		str_ok(r->u.login.password, 1, CONSULT_MAX_PASSWORD, false);
		break;
	case CONSULT_REQ_JOIN:
		FZ_CHECK(r->u.join.practice && r->u.join.code && r->u.join.first_name && r->u.join.last_name);
		str_ok(r->u.join.practice, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, false);
		set_ok(r->u.join.practice, "0123456789-");
		str_ok(r->u.join.code, 1, CONSULT_MAX_CODE_INPUT, false);
		name_ok(r->u.join.first_name, CONSULT_MAX_NAME);
		name_ok(r->u.join.last_name, CONSULT_MAX_NAME);
		FZ_CHECK(json_is_true(json_object_get(body, "accept_terms")));
		break;
	case CONSULT_REQ_APPOINTMENT_INFO:
		FZ_CHECK(r->u.appointment_info.practice && r->u.appointment_info.code);
		str_ok(r->u.appointment_info.practice, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, false);
		str_ok(r->u.appointment_info.code, 1, CONSULT_MAX_CODE_INPUT, false);
		break;
	case CONSULT_REQ_LIST_APPOINTMENTS:
		if (r->u.list_appointments.has_range) {
			FZ_CHECK(r->u.list_appointments.from <= r->u.list_appointments.to);
			FZ_CHECK(r->u.list_appointments.to - r->u.list_appointments.from <= 31 * 86400);
		}
		break;
	case CONSULT_REQ_CREATE_APPOINTMENT:
		FZ_CHECK(r->u.create_appointment.doctor_id >= 0);
		str_ok(r->u.create_appointment.phone, 1, CONSULT_MAX_PHONE, false);
		set_ok(r->u.create_appointment.phone, "0123456789+-/() ");
		str_ok(r->u.create_appointment.email, 1, CONSULT_MAX_EMAIL, false);
		if (r->u.create_appointment.email)
			FZ_CHECK(consult_email_check(r->u.create_appointment.email) == CONSULT_OK);
		chars_ok(r->u.create_appointment.patient_name, CONSULT_MAX_PATIENT_NAME);
		chars_ok(r->u.create_appointment.note, CONSULT_MAX_NOTE);
		break;
	case CONSULT_REQ_ACCEPT:
		FZ_CHECK(r->u.accept.audio_only == json_is_true(json_object_get(body, "audio_only")));
		break;
	case CONSULT_REQ_DECLINE:
		FZ_CHECK((unsigned)r->u.decline.reason < CONSULT_DECLINE_REASON_COUNT);
		if (r->u.decline.reason != CONSULT_DECLINE_DECLINED)
			FZ_CHECK(strcmp(json_string_value(json_object_get(body, "reason")),
			                 consult_decline_reason_name(r->u.decline.reason)) == 0);
		break;
	case CONSULT_REQ_CANCEL_APPOINTMENT:
		FZ_CHECK(r->u.cancel_appointment.appointment_id > 0);
		break;
	case CONSULT_REQ_ERASE_APPOINTMENT:
		FZ_CHECK(r->u.erase_appointment.appointment_id > 0);
		break;
	case CONSULT_REQ_RESEND:
		FZ_CHECK(r->u.resend.appointment_id > 0);
		FZ_CHECK(r->u.resend.channel == CONSULT_CHANNEL_EMAIL || r->u.resend.channel == CONSULT_CHANNEL_SMS);
		break;
	case CONSULT_REQ_CALL:
		FZ_CHECK(r->u.call.visit_id > 0);
		break;
	case CONSULT_REQ_HANGUP:
		FZ_CHECK(r->u.hangup.reason == CONSULT_HANGUP_NORMAL ||
		        r->u.hangup.reason == CONSULT_HANGUP_CONNECTION_LOST);
		break;
	case CONSULT_REQ_FORWARD:
		FZ_CHECK((unsigned)r->u.forward.cause < CONSULT_FWD_CAUSE_COUNT);
		break;
	case CONSULT_REQ_SIGNAL:
		switch (r->u.signal.type) {
		case CONSULT_SIGNAL_OFFER:
		case CONSULT_SIGNAL_ANSWER:
			FZ_CHECK(r->u.signal.sdp);
			str_ok(r->u.signal.sdp, 1, CONSULT_MAX_SDP, true);
			break;
		case CONSULT_SIGNAL_CANDIDATE:
			FZ_CHECK(r->u.signal.candidate);
			str_ok(r->u.signal.candidate, 0, CONSULT_MAX_CANDIDATE, false);
			str_ok(r->u.signal.sdp_mid, 0, CONSULT_MAX_SDP_MID, false);
			FZ_CHECK(r->u.signal.sdp_mline_index >= -1 && r->u.signal.sdp_mline_index <= 63);
			break;
		case CONSULT_SIGNAL_END_OF_CANDIDATES:
			break;
		case CONSULT_SIGNAL_MEDIA:
			FZ_CHECK(json_is_boolean(json_object_get(body, "audio")) &&
			        json_is_boolean(json_object_get(body, "video")));
			FZ_CHECK(r->u.signal.audio == json_is_true(json_object_get(body, "audio")));
			FZ_CHECK(r->u.signal.video == json_is_true(json_object_get(body, "video")));
			FZ_CHECK(r->u.signal.screen == json_is_true(json_object_get(body, "screen")));
			FZ_CHECK(r->u.signal.has_screen == json_is_boolean(json_object_get(body, "screen")));
			break;
		case CONSULT_SIGNAL_E2EE_KEY:
			FZ_CHECK(r->u.signal.key);
			str_ok(r->u.signal.key, 1, CONSULT_MAX_E2EE_KEY, false);
			for (const char *k = r->u.signal.key; *k; k++)
				FZ_CHECK((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
				        (*k >= '0' && *k <= '9') || strchr("+/=-_", *k));
			break;
		default:
			FZ_CHECK(!"signal type out of range");
		}
		break;
	case CONSULT_REQ_REPORT:
		FZ_CHECK(r->u.report.connection_state);
		str_ok(r->u.report.connection_state, 1, CONSULT_MAX_STATE, false);
		str_ok(r->u.report.local_candidate_type, 1, CONSULT_MAX_STATE, false);
		str_ok(r->u.report.remote_candidate_type, 1, CONSULT_MAX_STATE, false);
		set_ok(r->u.report.connection_state, "-");
		set_ok(r->u.report.local_candidate_type, "-");
		set_ok(r->u.report.remote_candidate_type, "-");
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!body)
		return 0;
	consult_request r;
	const char *field = NULL;
	consult_err e = consult_request_parse(body, &r, &field);
	FZ_CHECK(strcmp(consult_err_name(e), "internal") != 0);
	if (e == CONSULT_OK) {
		check_ok(body, &r);
	} else {
		FZ_CHECK(e >= CONSULT_ERR_BAD_REQUEST && e <= CONSULT_ERR_INVALID_UTF8);
		FZ_CHECK(field && *field);
		FZ_CHECK(is_zero(&r, sizeof r));
	}
	json_t *copy = json_deep_copy(body);
	FZ_CHECK(copy);
	consult_request r2;
	const char *field2 = NULL;
	FZ_CHECK(consult_request_parse(copy, &r2, &field2) == e);
	FZ_CHECK(e == CONSULT_OK ? r2.kind == r.kind : strcmp(field, field2) == 0);
	json_decref(copy);
	json_decref(body);
	return 0;
}
