/* sms_http.h - send one SMS through an HTTP gateway with libcurl.
 *
 * Contract: blocking, one request per call, no globals: thread-safe once
 * the caller ran curl_global_init(CURL_GLOBAL_DEFAULT) (see smtp.h).
 * The body is cfg->body rendered with consult_tpl_render; its only
 * placeholders are {{to}} (E.164), {{text}} and {{sender}}, each escaped
 * per format: json -> consult_json_escape (the template supplies the
 * quotes), form -> consult_form_escape. POST sends the body with
 * Content-Type application/json or application/x-www-form-urlencoded;
 * GET (form only) appends it to the URL as the query string ('?' or '&').
 * The optional auth header ("Name: value") is sent as is. http/https only,
 * redirects are not followed, peer certificates verified (ca_file or the
 * system store), no signals, no verbose output. The response body is read
 * into a bounded buffer (CONSULT_SMS_HTTP_BODY_MAX, the rest discarded),
 * never logged and then dropped.
 * Result: r->code = HTTP status (0: none: connection refused, timeout,
 * garbage instead of HTTP), r->cls by consult_http_classify (a transfer
 * libcurl did not complete is never "ok"), r->reason "http NNN" or a
 * transport reason. Returns r->cls. Bad arguments (not E.164, text empty
 * or with control characters other than CR, LF, TAB, a config that fails the
 * check) are permanent without network traffic.
 */
#ifndef CONSULT_SMS_HTTP_H
#define CONSULT_SMS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include "core/errors.h"
#include "core/template.h"
#include "deliver/result.h"

#define CONSULT_SMS_HTTP_TIMEOUT_DEFAULT 15 /* seconds */
#define CONSULT_SMS_HTTP_TIMEOUT_MIN     1
#define CONSULT_SMS_HTTP_TIMEOUT_MAX     120
#define CONSULT_SMS_HTTP_URL_MAX         1024 /* bytes of sms_url */
#define CONSULT_SMS_HTTP_HEADER_MAX      1024 /* bytes of the auth header line */
#define CONSULT_SMS_HTTP_SENDER_MAX      32   /* bytes of {{sender}} */
#define CONSULT_SMS_HTTP_BODY_MAX        4096 /* response bytes kept (then dropped) */
#define CONSULT_SMS_HTTP_REQ_MAX         8192 /* rendered request body */

typedef enum consult_sms_method {
	CONSULT_SMS_POST = 0,
	CONSULT_SMS_GET = 1,
} consult_sms_method;

typedef enum consult_sms_format {
	CONSULT_SMS_JSON = 0,
	CONSULT_SMS_FORM = 1,
} consult_sms_format;

typedef struct consult_sms_http_cfg {
	const char *url; /* http:// or https:// */
	consult_sms_method method;
	const char *auth_header; /* optional, "Authorization: Bearer ..." */
	consult_sms_format format;
	const char *body;    /* template, e.g. {"to":"{{to}}","text":"{{text}}"} */
	const char *sender;  /* optional, {{sender}} */
	long timeout_s;      /* CONSULT_SMS_HTTP_TIMEOUT_MIN..MAX */
	const char *ca_file; /* optional PEM bundle */
} consult_sms_http_cfg;

/* "POST"/"GET" and "json"/"form" (case-sensitive); false if unknown. The
 * parsers of the keys sms_method and sms_body_format. */
bool consult_sms_method_parse(const char *s, consult_sms_method *out);
bool consult_sms_format_parse(const char *s, consult_sms_format *out);

/* The one check of the SMS gateway configuration, run by the plugin's
 * configuration loader and again before every send: URL http(s) with a
 * host, no spaces or control characters, at most CONSULT_SMS_HTTP_URL_MAX;
 * body present with only known placeholders (unknown name in bad); GET only
 * with form; auth header "Name: value" on one line; sender short clean
 * text; timeout in CONSULT_SMS_HTTP_TIMEOUT_MIN..MAX. *field (may be NULL)
 * names the key ("sms_url", "sms_body", "sms_method", "sms_body_format",
 * "sms_auth_header", "sms_sender", "sms_timeout_seconds", "sms_ca_file"). */
consult_err consult_sms_http_check(
        const consult_sms_http_cfg *cfg, const char **field, char bad[CONSULT_TPL_NAME_MAX + 1]);

consult_delivery consult_sms_http_send(
        const consult_sms_http_cfg *cfg, const char *to, const char *text, consult_send_result *r);

#endif
