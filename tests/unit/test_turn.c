/* test_turn.c - TURN REST credentials: vectors computed independently with
 * python3 (hmac, hashlib.sha1, base64.b64encode), expiry arithmetic and its
 * bounds, secret/id/ttl validation, URI validation (good and bad) and the
 * RTCIceServer list builder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "core/turn.h"

#define SECRET32 "0123456789abcdef0123456789abcdef"

static void test_password_vectors(void **st)
{
	static const struct {
		const char *secret, *user, *pass;
	} v[] = {
		{ SECRET32, "1700003600:call-42", "XDIUpX+lwMSHVxgOhr8daqf7+RQ=" },
		{ "north-sea-example-secret", "86460:x", "7Zz1uIN7eqFOYT78+es9KBnCdvc=" },
		{ "0123456789abcdef", "1234567890:a.b_c-D", "43yDjR5WiIctOgCprTXqzFOa60U=" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char out[CONSULT_TURN_PASS_LEN];
		memset(out, 'x', sizeof out);
		consult_turn_password(v[i].secret, v[i].user, out);
		assert_string_equal(out, v[i].pass);
		assert_int_equal(strlen(out), 28);
	}
}

static void test_credentials(void **st)
{
	consult_turn_cred c;
	assert_int_equal(consult_turn_credentials(SECRET32, 1700000000, 3600, "call-42", &c), CONSULT_OK);
	assert_int_equal(c.expires_at, 1700003600);
	assert_string_equal(c.username, "1700003600:call-42");
	assert_string_equal(c.password, "XDIUpX+lwMSHVxgOhr8daqf7+RQ=");

	assert_int_equal(consult_turn_credentials("north-sea-example-secret", 86400, 60, "x", &c), CONSULT_OK);
	assert_int_equal(c.expires_at, 86460);
	assert_string_equal(c.username, "86460:x");
	assert_string_equal(c.password, "7Zz1uIN7eqFOYT78+es9KBnCdvc=");

	/* another id or another second gives another password */
	consult_turn_cred d;
	assert_int_equal(consult_turn_credentials(SECRET32, 1700000000, 3600, "call-43", &d), CONSULT_OK);
	assert_string_not_equal(d.password, "XDIUpX+lwMSHVxgOhr8daqf7+RQ=");
	assert_int_equal(consult_turn_credentials(SECRET32, 1700000001, 3600, "call-42", &d), CONSULT_OK);
	assert_string_equal(d.username, "1700003601:call-42");
	assert_string_not_equal(d.password, "XDIUpX+lwMSHVxgOhr8daqf7+RQ=");
}

static void test_expiry_bounds(void **st)
{
	consult_turn_cred c;
	assert_int_equal(consult_turn_credentials(SECRET32, 0, CONSULT_TURN_TTL_MIN, "a", &c), CONSULT_OK);
	assert_int_equal(c.expires_at, CONSULT_TURN_TTL_MIN);
	assert_string_equal(c.username, "60:a");
	assert_int_equal(consult_turn_credentials(SECRET32, 100, CONSULT_TURN_TTL_MAX, "a", &c), CONSULT_OK);
	assert_int_equal(c.expires_at, 100 + 86400);

	/* ttl outside the range, negative now, overflow: refused, out zeroed */
	const int64_t bad_ttl[] = { 0, -1, CONSULT_TURN_TTL_MIN - 1, CONSULT_TURN_TTL_MAX + 1, INT64_MAX };
	for (size_t i = 0; i < sizeof bad_ttl / sizeof bad_ttl[0]; i++) {
		memset(&c, 'x', sizeof c);
		assert_int_equal(
		        consult_turn_credentials(SECRET32, 1000, bad_ttl[i], "a", &c), CONSULT_ERR_INVALID_FIELD);
		assert_int_equal(c.username[0], '\0');
		assert_int_equal(c.password[0], '\0');
		assert_int_equal(c.expires_at, 0);
	}
	assert_int_equal(consult_turn_credentials(SECRET32, -1, 600, "a", &c), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_turn_credentials(SECRET32, INT64_MAX - 599, 600, "a", &c), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_turn_credentials(SECRET32, INT64_MAX - 600, 600, "a", &c), CONSULT_OK);
	assert_int_equal(c.expires_at, INT64_MAX);
	assert_string_equal(c.username, "9223372036854775807:a");
}

