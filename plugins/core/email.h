/* email.h - validate an e-mail address before anything is sent to it.
 *
 * Contract: pure, no allocation. Accepts the practical subset of RFC 5321
 * "Mailbox" that is safe to put into a header and an SMTP command
 * unchanged: local@domain, local part a dot-atom of RFC 5322 atext
 * (A-Z a-z 0-9 ! # $ % & ' * + - / = ? ^ _ ` { | } ~, dots not first, not
 * last, not doubled; no quoted strings, so no '"', no spaces, no '\\'),
 * domain a DNS name of at least two labels of [A-Za-z0-9-] (1..63 each, no
 * hyphen first or last, no trailing dot, no address literals, top label
 * not all digits). Limits: local part 64, domain 255, whole address 254
 * octets. ASCII only (no SMTPUTF8). The input is not trimmed.
 * Errors: CONSULT_ERR_MISSING_FIELD (NULL), CONSULT_ERR_TOO_LONG (over 254
 * octets), CONSULT_ERR_INVALID_UTF8 (any control character, CR/LF: header
 * injection), CONSULT_ERR_INVALID_FIELD (anything else).
 */
#ifndef CONSULT_EMAIL_H
#define CONSULT_EMAIL_H

#include <stdbool.h>
#include "errors.h"
#include "limits.h"

#define CONSULT_EMAIL_MAX        CONSULT_MAX_EMAIL
#define CONSULT_EMAIL_LOCAL_MAX  64
#define CONSULT_EMAIL_DOMAIN_MAX 255

consult_err consult_email_check(const char *addr);

/* The domain rule above alone (also used for Message-ID domains). */
bool consult_email_domain_ok(const char *domain);

#endif
