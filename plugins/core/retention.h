/* retention.h - the three-month rule: when appointment data is purged and
 * when contact data is wiped.
 *
 * Contract: pure arithmetic on unix seconds; `now` is an argument.
 * Appointments (and everything tied to them: visits, delivery log, outbox,
 * names) whose starts_at < now - retention_days * 86400 are purged;
 * contact data (phone, e-mail) of appointments whose
 * starts_at < now - contact_hours * 3600 is wiped. Configuration:
 * retention 1..90 days (default and hard maximum 90), contact 1..2160
 * hours (default 24) and never longer than the retention.
 * Errors: CONSULT_ERR_INVALID_FIELD for values out of range, a negative
 * now, or arithmetic that would leave int64.
 */
#ifndef CONSULT_RETENTION_H
#define CONSULT_RETENTION_H

#include <stdbool.h>
#include <stdint.h>
#include "errors.h"

#define CONSULT_RETENTION_DAYS_DEFAULT 90
#define CONSULT_RETENTION_DAYS_MIN     1
#define CONSULT_RETENTION_DAYS_MAX     90
#define CONSULT_CONTACT_HOURS_DEFAULT  24
#define CONSULT_CONTACT_HOURS_MIN      1
#define CONSULT_CONTACT_HOURS_MAX      2160 /* 90 days */

typedef struct consult_retention_cutoffs {
	int64_t purge_before;        /* purge appointments with starts_at < this */
	int64_t wipe_contact_before; /* wipe contact data where starts_at < this */
} consult_retention_cutoffs;

/* Checks a configuration. If bad_field is given it receives
 * "retention_days" or "contact_hours" on error. */
consult_err consult_retention_check(int64_t retention_days, int64_t contact_hours, const char **bad_field);

/* The two cutoffs for a run at `now` (out zeroed on error). */
consult_err consult_retention_cutoffs_at(
        int64_t now, int64_t retention_days, int64_t contact_hours, consult_retention_cutoffs *out);

#endif
