/* appointments.c - reception's requests on appointments: list, create
 * (with the booked name and note, contact data, consent and invitations),
 * cancel, resend, erase.
 *
 * Contract: called under glue.lock by the dispatch table (staff handles of
 * the appointment's practice only). create stores the appointment with the
 * patient's name and note as booked (trimmed of outer spaces), the
 * contact row (E.164 phone, e-mail, consent time and staff per channel,
 * the access code sealed with a key derived from code_secret) and the
 * outbox rows (invite per consented channel, reminder) in ONE commit, then
 * wakes the outbox worker; a refused field changes nothing. A channel
 * needs its contact, its consent tick and a configured sender. cancel
 * drops queued invitations and queues a cancel notice on every channel
 * whose invitation went out. erase ends a live visit of the appointment
 * and deletes it with everything tied to it. Logs carry ids and counts
 * only (never a name or a note); replies carry contact data only as hints
 * ("+4917…78").
 */
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <janus/debug.h>
#include "core/code.h"
#include "core/phone.h"
#include "core/seal.h"
#include "glue.h"
#include "snapshot.h"

#define DAY           (24 * 3600)
#define SEND_AT_SLACK 60

/* --- rows for reception --- */

static json_t *full_name(const char *first, const char *last)
{
	if (first == NULL || last == NULL)
		return json_null();
	char *name = g_strdup_printf("%s %s", first, last);
	json_t *j = json_string(name);
	g_free(name);
	return j;
}

/* "+4917…78": enough for reception to recognise the number. */
static json_t *phone_hint(const char *p)
{
	size_t n = p ? strlen(p) : 0;
	if (n < 8)
		return json_null();
	char *h = g_strdup_printf("%.5s…%s", p, p + n - 2);
	json_t *j = json_string(h);
	g_free(h);
	return j;
}

/* "e…@example.org" */
static json_t *email_hint(const char *e)
{
	const char *at = e ? strchr(e, '@') : NULL;
	if (at == NULL || at == e)
		return json_null();
	char *h = g_strdup_printf("%c…%s", e[0], at);
	json_t *j = json_string(h);
	g_free(h);
	return j;
}

json_t *glue_delivery_json(const consult_outbox_msg *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "delivery_id", json_integer(m->id));
	json_object_set_new(o, "appointment_id", json_integer(m->appointment_id));
	json_object_set_new(o, "channel", json_string(consult_channel_name(m->channel)));
	json_object_set_new(
	        o, "kind", json_string(consult_msg_kind_name(m->kind) ? consult_msg_kind_name(m->kind) : ""));
	json_object_set_new(o, "status", json_string(consult_outbox_status_name(m->status)));
	json_object_set_new(o, "attempts", json_integer(m->attempts));
	json_object_set_new(o, "due_at", json_integer(m->next_at ? m->next_at : m->due_at));
	json_object_set_new(o, "sent_at", m->sent_at ? json_integer(m->sent_at) : json_null());
	json_object_set_new(o, "error", m->error ? json_string(m->error) : json_null());
	return o;
}

static void add_appointment(const consult_appointment *a, void *ud)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "doctor_id", a->doctor_id > 0 ? json_integer(a->doctor_id) : json_null());
	json_object_set_new(o, "doctor_name", a->doctor_name ? json_string(a->doctor_name) : json_null());
	json_object_set_new(o, "starts_at", json_integer(a->starts_at));
	json_object_set_new(o, "valid_from", json_integer(a->valid_from));
	json_object_set_new(o, "valid_until", json_integer(a->valid_until));
	json_object_set_new(o, "status", json_string(consult_appt_status_name(a->status)));
	json_object_set_new(o, "end_reason",
	        a->end_reason != CONSULT_END_NONE ? json_string(consult_end_reason_name(a->end_reason)) : json_null());
	json_object_set_new(o, "patient", full_name(a->patient_first, a->patient_last));
	json_object_set_new(o, "booked_name", a->booked_name ? json_string(a->booked_name) : json_null());
	json_object_set_new(o, "note", a->note ? json_string(a->note) : json_null());
	json_object_set_new(o, "deliveries", json_array());
	json_array_append_new(ud, o);
}

/* Appends one outbox row to its appointment's "deliveries" (rows come in
 * the order of the appointment list). */
typedef struct {
	json_t *list;
	size_t at;
} rows_cursor;

