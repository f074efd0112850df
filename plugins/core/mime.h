/* mime.h - the complete RFC 5322 / MIME message for an invitation: the
 * bytes an SMTP client sends after DATA (before its dot-stuffing).
 *
 * Contract: pure (gmtime_r, libsodium base64; no clock, no RNG): the date,
 * the Message-ID randomness and the boundary randomness are inputs; the
 * result is malloc'ed. Structure:
 *   multipart/mixed                              (only if an .ics is given)
 *     multipart/alternative
 *       text/plain; charset=utf-8                quoted-printable
 *       text/html; charset=utf-8                 quoted-printable
 *     text/calendar; method=PUBLISH; charset=utf-8   base64,
 *       Content-Disposition: attachment; filename="termin.ics"
 * Headers: From, To, optional Reply-To, Subject, Date, Message-ID,
 * MIME-Version, Auto-Submitted: auto-generated, Content-Type. Display
 * names and subjects that are not plain ASCII words become RFC 2047
 * encoded-words (UTF-8, B encoding, <= 42 octets of text per word, one
 * word per folded line, so header lines stay <= 78 octets, except an
 * address line with a very long address). Every line
 * ends in CRLF and is <= 998 octets; bodies keep <= 76 (QP soft breaks,
 * base64 76 per line). QP also encodes a '.' or "From " at the start of a
 * line and white space before a line end. Boundaries start with "=_",
 * which can occur neither in quoted-printable nor in base64 output.
 * Any header value with CR, LF or another control character is refused and
 * nothing is built. Errors: CONSULT_ERR_MISSING_FIELD (from/to/subject/
 * text/html or the Message-ID domain NULL), CONSULT_ERR_INVALID_UTF8
 * (control characters or bad UTF-8 in a header value or body),
 * CONSULT_ERR_INVALID_FIELD (bad address, domain, file name, method,
 * date, time zone offset), CONSULT_ERR_TOO_LONG (a display name over 200,
 * subject over 998, body over CONSULT_MIME_BODY_MAX octets, or an address
 * over 254), CONSULT_ERR_INTERNAL (out of memory). On error *out is NULL.
 */
#ifndef CONSULT_MIME_H
#define CONSULT_MIME_H

#include <stddef.h>
#include <stdint.h>
#include "errors.h"

#define CONSULT_MIME_MSGID_RANDOM    16     /* bytes */
#define CONSULT_MIME_BOUNDARY_RANDOM 12     /* bytes */
#define CONSULT_MIME_BODY_MAX        262144 /* per part, octets before encoding */
#define CONSULT_MIME_NAME_MAX        200
#define CONSULT_MIME_SUBJECT_MAX     998
#define CONSULT_MIME_MSGID_LEN       (1 + 2 * CONSULT_MIME_MSGID_RANDOM + 1 + 255 + 1 + 1)
#define CONSULT_MIME_DATE_LEN        32

typedef struct consult_mail {
	const char *from_name; /* optional, e.g. practice name */
	const char *from_addr;
	const char *reply_to; /* optional address */
	const char *to_name;  /* optional */
	const char *to_addr;
	const char *subject;
	int64_t date;      /* unix seconds */
	int tz_offset_min; /* offset of the Date header, -1439..1439 */
	uint8_t msgid_random[CONSULT_MIME_MSGID_RANDOM];
	const char *msgid_domain; /* right-hand side of the Message-ID */
	uint8_t boundary_random[CONSULT_MIME_BOUNDARY_RANDOM];
	const char *text; /* plain-text body, UTF-8, LF or CRLF line ends */
	const char *html; /* HTML body, UTF-8 */
	const char *ics;  /* optional attachment bytes (consult_ics_build) */
	size_t ics_len;
	const char *ics_method;   /* NULL: CONSULT_ICS_METHOD ("PUBLISH"); [A-Z]{1,16} */
	const char *ics_filename; /* NULL: "termin.ics"; [A-Za-z0-9._-]{1,64} */
} consult_mail;

/* Builds the message. */
consult_err consult_mime_build(const consult_mail *m, char **out, size_t *out_len);

#endif
