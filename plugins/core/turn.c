/* turn.c - TURN REST API credentials and the RTCIceServer list.
 *
 * Contract: see turn.h. Pure: time and id are arguments, results go into
 * caller-owned fixed-size structs (nothing to free). The HMAC comes from
 * sha1.c, base64 from libsodium (original variant, padded). Address
 * literals are checked with inet_pton (no resolving, no I/O).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "sha1.h"
#include "turn.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* DNS name: dot-separated labels [A-Za-z0-9-]{1,63}, no '-' at either end. */
static bool dns_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum(c) || c == '-') {
			if (label == 0 && c == '-')
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

/* Host part: [IPv6] / dotted IPv4 / DNS name. Sets *end past the host. */
static bool host_ok(const char *s, const char **end)
{
	char buf[64];
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return false;
		size_t n = (size_t)(close - s - 1);
		if (n < 2 || n >= sizeof buf)
			return false;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return false;
		*end = close + 1;
		return true;
	}
	size_t n = strcspn(s, ":?");
	bool numeric = n > 0;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			numeric = false;
	*end = s + n;
	if (numeric) {
		struct in_addr a4;
		if (n >= sizeof buf)
			return false;
		memcpy(buf, s, n);
		buf[n] = '\0';
		return inet_pton(AF_INET, buf, &a4) == 1;
	}
	return dns_name_ok(s, n);
}

/* Optional ":PORT", 1..65535 without leading zeros. */
static bool port_ok(const char *s, const char **end)
{
	*end = s;
	if (*s != ':')
		return true;
	s++;
	unsigned long v = 0;
	size_t n = 0;
	while (is_digit(s[n]) && n < 6)
		v = v * 10 + (unsigned long)(s[n++] - '0');
	if (n == 0 || n > 5 || s[0] == '0' || v > 65535)
		return false;
	*end = s + n;
	return true;
}

consult_turn_scheme consult_turn_uri_check(const char *uri)
{
	consult_turn_scheme kind;
	const char *p;
	if (!uri || strlen(uri) > CONSULT_TURN_URI_MAX)
		return CONSULT_TURN_URI_INVALID;
	if (strncmp(uri, "stun:", 5) == 0) {
		kind = CONSULT_TURN_URI_STUN;
		p = uri + 5;
	} else if (strncmp(uri, "turn:", 5) == 0) {
		kind = CONSULT_TURN_URI_TURN;
		p = uri + 5;
	} else if (strncmp(uri, "turns:", 6) == 0) {
		kind = CONSULT_TURN_URI_TURNS;
		p = uri + 6;
	} else {
		return CONSULT_TURN_URI_INVALID;
	}
	if (!host_ok(p, &p) || !port_ok(p, &p))
		return CONSULT_TURN_URI_INVALID;
	if (*p == '\0')
		return kind;
	if (kind == CONSULT_TURN_URI_STUN)
		return CONSULT_TURN_URI_INVALID;
	if (strcmp(p, "?transport=tcp") == 0)
		return kind;
	if (strcmp(p, "?transport=udp") == 0 && kind == CONSULT_TURN_URI_TURN)
		return kind;
	return CONSULT_TURN_URI_INVALID;
}

bool consult_turn_secret_ok(const char *secret)
{
	if (!secret)
		return false;
	size_t n = 0;
	for (const char *p = secret; *p; p++, n++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x21 || c > 0x7e || c == '#' || c == '"' || c == '\'' || c == '\\')
			return false;
		if (n >= CONSULT_TURN_SECRET_MAX)
			return false;
	}
	return n >= CONSULT_TURN_SECRET_MIN;
}

/* ttl within CONSULT_TURN_TTL_MIN..MAX */
static bool ttl_ok(int64_t ttl)
{
	return ttl >= CONSULT_TURN_TTL_MIN && ttl <= CONSULT_TURN_TTL_MAX;
}