static void add_delivery(const consult_outbox_msg *m, void *ud)
{
	rows_cursor *rc = ud;
	size_t n = json_array_size(rc->list);
	for (size_t i = 0; i < n; i++) {
		size_t k = (rc->at + i) % n;
		json_t *row = json_array_get(rc->list, k);
		if (json_integer_value(json_object_get(row, "id")) == m->appointment_id) {
			json_array_append_new(json_object_get(row, "deliveries"), glue_delivery_json(m));
			rc->at = k;
			return;
		}
	}
}

/* The contact fields of one row (ct NULL: the appointment has no contact row). */
static void set_contact_fields(json_t *row, const consult_contact *ct)
{
	json_object_set_new(row, "phone_hint", phone_hint(ct ? ct->phone : NULL));
	json_object_set_new(row, "email_hint", email_hint(ct ? ct->email : NULL));
	json_object_set_new(row, "consent_sms", json_boolean(ct && ct->consent_sms_at != 0));
	json_object_set_new(row, "consent_email", json_boolean(ct && ct->consent_email_at != 0));
	json_object_set_new(row, "contact_wiped", json_boolean(ct && ct->wiped_at != 0));
}

/* Sets the contact fields of its appointment's row (contact rows come in
 * the order of the appointment list, like the deliveries). */
static void add_contact(const consult_contact *ct, void *ud)
{
	rows_cursor *rc = ud;
	size_t n = json_array_size(rc->list);
	for (size_t i = 0; i < n; i++) {
		size_t k = (rc->at + i) % n;
		json_t *row = json_array_get(rc->list, k);
		if (json_integer_value(json_object_get(row, "id")) == ct->appointment_id) {
			set_contact_fields(row, ct);
			rc->at = k;
			return;
		}
	}
}

/* Every row's contact fields in one store call: rows without a contact
 * row get the empty ones. */
static consult_err add_contacts(glue_ctx *c, json_t *list, int64_t from, int64_t to)
{
	size_t i;
	json_t *row;
	json_array_foreach(list, i, row)
	{
		set_contact_fields(row, NULL);
	}
	rows_cursor rc = { list, 0 };
	return consult_store_contacts_range(glue_store(), c->s->practice_id, from, to, add_contact, &rc) == CONSULT_OK
	        ? CONSULT_OK
	        : CONSULT_ERR_INTERNAL;
}

consult_err glue_h_list_appointments(glue_ctx *c)
{
	int64_t from = c->now - 12 * 3600, to = c->now + 36 * 3600;
	if (c->req->u.list_appointments.has_range) {
		from = c->req->u.list_appointments.from;
		to = c->req->u.list_appointments.to;
		if (to <= from || to - from > 31 * DAY) {
			c->field = "to";
			return CONSULT_ERR_INVALID_FIELD;
		}
	}
	json_t *list = json_array();
	rows_cursor rc = { list, 0 };
	if (consult_store_list_appointments(glue_store(), c->s->practice_id, from, to, add_appointment, list) !=
	                CONSULT_OK ||
	        consult_outbox_list_range(glue_store(), c->s->practice_id, from, to, add_delivery, &rc) != CONSULT_OK ||
	        add_contacts(c, list, from, to) != CONSULT_OK) {
		json_decref(list);
		return CONSULT_ERR_INTERNAL;
	}
	json_object_set_new(c->reply, "appointments", list);
	return CONSULT_OK;
}

/* --- create --- */

/* NOT_FOUND unless doctor_id is an enabled doctor of the practice. */
static consult_err check_doctor(int64_t practice_id, int64_t doctor_id)
{
	consult_err e;
	const glue_snap_staff *st = glue_snapshot_staff(practice_id, doctor_id, &e);
	if (st && (st->disabled || st->role != CONSULT_ROLE_DOCTOR))
		e = CONSULT_ERR_NOT_FOUND;
	return e == CONSULT_OK || e == CONSULT_ERR_NOT_FOUND ? e : CONSULT_ERR_INTERNAL;
}

/* One channel's contact rules: contact without consent, consent without
 * contact, no sender configured. */
static consult_err check_channel(glue_ctx *c, bool has_contact, bool consent, bool configured,
        const char *contact_field, const char *consent_field)
{
	if (has_contact && !consent) {
		c->field = consent_field;
		return CONSULT_ERR_CONSENT_REQUIRED;
	}
	if (consent && !has_contact) {
		c->field = contact_field;
		return CONSULT_ERR_MISSING_FIELD;
	}
	if (consent && !configured) {
		c->field = contact_field;
		return CONSULT_ERR_CHANNEL_UNAVAILABLE;
	}
	return CONSULT_OK;
}

