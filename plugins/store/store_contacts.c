/* store_contacts.c - the contact rows of a practice's appointments in a
 * time range, in one query (store.h, consult_store_contacts_range).
 *
 * Contract: a read only, for the reception list, which used to read one
 * contact row per appointment (one round trip each). The rows come in the
 * order of consult_store_list_appointments (starts_at, appointment id);
 * appointments without a contact row are not reported. The sealed code
 * (code_box) is not read: the list never shows it. No logging, no values
 * in messages. The one contact row format is store_delivery.c's; this file
 * reads the same columns minus code_box.
 */
#include "store_internal.h"

enum { K_RANGE = STORE_SLOT_CONTACTS, K_END };
_Static_assert((int)K_END <= (int)STORE_SLOTS, "store_contacts.c: too many statements for its slot range");

static const char *const sql_of[K_END - STORE_SLOT_CONTACTS] = {
	[K_RANGE - STORE_SLOT_CONTACTS] =
	        "SELECT c.appointment_id, c.phone, c.email, coalesce(c.consent_sms_at, 0),"
	        " coalesce(c.consent_sms_by, 0), coalesce(c.consent_email_at, 0), coalesce(c.consent_email_by, 0),"
	        " coalesce(c.wiped_at, 0)"
	        " FROM appointment_contacts c JOIN appointments a ON a.id = c.appointment_id"
	        " WHERE a.practice_id = ?1 AND a.starts_at >= ?2 AND a.starts_at < ?3"
	        " ORDER BY a.starts_at, a.id",
};

#define C_(kind, field)                                         \
	{                                                       \
		kind, offsetof(consult_contact, field), 0, NULL \
	}
static const store_col range_cols[] = {
	C_(COL_I64, appointment_id),
	C_(COL_TEXT, phone),
	C_(COL_TEXT, email),
	C_(COL_I64, consent_sms_at),
	C_(COL_I64, consent_sms_by),
	C_(COL_I64, consent_email_at),
	C_(COL_I64, consent_email_by),
	C_(COL_I64, wiped_at),
};
#undef C_
static const store_row range_row = STORE_ROW(consult_contact, range_cols);

consult_err consult_store_contacts_range(
        consult_store *s, int64_t practice_id, int64_t from, int64_t to, consult_contact_cb cb, void *ud)
{
	stmt_use u;
	if (!store_stmt(s, K_RANGE, sql_of[K_RANGE - STORE_SLOT_CONTACTS], &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, practice_id, from, to);
	consult_contact c;
	consult_err e;
	while ((e = store_next(s, &u, &range_row, &c)) == CONSULT_OK) {
		cb(&c, ud);
		store_row_free(&range_row, &c);
	}
	return store_done(e);
}
