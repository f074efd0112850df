/* test_request.c - parsing of every client and admin request: valid forms
 * with their extracted values, and for each kind missing fields, wrong
 * types, too long strings, control characters, invalid UTF-8, unknown
 * request names and non-object bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include <jansson.h>
#include "core/request.h"
#include "core/limits.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", text, e.text);
	return j;
}

typedef struct bad {
	const char *json;
	consult_err err;
	const char *field;
} bad;

static void check_bad(const bad *b, size_t n, bool admin)
{
	for (size_t i = 0; i < n; i++) {
		json_t *j = J(b[i].json);
		const char *field = NULL;
		consult_err err;
		if (admin) {
			consult_admin_request a;
			err = consult_admin_parse(j, &a, &field);
		} else {
			consult_request r;
			err = consult_request_parse(j, &r, &field);
		}
		if (err != b[i].err || (b[i].field && (!field || strcmp(field, b[i].field) != 0)))
			print_error("case %zu: %s -> %d (%s), want %d (%s)\n", i, b[i].json, err, field ? field : "-",
			        b[i].err, b[i].field ? b[i].field : "-");
		assert_int_equal(err, b[i].err);
		if (b[i].field)
			assert_string_equal(field, b[i].field);
		json_decref(j);
	}
}

static consult_request ok_req(json_t *j)
{
	consult_request r;
	const char *field = "untouched";
	consult_err err = consult_request_parse(j, &r, &field);
	if (err != CONSULT_OK)
		print_error("%s: %d %s\n", json_dumps(j, 0), err, field);
	assert_int_equal(err, CONSULT_OK);
	return r;
}

static void test_envelope(void **st)
{
	static const bad b[] = {
		{ "[]", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "\"join\"", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "17", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "{}", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "{\"request\":17}", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "{\"request\":null}", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "{\"request\":\"\"}", CONSULT_ERR_UNKNOWN_REQUEST, "request" },
		{ "{\"request\":\"JOIN\"}", CONSULT_ERR_UNKNOWN_REQUEST, "request" },
		{ "{\"request\":\"destroy\"}", CONSULT_ERR_UNKNOWN_REQUEST, "request" },
		{ "{\"request\":\"logout\\u0000x\"}", CONSULT_ERR_UNKNOWN_REQUEST, "request" },
		{ "{\"request\":\"add_practice\"}", CONSULT_ERR_UNKNOWN_REQUEST, "request" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	consult_request r;
	assert_int_equal(consult_request_parse(NULL, &r, NULL), CONSULT_ERR_BAD_REQUEST);
	/* no-field requests, extra fields ignored */
	static const struct {
		const char *name;
		consult_req_kind kind;
	} simple[] = {
		{ "logout", CONSULT_REQ_LOGOUT },
		{ "list_doctors", CONSULT_REQ_LIST_DOCTORS },
		{ "waiting_list", CONSULT_REQ_WAITING_LIST },
		{ "cancel_call", CONSULT_REQ_CANCEL_CALL },
		{ "leave", CONSULT_REQ_LEAVE },
		{ "accept", CONSULT_REQ_ACCEPT },
		{ "decline", CONSULT_REQ_DECLINE },
		{ "hangup", CONSULT_REQ_HANGUP },
	};
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		json_t *j = json_pack("{ss si}", "request", simple[i].name, "extra", 5);
		r = ok_req(j);
		assert_int_equal(r.kind, simple[i].kind);
		assert_string_equal(r.name, simple[i].name);
		json_decref(j);
	}
}

static void test_practice_info_login(void **st)
{
	json_t *j = J("{\"request\":\"practice_info\",\"practice\":\"am-marktplatz\"}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_PRACTICE_INFO);
	assert_string_equal(r.u.practice_info.practice, "am-marktplatz");
	json_decref(j);
	j = J("{\"request\":\"login\",\"username\":\"dr.weber_2-x\",\"password\":\"p\"}");
	r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_LOGIN);
	assert_string_equal(r.u.login.username, "dr.weber_2-x");
	assert_string_equal(r.u.login.password, "p");
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"practice_info\"}", CONSULT_ERR_MISSING_FIELD, "practice" },
		{ "{\"request\":\"practice_info\",\"practice\":null}", CONSULT_ERR_MISSING_FIELD, "practice" },
		{ "{\"request\":\"practice_info\",\"practice\":5}", CONSULT_ERR_INVALID_FIELD, "practice" },
		{ "{\"request\":\"practice_info\",\"practice\":\"a\"}", CONSULT_ERR_INVALID_FIELD, "practice" },
		{ "{\"request\":\"practice_info\",\"practice\":\"Am-Markt\"}", CONSULT_ERR_INVALID_FIELD, "practice" },
		{ "{\"request\":\"practice_info\",\"practice\":\"am_markt\"}", CONSULT_ERR_INVALID_FIELD, "practice" },
		{ "{\"request\":\"practice_info\",\"practice\":\"0123456789012345678901234567890123456789012345678\"}",
		        CONSULT_ERR_TOO_LONG, "practice" },
		{ "{\"request\":\"practice_info\",\"practice\":\"am\\u0007x\"}", CONSULT_ERR_INVALID_UTF8, "practice" },
		{ "{\"request\":\"login\",\"password\":\"x\"}", CONSULT_ERR_MISSING_FIELD, "username" },
		{ "{\"request\":\"login\",\"username\":\"abc\"}", CONSULT_ERR_MISSING_FIELD, "password" },
		{ "{\"request\":\"login\",\"username\":\"ab\",\"password\":\"x\"}", CONSULT_ERR_INVALID_FIELD,
		        "username" },
		{ "{\"request\":\"login\",\"username\":\"Abc\",\"password\":\"x\"}", CONSULT_ERR_INVALID_FIELD,
		        "username" },
		{ "{\"request\":\"login\",\"username\":\"a bc\",\"password\":\"x\"}", CONSULT_ERR_INVALID_FIELD,
		        "username" },
		{ "{\"request\":\"login\",\"username\":\"abc\\u00e4\",\"password\":\"x\"}", CONSULT_ERR_INVALID_FIELD,
		        "username" },
		{ "{\"request\":\"login\",\"username\":[],\"password\":\"x\"}", CONSULT_ERR_INVALID_FIELD, "username" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"\"}", CONSULT_ERR_INVALID_FIELD,
		        "password" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":true}", CONSULT_ERR_INVALID_FIELD,
		        "password" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"a\\nb\"}", CONSULT_ERR_INVALID_UTF8,
		        "password" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"a\\u0000b\"}", CONSULT_ERR_INVALID_UTF8,
		        "password" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	/* length limits exactly */
	char user[CONSULT_MAX_USERNAME + 2], pw[CONSULT_MAX_PASSWORD + 2];
	memset(user, 'a', sizeof user);
	memset(pw, 'p', sizeof pw);
	user[CONSULT_MAX_USERNAME] = 0;
	pw[CONSULT_MAX_PASSWORD] = 0;
	j = json_pack("{ss ss ss}", "request", "login", "username", user, "password", pw);
	r = ok_req(j);
	json_decref(j);
	user[CONSULT_MAX_USERNAME] = 'a';
	user[CONSULT_MAX_USERNAME + 1] = 0;
	const char *field = NULL;
	j = json_pack("{ss ss ss}", "request", "login", "username", user, "password", pw);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "username");
	json_decref(j);
	user[CONSULT_MAX_USERNAME] = 0;
	pw[CONSULT_MAX_PASSWORD] = 'p';
	pw[CONSULT_MAX_PASSWORD + 1] = 0;
	j = json_pack("{ss ss ss}", "request", "login", "username", user, "password", pw);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "password");
	json_decref(j);
}

/* resume: session_token required, base64url, 1..CONSULT_MAX_SESSION_TOKEN;
 * resume_call optional, a positive integer. */
static void test_resume(void **st)
{
	json_t *j = J("{\"request\":\"resume\",\"session_token\":\"aZ09-_xY\"}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_RESUME);
	assert_string_equal(r.u.resume.session_token, "aZ09-_xY");
	assert_int_equal(r.u.resume.resume_call, 0);
	json_decref(j);
	j = J("{\"request\":\"resume\",\"session_token\":\"abc\",\"resume_call\":17}");
	r = ok_req(j);
	assert_int_equal(r.u.resume.resume_call, 17);
	json_decref(j);
	j = J("{\"request\":\"resume\",\"session_token\":\"abc\",\"resume_call\":null}");
	r = ok_req(j);
	assert_int_equal(r.u.resume.resume_call, 0);
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"resume\"}", CONSULT_ERR_MISSING_FIELD, "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":null}", CONSULT_ERR_MISSING_FIELD, "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":\"\"}", CONSULT_ERR_INVALID_FIELD, "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":17}", CONSULT_ERR_INVALID_FIELD, "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":\"ab+/\"}", CONSULT_ERR_INVALID_FIELD, "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":\"ab=\"}", CONSULT_ERR_INVALID_FIELD, "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":\"a\\u00e4\"}", CONSULT_ERR_INVALID_FIELD,
		        "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":\"a\\nb\"}", CONSULT_ERR_INVALID_UTF8, "session_token" },
		{ "{\"request\":\"resume\",\"session_token\":\"abc\",\"resume_call\":0}", CONSULT_ERR_INVALID_FIELD,
		        "resume_call" },
		{ "{\"request\":\"resume\",\"session_token\":\"abc\",\"resume_call\":-3}", CONSULT_ERR_INVALID_FIELD,
		        "resume_call" },
		{ "{\"request\":\"resume\",\"session_token\":\"abc\",\"resume_call\":\"17\"}",
		        CONSULT_ERR_INVALID_FIELD, "resume_call" },
		{ "{\"request\":\"resume\",\"session_token\":\"abc\",\"resume_call\":17.0}", CONSULT_ERR_INVALID_FIELD,
		        "resume_call" },
		/* the token is checked first */
		{ "{\"request\":\"resume\",\"session_token\":\"a b\",\"resume_call\":0}", CONSULT_ERR_INVALID_FIELD,
		        "session_token" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	char tok[CONSULT_MAX_SESSION_TOKEN + 2];
	memset(tok, 'A', sizeof tok);
	tok[CONSULT_MAX_SESSION_TOKEN] = 0;
	j = json_pack("{ss ss}", "request", "resume", "session_token", tok);
	r = ok_req(j);
	assert_int_equal(strlen(r.u.resume.session_token), CONSULT_MAX_SESSION_TOKEN);
	json_decref(j);
	tok[CONSULT_MAX_SESSION_TOKEN] = 'A';
	tok[CONSULT_MAX_SESSION_TOKEN + 1] = 0;
	j = json_pack("{ss ss}", "request", "resume", "session_token", tok);
	const char *field = NULL;
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "session_token");
	json_decref(j);
	(void)st;
}