static void test_secret(void **st)
{
	assert_true(consult_turn_secret_ok("0123456789abcdef"));   /* exactly 16 */
	assert_true(consult_turn_secret_ok("q8X+/z09aBcDeFgH==")); /* base64 output */
	assert_false(consult_turn_secret_ok("0123456789abcde"));   /* 15 */
	assert_false(consult_turn_secret_ok(""));
	assert_false(consult_turn_secret_ok(NULL));
	assert_false(consult_turn_secret_ok("0123456789 abcdef"));
	assert_false(consult_turn_secret_ok("0123456789abcdef#comment"));
	assert_false(consult_turn_secret_ok("0123456789\"abcdef"));
	assert_false(consult_turn_secret_ok("0123456789\\abcdef"));
	assert_false(consult_turn_secret_ok("0123456789abcdef\n"));
	assert_false(consult_turn_secret_ok("0123456789abcdef\xc3\xa4"));
	char big[CONSULT_TURN_SECRET_MAX + 2];
	memset(big, 'k', sizeof big);
	big[CONSULT_TURN_SECRET_MAX] = '\0';
	assert_true(consult_turn_secret_ok(big));
	big[CONSULT_TURN_SECRET_MAX] = 'k';
	big[CONSULT_TURN_SECRET_MAX + 1] = '\0';
	assert_false(consult_turn_secret_ok(big));

	consult_turn_cred c;
	assert_int_equal(consult_turn_credentials("short", 1000, 600, "a", &c), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_turn_credentials(NULL, 1000, 600, "a", &c), CONSULT_ERR_INVALID_FIELD);
}

static void test_id(void **st)
{
	assert_true(consult_turn_id_ok("a"));
	assert_true(consult_turn_id_ok("a.b_c-D9"));
	assert_false(consult_turn_id_ok(""));
	assert_false(consult_turn_id_ok(NULL));
	assert_false(consult_turn_id_ok("a:b")); /* the separator */
	assert_false(consult_turn_id_ok("a b"));
	assert_false(consult_turn_id_ok("a@b"));
	assert_false(consult_turn_id_ok("\xc3\xa4"));
	char id[CONSULT_TURN_ID_MAX + 2];
	memset(id, 'i', sizeof id);
	id[CONSULT_TURN_ID_MAX] = '\0';
	assert_true(consult_turn_id_ok(id));
	consult_turn_cred c;
	assert_int_equal(consult_turn_credentials(SECRET32, INT64_MAX - 600, 600, id, &c), CONSULT_OK);
	assert_int_equal(strlen(c.username), 19 + 1 + CONSULT_TURN_ID_MAX);
	id[CONSULT_TURN_ID_MAX] = 'i';
	id[CONSULT_TURN_ID_MAX + 1] = '\0';
	assert_false(consult_turn_id_ok(id));
	assert_int_equal(consult_turn_credentials(SECRET32, 1000, 600, id, &c), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_turn_credentials(SECRET32, 1000, 600, "a:b", &c), CONSULT_ERR_INVALID_FIELD);
}

