/* store_names.c - the names of the store's enums, as the database keeps
 * them and as the wire shows them.
 *
 * Contract: consult_appt_status_name and consult_outbox_status_name are
 * the inverse of the store_parse_* functions below; every name the schema
 * allows in a state/role/channel/kind/status column parses to its enum,
 * anything else to -1. The parsers use the core's name functions, so the
 * core and the database cannot spell a value differently. Pure.
 */
#include "store_internal.h"

#include <string.h>

const char *consult_appt_status_name(consult_appt_status st)
{
	static const char *const n[CONSULT_APPT_STATUS_COUNT] = {
		[CONSULT_APPT_BOOKED] = "booked",
		[CONSULT_APPT_WAITING] = "waiting",
		[CONSULT_APPT_AWAY] = "away",
		[CONSULT_APPT_RINGING] = "ringing",
		[CONSULT_APPT_IN_CALL] = "in_call",
		[CONSULT_APPT_ENDED] = "ended",
		[CONSULT_APPT_CANCELLED] = "cancelled",
	};
	return (unsigned)st < CONSULT_APPT_STATUS_COUNT ? n[st] : "";
}

const char *consult_outbox_status_name(consult_outbox_status st)
{
	static const char *const n[CONSULT_OUTBOX_STATUS_COUNT] = {
		[CONSULT_OUTBOX_QUEUED] = "queued",
		[CONSULT_OUTBOX_SENDING] = "sending",
		[CONSULT_OUTBOX_SENT] = "sent",
		[CONSULT_OUTBOX_FAILED] = "failed",
		[CONSULT_OUTBOX_DROPPED] = "dropped",
	};
	return (unsigned)st < CONSULT_OUTBOX_STATUS_COUNT ? n[st] : "";
}

/* The value in [first, count) whose name is v, -1 if none. */
#define PARSE(v, first, count, name_of)                      \
	do {                                                 \
		for (int i_ = (first); i_ < (count); i_++) { \
			const char *n_ = name_of(i_);        \
			if (n_ && *n_ && strcmp(v, n_) == 0) \
				return i_;                   \
		}                                            \
		return -1;                                   \
	} while (0)

int store_parse_role(const char *v)
{
	PARSE(v, CONSULT_ROLE_DOCTOR, CONSULT_ROLE_RECEPTION + 1, consult_role_name);
}
int store_parse_visit_state(const char *v)
{
	PARSE(v, 0, CONSULT_VISIT_STATE_COUNT, consult_visit_state_name);
}
/* "" is NONE: the name of NONE, as a visit ended without a reason keeps it. */
int store_parse_end_reason(const char *v)
{
	if (!*v)
		return CONSULT_END_NONE;
	PARSE(v, 1, CONSULT_END_REASON_COUNT, consult_end_reason_name);
}
int store_parse_appt_status(const char *v)
{
	PARSE(v, 0, CONSULT_APPT_STATUS_COUNT, consult_appt_status_name);
}
int store_parse_channel(const char *v)
{
	PARSE(v, CONSULT_CHANNEL_EMAIL, CONSULT_CHANNEL_SMS + 1, consult_channel_name);
}
int store_parse_msg_kind(const char *v)
{
	PARSE(v, CONSULT_MSG_INVITE, CONSULT_MSG_CANCEL + 1, consult_msg_kind_name);
}
int store_parse_outbox_status(const char *v)
{
	PARSE(v, 0, CONSULT_OUTBOX_STATUS_COUNT, consult_outbox_status_name);
}