/* login's optional device_token: base64url, 1..CONSULT_MAX_DEVICE_TOKEN. */
static void test_login_device_token(void **st)
{
	json_t *j = J("{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\"}");
	consult_request r = ok_req(j);
	assert_null(r.u.login.device_token);
	json_decref(j);
	j = J("{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":null}");
	r = ok_req(j);
	assert_null(r.u.login.device_token);
	json_decref(j);
	j = J("{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":\"aZ09-_xY\"}");
	r = ok_req(j);
	assert_string_equal(r.u.login.device_token, "aZ09-_xY");
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":\"\"}",
		        CONSULT_ERR_INVALID_FIELD, "device_token" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":17}",
		        CONSULT_ERR_INVALID_FIELD, "device_token" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":\"ab+/\"}",
		        CONSULT_ERR_INVALID_FIELD, "device_token" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":\"ab=\"}",
		        CONSULT_ERR_INVALID_FIELD, "device_token" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":\"a b\"}",
		        CONSULT_ERR_INVALID_FIELD, "device_token" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":\"a\\u00e4\"}",
		        CONSULT_ERR_INVALID_FIELD, "device_token" },
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"p\",\"device_token\":\"a\\nb\"}",
		        CONSULT_ERR_INVALID_UTF8, "device_token" },
		/* the other fields are checked first */
		{ "{\"request\":\"login\",\"username\":\"abc\",\"password\":\"\",\"device_token\":\"a b\"}",
		        CONSULT_ERR_INVALID_FIELD, "password" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	char tok[CONSULT_MAX_DEVICE_TOKEN + 2];
	memset(tok, 'A', sizeof tok);
	tok[CONSULT_MAX_DEVICE_TOKEN] = 0;
	j = json_pack("{ss ss ss ss}", "request", "login", "username", "abc", "password", "p", "device_token", tok);
	r = ok_req(j);
	assert_int_equal(strlen(r.u.login.device_token), CONSULT_MAX_DEVICE_TOKEN);
	json_decref(j);
	tok[CONSULT_MAX_DEVICE_TOKEN] = 'A';
	tok[CONSULT_MAX_DEVICE_TOKEN + 1] = 0;
	const char *field = NULL;
	j = json_pack("{ss ss ss ss}", "request", "login", "username", "abc", "password", "p", "device_token", tok);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "device_token");
	json_decref(j);
	(void)st;
}

#define JOIN_OK "\"request\":\"join\",\"practice\":\"am-marktplatz\",\"code\":\"ABCD-EFGH-JKMN\""