static void test_uri_good(void **st)
{
	static const struct {
		const char *uri;
		consult_turn_scheme kind;
	} v[] = {
		{ "stun:stun.example.org", CONSULT_TURN_URI_STUN },
		{ "stun:stun.example.org:3478", CONSULT_TURN_URI_STUN },
		{ "stun:127.0.0.1:3478", CONSULT_TURN_URI_STUN },
		{ "stun:[::1]:3478", CONSULT_TURN_URI_STUN },
		{ "stun:localhost", CONSULT_TURN_URI_STUN },
		{ "turn:turn.example.org", CONSULT_TURN_URI_TURN },
		{ "turn:turn.example.org:3478?transport=udp", CONSULT_TURN_URI_TURN },
		{ "turn:turn.example.org:3478?transport=tcp", CONSULT_TURN_URI_TURN },
		{ "turn:198.51.100.7?transport=tcp", CONSULT_TURN_URI_TURN },
		{ "turn:[2001:db8::1]:3478?transport=udp", CONSULT_TURN_URI_TURN },
		{ "turn:a-b.c-d.example:1", CONSULT_TURN_URI_TURN },
		{ "turn:x.example:65535", CONSULT_TURN_URI_TURN },
		{ "turns:turn.example.org:5349", CONSULT_TURN_URI_TURNS },
		{ "turns:turn.example.org:443?transport=tcp", CONSULT_TURN_URI_TURNS },
		{ "turns:[2001:db8::2]", CONSULT_TURN_URI_TURNS },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (consult_turn_uri_check(v[i].uri) != v[i].kind)
			fail_msg("should be valid: %s", v[i].uri);
	}
}

