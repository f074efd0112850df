/* limits.h - every size limit of the protocol, in one place.
 *
 * Contract: lengths are in bytes of UTF-8 unless noted; docs/protocol.md
 * repeats these numbers. Exceeding one gives CONSULT_ERR_TOO_LONG.
 */
#ifndef CONSULT_LIMITS_H
#define CONSULT_LIMITS_H

#define CONSULT_MAX_NAME        80     /* first or last name of a patient */
#define CONSULT_MAX_DISPLAY     120    /* staff display name, practice name */
#define CONSULT_MAX_USERNAME    64     /* staff user name: [a-z0-9._-], 3..64 */
#define CONSULT_MIN_USERNAME    3
#define CONSULT_MAX_PASSWORD    256
#define CONSULT_MIN_PASSWORD    10
#define CONSULT_MAX_SLUG        48     /* practice slug: [a-z0-9-], 2..48 */
#define CONSULT_MIN_SLUG        2
#define CONSULT_MAX_PHONE       32     /* practice phone, free text digits/+/space/-/() */
#define CONSULT_MAX_CODE_INPUT  32     /* access code as typed, before normalisation */
#define CONSULT_MAX_SDP         65536  /* SDP in a signal message */
#define CONSULT_MAX_CANDIDATE   1024   /* one ICE candidate line */
#define CONSULT_MAX_SDP_MID     64
#define CONSULT_MAX_STATE       32     /* connection state / candidate type words */
#define CONSULT_MAX_REASON      64
#define CONSULT_MAX_EMAIL       254    /* e-mail address (core/email.h) */
#define CONSULT_MAX_E2EE_KEY    256    /* base64 raw ECDH public key in an e2ee-key signal */
#define CONSULT_MAX_DEVICE_TOKEN 64    /* login device_token: base64url [A-Za-z0-9_-] (issued: 43) */
#define CONSULT_TEST_CLOCK_MAX_OFFSET (3650LL * 86400)  /* admin test_clock: seconds either way */

#endif