static void test_join(void **st)
{
	json_t *j = J(
	        "{" JOIN_OK
	        ",\"first_name\":\" Erika \",\"last_name\":\"M\\u00fcller-L\\u00fcdenscheidt\",\"accept_terms\":true}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_JOIN);
	assert_string_equal(r.u.join.practice, "am-marktplatz");
	assert_string_equal(r.u.join.code, "ABCD-EFGH-JKMN");
	assert_string_equal(r.u.join.first_name, " Erika ");
	assert_string_equal(r.u.join.last_name,
	        "M\xc3\xbcller-L\xc3\xbc"
	        "denscheidt");
	size_t n;
	const char *t = consult_text_trim(r.u.join.first_name, &n);
	assert_int_equal(n, 5);
	assert_memory_equal(t, "Erika", 5);
	assert_int_equal(r.u.join.resume_call, 0); /* absent */
	json_decref(j);
	j = J("{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":true,\"resume_call\":17}");
	r = ok_req(j);
	assert_int_equal(r.u.join.resume_call, 17);
	json_decref(j);
	static const bad b[] = {
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":true,\"resume_call\":0}",
		        CONSULT_ERR_INVALID_FIELD, "resume_call" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":true,\"resume_call\":\"17\"}",
		        CONSULT_ERR_INVALID_FIELD, "resume_call" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":true,\"resume_call\":1.5}",
		        CONSULT_ERR_INVALID_FIELD, "resume_call" },
		{ "{\"request\":\"join\",\"code\":\"x\",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":"
		  "true}",
		        CONSULT_ERR_MISSING_FIELD, "practice" },
		{ "{\"request\":\"join\",\"practice\":\"ab\",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":"
		  "true}",
		        CONSULT_ERR_MISSING_FIELD, "code" },
		{ "{" JOIN_OK ",\"last_name\":\"b\",\"accept_terms\":true}", CONSULT_ERR_MISSING_FIELD, "first_name" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"accept_terms\":true}", CONSULT_ERR_MISSING_FIELD, "last_name" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\"}", CONSULT_ERR_MISSING_FIELD, "accept_terms" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":false}",
		        CONSULT_ERR_INVALID_FIELD, "accept_terms" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":1}",
		        CONSULT_ERR_INVALID_FIELD, "accept_terms" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":\"true\"}",
		        CONSULT_ERR_INVALID_FIELD, "accept_terms" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\",\"accept_terms\":null}",
		        CONSULT_ERR_INVALID_FIELD, "accept_terms" },
		{ "{" JOIN_OK ",\"first_name\":1,\"last_name\":\"b\",\"accept_terms\":true}", CONSULT_ERR_INVALID_FIELD,
		        "first_name" },
		{ "{" JOIN_OK ",\"first_name\":\"\",\"last_name\":\"b\",\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_FIELD, "first_name" },
		{ "{" JOIN_OK ",\"first_name\":\"   \",\"last_name\":\"b\",\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_FIELD, "first_name" },
		{ "{" JOIN_OK ",\"first_name\":\"a\\tb\",\"last_name\":\"b\",\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_UTF8, "first_name" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\\u007f\",\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_UTF8, "last_name" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\\u0085\",\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_UTF8, "last_name" },
		{ "{" JOIN_OK ",\"first_name\":\"a\",\"last_name\":\"b\\u001b[31m\",\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_UTF8, "last_name" },
		{ "{\"request\":\"join\",\"practice\":\"ab\",\"code\":\"ABCD-EFGH-JKMN-ABCD-EFGH-JKMN-ABC\",\"first_"
		  "name\":\"a\",\"last_name\":\"b\",\"accept_terms\":true}",
		        CONSULT_ERR_TOO_LONG, "code" },
		{ "{\"request\":\"join\",\"practice\":\"ab\",\"code\":\"\\u0001\",\"first_name\":\"a\",\"last_name\":"
		  "\"b\",\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_UTF8, "code" },
		{ "{\"request\":\"join\",\"practice\":\"ab\",\"code\":\"\",\"first_name\":\"a\",\"last_name\":\"b\","
		  "\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_FIELD, "code" },
		{ "{\"request\":\"join\",\"practice\":\"ab\",\"code\":12,\"first_name\":\"a\",\"last_name\":\"b\","
		  "\"accept_terms\":true}",
		        CONSULT_ERR_INVALID_FIELD, "code" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	/* names: 80 bytes ok (multi-byte counted in bytes), 81 too long */
	char name[CONSULT_MAX_NAME + 2];
	memset(name, 'x', sizeof name);
	name[CONSULT_MAX_NAME] = 0;
	j = json_pack("{ss ss ss ss ss sb}", "request", "join", "practice", "ab", "code", "x", "first_name", name,
	        "last_name", "b", "accept_terms", 1);
	ok_req(j);
	json_decref(j);
	memcpy(name + CONSULT_MAX_NAME - 1, "\xc3\xa4", 3); /* 81 bytes, 80 characters */
	const char *field;
	j = json_pack("{ss ss ss ss ss sb}", "request", "join", "practice", "ab", "code", "x", "first_name", name,
	        "last_name", "b", "accept_terms", 1);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "first_name");
	json_decref(j);
	/* invalid UTF-8 smuggled in with json_stringn_nocheck */
	static const char *const bad_utf8[] = {
		"\xff",
		"a\xc3",
		"\xc3\x28",
		"\xc0\xaf",
		"\xe0\x80\xaf",
		"\xed\xa0\x80",
		"\xf4\x90\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\x80",
		"ab\xe2\x82",
	};
	for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
		j = json_pack("{ss ss ss ss sb}", "request", "join", "practice", "ab", "code", "x", "first_name", "a",
		        "accept_terms", 1);
		json_object_set_new(j, "last_name", json_stringn_nocheck(bad_utf8[i], strlen(bad_utf8[i])));
		field = NULL;
		assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_INVALID_UTF8);
		assert_string_equal(field, "last_name");
		json_decref(j);
	}
	/* valid multi-byte characters of every length pass */
	j = json_pack("{ss ss ss ss ss sb}", "request", "join", "practice", "ab", "code", "x", "first_name",
	        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd", "last_name", "\xd0\x96", "accept_terms", 1);
	ok_req(j);
	json_decref(j);
}

static void test_appointments(void **st)
{
	json_t *j = J("{\"request\":\"list_appointments\"}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_LIST_APPOINTMENTS);
	assert_false(r.u.list_appointments.has_range);
	json_decref(j);
	j = J("{\"request\":\"list_appointments\",\"from\":1764284400,\"to\":1764370800}");
	r = ok_req(j);
	assert_true(r.u.list_appointments.has_range);
	assert_int_equal(r.u.list_appointments.from, 1764284400);
	assert_int_equal(r.u.list_appointments.to, 1764370800);
	json_decref(j);
	j = J("{\"request\":\"create_appointment\",\"doctor_id\":3,\"starts_at\":1764320400}");
	r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_CREATE_APPOINTMENT);
	assert_int_equal(r.u.create_appointment.doctor_id, 3);
	assert_int_equal(r.u.create_appointment.starts_at, 1764320400);
	json_decref(j);
	j = J("{\"request\":\"create_appointment\",\"doctor_id\":null,\"starts_at\":5}");
	r = ok_req(j);
	assert_int_equal(r.u.create_appointment.doctor_id, 0);
	json_decref(j);
	j = J("{\"request\":\"create_appointment\",\"starts_at\":5}");
	r = ok_req(j);
	assert_int_equal(r.u.create_appointment.doctor_id, 0);
	json_decref(j);
	j = J("{\"request\":\"cancel_appointment\",\"appointment_id\":5}");
	r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_CANCEL_APPOINTMENT);
	assert_int_equal(r.u.cancel_appointment.appointment_id, 5);
	json_decref(j);
	j = J("{\"request\":\"call\",\"visit_id\":17}");
	r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_CALL);
	assert_int_equal(r.u.call.visit_id, 17);
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"list_appointments\",\"from\":1}", CONSULT_ERR_MISSING_FIELD, "to" },
		{ "{\"request\":\"list_appointments\",\"to\":1}", CONSULT_ERR_MISSING_FIELD, "from" },
		{ "{\"request\":\"list_appointments\",\"from\":\"1\",\"to\":2}", CONSULT_ERR_INVALID_FIELD, "from" },
		{ "{\"request\":\"list_appointments\",\"from\":1,\"to\":2.5}", CONSULT_ERR_INVALID_FIELD, "to" },
		{ "{\"request\":\"list_appointments\",\"from\":10,\"to\":9}", CONSULT_ERR_INVALID_FIELD, "to" },
		{ "{\"request\":\"list_appointments\",\"from\":0,\"to\":2678401}", CONSULT_ERR_INVALID_FIELD, "to" },
		{ "{\"request\":\"list_appointments\",\"from\":-5,\"to\":2}", CONSULT_ERR_INVALID_FIELD, "from" },
		{ "{\"request\":\"create_appointment\"}", CONSULT_ERR_MISSING_FIELD, "starts_at" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":null}", CONSULT_ERR_MISSING_FIELD, "starts_at" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":\"now\"}", CONSULT_ERR_INVALID_FIELD,
		        "starts_at" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1.0}", CONSULT_ERR_INVALID_FIELD, "starts_at" },
		{ "{\"request\":\"create_appointment\",\"doctor_id\":0,\"starts_at\":5}", CONSULT_ERR_INVALID_FIELD,
		        "doctor_id" },
		{ "{\"request\":\"create_appointment\",\"doctor_id\":-3,\"starts_at\":5}", CONSULT_ERR_INVALID_FIELD,
		        "doctor_id" },
		{ "{\"request\":\"create_appointment\",\"doctor_id\":\"3\",\"starts_at\":5}", CONSULT_ERR_INVALID_FIELD,
		        "doctor_id" },
		{ "{\"request\":\"create_appointment\",\"doctor_id\":false,\"starts_at\":5}", CONSULT_ERR_INVALID_FIELD,
		        "doctor_id" },
		{ "{\"request\":\"cancel_appointment\"}", CONSULT_ERR_MISSING_FIELD, "appointment_id" },
		{ "{\"request\":\"cancel_appointment\",\"appointment_id\":0}", CONSULT_ERR_INVALID_FIELD,
		        "appointment_id" },
		{ "{\"request\":\"cancel_appointment\",\"appointment_id\":\"5\"}", CONSULT_ERR_INVALID_FIELD,
		        "appointment_id" },
		{ "{\"request\":\"call\"}", CONSULT_ERR_MISSING_FIELD, "visit_id" },
		{ "{\"request\":\"call\",\"visit_id\":-1}", CONSULT_ERR_INVALID_FIELD, "visit_id" },
		{ "{\"request\":\"call\",\"visit_id\":17.5}", CONSULT_ERR_INVALID_FIELD, "visit_id" },
		{ "{\"request\":\"call\",\"visit_id\":[17]}", CONSULT_ERR_INVALID_FIELD, "visit_id" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	/* exactly 31 days is fine */
	j = J("{\"request\":\"list_appointments\",\"from\":0,\"to\":2678400}");
	ok_req(j);
	json_decref(j);
}

static void test_signal(void **st)
{
	json_t *j =
	        J("{\"request\":\"signal\",\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_SIGNAL);
	assert_int_equal(r.u.signal.type, CONSULT_SIGNAL_OFFER);
	assert_non_null(r.u.signal.sdp);
	assert_null(r.u.signal.candidate);
	json_decref(j);
	j = J("{\"request\":\"signal\",\"type\":\"answer\",\"sdp\":\"v=0\"}");
	r = ok_req(j);
	assert_int_equal(r.u.signal.type, CONSULT_SIGNAL_ANSWER);
	json_decref(j);
	j = J("{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 2 "
	      "127.0.0.1 5000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"ab\"}}");
	r = ok_req(j);
	assert_int_equal(r.u.signal.type, CONSULT_SIGNAL_CANDIDATE);
	assert_string_equal(r.u.signal.sdp_mid, "0");
	assert_int_equal(r.u.signal.sdp_mline_index, 0);
	assert_null(r.u.signal.sdp);
	json_decref(j);
	j = J("{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMid\":null,"
	      "\"sdpMLineIndex\":null}}");
	r = ok_req(j);
	assert_string_equal(r.u.signal.candidate, "");
	assert_null(r.u.signal.sdp_mid);
	assert_int_equal(r.u.signal.sdp_mline_index, -1);
	json_decref(j);
	j = J("{\"request\":\"signal\",\"type\":\"end-of-candidates\"}");
	r = ok_req(j);
	assert_int_equal(r.u.signal.type, CONSULT_SIGNAL_END_OF_CANDIDATES);
	assert_int_equal(r.u.signal.sdp_mline_index, -1);
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"signal\"}", CONSULT_ERR_MISSING_FIELD, "type" },
		{ "{\"request\":\"signal\",\"type\":\"pranswer\",\"sdp\":\"v=0\"}", CONSULT_ERR_INVALID_FIELD, "type" },
		{ "{\"request\":\"signal\",\"type\":\"Offer\",\"sdp\":\"v=0\"}", CONSULT_ERR_INVALID_FIELD, "type" },
		{ "{\"request\":\"signal\",\"type\":1}", CONSULT_ERR_INVALID_FIELD, "type" },
		{ "{\"request\":\"signal\",\"type\":\"offer\"}", CONSULT_ERR_MISSING_FIELD, "sdp" },
		{ "{\"request\":\"signal\",\"type\":\"answer\",\"sdp\":\"\"}", CONSULT_ERR_INVALID_FIELD, "sdp" },
		{ "{\"request\":\"signal\",\"type\":\"answer\",\"sdp\":{}}", CONSULT_ERR_INVALID_FIELD, "sdp" },
		{ "{\"request\":\"signal\",\"type\":\"answer\",\"sdp\":\"v=0\\u0000\"}", CONSULT_ERR_INVALID_UTF8,
		        "sdp" },
		{ "{\"request\":\"signal\",\"type\":\"answer\",\"sdp\":\"v=0\\u0002\"}", CONSULT_ERR_INVALID_UTF8,
		        "sdp" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\"}", CONSULT_ERR_MISSING_FIELD, "candidate" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":\"candidate:1\"}",
		        CONSULT_ERR_INVALID_FIELD, "candidate" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{}}", CONSULT_ERR_MISSING_FIELD,
		        "candidate.candidate" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":5}}",
		        CONSULT_ERR_INVALID_FIELD, "candidate.candidate" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"a\\r\\nb\"}}",
		        CONSULT_ERR_INVALID_UTF8, "candidate.candidate" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMid\":0}}",
		        CONSULT_ERR_INVALID_FIELD, "candidate.sdpMid" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMid\":"
		  "\"01234567890123456789012345678901234567890123456789012345678901234\"}}",
		        CONSULT_ERR_TOO_LONG, "candidate.sdpMid" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMLineIndex\":"
		  "64}}",
		        CONSULT_ERR_INVALID_FIELD, "candidate.sdpMLineIndex" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMLineIndex\":-"
		  "1}}",
		        CONSULT_ERR_INVALID_FIELD, "candidate.sdpMLineIndex" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMLineIndex\":"
		  "\"0\"}}",
		        CONSULT_ERR_INVALID_FIELD, "candidate.sdpMLineIndex" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	/* sizes: sdp 65536 ok / 65537 too long; candidate 1024 ok / 1025 too long */
	char *big = malloc(CONSULT_MAX_SDP + 2);
	memset(big, 'a', CONSULT_MAX_SDP + 1);
	big[CONSULT_MAX_SDP] = 0;
	j = json_pack("{ss ss ss}", "request", "signal", "type", "offer", "sdp", big);
	ok_req(j);
	json_decref(j);
	big[CONSULT_MAX_SDP] = 'a';
	big[CONSULT_MAX_SDP + 1] = 0;
	const char *field;
	j = json_pack("{ss ss ss}", "request", "signal", "type", "offer", "sdp", big);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "sdp");
	json_decref(j);
	big[CONSULT_MAX_CANDIDATE] = 0;
	j = json_pack("{ss ss s{ss}}", "request", "signal", "type", "candidate", "candidate", "candidate", big);
	ok_req(j);
	json_decref(j);
	big[CONSULT_MAX_CANDIDATE] = 'a';
	big[CONSULT_MAX_CANDIDATE + 1] = 0;
	j = json_pack("{ss ss s{ss}}", "request", "signal", "type", "candidate", "candidate", "candidate", big);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "candidate.candidate");
	json_decref(j);
	free(big);
	/* invalid UTF-8 in sdp */
	j = json_pack("{ss ss}", "request", "signal", "type", "offer");
	json_object_set_new(j, "sdp", json_stringn_nocheck("v=0\xfe", 4));
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_INVALID_UTF8);
	json_decref(j);
}

static void test_report(void **st)
{
	json_t *j = J("{\"request\":\"report\",\"connection_state\":\"connected\",\"local_candidate_type\":\"host\","
	              "\"remote_candidate_type\":\"srflx\"}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_REPORT);
	assert_string_equal(r.u.report.connection_state, "connected");
	assert_string_equal(r.u.report.local_candidate_type, "host");
	assert_string_equal(r.u.report.remote_candidate_type, "srflx");
	json_decref(j);
	j = J("{\"request\":\"report\",\"connection_state\":\"new\",\"local_candidate_type\":null}");
	r = ok_req(j);
	assert_null(r.u.report.local_candidate_type);
	assert_null(r.u.report.remote_candidate_type);
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"report\"}", CONSULT_ERR_MISSING_FIELD, "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":3}", CONSULT_ERR_INVALID_FIELD, "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"\"}", CONSULT_ERR_INVALID_FIELD, "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"Connected\"}", CONSULT_ERR_INVALID_FIELD,
		        "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"con nected\"}", CONSULT_ERR_INVALID_FIELD,
		        "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"abcdefghijklmnopqrstuvwxyzabcdefg\"}",
		        CONSULT_ERR_TOO_LONG, "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"a\\u0001\"}", CONSULT_ERR_INVALID_UTF8,
		        "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected\",\"local_candidate_type\":\"host1\"}",
		        CONSULT_ERR_INVALID_FIELD, "local_candidate_type" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected\",\"remote_candidate_type\":[]}",
		        CONSULT_ERR_INVALID_FIELD, "remote_candidate_type" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
}

/* Only the documented words: connection states, candidate types, path. */
static void test_report_values(void **st)
{
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
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		for (size_t k = 0; k < 4; k++) {
			json_t *j = json_pack("{ss ss ss ss ss}", "request", "report", "connection_state", states[i],
			        "local_candidate_type", types[k], "remote_candidate_type", types[3 - k], "path",
			        k % 2 ? "p2p" : "forward");
			consult_request r = ok_req(j);
			assert_string_equal(r.u.report.connection_state, states[i]);
			assert_string_equal(r.u.report.local_candidate_type, types[k]);
			assert_string_equal(r.u.report.remote_candidate_type, types[3 - k]);
			json_decref(j);
		}
	static const bad b[] = {
		/* words of the right shape that name nothing */
		{ "{\"request\":\"report\",\"connection_state\":\"abcdefghijklmnopqrstuvwxyzabcdef\"}",
		        CONSULT_ERR_INVALID_FIELD, "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"banana\"}", CONSULT_ERR_INVALID_FIELD,
		        "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected-\"}", CONSULT_ERR_INVALID_FIELD,
		        "connection_state" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected\",\"local_candidate_type\":\"banana\","
		  "\"remote_candidate_type\":\"host\"}",
		        CONSULT_ERR_INVALID_FIELD, "local_candidate_type" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected\",\"local_candidate_type\":\"host\","
		  "\"remote_candidate_type\":\"direct\"}",
		        CONSULT_ERR_INVALID_FIELD, "remote_candidate_type" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected\",\"local_candidate_type\":\"relayed\"}",
		        CONSULT_ERR_INVALID_FIELD, "local_candidate_type" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected\",\"path\":\"carrier-pigeon\"}",
		        CONSULT_ERR_INVALID_FIELD, "path" },
		{ "{\"request\":\"report\",\"connection_state\":\"connected\",\"path\":3}", CONSULT_ERR_INVALID_FIELD,
		        "path" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	/* path absent or null is fine */
	json_t *j = J("{\"request\":\"report\",\"connection_state\":\"failed\",\"path\":null}");
	ok_req(j);
	json_decref(j);
}

/* The relayed signal holds the documented fields only, rebuilt. */
static void test_signal_relay(void **st)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "{\"request\":\"signal\",\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\",\"x\":\"yyyy\",\"consult\":"
		  "\"event\",\"event\":\"ringing\"}",
		        "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}" },
		{ "{\"request\":\"signal\",\"type\":\"answer\",\"sdp\":\"v=0\",\"key\":\"abc\",\"candidate\":{"
		  "\"candidate\":\"c\"}}",
		        "{\"type\":\"answer\",\"sdp\":\"v=0\"}" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 2 "
		  "127.0.0.1 5000 typ "
		  "host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"ab\",\"junk\":[1,2]},\"sdp\":\"v="
		  "0\"}",
		        "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 2 127.0.0.1 5000 typ "
		        "host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}" },
		{ "{\"request\":\"signal\",\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMid\":null}}",
		        "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\"}}" },
		{ "{\"request\":\"signal\",\"type\":\"end-of-candidates\",\"sdp\":\"v=0\",\"extra\":{\"a\":1}}",
		        "{\"type\":\"end-of-candidates\"}" },
		{ "{\"request\":\"signal\",\"type\":\"e2ee-key\",\"key\":\"BCdE+/9=\",\"sdp\":\"v=0\",\"x\":1}",
		        "{\"type\":\"e2ee-key\",\"key\":\"BCdE+/9=\"}" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *in = J(cases[i].in), *want = J(cases[i].out);
		consult_request r = ok_req(in);
		json_t *got = consult_signal_relay(&r);
		json_decref(in); /* the relayed object does not borrow from the body */
		if (!got || !json_equal(got, want)) {
			char *g = got ? json_dumps(got, JSON_SORT_KEYS) : NULL;
			fail_msg("case %zu: relayed %s, want %s", i, g ? g : "NULL", cases[i].out);
		}
		json_decref(got);
		json_decref(want);
	}
	/* A large extra field is not relayed. */
	char *big = malloc(1 << 20);
	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	json_t *j = json_pack("{ss ss ss ss}", "request", "signal", "type", "offer", "sdp", "v=0", "padding", big);
	consult_request r = ok_req(j);
	json_t *got = consult_signal_relay(&r);
	assert_int_equal(json_object_size(got), 2);
	assert_null(json_object_get(got, "padding"));
	json_decref(got);
	json_decref(j);
	free(big);
	/* Not a signal: NULL. */
	j = J("{\"request\":\"leave\"}");
	r = ok_req(j);
	assert_null(consult_signal_relay(&r));
	json_decref(j);
}

static consult_admin_request ok_admin(const char *text)
{
	json_t *j = J(text);
	consult_admin_request a;
	const char *field = NULL;
	consult_err err = consult_admin_parse(j, &a, &field);
	if (err != CONSULT_OK)
		print_error("%s: %d %s\n", text, err, field ? field : "-");
	assert_int_equal(err, CONSULT_OK);
	json_decref(j); /* strings borrowed: only compare kinds/flags after this */
	return a;
}

static void test_admin(void **st)
{
	json_t *j = J("{\"request\":\"add_practice\",\"slug\":\"am-marktplatz\",\"name\":\"Haut\\u00e4rzte am "
	              "Marktplatz\",\"phone\":\"0721 / 516-3690 (+49)\"}");
	consult_admin_request a;
	assert_int_equal(consult_admin_parse(j, &a, NULL), CONSULT_OK);
	assert_int_equal(a.kind, CONSULT_ADMIN_ADD_PRACTICE);
	assert_string_equal(a.name, "add_practice");
	assert_string_equal(a.slug, "am-marktplatz");
	assert_string_equal(a.pname, "Haut\xc3\xa4rzte am Marktplatz");
	assert_string_equal(a.phone, "0721 / 516-3690 (+49)");
	json_decref(j);
	a = ok_admin("{\"request\":\"add_practice\",\"slug\":\"ab\",\"name\":\"X\"}");
	assert_null(a.phone);
	j = J("{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"dr.weber\",\"display_name\":\"Dr. "
	      "Weber\",\"role\":\"doctor\",\"password\":\"0123456789\"}");
	assert_int_equal(consult_admin_parse(j, &a, NULL), CONSULT_OK);
	assert_int_equal(a.kind, CONSULT_ADMIN_ADD_STAFF);
	assert_int_equal(a.role, CONSULT_ROLE_DOCTOR);
	assert_string_equal(a.practice, "ab");
	assert_string_equal(a.username, "dr.weber");
	assert_string_equal(a.display_name, "Dr. Weber");
	assert_string_equal(a.password, "0123456789");
	json_decref(j);
	a = ok_admin("{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"empfang\",\"display_name\":\"E\","
	             "\"role\":\"reception\",\"password\":\"0123456789\"}");
	assert_int_equal(a.role, CONSULT_ROLE_RECEPTION);
	a = ok_admin("{\"request\":\"set_disabled\",\"username\":\"abc\",\"disabled\":true}");
	assert_int_equal(a.kind, CONSULT_ADMIN_SET_DISABLED);
	assert_true(a.disabled);
	a = ok_admin("{\"request\":\"set_disabled\",\"username\":\"abc\",\"disabled\":false}");
	assert_false(a.disabled);
	a = ok_admin("{\"request\":\"reset_password\",\"username\":\"abc\",\"password\":\"long enough!\"}");
	assert_int_equal(a.kind, CONSULT_ADMIN_RESET_PASSWORD);
	a = ok_admin("{\"request\":\"list_staff\",\"practice\":\"ab\"}");
	assert_int_equal(a.kind, CONSULT_ADMIN_LIST_STAFF);
	a = ok_admin("{\"request\":\"stats\"}");
	assert_int_equal(a.kind, CONSULT_ADMIN_STATS);
	assert_null(a.practice);
	j = J("{\"request\":\"stats\",\"practice\":\"ab\"}");
	assert_int_equal(consult_admin_parse(j, &a, NULL), CONSULT_OK);
	assert_string_equal(a.practice, "ab");
	json_decref(j);
	a = ok_admin("{\"request\":\"live_visits\"}");
	assert_int_equal(a.kind, CONSULT_ADMIN_LIVE_VISITS);
	a = ok_admin("{\"request\":\"health\"}");
	assert_int_equal(a.kind, CONSULT_ADMIN_HEALTH);
	a = ok_admin("{\"request\":\"test_clock\",\"offset_seconds\":-315360000}");
	assert_int_equal(a.kind, CONSULT_ADMIN_TEST_CLOCK);
	assert_int_equal(a.offset_seconds, -315360000);
	a = ok_admin("{\"request\":\"test_clock\",\"offset_seconds\":6}");
	assert_int_equal(a.offset_seconds, 6);
	static const bad b[] = {
		{ "[]", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "{\"request\":1}", CONSULT_ERR_BAD_REQUEST, "request" },
		{ "{\"request\":\"join\"}", CONSULT_ERR_UNKNOWN_REQUEST, "request" },
		{ "{\"request\":\"add_practice\",\"name\":\"X\"}", CONSULT_ERR_MISSING_FIELD, "slug" },
		{ "{\"request\":\"add_practice\",\"slug\":\"ab\"}", CONSULT_ERR_MISSING_FIELD, "name" },
		{ "{\"request\":\"add_practice\",\"slug\":\"a.b\",\"name\":\"X\"}", CONSULT_ERR_INVALID_FIELD, "slug" },
		{ "{\"request\":\"add_practice\",\"slug\":\"ab\",\"name\":\" \"}", CONSULT_ERR_INVALID_FIELD, "name" },
		{ "{\"request\":\"add_practice\",\"slug\":\"ab\",\"name\":\"X\\u0000\"}", CONSULT_ERR_INVALID_UTF8,
		        "name" },
		{ "{\"request\":\"add_practice\",\"slug\":\"ab\",\"name\":\"X\",\"phone\":\"0721 x\"}",
		        CONSULT_ERR_INVALID_FIELD, "phone" },
		{ "{\"request\":\"add_practice\",\"slug\":\"ab\",\"name\":\"X\",\"phone\":"
		  "\"012345678901234567890123456789012\"}",
		        CONSULT_ERR_TOO_LONG, "phone" },
		{ "{\"request\":\"add_practice\",\"slug\":\"ab\",\"name\":\"X\",\"phone\":5}",
		        CONSULT_ERR_INVALID_FIELD, "phone" },
		{ "{\"request\":\"add_staff\",\"username\":\"abc\",\"display_name\":\"D\",\"role\":\"doctor\","
		  "\"password\":\"0123456789\"}",
		        CONSULT_ERR_MISSING_FIELD, "practice" },
		{ "{\"request\":\"add_staff\",\"practice\":\"ab\",\"display_name\":\"D\",\"role\":\"doctor\","
		  "\"password\":\"0123456789\"}",
		        CONSULT_ERR_MISSING_FIELD, "username" },
		{ "{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"abc\",\"role\":\"doctor\","
		  "\"password\":\"0123456789\"}",
		        CONSULT_ERR_MISSING_FIELD, "display_name" },
		{ "{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"abc\",\"display_name\":\"D\","
		  "\"password\":\"0123456789\"}",
		        CONSULT_ERR_MISSING_FIELD, "role" },
		{ "{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"abc\",\"display_name\":\"D\",\"role\":"
		  "\"admin\",\"password\":\"0123456789\"}",
		        CONSULT_ERR_INVALID_FIELD, "role" },
		{ "{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"abc\",\"display_name\":\"D\",\"role\":"
		  "\"doctor\"}",
		        CONSULT_ERR_MISSING_FIELD, "password" },
		{ "{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"abc\",\"display_name\":\"D\",\"role\":"
		  "\"doctor\",\"password\":\"012345678\"}",
		        CONSULT_ERR_INVALID_FIELD, "password" },
		{ "{\"request\":\"add_staff\",\"practice\":\"ab\",\"username\":\"abc\",\"display_name\":\"D\\u0009\","
		  "\"role\":\"doctor\",\"password\":\"0123456789\"}",
		        CONSULT_ERR_INVALID_UTF8, "display_name" },
		{ "{\"request\":\"set_disabled\",\"username\":\"abc\"}", CONSULT_ERR_MISSING_FIELD, "disabled" },
		{ "{\"request\":\"set_disabled\",\"username\":\"abc\",\"disabled\":1}", CONSULT_ERR_INVALID_FIELD,
		        "disabled" },
		{ "{\"request\":\"set_disabled\",\"disabled\":true}", CONSULT_ERR_MISSING_FIELD, "username" },
		{ "{\"request\":\"reset_password\",\"username\":\"abc\",\"password\":\"short\"}",
		        CONSULT_ERR_INVALID_FIELD, "password" },
		{ "{\"request\":\"reset_password\",\"username\":\"abc\"}", CONSULT_ERR_MISSING_FIELD, "password" },
		{ "{\"request\":\"list_staff\"}", CONSULT_ERR_MISSING_FIELD, "practice" },
		{ "{\"request\":\"test_clock\"}", CONSULT_ERR_MISSING_FIELD, "offset_seconds" },
		{ "{\"request\":\"test_clock\",\"offset_seconds\":1.5}", CONSULT_ERR_INVALID_FIELD, "offset_seconds" },
		{ "{\"request\":\"test_clock\",\"offset_seconds\":315360001}", CONSULT_ERR_INVALID_FIELD,
		        "offset_seconds" },
		{ "{\"request\":\"stats\",\"practice\":7}", CONSULT_ERR_INVALID_FIELD, "practice" },
		{ "{\"request\":\"live_visits\",\"practice\":\"A\"}", CONSULT_ERR_INVALID_FIELD, "practice" },
	};
	check_bad(b, sizeof b / sizeof b[0], true);
	/* display name 120 bytes ok, 121 too long */
	char dn[CONSULT_MAX_DISPLAY + 2];
	memset(dn, 'd', sizeof dn);
	dn[CONSULT_MAX_DISPLAY] = 0;
	j = json_pack("{ss ss ss ss ss ss}", "request", "add_staff", "practice", "ab", "username", "abc",
	        "display_name", dn, "role", "doctor", "password", "0123456789");
	assert_int_equal(consult_admin_parse(j, &a, NULL), CONSULT_OK);
	json_decref(j);
	dn[CONSULT_MAX_DISPLAY] = 'd';
	dn[CONSULT_MAX_DISPLAY + 1] = 0;
	const char *field;
	j = json_pack("{ss ss ss ss ss ss}", "request", "add_staff", "practice", "ab", "username", "abc",
	        "display_name", dn, "role", "doctor", "password", "0123456789");
	assert_int_equal(consult_admin_parse(j, &a, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "display_name");
	json_decref(j);
	assert_string_equal(consult_role_name(CONSULT_ROLE_DOCTOR), "doctor");
	assert_string_equal(consult_role_name(CONSULT_ROLE_RECEPTION), "reception");
	/* role names are exact: "Doctor" is no role */
	j = json_pack("{ss ss ss ss ss ss}", "request", "add_staff", "practice", "ab", "username", "abc",
	        "display_name", "D", "role", "Doctor", "password", "0123456789");
	assert_int_equal(consult_admin_parse(j, &a, &field), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(field, "role");
	json_decref(j);
}

static void test_text_trim(void **st)
{
	size_t n = 99;
	const char *t = consult_text_trim("   ", &n);
	assert_int_equal(n, 0);
	assert_non_null(t);
	t = consult_text_trim("  a b ", &n);
	assert_int_equal(n, 3);
	assert_memory_equal(t, "a b", 3);
}

/* Issue 4 requests that the glue once parsed by name: ice_servers, the
 * hangup reason, admin set_practice. */
static void test_issue4(void **st)
{
	/* ice_servers: no fields, extras ignored; staff-only name is not admin */
	json_t *j = J("{\"request\":\"ice_servers\",\"x\":[1]}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_ICE_SERVERS);
	assert_string_equal(r.name, "ice_servers");
	json_decref(j);
	/* hangup: absent / null = normal, "connection_lost" = lost */
	static const struct {
		const char *json;
		consult_hangup_reason want;
	} good[] = {
		{ "{\"request\":\"hangup\"}", CONSULT_HANGUP_NORMAL },
		{ "{\"request\":\"hangup\",\"reason\":null}", CONSULT_HANGUP_NORMAL },
		{ "{\"request\":\"hangup\",\"reason\":\"connection_lost\"}", CONSULT_HANGUP_CONNECTION_LOST },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		j = J(good[i].json);
		r = ok_req(j);
		assert_int_equal(r.kind, CONSULT_REQ_HANGUP);
		assert_int_equal(r.u.hangup.reason, good[i].want);
		json_decref(j);
	}
	/* every other reason is invalid_field (never too_long / invalid_utf8) */
	static const bad b[] = {
		{ "{\"request\":\"hangup\",\"reason\":\"bored\"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"hangup\",\"reason\":7}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"hangup\",\"reason\":true}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"hangup\",\"reason\":{}}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"hangup\",\"reason\":\"\"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"hangup\",\"reason\":\"CONNECTION_LOST\"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"hangup\",\"reason\":\"connection_lost \"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"hangup\",\"reason\":\"connection_lost\\u0000\"}", CONSULT_ERR_INVALID_FIELD,
		        "reason" },
		{ "{\"request\":\"hangup\",\"reason\":\"connection_lost\\u0000x\"}", CONSULT_ERR_INVALID_FIELD,
		        "reason" },
		{ "{\"request\":\"hangup\",\"reason\":\"\\u0001\"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"set_practice\",\"practice\":\"ab\",\"relay_only\":true}", CONSULT_ERR_UNKNOWN_REQUEST,
		        "request" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	char longr[300];
	memset(longr, 'a', sizeof longr - 1);
	longr[sizeof longr - 1] = 0;
	j = json_pack("{ss ss}", "request", "hangup", "reason", longr);
	const char *field = NULL;
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_INVALID_FIELD);
	assert_string_equal(field, "reason");
	json_decref(j);

	/* set_practice {practice, relay_only} */
	consult_admin_request a =
	        ok_admin("{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"relay_only\":true}");
	assert_int_equal(a.kind, CONSULT_ADMIN_SET_PRACTICE);
	assert_string_equal(a.name, "set_practice");
	assert_true(a.relay_only);
	j = J("{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"relay_only\":false,\"extra\":1}");
	assert_int_equal(consult_admin_parse(j, &a, NULL), CONSULT_OK);
	assert_string_equal(a.practice, "am-markt");
	assert_false(a.relay_only);
	json_decref(j);
	static const bad sb[] = {
		{ "{\"request\":\"set_practice\",\"relay_only\":true}", CONSULT_ERR_MISSING_FIELD, "practice" },
		{ "{\"request\":\"set_practice\",\"practice\":null,\"relay_only\":true}", CONSULT_ERR_MISSING_FIELD,
		        "practice" },
		{ "{\"request\":\"set_practice\",\"practice\":\"ab\"}", CONSULT_ERR_MISSING_FIELD, "relay_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"ab\",\"relay_only\":null}", CONSULT_ERR_MISSING_FIELD,
		        "relay_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"ab\",\"relay_only\":\"yes\"}",
		        CONSULT_ERR_INVALID_FIELD, "relay_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"ab\",\"relay_only\":1}", CONSULT_ERR_INVALID_FIELD,
		        "relay_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"Bad Slug!\",\"relay_only\":true}",
		        CONSULT_ERR_INVALID_FIELD, "practice" },
		{ "{\"request\":\"set_practice\",\"practice\":\"a\",\"relay_only\":true}", CONSULT_ERR_INVALID_FIELD,
		        "practice" },
		{ "{\"request\":\"set_practice\",\"practice\":5,\"relay_only\":true}", CONSULT_ERR_INVALID_FIELD,
		        "practice" },
		{ "{\"request\":\"set_practice\",\"practice\":\"a\\u0001b\",\"relay_only\":true}",
		        CONSULT_ERR_INVALID_UTF8, "practice" },
		{ "{\"request\":\"set_practice\",\"practice\":\"0123456789012345678901234567890123456789012345678\","
		  "\"relay_only\":true}",
		        CONSULT_ERR_TOO_LONG, "practice" },
		{ "{\"request\":\"ice_servers\"}", CONSULT_ERR_UNKNOWN_REQUEST, "request" },
	};
	check_bad(sb, sizeof sb / sizeof sb[0], true);
	/* 48 characters is the longest slug */
	a = ok_admin("{\"request\":\"set_practice\",\"practice\":\"012345678901234567890123456789012345678901234567\","
	             "\"relay_only\":true}");
	assert_int_equal(a.kind, CONSULT_ADMIN_SET_PRACTICE);
}

/* Issues 3 and 5: invitations, appointment_info, resend, erase, touch,
 * forwarding and e2ee-key signals, purge and the forward policy. */
static void test_issue3_5(void **st)
{
	json_t *j = J(
	        "{\"request\":\"create_appointment\",\"starts_at\":100,\"phone\":\"0171 1234567\",\"consent_sms\":true,"
	        "\"email\":\"a.b@example.org\",\"consent_email\":false,\"send_at\":90}");
	consult_request r = ok_req(j);
	assert_string_equal(r.u.create_appointment.phone, "0171 1234567");
	assert_string_equal(r.u.create_appointment.email, "a.b@example.org");
	assert_true(r.u.create_appointment.consent_sms);
	assert_false(r.u.create_appointment.consent_email);
	assert_true(r.u.create_appointment.has_send_at);
	assert_int_equal(r.u.create_appointment.send_at, 90);
	json_decref(j);
	j = J("{\"request\":\"create_appointment\",\"starts_at\":100}");
	r = ok_req(j);
	assert_null(r.u.create_appointment.phone);
	assert_null(r.u.create_appointment.email);
	assert_false(r.u.create_appointment.consent_sms || r.u.create_appointment.has_send_at);
	json_decref(j);
	static const struct {
		const char *json;
		consult_req_kind kind;
	} good[] = {
		{ "{\"request\":\"appointment_info\",\"practice\":\"am-markt\",\"code\":\"ABCD EFGH JKMN\"}",
		        CONSULT_REQ_APPOINTMENT_INFO },
		{ "{\"request\":\"touch\"}", CONSULT_REQ_TOUCH },
		{ "{\"request\":\"resend\",\"appointment_id\":4,\"channel\":\"sms\"}", CONSULT_REQ_RESEND },
		{ "{\"request\":\"erase_appointment\",\"appointment_id\":4}", CONSULT_REQ_ERASE_APPOINTMENT },
		{ "{\"request\":\"forward\",\"cause\":\"ice_failed\"}", CONSULT_REQ_FORWARD },
		{ "{\"request\":\"forward\",\"cause\":\"turn_failed\"}", CONSULT_REQ_FORWARD },
		{ "{\"request\":\"forward\",\"cause\":\"server_restart\"}", CONSULT_REQ_FORWARD },
		{ "{\"request\":\"forward\",\"cause\":\"timeout\"}", CONSULT_REQ_FORWARD },
		{ "{\"request\":\"forward_offer\"}", CONSULT_REQ_FORWARD_OFFER },
		{ "{\"request\":\"forward_answer\"}", CONSULT_REQ_FORWARD_ANSWER },
		{ "{\"request\":\"signal\",\"type\":\"e2ee-key\",\"key\":\"BCdE+/9=\"}", CONSULT_REQ_SIGNAL },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		j = J(good[i].json);
		r = ok_req(j);
		assert_int_equal(r.kind, good[i].kind);
		json_decref(j);
	}
	j = J("{\"request\":\"forward\",\"cause\":\"ice_failed\"}");
	r = ok_req(j);
	assert_int_equal(r.u.forward.cause, CONSULT_FWD_ICE_FAILED);
	assert_string_equal(consult_forward_cause_name(r.u.forward.cause), "ice_failed");
	json_decref(j);
	j = J("{\"request\":\"signal\",\"type\":\"e2ee-key\",\"key\":\"BCdE+/9=\"}");
	r = ok_req(j);
	assert_int_equal(r.u.signal.type, CONSULT_SIGNAL_E2EE_KEY);
	assert_string_equal(r.u.signal.key, "BCdE+/9=");
	json_decref(j);
	j = J("{\"request\":\"resend\",\"appointment_id\":4,\"channel\":\"email\"}");
	r = ok_req(j);
	assert_int_equal(r.u.resend.channel, CONSULT_CHANNEL_EMAIL);
	assert_string_equal(consult_channel_name(r.u.resend.channel), "email");
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"email\":\"a@b\"}", CONSULT_ERR_INVALID_FIELD,
		        "email" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"email\":\"a@example.org\\r\\nBcc: x@y.org\"}",
		        CONSULT_ERR_INVALID_UTF8, "email" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"email\":5}", CONSULT_ERR_INVALID_FIELD,
		        "email" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"phone\":\"0171 abc\"}",
		        CONSULT_ERR_INVALID_FIELD, "phone" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"phone\":\"0171\\n1\"}",
		        CONSULT_ERR_INVALID_UTF8, "phone" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"phone\":"
		  "\"012345678901234567890123456789012\"}",
		        CONSULT_ERR_TOO_LONG, "phone" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"consent_sms\":1}", CONSULT_ERR_INVALID_FIELD,
		        "consent_sms" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":1,\"send_at\":\"now\"}", CONSULT_ERR_INVALID_FIELD,
		        "send_at" },
		{ "{\"request\":\"appointment_info\",\"practice\":\"am-markt\"}", CONSULT_ERR_MISSING_FIELD, "code" },
		{ "{\"request\":\"resend\",\"appointment_id\":4,\"channel\":\"fax\"}", CONSULT_ERR_INVALID_FIELD,
		        "channel" },
		{ "{\"request\":\"resend\",\"appointment_id\":4}", CONSULT_ERR_MISSING_FIELD, "channel" },
		{ "{\"request\":\"erase_appointment\",\"appointment_id\":0}", CONSULT_ERR_INVALID_FIELD,
		        "appointment_id" },
		{ "{\"request\":\"forward\"}", CONSULT_ERR_MISSING_FIELD, "cause" },
		{ "{\"request\":\"forward\",\"cause\":\"bored\"}", CONSULT_ERR_INVALID_FIELD, "cause" },
		{ "{\"request\":\"forward\",\"cause\":\"TIMEOUT\"}", CONSULT_ERR_INVALID_FIELD, "cause" },
		{ "{\"request\":\"signal\",\"type\":\"e2ee-key\"}", CONSULT_ERR_MISSING_FIELD, "key" },
		{ "{\"request\":\"signal\",\"type\":\"e2ee-key\",\"key\":\"a b\"}", CONSULT_ERR_INVALID_FIELD, "key" },
		{ "{\"request\":\"signal\",\"type\":\"e2ee-key\",\"key\":\"\"}", CONSULT_ERR_INVALID_FIELD, "key" },
		{ "{\"request\":\"signal\",\"type\":\"e2ee_key\",\"key\":\"ab\"}", CONSULT_ERR_INVALID_FIELD, "type" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	consult_admin_request a = ok_admin("{\"request\":\"purge\"}");
	assert_int_equal(a.kind, CONSULT_ADMIN_PURGE);
	a = ok_admin("{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"forward\":\"never\"}");
	assert_true(a.has_forward);
	assert_false(a.has_relay_only);
	assert_int_equal(a.forward, CONSULT_FWD_NEVER);
	static const bad ba[] = {
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"forward\":\"sometimes\"}",
		        CONSULT_ERR_INVALID_FIELD, "forward" },
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\"}", CONSULT_ERR_MISSING_FIELD, "relay_only" },
	};
	check_bad(ba, sizeof ba / sizeof ba[0], true);
}

/* The patient's answer (decline reason, audio-only accept), the media
 * signal, the booked name and note (limited in characters, not bytes) and
 * the practice's audio-only policy. */
static void test_answers_media_booking(void **st)
{
	json_t *j = J("{\"request\":\"accept\"}");
	consult_request r = ok_req(j);
	assert_false(r.u.accept.audio_only);
	json_decref(j);
	j = J("{\"request\":\"accept\",\"audio_only\":true}");
	r = ok_req(j);
	assert_true(r.u.accept.audio_only);
	json_decref(j);
	j = J("{\"request\":\"accept\",\"audio_only\":null}");
	r = ok_req(j);
	assert_false(r.u.accept.audio_only);
	json_decref(j);
	static const struct {
		const char *json;
		consult_decline_reason want;
	} dec[] = {
		{ "{\"request\":\"decline\"}", CONSULT_DECLINE_DECLINED },
		{ "{\"request\":\"decline\",\"reason\":null}", CONSULT_DECLINE_DECLINED },
		{ "{\"request\":\"decline\",\"reason\":\"declined\"}", CONSULT_DECLINE_DECLINED },
		{ "{\"request\":\"decline\",\"reason\":\"camera_blocked\"}", CONSULT_DECLINE_CAMERA_BLOCKED },
		{ "{\"request\":\"decline\",\"reason\":\"microphone_blocked\"}", CONSULT_DECLINE_MICROPHONE_BLOCKED },
		{ "{\"request\":\"decline\",\"reason\":\"no_devices\"}", CONSULT_DECLINE_NO_DEVICES },
	};
	for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
		j = J(dec[i].json);
		r = ok_req(j);
		assert_int_equal(r.kind, CONSULT_REQ_DECLINE);
		assert_int_equal(r.u.decline.reason, dec[i].want);
		json_decref(j);
	}
	j = J("{\"request\":\"signal\",\"type\":\"media\",\"audio\":true,\"video\":false,\"sdp\":\"v=0\",\"x\":1}");
	r = ok_req(j);
	assert_int_equal(r.u.signal.type, CONSULT_SIGNAL_MEDIA);
	assert_true(r.u.signal.audio);
	assert_false(r.u.signal.video);
	json_t *relay = consult_signal_relay(&r);
	json_decref(j);
	json_t *want = J("{\"type\":\"media\",\"audio\":true,\"video\":false}");
	assert_true(json_equal(relay, want));
	json_decref(relay);
	json_decref(want);
	/* screen: optional boolean, relayed only when given (null: absent) */
	assert_false(r.u.signal.has_screen || r.u.signal.screen);
	static const struct {
		const char *body, *relayed;
		bool has, on;
	} scr[] = {
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":true,\"video\":true,\"screen\":true}",
		        "{\"type\":\"media\",\"audio\":true,\"video\":true,\"screen\":true}", true, true },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":false,\"video\":true,\"screen\":false}",
		        "{\"type\":\"media\",\"audio\":false,\"video\":true,\"screen\":false}", true, false },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":true,\"video\":true,\"screen\":null}",
		        "{\"type\":\"media\",\"audio\":true,\"video\":true}", false, false },
	};
	for (size_t i = 0; i < sizeof scr / sizeof scr[0]; i++) {
		j = J(scr[i].body);
		r = ok_req(j);
		assert_int_equal(r.u.signal.has_screen, scr[i].has);
		assert_int_equal(r.u.signal.screen, scr[i].on);
		relay = consult_signal_relay(&r);
		json_decref(j);
		want = J(scr[i].relayed);
		assert_true(json_equal(relay, want));
		json_decref(relay);
		json_decref(want);
	}

	/* booked name and note: trimmed later, limited in characters */
	j = J("{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\" Erika M\u00fcster \","
	      "\"note\":\"Befund besprechen\"}");
	r = ok_req(j);
	assert_string_equal(r.u.create_appointment.patient_name, " Erika M\xc3\xbcster ");
	assert_string_equal(r.u.create_appointment.note, "Befund besprechen");
	json_decref(j);
	j = J("{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":null}");
	r = ok_req(j);
	assert_null(r.u.create_appointment.patient_name);
	assert_null(r.u.create_appointment.note);
	json_decref(j);
	/* 100 two-byte characters are 200 bytes: still within 100 characters */
	char name[512], *p = name;
	p += sprintf(p, "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\"");
	for (int i = 0; i < CONSULT_MAX_PATIENT_NAME; i++)
		p += sprintf(p, "\xc3\xbc");
	strcpy(p, "\"}");
	j = J(name);
	r = ok_req(j);
	assert_int_equal(strlen(r.u.create_appointment.patient_name), 2 * CONSULT_MAX_PATIENT_NAME);
	json_decref(j);
	strcpy(p, "x\"}"); /* one character more */
	j = J(name);
	const char *field = NULL;
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "patient_name");
	json_decref(j);
	char note[1024];
	p = note + sprintf(note, "{\"request\":\"create_appointment\",\"starts_at\":5,\"note\":\"");
	for (int i = 0; i < CONSULT_MAX_NOTE; i++)
		p += sprintf(p, "%s", i % 2 ? "a" : "\xe2\x82\xac"); /* € and a */
	strcpy(p, "\"}");
	j = J(note);
	r = ok_req(j);
	json_decref(j);
	strcpy(p, "\xf0\x9f\x98\x80\"}"); /* + one emoji: 201 characters */
	j = J(note);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "note");
	json_decref(j);
	/* over the maximum and a control character: too_long first, as for
	 * message_waiting's text (one check for every character-counted field) */
	char both[512];
	p = both + sprintf(both, "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\"\\n");
	for (int i = 0; i < CONSULT_MAX_PATIENT_NAME; i++)
		*p++ = 'a';
	strcpy(p, "\"}");
	j = J(both);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "patient_name");
	json_decref(j);

	static const bad b[] = {
		{ "{\"request\":\"accept\",\"audio_only\":\"yes\"}", CONSULT_ERR_INVALID_FIELD, "audio_only" },
		{ "{\"request\":\"accept\",\"audio_only\":1}", CONSULT_ERR_INVALID_FIELD, "audio_only" },
		{ "{\"request\":\"decline\",\"reason\":\"busy\"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"decline\",\"reason\":\"CAMERA_BLOCKED\"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"decline\",\"reason\":7}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"decline\",\"reason\":\"camera_blocked_and_a_very_long_tail_indeed\"}",
		        CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"decline\",\"reason\":\"a\\u0000b\"}", CONSULT_ERR_INVALID_FIELD, "reason" },
		{ "{\"request\":\"signal\",\"type\":\"media\"}", CONSULT_ERR_MISSING_FIELD, "audio" },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":true}", CONSULT_ERR_MISSING_FIELD, "video" },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":null,\"video\":true}",
		        CONSULT_ERR_MISSING_FIELD, "audio" },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":1,\"video\":true}", CONSULT_ERR_INVALID_FIELD,
		        "audio" },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":true,\"video\":\"off\"}",
		        CONSULT_ERR_INVALID_FIELD, "video" },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":true,\"video\":true,\"screen\":\"on\"}",
		        CONSULT_ERR_INVALID_FIELD, "screen" },
		{ "{\"request\":\"signal\",\"type\":\"media\",\"audio\":true,\"video\":true,\"screen\":1}",
		        CONSULT_ERR_INVALID_FIELD, "screen" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\"\"}",
		        CONSULT_ERR_INVALID_FIELD, "patient_name" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\"   \"}",
		        CONSULT_ERR_INVALID_FIELD, "patient_name" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":5}", CONSULT_ERR_INVALID_FIELD,
		        "patient_name" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\"Erika\\nMuster\"}",
		        CONSULT_ERR_INVALID_UTF8, "patient_name" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\"Erika\\u0000\"}",
		        CONSULT_ERR_INVALID_UTF8, "patient_name" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"patient_name\":\"a\\u0085b\"}",
		        CONSULT_ERR_INVALID_UTF8, "patient_name" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"note\":\"Zeile 1\\r\\nZeile 2\"}",
		        CONSULT_ERR_INVALID_UTF8, "note" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"note\":\"\\t\"}", CONSULT_ERR_INVALID_UTF8,
		        "note" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"note\":\" \"}", CONSULT_ERR_INVALID_FIELD,
		        "note" },
		{ "{\"request\":\"create_appointment\",\"starts_at\":5,\"note\":[\"x\"]}", CONSULT_ERR_INVALID_FIELD,
		        "note" },
		/* the fields before them are checked first */
		{ "{\"request\":\"create_appointment\",\"patient_name\":\"\"}", CONSULT_ERR_MISSING_FIELD,
		        "starts_at" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
	/* bytes that are not UTF-8 inside the string (built here: JSON text cannot carry them) */
	json_t *bin = json_object();
	json_object_set_new(bin, "request", json_string("create_appointment"));
	json_object_set_new(bin, "starts_at", json_integer(5));
	json_object_set_new(bin, "patient_name", json_stringn_nocheck("Erika \xff\xfe", 8));
	assert_int_equal(consult_request_parse(bin, &r, &field), CONSULT_ERR_INVALID_UTF8);
	assert_string_equal(field, "patient_name");
	json_decref(bin);
	/* far too many bytes: too_long before decoding */
	bin = json_object();
	json_object_set_new(bin, "request", json_string("create_appointment"));
	json_object_set_new(bin, "starts_at", json_integer(5));
	char *huge = malloc(4 * CONSULT_MAX_NOTE + 2);
	memset(huge, 'n', 4 * CONSULT_MAX_NOTE + 1);
	huge[4 * CONSULT_MAX_NOTE + 1] = '\0';
	json_object_set_new(bin, "note", json_string(huge));
	assert_int_equal(consult_request_parse(bin, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "note");
	json_decref(bin);
	free(huge);

	/* set_practice audio_only */
	consult_admin_request a =
	        ok_admin("{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"audio_only\":\"never\"}");
	assert_true(a.has_audio_only);
	assert_false(a.has_forward || a.has_relay_only);
	assert_int_equal(a.audio_only, CONSULT_AUDIO_NEVER);
	a = ok_admin("{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"audio_only\":\"allowed\","
	             "\"forward\":\"never\"}");
	assert_true(a.has_audio_only && a.has_forward);
	assert_int_equal(a.audio_only, CONSULT_AUDIO_ALLOWED);
	assert_string_equal(consult_audio_policy_name(CONSULT_AUDIO_NEVER), "never");
	assert_string_equal(consult_audio_policy_name(CONSULT_AUDIO_ALLOWED), "allowed");
	/* set_practice patient_share */
	a = ok_admin("{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"patient_share\":\"allowed\"}");
	assert_true(a.has_patient_share && a.patient_share_allowed);
	assert_false(a.has_audio_only || a.has_forward || a.has_relay_only);
	a = ok_admin("{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"patient_share\":\"never\","
	             "\"audio_only\":\"never\"}");
	assert_true(a.has_patient_share && a.has_audio_only);
	assert_false(a.patient_share_allowed);
	static const bad ba[] = {
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"audio_only\":\"sometimes\"}",
		        CONSULT_ERR_INVALID_FIELD, "audio_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"audio_only\":true}",
		        CONSULT_ERR_INVALID_FIELD, "audio_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"audio_only\":null}",
		        CONSULT_ERR_MISSING_FIELD, "relay_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"patient_share\":\"sometimes\"}",
		        CONSULT_ERR_INVALID_FIELD, "patient_share" },
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"patient_share\":true}",
		        CONSULT_ERR_INVALID_FIELD, "patient_share" },
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"patient_share\":null}",
		        CONSULT_ERR_MISSING_FIELD, "relay_only" },
		{ "{\"request\":\"set_practice\",\"practice\":\"am-markt\",\"audio_only\":\"never\","
		  "\"patient_share\":\"yes\"}",
		        CONSULT_ERR_INVALID_FIELD, "patient_share" },
	};
	check_bad(ba, sizeof ba / sizeof ba[0], true);
}