static void test_uri_bad(void **st)
{
	static const char *const bad[] = {
		NULL,
		"",
		"stun:",
		"turn:",
		"turns:",
		"turn::3478",
		"STUN:stun.example.org",  /* lower-case schemes only */
		"stuns:stun.example.org", /* browsers have no stuns */
		"http://turn.example.org",
		"turn://turn.example.org",
		"turn:user@turn.example.org", /* no user info */
		"turn:turn.example.org/path",
		"turn:turn.example.org:0",
		"turn:turn.example.org:65536",
		"turn:turn.example.org:099",
		"turn:turn.example.org:",
		"turn:turn.example.org:34a8",
		"turn:turn.example.org:123456",
		"turn:turn.example.org?transport=sctp",
		"turn:turn.example.org?transport=UDP",
		"turn:turn.example.org?transport=udp&x=1",
		"turn:turn.example.org?",
		"turns:turn.example.org?transport=udp", /* no TURN over DTLS */
		"stun:stun.example.org?transport=udp",  /* stun takes no query */
		"turn:-bad.example",
		"turn:bad-.example",
		"turn:a..b",
		"turn:.a",
		"turn:a.",
		"turn:under_score.example",
		"turn:t\xc3\xbcrn.example",
		"turn: turn.example.org",
		"turn:turn.example.org ",
		"turn:turn.example.org\n",
		"turn:256.1.1.1",
		"turn:1.2.3",
		"turn:1.2.3.4.5",
		"turn:01.2.3.4",
		"turn:[::1",
		"turn:[]",
		"turn:[zz::1]",
		"turn:[::1]x",
		"turn:[fe80::1%eth0]",
		"turn:::1",
		"turn:[1.2.3.4]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (consult_turn_uri_check(bad[i]) != CONSULT_TURN_URI_INVALID)
			fail_msg("should be invalid: %s", bad[i] ? bad[i] : "(null)");
	}
	/* label of 63 ok, 64 not; whole uri length bounded */
	char uri[400];
	strcpy(uri, "turn:");
	memset(uri + 5, 'a', 63);
	strcpy(uri + 68, ".example");
	assert_int_equal(consult_turn_uri_check(uri), CONSULT_TURN_URI_TURN);
	memset(uri + 5, 'a', 64);
	strcpy(uri + 69, ".example");
	assert_int_equal(consult_turn_uri_check(uri), CONSULT_TURN_URI_INVALID);
	strcpy(uri, "turn:");
	for (int i = 0; i < 5; i++)
		strcat(uri, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."); /* 50 each */
	strcat(uri, "example");
	assert_int_equal(consult_turn_uri_check(uri), CONSULT_TURN_URI_INVALID); /* 262 chars */
}

static void test_uris_check(void **st)
{
	const char *ok[] = { "stun:a.example", "turn:a.example" };
	const char *bad[] = { "stun:a.example", "turn:a.example", "turn:bad host" };
	size_t idx = 99;
	assert_int_equal(consult_turn_uris_check(ok, 2, &idx), CONSULT_OK);
	assert_int_equal(idx, 99);
	assert_int_equal(consult_turn_uris_check(ok, 0, &idx), CONSULT_OK);
	assert_int_equal(consult_turn_uris_check(bad, 3, &idx), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(idx, 2);
	const char *many[CONSULT_TURN_URIS_MAX + 1];
	for (size_t i = 0; i < CONSULT_TURN_URIS_MAX + 1; i++)
		many[i] = "turn:a.example";
	assert_int_equal(consult_turn_uris_check(many, CONSULT_TURN_URIS_MAX, &idx), CONSULT_OK);
	assert_int_equal(consult_turn_uris_check(many, CONSULT_TURN_URIS_MAX + 1, &idx), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(idx, CONSULT_TURN_URIS_MAX + 1);
}

static void test_ice_servers(void **st)
{
	const char *uris[] = {
		"turn:turn.example.org:3478?transport=udp",
		"stun:turn.example.org:3478",
		"turn:turn.example.org:3478?transport=tcp",
		"turns:turn.example.org:5349",
	};
	consult_ice_servers s;
	assert_int_equal(consult_turn_ice_servers(uris, 4, SECRET32, 1700000000, 3600, "call-42", &s), CONSULT_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.expires_at, 1700003600);
	assert_int_equal(s.server[0].n_urls, 1);
	assert_string_equal(s.server[0].urls[0], "stun:turn.example.org:3478");
	assert_false(s.server[0].has_credential);
	assert_string_equal(s.server[0].username, "");
	assert_string_equal(s.server[0].credential, "");
	assert_int_equal(s.server[1].n_urls, 3);
	assert_string_equal(s.server[1].urls[0], uris[0]);
	assert_string_equal(s.server[1].urls[1], uris[2]);
	assert_string_equal(s.server[1].urls[2], uris[3]);
	assert_true(s.server[1].has_credential);
	assert_string_equal(s.server[1].username, "1700003600:call-42");
	assert_string_equal(s.server[1].credential, "XDIUpX+lwMSHVxgOhr8daqf7+RQ=");

	/* STUN only: no credentials needed nor minted */
	assert_int_equal(consult_turn_ice_servers(uris + 1, 1, NULL, 0, 0, NULL, &s), CONSULT_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.expires_at, 0);
	assert_false(s.server[0].has_credential);

	/* TURN only */
	assert_int_equal(consult_turn_ice_servers(uris + 3, 1, SECRET32, 1700000000, 3600, "call-42", &s), CONSULT_OK);
	assert_int_equal(s.n, 1);
	assert_true(s.server[0].has_credential);
	assert_string_equal(s.server[0].urls[0], "turns:turn.example.org:5349");

	/* nothing configured: empty list */
	assert_int_equal(consult_turn_ice_servers(NULL, 0, NULL, 0, 0, NULL, &s), CONSULT_OK);
	assert_int_equal(s.n, 0);

	/* TURN with a bad secret / id / ttl, or a bad URI: error and zeroed */
	memset(&s, 'x', sizeof s);
	assert_int_equal(
	        consult_turn_ice_servers(uris, 4, "short", 1700000000, 3600, "call-42", &s), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.server[1].credential[0], '\0');
	assert_int_equal(
	        consult_turn_ice_servers(uris, 4, SECRET32, 1700000000, 3600, "c:42", &s), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(
	        consult_turn_ice_servers(uris, 4, SECRET32, 1700000000, 5, "call-42", &s), CONSULT_ERR_INVALID_FIELD);
	const char *badlist[] = { "stun:a.example", "turn:a.example?transport=quic" };
	assert_int_equal(
	        consult_turn_ice_servers(badlist, 2, SECRET32, 1700000000, 3600, "x", &s), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_vectors),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_expiry_bounds),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_uri_good),
		cmocka_unit_test(test_uri_bad),
		cmocka_unit_test(test_uris_check),
		cmocka_unit_test(test_ice_servers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
