/* fuzz_turn.c - TURN/STUN URIs, credentials and the RTCIceServer list
 * (turn.c).
 *
 * Modes (first byte):
 *   uri: consult_turn_uri_check agrees with a reference parser written from
 *     the grammar in turn.h (scheme, [IPv6] / dotted IPv4 / DNS name, port
 *     1..65535 without leading zero, ?transport=udp|tcp for turn:,
 *     ?transport=tcp for turns:, nothing for stun:, <= 255 characters);
 *   list: up to 10 URIs (NUL separated): consult_turn_uris_check accepts
 *     exactly lists of <= 8 URIs the reference accepts (bad_index = first
 *     bad); consult_turn_ice_servers then gives at most one STUN entry
 *     (stun: URIs, no credential) before at most one TURN entry (turn:/
 *     turns: URIs in order, user "<now+ttl>:<id>", 28-character password
 *     = consult_turn_password), every URI once;
 *   cred: secret, ttl and id from the input: credentials only when all are
 *     valid, with the documented user name and password; never a password
 *     for a NUL-free secret that is refused.
 */
#include "fuzz.h"
#include <arpa/inet.h>
#include <inttypes.h>
#include "core/turn.h"
#include "core/errors.h"

static bool dns_ok(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && h[i] != '.')
			continue;
		size_t len = i - start;
		if (len < 1 || len > 63 || h[start] == '-' || h[i - 1] == '-')
			return false;
		for (size_t k = start; k < i; k++) {
			char c = h[k];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
				return false;
		}
		start = i + 1;
	}
	return true;
}

