/* turn.h - TURN REST API credentials (coturn "use-auth-secret") and the
 * RTCIceServer list handed to the two participants of a call.
 *
 * Contract: pure. The current time and the opaque id are arguments; no
 * clock, no RNG, no allocation, no I/O. Credentials: user name
 * "<expiry>:<opaque id>" with expiry = now + ttl (unix seconds), password
 * base64(HMAC-SHA1(secret, user name)), standard alphabet with padding
 * (28 characters). The opaque id must carry no personal data (use a random
 * or per-call token); it is [A-Za-z0-9._-]{1,64}, so it never contains the
 * ':' separator. Secrets and passwords must never be logged.
 *
 * URIs accepted (RFC 7064 / 7065 subset that browsers implement):
 *   stun:HOST[:PORT]
 *   turn:HOST[:PORT][?transport=udp|tcp]
 *   turns:HOST[:PORT][?transport=tcp]   (TLS; browsers do no TURN over DTLS)
 * HOST is a DNS name, a dotted IPv4 address or [IPv6]; lower-case schemes,
 * no user info, no path, no other query. PORT is 1..65535.
 */
#ifndef CONSULT_TURN_H
#define CONSULT_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "errors.h"

#define CONSULT_TURN_SECRET_MIN 16
#define CONSULT_TURN_SECRET_MAX 256
#define CONSULT_TURN_ID_MAX     64
#define CONSULT_TURN_TTL_MIN    60 /* seconds */
#define CONSULT_TURN_TTL_MAX    86400
#define CONSULT_TURN_USER_LEN   (20 + 1 + CONSULT_TURN_ID_MAX + 1) /* incl. NUL */
#define CONSULT_TURN_PASS_LEN   (28 + 1)                           /* incl. NUL */
#define CONSULT_TURN_URI_MAX    255                                /* characters, without NUL */
#define CONSULT_TURN_URIS_MAX   8                                  /* per list */

typedef enum consult_turn_scheme {
	CONSULT_TURN_URI_INVALID = 0,
	CONSULT_TURN_URI_STUN,
	CONSULT_TURN_URI_TURN,
	CONSULT_TURN_URI_TURNS,
} consult_turn_scheme;

/* Classifies and validates one URI (see the grammar above). */
consult_turn_scheme consult_turn_uri_check(const char *uri);

/* True if the shared secret is usable: CONSULT_TURN_SECRET_MIN..MAX
 * characters of printable ASCII without space, '#', '"', '\'' or '\\'
 * (so it survives both coturn's and Janus' configuration syntax). */
bool consult_turn_secret_ok(const char *secret);

/* True if id matches [A-Za-z0-9._-]{1,CONSULT_TURN_ID_MAX}. */
bool consult_turn_id_ok(const char *id);

/* password = base64(HMAC-SHA1(secret, username)); no checks on the inputs
 * beyond non-NULL. Exposed for tests and for verifying. */
void consult_turn_password(const char *secret, const char *username, char out[CONSULT_TURN_PASS_LEN]);

typedef struct consult_turn_cred {
	int64_t expires_at; /* now + ttl */
	char username[CONSULT_TURN_USER_LEN];
	char password[CONSULT_TURN_PASS_LEN];
} consult_turn_cred;

/* Mints credentials. CONSULT_ERR_INVALID_FIELD (out zeroed) if the secret,
 * ttl or id is not ok, or now is negative or now + ttl overflows. */
consult_err consult_turn_credentials(
        const char *secret, int64_t now, int64_t ttl, const char *opaque_id, consult_turn_cred *out);

/* One RTCIceServer: { urls: [...], username?, credential? }. */
typedef struct consult_ice_server {
	size_t n_urls;
	char urls[CONSULT_TURN_URIS_MAX][CONSULT_TURN_URI_MAX + 1];
	bool has_credential; /* false for the STUN entry */
	char username[CONSULT_TURN_USER_LEN];
	char credential[CONSULT_TURN_PASS_LEN];
} consult_ice_server;

/* The list: at most one STUN entry (all stun: URIs, no credential) followed
 * by at most one TURN entry (all turn:/turns: URIs, with the credential),
 * each in configuration order. */
typedef struct consult_ice_servers {
	size_t n; /* 0..2 */
	consult_ice_server server[2];
	int64_t expires_at; /* 0 when there is no TURN entry */
} consult_ice_servers;

/* Checks a configured URI list: 0..CONSULT_TURN_URIS_MAX valid URIs. On
 * failure returns CONSULT_ERR_INVALID_FIELD and, if bad_index is given, the
 * index of the first bad URI (or n_uris if there are too many). */
consult_err consult_turn_uris_check(const char *const *uris, size_t n_uris, size_t *bad_index);

/* Builds the list for one participant. The secret/ttl/id are only needed
 * (and only checked) when a turn:/turns: URI is present. Errors:
 * CONSULT_ERR_INVALID_FIELD for a bad URI list or bad credential inputs;
 * out is zeroed on any error. */
consult_err consult_turn_ice_servers(const char *const *uris, size_t n_uris, const char *secret, int64_t now,
        int64_t ttl, const char *opaque_id, consult_ice_servers *out);

#endif
