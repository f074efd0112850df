/* result.h - the outcome of one delivery attempt (SMTP or SMS gateway).
 *
 * Contract: plain data, no personal data: `reason` is a short fixed text
 * ("smtp 550", "http 503", "timeout", "connection refused", "connection
 * dropped", "tls error", ...) fit for the outbox row's error column, the
 * reception page and the log. It never holds an address, a number, a
 * server reply text or message content.
 */
#ifndef CONSULT_DELIVER_RESULT_H
#define CONSULT_DELIVER_RESULT_H

#include "core/backoff.h"

#define CONSULT_SEND_REASON_LEN 48

typedef struct consult_send_result {
	int code;                             /* SMTP reply code / HTTP status; 0 if none was received */
	consult_delivery cls;                 /* ok, temporary, permanent */
	char reason[CONSULT_SEND_REASON_LEN]; /* "" when ok */
} consult_send_result;

/* Internal (smtp.c, sms_http.c): fills r from libcurl's result and the
 * reply code, with classify() the protocol's classification and `proto`
 * "smtp"/"http". A transfer libcurl did not complete gets a fixed reason:
 * "timeout", "connection refused", "host not found", "tls error",
 * "starttls unavailable", "connection dropped", "bad response", "internal
 * error", else "transport error". */
void consult_deliver_result(
        consult_send_result *r, int curl_code, long reply_code, consult_delivery (*classify)(int), const char *proto);

#endif
