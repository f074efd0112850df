/* compose.h - render one outbox message (invite, reminder, cancel) from the
 * practice's templates and the appointment's values: the parts of an
 * e-mail (subject, text, HTML, .ics) or the text of an SMS.
 *
 * Contract: pure (libc gmtime_r; no clock, no RNG, no I/O): the templates
 * are strings the caller loaded (conf/messages/<kind>.{subject,txt,html,sms}),
 * the local time offset at the appointment and the .ics DTSTAMP are inputs.
 * Placeholders (all optional in a template):
 *   practice_name, practice_phone, date ("Montag, 30. November 2026"),
 *   time ("10:30"), doctor (display name or ""), link, code,
 *   greeting ("Guten Tag Erika Muster," with the name reception booked,
 *   "Guten Tag," without one), name_greeting (the same with a name, ""
 *   without: for the SMS, where every character costs), patient_name (the
 *   booked name or "").
 * date/time are the appointment time shifted by tz_offset_min, in German.
 * Values are inserted unchanged into subject, text and SMS, and through
 * consult_html_escape() into the HTML part. Subject and SMS lose trailing
 * white space and line ends (a template file ends in a newline), the SMS
 * also leading white space (a template that starts with an empty
 * {{name_greeting}}); a subject with a line break inside is refused. The
 * SMS is analysed with consult_sms_analyse() and refused with
 * CONSULT_ERR_TOO_LONG when it needs more than
 * CONSULT_COMPOSE_SMS_MAX_PARTS parts; an SMS that is too long only
 * because of the booked name is rendered as without a name (the name is a
 * courtesy, the link must arrive). The .ics (optional) is a
 * consult_ics_build() event with the given UID and SEQUENCE, lasting
 * duration_min, STATUS:CANCELLED for the cancel kind.
 * Errors: CONSULT_ERR_MISSING_FIELD (a template, practice_name, or the link
 * of an invite/reminder is NULL; `part` names the template),
 * CONSULT_ERR_INVALID_FIELD (unknown or malformed placeholder: its name in
 * `bad`, "" if malformed; subject with a line break; offset outside
 * -1439..1439; time out of range; bad .ics input; an empty SMS),
 * CONSULT_ERR_INVALID_UTF8,
 * CONSULT_ERR_TOO_LONG (output over its bound, SMS over the parts limit),
 * CONSULT_ERR_INTERNAL (out of memory). On error nothing is left allocated.
 */
#ifndef CONSULT_COMPOSE_H
#define CONSULT_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "errors.h"
#include "mime.h"
#include "sms.h"
#include "template.h"

#define CONSULT_COMPOSE_SMS_MAX_PARTS    3
#define CONSULT_COMPOSE_SMS_MAX          1024 /* bytes of rendered SMS text */
#define CONSULT_COMPOSE_DATE_LEN         48   /* "Donnerstag, 30. September 2026" + NUL fits */
#define CONSULT_COMPOSE_TIME_LEN         6    /* "10:30" + NUL */
#define CONSULT_COMPOSE_DURATION_DEFAULT 15   /* minutes, .ics DTEND - DTSTART */

typedef enum consult_msg_kind {
	CONSULT_MSG_INVITE = 0,
	CONSULT_MSG_REMINDER = 1,
	CONSULT_MSG_CANCEL = 2,
} consult_msg_kind;

/* "invite", "reminder", "cancel" (NULL for other values). */
const char *consult_msg_kind_name(consult_msg_kind k);
/* The reverse; false if s names no kind. */
bool consult_msg_kind_parse(const char *s, consult_msg_kind *out);

/* The four template files of one kind (NUL-terminated contents). */
typedef struct consult_msg_templates {
	const char *subject;
	const char *txt;
	const char *html;
	const char *sms;
} consult_msg_templates;

typedef struct consult_msg_values {
	consult_msg_kind kind;
	const char *practice_name;  /* required */
	const char *practice_phone; /* NULL counts as "" */
	int64_t starts_at;          /* unix seconds */
	int tz_offset_min;          /* local offset at starts_at (Europe/Berlin: 60 or 120) */
	const char *doctor;         /* NULL counts as "" */
	const char *link;           /* required for invite and reminder */
	const char *code;           /* NULL counts as "" */
	const char *patient_name;   /* the name reception booked; NULL or "" = none */
} consult_msg_values;

typedef struct consult_msg_ics {
	const char *uid;             /* stable per appointment */
	int sequence;                /* 0 for the first, higher for updates/the cancellation */
	int64_t dtstamp;             /* now */
	int duration_min;            /* 1..1440; 0 means CONSULT_COMPOSE_DURATION_DEFAULT */
	const char *organizer_email; /* optional (the practice's address) */
} consult_msg_ics;

typedef struct consult_composed_mail {
	char *subject;
	char *text;
	char *html;
	char *ics; /* NULL when no .ics was asked for */
	size_t ics_len;
} consult_composed_mail;

/* Validates the four templates of a kind at load time: every one present,
 * placeholders known, subject on one line. On error *part (may be NULL) is
 * "subject", "txt", "html" or "sms" (compose_mail also "ics": bad .ics
 * input) and bad (may be NULL) the placeholder name. */
consult_err consult_compose_check(
        const consult_msg_templates *t, const char **part, char bad[CONSULT_TPL_NAME_MAX + 1]);

/* Renders the e-mail parts; ics NULL: no calendar file. out is zeroed on
 * error. Free with consult_composed_mail_free. */
consult_err consult_compose_mail(const consult_msg_templates *t, const consult_msg_values *v,
        const consult_msg_ics *ics, consult_composed_mail *out, const char **part, char bad[CONSULT_TPL_NAME_MAX + 1]);
void consult_composed_mail_free(consult_composed_mail *m);

/* Points m's subject, text, html, ics, ics_len at c's strings (c must
 * outlive m); the caller fills addresses, date, Message-ID, boundary. */
void consult_composed_mail_apply(const consult_composed_mail *c, consult_mail *m);

/* Renders the SMS text into *out (malloc'ed); *info (may be NULL) gets its
 * encoding, length and parts. */
consult_err consult_compose_sms(const consult_msg_templates *t, const consult_msg_values *v, char **out,
        consult_sms_info *info, char bad[CONSULT_TPL_NAME_MAX + 1]);

#endif