typedef struct {
	char phone[CONSULT_PHONE_E164_LEN];
	bool sms, email;
	int64_t send_at;
} invite_plan;

static consult_err plan_invites(glue_ctx *c, int64_t starts_at, invite_plan *pl)
{
	const consult_request *q = c->req;
#define r (&q->u.create_appointment)
	memset(pl, 0, sizeof(*pl));
	if (r->phone) {
		consult_err e = consult_phone_normalise(r->phone, glue.cfg.default_country, pl->phone);
		if (e != CONSULT_OK) {
			c->field = "phone";
			return e;
		}
	}
	consult_err e =
	        check_channel(c, r->phone != NULL, r->consent_sms, glue.cfg.sms_url != NULL, "phone", "consent_sms");
	if (e == CONSULT_OK)
		e = check_channel(
		        c, r->email != NULL, r->consent_email, glue.cfg.smtp_url != NULL, "email", "consent_email");
	if (e != CONSULT_OK)
		return e;
	pl->sms = r->consent_sms;
	pl->email = r->consent_email;
	pl->send_at = r->has_send_at ? r->send_at : c->now;
	if (r->has_send_at && (r->send_at < c->now - SEND_AT_SLACK || r->send_at > starts_at)) {
		c->field = "send_at";
		return CONSULT_ERR_INVALID_FIELD;
	}
	if (pl->send_at < c->now)
		pl->send_at = c->now;
	return CONSULT_OK;
#undef r
}

/* Queues one message; its row id appended to ids (may be NULL). */
static consult_err queue_msg(int64_t appointment_id, consult_channel channel, consult_msg_kind kind, int64_t due_at,
        int64_t now, GArray *ids)
{
	uint8_t msgid[16];
	int64_t id = 0;
	randombytes_buf(msgid, sizeof(msgid));
	consult_err e = consult_outbox_add(glue_store(), appointment_id, channel, kind, due_at, msgid, now, &id);
	if (e == CONSULT_OK && ids)
		g_array_append_val(ids, id);
	return e;
}

/* Invitation and reminder per consented channel. */
static consult_err queue_invites(
        int64_t appointment_id, const invite_plan *pl, int64_t starts_at, int64_t now, GArray *ids)
{
	consult_channel channels[2] = { pl->email ? CONSULT_CHANNEL_EMAIL : CONSULT_CHANNEL_NONE,
		pl->sms ? CONSULT_CHANNEL_SMS : CONSULT_CHANNEL_NONE };
	int64_t remind_at = starts_at - glue.cfg.reminder_minutes * 60;
	for (int i = 0; i < 2; i++) {
		if (channels[i] == CONSULT_CHANNEL_NONE)
			continue;
		consult_err e = queue_msg(appointment_id, channels[i], CONSULT_MSG_INVITE, pl->send_at, now, ids);
		if (e == CONSULT_OK && glue.cfg.reminder_minutes > 0 && remind_at > pl->send_at && remind_at > now)
			e = queue_msg(appointment_id, channels[i], CONSULT_MSG_REMINDER, remind_at, now, ids);
		if (e != CONSULT_OK)
			return e;
	}
	return CONSULT_OK;
}