bool consult_turn_id_ok(const char *id)
{
	if (!id)
		return false;
	size_t n = 0;
	for (const char *p = id; *p; p++, n++) {
		if (!is_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
		if (n >= CONSULT_TURN_ID_MAX)
			return false;
	}
	return n > 0;
}

void consult_turn_password(const char *secret, const char *username, char out[CONSULT_TURN_PASS_LEN])
{
	uint8_t mac[CONSULT_SHA1_LEN];
	consult_hmac_sha1(secret, strlen(secret), username, strlen(username), mac);
	sodium_bin2base64(out, CONSULT_TURN_PASS_LEN, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(mac, sizeof mac);
}

consult_err consult_turn_credentials(
        const char *secret, int64_t now, int64_t ttl, const char *opaque_id, consult_turn_cred *out)
{
	memset(out, 0, sizeof *out);
	if (!consult_turn_secret_ok(secret) || !ttl_ok(ttl) || !consult_turn_id_ok(opaque_id))
		return CONSULT_ERR_INVALID_FIELD;
	if (now < 0 || now > INT64_MAX - ttl)
		return CONSULT_ERR_INVALID_FIELD;
	int64_t expiry = now + ttl;
	int w = snprintf(out->username, sizeof out->username, "%" PRId64 ":%s", expiry, opaque_id);
	if (w < 0 || (size_t)w >= sizeof out->username) {
		memset(out, 0, sizeof *out);
		return CONSULT_ERR_INVALID_FIELD;
	}
	consult_turn_password(secret, out->username, out->password);
	out->expires_at = expiry;
	return CONSULT_OK;
}

consult_err consult_turn_uris_check(const char *const *uris, size_t n_uris, size_t *bad_index)
{
	if (n_uris > CONSULT_TURN_URIS_MAX) {
		if (bad_index)
			*bad_index = n_uris;
		return CONSULT_ERR_INVALID_FIELD;
	}
	for (size_t i = 0; i < n_uris; i++) {
		if (consult_turn_uri_check(uris[i]) == CONSULT_TURN_URI_INVALID) {
			if (bad_index)
				*bad_index = i;
			return CONSULT_ERR_INVALID_FIELD;
		}
	}
	return CONSULT_OK;
}

static void add_url(consult_ice_server *s, const char *uri)
{
	/* length already checked by consult_turn_uri_check */
	memcpy(s->urls[s->n_urls], uri, strlen(uri) + 1);
	s->n_urls++;
}

consult_err consult_turn_ice_servers(const char *const *uris, size_t n_uris, const char *secret, int64_t now,
        int64_t ttl, const char *opaque_id, consult_ice_servers *out)
{
	consult_ice_server stun, turn;
	memset(out, 0, sizeof *out);
	if (consult_turn_uris_check(uris, n_uris, NULL) != CONSULT_OK)
		return CONSULT_ERR_INVALID_FIELD;
	memset(&stun, 0, sizeof stun);
	memset(&turn, 0, sizeof turn);
	for (size_t i = 0; i < n_uris; i++)
		add_url(consult_turn_uri_check(uris[i]) == CONSULT_TURN_URI_STUN ? &stun : &turn, uris[i]);
	if (turn.n_urls > 0) {
		consult_turn_cred cred;
		consult_err e = consult_turn_credentials(secret, now, ttl, opaque_id, &cred);
		if (e != CONSULT_OK) {
			sodium_memzero(&turn, sizeof turn);
			return e;
		}
		turn.has_credential = true;
		memcpy(turn.username, cred.username, sizeof turn.username);
		memcpy(turn.credential, cred.password, sizeof turn.credential);
		out->expires_at = cred.expires_at;
		sodium_memzero(&cred, sizeof cred);
	}
	if (stun.n_urls > 0)
		out->server[out->n++] = stun;
	if (turn.n_urls > 0)
		out->server[out->n++] = turn;
	sodium_memzero(&turn, sizeof turn);
	return CONSULT_OK;
}
