/* fuzz_admin.c - consult_admin_parse(), the parser of the Janus admin API
 * requests (plugins/janus/admin.c only routes what it returns).
 *
 * Checks: one stable error code (never "internal"), a field on failure and a
 * zeroed result; deterministic on a deep copy; on success the kind matches
 * "request", slugs/user names keep to their sets and lengths, names are not
 * blank, passwords 10..256 clean bytes, roles and the forward and
 * audio-only policies are known values, set_practice has at least one
 * option, no string carries a
 * control character or an embedded NUL.
 */
#include "fuzz.h"
#include <jansson.h>
#include "core/request.h"
#include "core/limits.h"
#include "core/errors.h"

static void str_ok(const char *s, size_t min, size_t max, const char *set)
{
	if (!s)
		return;
	size_t n = strlen(s);
	FZ_CHECK(n >= min && n <= max);
	FZ_CHECK(fz_utf8(s, n) && !fz_has_ctl(s, n, ""));
	if (set)
		for (const char *p = s; *p; p++)
			FZ_CHECK((*p >= 'a' && *p <= 'z') || strchr(set, *p));
}

static void name_ok(const char *s, size_t max)
{
	FZ_CHECK(s);
	str_ok(s, 1, max, NULL);
	size_t n;
	consult_text_trim(s, &n);
	FZ_CHECK(n > 0);
}

static const char SLUG[] = "0123456789-", USER[] = "0123456789._-";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!body)
		return 0;
	consult_admin_request r;
	const char *field = NULL;
	consult_err e = consult_admin_parse(body, &r, &field);
	FZ_CHECK(strcmp(consult_err_name(e), "internal") != 0);
	if (e != CONSULT_OK) {
		FZ_CHECK(e >= CONSULT_ERR_BAD_REQUEST && e <= CONSULT_ERR_INVALID_UTF8);
		FZ_CHECK(field && *field);
		FZ_CHECK(r.kind == CONSULT_ADMIN_NONE && !r.name && !r.practice && !r.username && !r.password);
	} else {
		FZ_CHECK(r.kind > CONSULT_ADMIN_NONE && r.kind < CONSULT_ADMIN_KIND_COUNT);
		FZ_CHECK(r.name && strcmp(r.name, json_string_value(json_object_get(body, "request"))) == 0);
		str_ok(r.practice, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, SLUG);
		str_ok(r.slug, CONSULT_MIN_SLUG, CONSULT_MAX_SLUG, SLUG);
		str_ok(r.username, CONSULT_MIN_USERNAME, CONSULT_MAX_USERNAME, USER);
		str_ok(r.password, CONSULT_MIN_PASSWORD, CONSULT_MAX_PASSWORD, NULL);
		str_ok(r.phone, 0, CONSULT_MAX_PHONE, "0123456789+-/() ");
		switch (r.kind) {
		case CONSULT_ADMIN_ADD_PRACTICE:
			FZ_CHECK(r.slug);
			name_ok(r.pname, CONSULT_MAX_DISPLAY);
			break;
		case CONSULT_ADMIN_ADD_STAFF:
			FZ_CHECK(r.practice && r.username && r.password);
			name_ok(r.display_name, CONSULT_MAX_DISPLAY);
			FZ_CHECK(r.role == CONSULT_ROLE_DOCTOR || r.role == CONSULT_ROLE_RECEPTION);
			FZ_CHECK(strcmp(consult_role_name(r.role), json_string_value(json_object_get(body, "role"))) ==
			        0);
			break;
		case CONSULT_ADMIN_SET_DISABLED:
			FZ_CHECK(r.username);
			FZ_CHECK(r.disabled == json_is_true(json_object_get(body, "disabled")));
			break;
		case CONSULT_ADMIN_RESET_PASSWORD:
			FZ_CHECK(r.username && r.password);
			break;
		case CONSULT_ADMIN_LIST_STAFF:
			FZ_CHECK(r.practice);
			break;
		case CONSULT_ADMIN_SET_PRACTICE:
			FZ_CHECK(r.practice &&
			        (r.has_relay_only || r.has_forward || r.has_audio_only || r.has_patient_share));
			FZ_CHECK(!r.has_forward || r.forward == CONSULT_FWD_ALLOWED || r.forward == CONSULT_FWD_NEVER);
			FZ_CHECK(!r.has_audio_only || r.audio_only == CONSULT_AUDIO_ALLOWED ||
			        r.audio_only == CONSULT_AUDIO_NEVER);
			break;
		default:
			break;
		}
	}
	json_t *copy = json_deep_copy(body);
	FZ_CHECK(copy);
	consult_admin_request r2;
	const char *field2 = NULL;
	FZ_CHECK(consult_admin_parse(copy, &r2, &field2) == e);
	FZ_CHECK(e == CONSULT_OK ? r2.kind == r.kind : strcmp(field, field2) == 0);
	json_decref(copy);
	json_decref(body);
	return 0;
}