static consult_err store_contact(int64_t appointment_id, const invite_plan *pl, const char *email,
        const char *code_show, int64_t staff_id, int64_t now)
{
	uint8_t nonce[CONSULT_SEAL_NONCE_LEN], box[CONSULT_SEAL_BOX_MAX];
	size_t box_len = 0;
	randombytes_buf(nonce, sizeof(nonce));
	if (consult_seal(glue.cfg.code_secret, nonce, code_show, box, &box_len) != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	consult_contact ct = {
		.appointment_id = appointment_id,
		.phone = pl->sms ? (char *)pl->phone : NULL,
		.email = pl->email ? (char *)email : NULL,
		.consent_sms_at = pl->sms ? now : 0,
		.consent_sms_by = pl->sms ? staff_id : 0,
		.consent_email_at = pl->email ? now : 0,
		.consent_email_by = pl->email ? staff_id : 0,
		.code_box = box,
		.code_box_len = box_len,
	};
	consult_err e = consult_store_set_contact(glue_store(), &ct);
	sodium_memzero(box, sizeof(box));
	return e;
}

static void reply_deliveries(json_t *reply, GArray *ids)
{
	json_t *arr = json_array();
	for (guint i = 0; i < ids->len; i++) {
		consult_outbox_msg m;
		memset(&m, 0, sizeof(m));
		if (consult_outbox_by_id(glue_store(), g_array_index(ids, int64_t, i), &m) == CONSULT_OK)
			json_array_append_new(arr, glue_delivery_json(&m));
		consult_outbox_msg_clear(&m);
	}
	json_object_set_new(reply, "deliveries", arr);
}

/* The text without outer spaces; NULL for NULL (the parser refused text
 * that is only spaces). */
static char *trim_dup(const char *s)
{
	return s ? g_strstrip(g_strdup(s)) : NULL;
}

/* Everything of a new appointment in one commit. Only the appointment row
 * (no booked name, note, contact or invitation): one statement, atomic on
 * its own, without the transaction's round trips. */
static consult_err create_stored(glue_ctx *c, const consult_practice *pr, int64_t doctor_id, int64_t starts_at,
        const invite_plan *pl, const char *booked_name, const char *note, const char *show,
        const uint8_t hash[CONSULT_CODE_HASH_LEN], int64_t *id, GArray *ids)
{
	int64_t vf = starts_at - glue.cfg.join_before_minutes * 60, vu = starts_at + glue.cfg.join_after_minutes * 60;
	bool tx = booked_name || note || pl->sms || pl->email;
	if (tx && consult_store_begin(glue_store()) != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	consult_err e = consult_store_add_appointment(
	        glue_store(), pr->id, doctor_id, starts_at, vf, vu, hash, c->s->staff_id, c->now, id);
	if (e == CONSULT_OK && (booked_name || note))
		e = consult_store_set_appointment_booking(glue_store(), *id, booked_name, note);
	if (e == CONSULT_OK && (pl->sms || pl->email))
		e = store_contact(*id, pl, c->req->u.create_appointment.email, show, c->s->staff_id, c->now);
	if (e == CONSULT_OK)
		e = queue_invites(*id, pl, starts_at, c->now, ids);
	if (tx && e == CONSULT_OK)
		e = consult_store_commit(glue_store());
	else if (tx)
		(void)consult_store_rollback(glue_store());
	if (e != CONSULT_OK) {
		JANUS_LOG(LOG_ERR, "[consult] store: appointment not created (%s)\n",
		        consult_store_last_error(glue_store()));
		return CONSULT_ERR_INTERNAL;
	}
	json_object_set_new(c->reply, "valid_from", json_integer(vf));
	json_object_set_new(c->reply, "valid_until", json_integer(vu));
	return CONSULT_OK;
}

consult_err glue_h_create_appointment(glue_ctx *c)
{
	int64_t doctor_id = c->req->u.create_appointment.doctor_id;
	int64_t starts_at = c->req->u.create_appointment.starts_at;
	if (starts_at < c->now - 365 * DAY || starts_at > c->now + 2 * 365 * DAY) {
		c->field = "starts_at";
		return CONSULT_ERR_INVALID_FIELD;
	}
	consult_err e = doctor_id > 0 ? check_doctor(c->s->practice_id, doctor_id) : CONSULT_OK;
	if (e != CONSULT_OK) {
		c->field = "doctor_id";
		return e;
	}
	invite_plan pl;
	e = plan_invites(c, starts_at, &pl);
	if (e != CONSULT_OK)
		return e;
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	const glue_snapshot *sn = glue_snapshot_get(c->s->practice_id, NULL);
	if (sn == NULL)
		return CONSULT_ERR_INTERNAL;
	glue_snapshot_copy_practice(sn, &pr);
	uint8_t rnd[CONSULT_CODE_RANDOM], hash[CONSULT_CODE_HASH_LEN];
	char show[CONSULT_CODE_SHOW_LEN], norm[CONSULT_CODE_NORM_LEN];
	randombytes_buf(rnd, sizeof(rnd));
	consult_code_generate(rnd, show);
	if (!consult_code_normalise(show, norm)) {
		consult_practice_clear(&pr);
		return CONSULT_ERR_INTERNAL;
	}
	consult_code_hash(glue.cfg.code_secret, pr.id, norm, hash);
	int64_t id = 0;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	char *booked = trim_dup(c->req->u.create_appointment.patient_name);
	char *note = trim_dup(c->req->u.create_appointment.note);
	e = create_stored(c, &pr, doctor_id > 0 ? doctor_id : 0, starts_at, &pl, booked, note, show, hash, &id, ids);
	if (e == CONSULT_OK) {
		char *link = g_strdup_printf("%s/patient.html?p=%s#%s", glue.cfg.public_url, pr.slug, show);
		json_object_set_new(c->reply, "appointment_id", json_integer(id));
		json_object_set_new(c->reply, "code", json_string(show));
		json_object_set_new(c->reply, "link", json_string(link));
		json_object_set_new(c->reply, "starts_at", json_integer(starts_at));
		json_object_set_new(c->reply, "phone", pl.sms ? json_string(pl.phone) : json_null());
		json_object_set_new(c->reply, "booked_name", booked ? json_string(booked) : json_null());
		json_object_set_new(c->reply, "note", note ? json_string(note) : json_null());
		reply_deliveries(c->reply, ids);
		g_free(link);
		glue_practice *p = glue_practice_get(pr.id);
		if (p)
			glue_push_appointment(p, id, "booked", NULL, NULL, booked);
		if (ids->len > 0)
			glue_outbox_wake();
		JANUS_LOG(LOG_VERB, "[consult] appointment %" G_GINT64_FORMAT " created, %u messages queued\n", id,
		        ids->len);
	}
	g_array_free(ids, TRUE);
	g_free(booked);
	g_free(note);
	sodium_memzero(show, sizeof(show));
	sodium_memzero(norm, sizeof(norm));
	sodium_memzero(&pl, sizeof(pl));
	consult_practice_clear(&pr);
	return e;
}

/* --- cancel, resend, erase --- */

typedef struct {
	bool sent[2];
} sent_channels; /* [0] email, [1] sms */

static void note_sent_invite(const consult_outbox_msg *m, void *ud)
{
	sent_channels *sc = ud;
	if (m->status == CONSULT_OUTBOX_SENT && m->kind != CONSULT_MSG_CANCEL)
		sc->sent[m->channel == CONSULT_CHANNEL_SMS] = true;
}

/* Drops pending invitations; a cancel notice where one went out. */
static consult_err notify_cancel(int64_t appointment_id, int64_t now, GArray *ids)
{
	sent_channels sc = { { false, false } };
	if (consult_store_begin(glue_store()) != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	consult_err e = consult_outbox_drop_pending(glue_store(), appointment_id, now, NULL);
	if (e == CONSULT_OK)
		e = consult_outbox_list(glue_store(), appointment_id, note_sent_invite, &sc);
	if (e == CONSULT_OK && sc.sent[0] && glue.cfg.smtp_url)
		e = queue_msg(appointment_id, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_CANCEL, now, now, ids);
	if (e == CONSULT_OK && sc.sent[1] && glue.cfg.sms_url)
		e = queue_msg(appointment_id, CONSULT_CHANNEL_SMS, CONSULT_MSG_CANCEL, now, now, ids);
	if (e == CONSULT_OK)
		return consult_store_commit(glue_store());
	(void)consult_store_rollback(glue_store());
	return e;
}

consult_err glue_h_cancel_appointment(glue_ctx *c)
{
	int64_t id = c->req->u.cancel_appointment.appointment_id;
	consult_err e = consult_store_cancel_appointment(glue_store(), c->s->practice_id, id, c->now);
	if (e != CONSULT_OK)
		return (e == CONSULT_ERR_NOT_FOUND || e == CONSULT_ERR_WRONG_STATE) ? e : CONSULT_ERR_INTERNAL;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (notify_cancel(id, c->now, ids) != CONSULT_OK)
		JANUS_LOG(LOG_ERR,
		        "[consult] appointment %" G_GINT64_FORMAT
		        " cancelled, but the patient's notice was not queued\n",
		        id);
	json_object_set_new(c->reply, "notified", json_integer(ids->len));
	if (ids->len > 0)
		glue_outbox_wake();
	g_array_free(ids, TRUE);
	glue_practice *p = glue_practice_get(c->s->practice_id);
	consult_visit *v = p ? consult_room_visit_of_appointment(p->room, id) : NULL;
	if (v) {
		e = glue_visit_apply(p, v->id, CONSULT_EV_CANCELLED, NULL, NULL, c->now);
		if (e != CONSULT_OK)
			JANUS_LOG(LOG_ERR,
			        "[consult] appointment %" G_GINT64_FORMAT " cancelled but its visit not ended (%s)\n",
			        id, consult_err_name(e));
	} else if (p) {
		consult_appointment a;
		memset(&a, 0, sizeof(a));
		(void)consult_store_appointment_by_id(glue_store(), id, &a); /* the booked name, if readable */
		glue_push_appointment(p, id, "cancelled", NULL, NULL, a.booked_name);
		consult_appointment_clear(&a);
	}
	return CONSULT_OK;
}

consult_err glue_h_resend(glue_ctx *c)
{
	int64_t id = c->req->u.resend.appointment_id;
	bool sms = c->req->u.resend.channel == CONSULT_CHANNEL_SMS;
	consult_appointment a;
	consult_contact ct;
	memset(&a, 0, sizeof(a));
	memset(&ct, 0, sizeof(ct));
	consult_err e = consult_store_appointment_by_id(glue_store(), id, &a);
	if (e == CONSULT_OK && a.practice_id != c->s->practice_id)
		e = CONSULT_ERR_NOT_FOUND;
	if (e == CONSULT_OK && (a.cancelled_at != 0 || c->now >= a.valid_until))
		e = CONSULT_ERR_WRONG_STATE;
	if (e == CONSULT_OK) {
		e = consult_store_contact(glue_store(), id, &ct);
		bool usable = e == CONSULT_OK && ct.code_box != NULL &&
		        (sms ? ct.phone && ct.consent_sms_at : ct.email && ct.consent_email_at);
		if (e == CONSULT_ERR_NOT_FOUND || (e == CONSULT_OK && !usable) ||
		        (sms ? !glue.cfg.sms_url : !glue.cfg.smtp_url))
			e = CONSULT_ERR_CHANNEL_UNAVAILABLE;
	}
	int64_t row = 0;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (e == CONSULT_OK) {
		e = queue_msg(
		        id, sms ? CONSULT_CHANNEL_SMS : CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, c->now, c->now, ids);
		if (e == CONSULT_OK) {
			row = g_array_index(ids, int64_t, 0);
			json_object_set_new(c->reply, "delivery_id", json_integer(row));
			glue_push_delivery(c->s->practice_id, row);
			glue_outbox_wake();
		} else {
			e = CONSULT_ERR_INTERNAL;
		}
	}
	if (e == CONSULT_ERR_CHANNEL_UNAVAILABLE)
		c->field = "channel";
	g_array_free(ids, TRUE);
	consult_contact_clear(&ct);
	consult_appointment_clear(&a);
	return e == CONSULT_OK || e == CONSULT_ERR_NOT_FOUND || e == CONSULT_ERR_WRONG_STATE ||
	                e == CONSULT_ERR_CHANNEL_UNAVAILABLE
	        ? e
	        : CONSULT_ERR_INTERNAL;
}

consult_err glue_h_erase_appointment(glue_ctx *c)
{
	int64_t id = c->req->u.erase_appointment.appointment_id;
	consult_appointment a;
	memset(&a, 0, sizeof(a));
	consult_err e = consult_store_appointment_by_id(glue_store(), id, &a);
	bool mine = e == CONSULT_OK && a.practice_id == c->s->practice_id;
	consult_appointment_clear(&a);
	if (e == CONSULT_ERR_NOT_FOUND || (e == CONSULT_OK && !mine))
		return CONSULT_ERR_NOT_FOUND;
	if (e != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	glue_practice *p = glue_practice_get(c->s->practice_id);
	consult_visit *v = p ? consult_room_visit_of_appointment(p->room, id) : NULL;
	if (v) {
		e = glue_visit_apply(p, v->id, CONSULT_EV_CANCELLED, NULL, NULL, c->now);
		if (e != CONSULT_OK)
			return CONSULT_ERR_INTERNAL;
	}
	consult_purge_counts n;
	e = consult_store_erase_appointment(glue_store(), c->s->practice_id, id, &n);
	if (e != CONSULT_OK)
		return e == CONSULT_ERR_NOT_FOUND ? e : CONSULT_ERR_INTERNAL;
	if (p)
		glue_push_appointment(p, id, "erased", NULL, NULL, NULL);
	JANUS_LOG(LOG_INFO,
	        "[consult] appointment %" G_GINT64_FORMAT " erased on request: %" G_GINT64_FORMAT
	        " visits, %" G_GINT64_FORMAT " deliveries\n",
	        id, n.visits, n.deliveries);
	return CONSULT_OK;
}