static bool port_ok(const char *p)
{
	size_t n = strlen(p);
	if (n < 1 || n > 5 || p[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return atol(p) <= 65535;
}

static consult_turn_scheme ref_uri(const char *uri)
{
	if (strlen(uri) > CONSULT_TURN_URI_MAX)
		return CONSULT_TURN_URI_INVALID;
	consult_turn_scheme k;
	const char *r;
	if (!strncmp(uri, "stun:", 5)) {
		k = CONSULT_TURN_URI_STUN;
		r = uri + 5;
	} else if (!strncmp(uri, "turns:", 6)) {
		k = CONSULT_TURN_URI_TURNS;
		r = uri + 6;
	} else if (!strncmp(uri, "turn:", 5)) {
		k = CONSULT_TURN_URI_TURN;
		r = uri + 5;
	} else
		return CONSULT_TURN_URI_INVALID;
	char hp[512];
	snprintf(hp, sizeof hp, "%s", r);
	char *q = strchr(hp, '?');
	if (q) {
		*q++ = '\0';
		bool ok = k != CONSULT_TURN_URI_STUN &&
		        (!strcmp(q, "transport=tcp") || (k == CONSULT_TURN_URI_TURN && !strcmp(q, "transport=udp")));
		if (!ok)
			return CONSULT_TURN_URI_INVALID;
	}
	char *port = NULL;
	if (hp[0] == '[') {
		char *close = strchr(hp, ']');
		if (!close)
			return CONSULT_TURN_URI_INVALID;
		*close = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return CONSULT_TURN_URI_INVALID;
		struct in6_addr a6;
		if (strlen(hp + 1) < 2 || inet_pton(AF_INET6, hp + 1, &a6) != 1)
			return CONSULT_TURN_URI_INVALID;
	} else {
		char *colon = strchr(hp, ':');
		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
		size_t n = strlen(hp);
		bool numeric = n > 0 && strspn(hp, "0123456789.") == n;
		struct in_addr a4;
		if (numeric ? inet_pton(AF_INET, hp, &a4) != 1 : !dns_ok(hp, n))
			return CONSULT_TURN_URI_INVALID;
	}
	if (port && !port_ok(port))
		return CONSULT_TURN_URI_INVALID;
	return k;
}

static const char SECRET[] = "s3cr3t-for-the-fuzzer-0123456789";

static void check_cred(const consult_turn_cred *c, const char *secret, int64_t now, int64_t ttl, const char *id)
{
	char user[CONSULT_TURN_USER_LEN], pass[CONSULT_TURN_PASS_LEN];
	snprintf(user, sizeof user, "%" PRId64 ":%s", now + ttl, id);
	FZ_CHECK(c->expires_at == now + ttl);
	FZ_CHECK(strcmp(c->username, user) == 0);
	FZ_CHECK(strlen(c->password) == 28 && c->password[27] == '=');
	consult_turn_password(secret, user, pass);
	FZ_CHECK(strcmp(pass, c->password) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	uint8_t mode = fz_u8(&in);
	switch (mode % 3) {
	case 0: {
		char *u = fz_str(&in, 1024);
		FZ_CHECK(consult_turn_uri_check(u) == ref_uri(u));
		free(u);
		break;
	}
	case 1: {
		char *uris[10];
		size_t n = 1 + (mode >> 2) % 10, bad = 99, ref_bad = n;
		for (size_t i = 0; i < n; i++) {
			uris[i] = fz_str(&in, 300);
			if (ref_bad == n && ref_uri(uris[i]) == CONSULT_TURN_URI_INVALID)
				ref_bad = i;
		}
		if (ref_bad == n && n > CONSULT_TURN_URIS_MAX)
			ref_bad = CONSULT_TURN_URIS_MAX; /* too many: refused as a whole */
		consult_err e = consult_turn_uris_check((const char *const *)uris, n, &bad);
		bool ref_ok = ref_bad == n;
		FZ_CHECK((e == CONSULT_OK) == ref_ok);
		if (!ref_ok && n <= CONSULT_TURN_URIS_MAX)
			FZ_CHECK(bad == ref_bad);
		consult_ice_servers s;
		int64_t now = 1764320400, ttl = 86400;
		e = consult_turn_ice_servers((const char *const *)uris, n, SECRET, now, ttl, "c9f2a1b3d4e5f607", &s);
		FZ_CHECK((e == CONSULT_OK) == ref_ok);
		if (e == CONSULT_OK) {
			size_t stun = 0, turn = 0, seen = 0;
			for (size_t i = 0; i < n; i++)
				ref_uri(uris[i]) == CONSULT_TURN_URI_STUN ? stun++ : turn++;
			FZ_CHECK(s.n == (stun > 0) + (turn > 0));
			size_t k = 0;
			if (stun) {
				FZ_CHECK(!s.server[0].has_credential && s.server[0].n_urls == stun);
				for (size_t i = 0, j = 0; i < n; i++)
					if (ref_uri(uris[i]) == CONSULT_TURN_URI_STUN)
						FZ_CHECK(strcmp(s.server[0].urls[j++], uris[i]) == 0);
				seen += stun;
				k = 1;
			}
			if (turn) {
				FZ_CHECK(s.server[k].has_credential && s.server[k].n_urls == turn);
				for (size_t i = 0, j = 0; i < n; i++)
					if (ref_uri(uris[i]) != CONSULT_TURN_URI_STUN)
						FZ_CHECK(strcmp(s.server[k].urls[j++], uris[i]) == 0);
				consult_turn_cred c = { .expires_at = s.expires_at };
				memcpy(c.username, s.server[k].username, sizeof c.username);
				memcpy(c.password, s.server[k].credential, sizeof c.password);
				check_cred(&c, SECRET, now, ttl, "c9f2a1b3d4e5f607");
				seen += turn;
			} else {
				FZ_CHECK(s.expires_at == 0);
			}
			FZ_CHECK(seen == n);
		}
		for (size_t i = 0; i < n; i++)
			free(uris[i]);
		break;
	}
	case 2: {
		int64_t now = fz_i64(&in), ttl = (int64_t)fz_u32(&in) % 200000 - 1000;
		char *secret = fz_str(&in, 400), *id = fz_str(&in, 100);
		consult_turn_cred c;
		memset(&c, 'x', sizeof c);
		consult_err e = consult_turn_credentials(secret, now, ttl, id, &c);
		bool id_ok = strlen(id) >= 1 && strlen(id) <= CONSULT_TURN_ID_MAX &&
		        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(id);
		FZ_CHECK(consult_turn_id_ok(id) == id_ok);
		bool ttl_ok = ttl >= CONSULT_TURN_TTL_MIN && ttl <= CONSULT_TURN_TTL_MAX;
		if (e == CONSULT_OK) {
			FZ_CHECK(consult_turn_secret_ok(secret) && id_ok && ttl_ok && now >= 0);
			size_t sl = strlen(secret);
			FZ_CHECK(sl >= CONSULT_TURN_SECRET_MIN && sl <= CONSULT_TURN_SECRET_MAX);
			for (size_t i = 0; i < sl; i++)
				FZ_CHECK(secret[i] > 0x20 && secret[i] < 0x7f && !strchr("#\"'\\", secret[i]));
			check_cred(&c, secret, now, ttl, id);
		} else {
			FZ_CHECK(e == CONSULT_ERR_INVALID_FIELD);
			FZ_CHECK(!consult_turn_secret_ok(secret) || !id_ok || !ttl_ok || now < 0 ||
			        now > INT64_MAX - ttl);
			FZ_CHECK(c.username[0] == '\0' && c.password[0] == '\0' && c.expires_at == 0);
		}
		free(secret);
		free(id);
		break;
	}
	}
	return 0;
}
