/* retention.c - retention cutoffs, see retention.h. */
#include <stddef.h>
#include "retention.h"

consult_err consult_retention_check(int64_t retention_days, int64_t contact_hours, const char **bad_field)
{
	if (bad_field)
		*bad_field = NULL;
	if (retention_days < CONSULT_RETENTION_DAYS_MIN || retention_days > CONSULT_RETENTION_DAYS_MAX) {
		if (bad_field)
			*bad_field = "retention_days";
		return CONSULT_ERR_INVALID_FIELD;
	}
	if (contact_hours < CONSULT_CONTACT_HOURS_MIN || contact_hours > CONSULT_CONTACT_HOURS_MAX ||
	        contact_hours > retention_days * 24) {
		if (bad_field)
			*bad_field = "contact_hours";
		return CONSULT_ERR_INVALID_FIELD;
	}
	return CONSULT_OK;
}

consult_err consult_retention_cutoffs_at(
        int64_t now, int64_t retention_days, int64_t contact_hours, consult_retention_cutoffs *out)
{
	out->purge_before = out->wipe_contact_before = 0;
	consult_err e = consult_retention_check(retention_days, contact_hours, NULL);
	if (e != CONSULT_OK)
		return e;
	if (now < 0)
		return CONSULT_ERR_INVALID_FIELD;
	/* both spans are at most 90 days and now >= 0: no overflow possible */
	out->purge_before = now - retention_days * 86400;
	out->wipe_contact_before = now - contact_hours * 3600;
	return CONSULT_OK;
}
