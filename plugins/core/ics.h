/* ics.h - an iCalendar (RFC 5545) file for one appointment.
 *
 * Contract: pure (libc gmtime_r only, no clock): DTSTAMP is an argument.
 * Output: VCALENDAR with PRODID, VERSION:2.0, CALSCALE:GREGORIAN,
 * METHOD:PUBLISH and one VEVENT with UID, SEQUENCE, DTSTAMP, DTSTART and
 * DTEND in UTC ("...Z"), SUMMARY, LOCATION (the link), optional
 * DESCRIPTION and ORGANIZER, STATUS:CONFIRMED or STATUS:CANCELLED,
 * TRANSP:OPAQUE. TEXT values are escaped (\\ \; \, and line ends as \n),
 * content lines are folded at 75 octets with CRLF + space without ever
 * splitting a UTF-8 character, all lines end in CRLF.
 *
 * Why PUBLISH and not REQUEST: iTIP (RFC 5546) REQUEST requires ATTENDEE
 * (the patient's address inside the file) and makes clients offer
 * accept/decline replies that would go to the practice's mailbox; METHOD
 * CANCEL likewise requires the attendees. PUBLISH needs neither: clients
 * offer "add to calendar", and a later PUBLISH with the same UID, a higher
 * SEQUENCE and STATUS:CANCELLED updates or cancels the entry. The
 * matching MIME type is text/calendar; method=PUBLISH (CONSULT_ICS_METHOD).
 *
 * Errors: CONSULT_ERR_MISSING_FIELD (uid, summary or location NULL),
 * CONSULT_ERR_INVALID_FIELD (uid not [A-Za-z0-9@._-]{1,255}; times before
 * 1970 or after 9999; end before start; sequence < 0; bad organizer
 * address), CONSULT_ERR_INVALID_UTF8 (bad UTF-8 or control characters
 * other than line ends in a text), CONSULT_ERR_TOO_LONG (a text over
 * CONSULT_ICS_TEXT_MAX bytes), CONSULT_ERR_INTERNAL (out of memory).
 */
#ifndef CONSULT_ICS_H
#define CONSULT_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "errors.h"

#define CONSULT_ICS_METHOD   "PUBLISH"
#define CONSULT_ICS_PRODID   "-//consult//Videosprechstunde//DE"
#define CONSULT_ICS_TEXT_MAX 8192
#define CONSULT_ICS_UID_MAX  255

typedef struct consult_ics_event {
	const char *uid;            /* stable per appointment, e.g. "appt-<random>@host" */
	int64_t dtstamp;            /* now, unix seconds */
	int64_t starts_at, ends_at; /* unix seconds, ends_at >= starts_at */
	int sequence;               /* 0 first, +1 for every update/cancellation */
	bool cancelled;
	const char *summary;         /* e.g. "Videosprechstunde Praxis ..." */
	const char *location;        /* the link */
	const char *description;     /* optional, may contain line breaks */
	const char *organizer_name;  /* optional (practice) */
	const char *organizer_email; /* optional (practice), checked with consult_email_check */
} consult_ics_event;

/* Builds the file into *out (NUL-terminated, *out_len bytes). */
consult_err consult_ics_build(const consult_ics_event *ev, char **out, size_t *out_len);

#endif
