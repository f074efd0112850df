/* smtp.h - send one finished message (consult_mime_build) over SMTP with
 * libcurl.
 *
 * Contract: blocking, one connection per call, no globals: thread-safe as
 * long as the caller ran curl_global_init(CURL_GLOBAL_DEFAULT) once before
 * any thread calls this (the plugin does it at init, tests in main).
 * smtp://host:port with STARTTLS (required unless starttls is off), or
 * smtps://host:port (TLS from the start). Optional AUTH (libcurl picks
 * PLAIN/LOGIN/...). Envelope: MAIL FROM:<from>, RCPT TO:<rcpt>; the message
 * is sent as given (CRLF line ends), libcurl does the dot-stuffing.
 * Peer certificates are verified (ca_file or the system store). Redirects
 * and other protocols are impossible (smtp/smtps only); no signals, no
 * verbose output; nothing is logged here.
 * Result: r->code = last SMTP reply code (0: none, e.g. connection
 * refused or a silent server), r->cls by consult_smtp_classify with one
 * rule on top: a transfer libcurl did not complete is never "ok" (a
 * dropped connection after "354" is temporary); r->reason "smtp NNN" for a
 * refusal, else a fixed transport reason. Returns r->cls.
 * Bad arguments (NULL, a URL that is not smtp(s)://, a sender or recipient
 * that fails consult_email_check, an empty message) are permanent with
 * reason "bad configuration" / "bad recipient" / "bad message", without
 * any network traffic.
 */
#ifndef CONSULT_SMTP_H
#define CONSULT_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include "core/errors.h"
#include "deliver/result.h"

#define CONSULT_SMTP_TIMEOUT_DEFAULT 30 /* seconds, whole transaction */
#define CONSULT_SMTP_TIMEOUT_MIN     1
#define CONSULT_SMTP_TIMEOUT_MAX     300
#define CONSULT_SMTP_URL_MAX         512 /* bytes of smtp_url */
#define CONSULT_SMTP_CRED_MAX        256 /* bytes of smtp_user, smtp_password */

typedef struct consult_smtp_cfg {
	const char *url;  /* "smtp://host:port" or "smtps://host:port" */
	bool starttls;    /* smtp:// only: true = STARTTLS required (CURLUSESSL_ALL) */
	const char *user; /* optional; with password */
	const char *password;
	const char *from;    /* envelope sender address (MAIL FROM) */
	long timeout_s;      /* CONSULT_SMTP_TIMEOUT_MIN..MAX */
	const char *ca_file; /* optional PEM bundle */
} consult_smtp_cfg;

/* The one check of the SMTP configuration, run by the plugin's
 * configuration loader and again before every send: URL scheme smtp/smtps
 * with a host (at most CONSULT_SMTP_URL_MAX), sender address valid, timeout
 * in CONSULT_SMTP_TIMEOUT_MIN..MAX, user and password both or neither (at
 * most CONSULT_SMTP_CRED_MAX), no control characters.
 * CONSULT_ERR_INVALID_FIELD / MISSING_FIELD; *field (may be NULL) names the
 * offending key ("smtp_url", "smtp_from", "smtp_user", "smtp_password",
 * "smtp_timeout_seconds", "smtp_ca_file"). */
consult_err consult_smtp_check(const consult_smtp_cfg *cfg, const char **field);

consult_delivery consult_smtp_send(
        const consult_smtp_cfg *cfg, const char *rcpt, const char *msg, size_t len, consult_send_result *r);

#endif