/* Every row of requests.def and admin_requests.def is reached by its name
 * and gives its own kind (a body without fields parses or fails on a
 * field, never as an unknown request); each kind belongs to one row. */
/* readiness: both devices, each one of four words. */
static void test_readiness(void **st)
{
	json_t *j = J("{\"request\":\"readiness\",\"camera\":\"blocked\",\"microphone\":\"ok\"}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_READINESS);
	assert_int_equal(r.u.readiness.camera, CONSULT_READY_BLOCKED);
	assert_int_equal(r.u.readiness.microphone, CONSULT_READY_OK);
	json_decref(j);
	j = J("{\"request\":\"readiness\",\"camera\":\"missing\",\"microphone\":\"unchecked\"}");
	r = ok_req(j);
	assert_int_equal(r.u.readiness.camera, CONSULT_READY_MISSING);
	assert_int_equal(r.u.readiness.microphone, CONSULT_READY_UNCHECKED);
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"readiness\"}", CONSULT_ERR_MISSING_FIELD, "camera" },
		{ "{\"request\":\"readiness\",\"camera\":\"ok\"}", CONSULT_ERR_MISSING_FIELD, "microphone" },
		{ "{\"request\":\"readiness\",\"camera\":null,\"microphone\":\"ok\"}", CONSULT_ERR_MISSING_FIELD,
		        "camera" },
		{ "{\"request\":\"readiness\",\"camera\":\"ok\",\"microphone\":\"denied\"}", CONSULT_ERR_INVALID_FIELD,
		        "microphone" },
		{ "{\"request\":\"readiness\",\"camera\":\"OK\",\"microphone\":\"ok\"}", CONSULT_ERR_INVALID_FIELD,
		        "camera" },
		{ "{\"request\":\"readiness\",\"camera\":true,\"microphone\":\"ok\"}", CONSULT_ERR_INVALID_FIELD,
		        "camera" },
		{ "{\"request\":\"readiness\",\"camera\":\"\",\"microphone\":\"ok\"}", CONSULT_ERR_INVALID_FIELD,
		        "camera" },
		{ "{\"request\":\"readiness\",\"camera\":\"ok\\u0000\",\"microphone\":\"ok\"}",
		        CONSULT_ERR_INVALID_FIELD, "camera" },
		{ "{\"request\":\"readiness\",\"camera\":\"okokokokokokokokokokokokokokokokokokok\",\"microphone\":"
		  "\"ok\"}",
		        CONSULT_ERR_INVALID_FIELD, "camera" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
}

/* message_waiting: 1..280 characters (not bytes) of text without control
 * characters, trimmed; exactly one target. */
static void test_message_waiting(void **st)
{
	json_t *j = J("{\"request\":\"message_waiting\",\"text\":\"  Dr. Weber versp\u00e4tet sich.  \","
	              "\"doctor_id\":3}");
	consult_request r = ok_req(j);
	assert_int_equal(r.kind, CONSULT_REQ_MESSAGE_WAITING);
	assert_int_equal(r.u.message_waiting.target, CONSULT_MSG_DOCTOR);
	assert_int_equal(r.u.message_waiting.id, 3);
	assert_int_equal(r.u.message_waiting.text_len, strlen("Dr. Weber versp\xc3\xa4tet sich."));
	assert_memory_equal(r.u.message_waiting.text, "Dr. Weber versp\xc3\xa4tet sich.", r.u.message_waiting.text_len);
	json_decref(j);
	j = J("{\"request\":\"message_waiting\",\"text\":\"x\",\"visit_id\":17,\"appointment_id\":null}");
	r = ok_req(j);
	assert_int_equal(r.u.message_waiting.target, CONSULT_MSG_VISIT);
	assert_int_equal(r.u.message_waiting.id, 17);
	json_decref(j);
	j = J("{\"request\":\"message_waiting\",\"text\":\"x\",\"appointment_id\":5}");
	r = ok_req(j);
	assert_int_equal(r.u.message_waiting.target, CONSULT_MSG_APPOINTMENT);
	json_decref(j);
	/* 280 characters of two bytes each (560 bytes) pass, 281 do not */
	char body[1200];
	int n = snprintf(body, sizeof body, "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"");
	for (int i = 0; i < CONSULT_MAX_MESSAGE; i++)
		n += snprintf(body + n, sizeof body - (size_t)n, "\xc3\xa4");
	snprintf(body + n, sizeof body - (size_t)n, "\"}");
	j = J(body);
	r = ok_req(j);
	assert_int_equal(r.u.message_waiting.text_len, 2 * CONSULT_MAX_MESSAGE);
	json_decref(j);
	body[n] = '\0';
	n += snprintf(body + n, sizeof body - (size_t)n, "a\"}");
	j = J(body);
	const char *field = NULL;
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "text");
	json_decref(j);
	/* over the maximum and a control character: too_long first */
	n = snprintf(body, sizeof body, "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"\\n");
	for (int i = 0; i < CONSULT_MAX_MESSAGE; i++)
		body[n++] = 'a';
	snprintf(body + n, sizeof body - (size_t)n, "\"}");
	j = J(body);
	assert_int_equal(consult_request_parse(j, &r, &field), CONSULT_ERR_TOO_LONG);
	assert_string_equal(field, "text");
	json_decref(j);
	static const bad b[] = {
		{ "{\"request\":\"message_waiting\",\"visit_id\":1}", CONSULT_ERR_MISSING_FIELD, "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":null}", CONSULT_ERR_MISSING_FIELD, "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":17}", CONSULT_ERR_INVALID_FIELD, "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"\"}", CONSULT_ERR_INVALID_FIELD, "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"   \"}", CONSULT_ERR_INVALID_FIELD,
		        "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"a\\nb\"}", CONSULT_ERR_INVALID_UTF8,
		        "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"a\\tb\"}", CONSULT_ERR_INVALID_UTF8,
		        "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"a\\u0000\"}", CONSULT_ERR_INVALID_UTF8,
		        "text" },
		{ "{\"request\":\"message_waiting\",\"visit_id\":1,\"text\":\"a\\u0085\"}", CONSULT_ERR_INVALID_UTF8,
		        "text" },
		{ "{\"request\":\"message_waiting\",\"text\":\"x\"}", CONSULT_ERR_INVALID_FIELD, "target" },
		{ "{\"request\":\"message_waiting\",\"text\":\"x\",\"visit_id\":null}", CONSULT_ERR_INVALID_FIELD,
		        "target" },
		{ "{\"request\":\"message_waiting\",\"text\":\"x\",\"visit_id\":1,\"doctor_id\":2}",
		        CONSULT_ERR_INVALID_FIELD, "target" },
		{ "{\"request\":\"message_waiting\",\"text\":\"x\",\"visit_id\":0}", CONSULT_ERR_INVALID_FIELD,
		        "visit_id" },
		{ "{\"request\":\"message_waiting\",\"text\":\"x\",\"appointment_id\":\"5\"}",
		        CONSULT_ERR_INVALID_FIELD, "appointment_id" },
		{ "{\"request\":\"message_waiting\",\"text\":\"x\",\"doctor_id\":1.5}", CONSULT_ERR_INVALID_FIELD,
		        "doctor_id" },
	};
	check_bad(b, sizeof b / sizeof b[0], false);
}

static void test_table_rows(void **state)
{
	static const struct {
		const char *name;
		int kind;
	} rows[] = {
#define CONSULT_REQUEST(name, id, who, when, parse, flags) { #name, CONSULT_REQ_##id },
#include "core/requests.def"
#undef CONSULT_REQUEST
	}, admin_rows[] = {
#define CONSULT_ADMIN_REQUEST(name, id, parse) { #name, CONSULT_ADMIN_##id },
#include "core/admin_requests.def"
#undef CONSULT_ADMIN_REQUEST
	};
	assert_int_equal(sizeof rows / sizeof rows[0], CONSULT_REQ_KIND_COUNT - 1);
	assert_int_equal(sizeof admin_rows / sizeof admin_rows[0], CONSULT_ADMIN_KIND_COUNT - 1);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		json_t *j = json_pack("{ss}", "request", rows[i].name);
		consult_request r;
		const char *field = NULL;
		consult_err e = consult_request_parse(j, &r, &field);
		if (e == CONSULT_OK) {
			assert_int_equal(r.kind, rows[i].kind);
			assert_string_equal(r.name, rows[i].name);
		} else {
			assert_int_not_equal(e, CONSULT_ERR_UNKNOWN_REQUEST);
			assert_int_not_equal(e, CONSULT_ERR_BAD_REQUEST);
			assert_non_null(field);
			assert_string_not_equal(field, "request");
		}
		for (size_t k = 0; k < i; k++)
			assert_int_not_equal(rows[k].kind, rows[i].kind);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof admin_rows / sizeof admin_rows[0]; i++) {
		json_t *j = json_pack("{ss}", "request", admin_rows[i].name);
		consult_admin_request a;
		const char *field = NULL;
		consult_err e = consult_admin_parse(j, &a, &field);
		if (e == CONSULT_OK)
			assert_int_equal(a.kind, admin_rows[i].kind);
		else
			assert_int_not_equal(e, CONSULT_ERR_UNKNOWN_REQUEST);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_practice_info_login),
		cmocka_unit_test(test_login_device_token),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_appointments),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_report_values),
		cmocka_unit_test(test_signal_relay),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_text_trim),
		cmocka_unit_test(test_issue4),
		cmocka_unit_test(test_issue3_5),
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_message_waiting),
		cmocka_unit_test(test_answers_media_booking),
		cmocka_unit_test(test_table_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
