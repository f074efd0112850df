/* test_store_contract_outbox.c - the store contract for explicit
 * transactions, contact rows and the outbox state machine, against
 * store.h only (see test_store_contract.c).
 *
 * Contract: each test gets a new store (store_fixture.h) with two
 * practices; `now` values are made up (small integers) so every
 * time-dependent answer is predictable. A second handle on the same store
 * (peer) shows what is durable, i.e. visible to another connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h"

typedef struct fixture {
	char dir[STORE_TEST_DIR_LEN];
	char path[STORE_TEST_PATH_LEN];
	consult_store *s, *peer;
	int64_t practice, other_practice, doctor, reception, other_staff;
	int64_t appt, appt2, other_appt;
} fixture;

static void count_msg(const consult_outbox_msg *m, void *ud)
{
	(void)m;
	(*(int *)ud)++;
}

/* Outbox rows of the fixture's three appointments, as store h sees them. */
static int total_msgs(const struct fixture *f, consult_store *h);

static void msgid_of(uint8_t out[16], int seed)
{
	for (int i = 0; i < 16; i++)
		out[i] = (uint8_t)(seed * 7 + i);
}

static int64_t add_appt(fixture *f, int64_t practice, int64_t starts_at, int seed)
{
	uint8_t h[CONSULT_CODE_HASH_LEN];
	for (int i = 0; i < CONSULT_CODE_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 13 + i);
	int64_t id = 0;
	assert_int_equal(consult_store_add_appointment(
	                         f->s, practice, 0, starts_at, starts_at - 600, starts_at + 3600, h, 0, 10, &id),
	        CONSULT_OK);
	return id;
}

static int64_t add_msg(fixture *f, int64_t appt, consult_channel channel, consult_msg_kind kind, int64_t due, int seed)
{
	uint8_t m[16];
	msgid_of(m, seed);
	int64_t id = 0;
	assert_int_equal(consult_outbox_add(f->s, appt, channel, kind, due, m, 20 + seed, &id), CONSULT_OK);
	assert_true(id > 0);
	return id;
}

/* The instance of the single-instance tests; its claims last 60 s from a
 * fixed wall time, so only the claim tests see one end. */
#define ME     "inst-a"
#define T0_MS  10000000
#define END_MS (T0_MS + 60000)

static consult_outbox_claimer by(const char *instance, int64_t now, int64_t now_ms, bool leases)
{
	return (consult_outbox_claimer){
		.instance = instance, .now = now, .now_ms = now_ms, .until_ms = now_ms + 60000, .leases = leases
	};
}

static consult_err claim(consult_store *s, int64_t now, consult_outbox_msg *m)
{
	consult_outbox_claimer c = by(ME, now, T0_MS, false);
	return consult_outbox_claim_next(s, &c, m);
}

static consult_err next_due(consult_store *s, int64_t *at)
{
	consult_outbox_claimer c = by(ME, 0, T0_MS, false);
	return consult_outbox_next_due(s, &c, at);
}

static consult_err requeue(consult_store *s, int64_t now, int64_t *n)
{
	return consult_outbox_requeue_sending(s, ME, now, T0_MS, n);
}

/* the status of one outbox row, freshly read */
static void expect_status(fixture *f, int64_t id, consult_outbox_status status, int attempts)
{
	consult_outbox_msg m;
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_int_equal(m.status, status);
	assert_int_equal(m.attempts, attempts);
	consult_outbox_msg_clear(&m);
}

static int total_msgs(const fixture *f, consult_store *h)
{
	int n = 0;
	assert_int_equal(consult_outbox_list(h, f->appt, count_msg, &n), CONSULT_OK);
	assert_int_equal(consult_outbox_list(h, f->appt2, count_msg, &n), CONSULT_OK);
	assert_int_equal(consult_outbox_list(h, f->other_appt, count_msg, &n), CONSULT_OK);
	return n;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	char err[256] = "";
	f->s = store_test_open(f->dir, f->path);
	if (f->s)
		f->peer = consult_store_open(f->path, err, sizeof err);
	if (!f->s || !f->peer ||
	        consult_store_add_practice(f->s, "am-markt", "Praxis am Markt", "0721-1", 1, &f->practice) ||
	        consult_store_add_practice(f->s, "anderswo", "Praxis Anderswo", NULL, 1, &f->other_practice) ||
	        consult_store_add_staff(
	                f->s, f->practice, "dr.weber", "Dr. Weber", CONSULT_ROLE_DOCTOR, "$h1", 1, &f->doctor) ||
	        consult_store_add_staff(
	                f->s, f->practice, "empfang", "Empfang", CONSULT_ROLE_RECEPTION, "$h2", 1, &f->reception) ||
	        consult_store_add_staff(f->s, f->other_practice, "empfang2", "Empfang 2", CONSULT_ROLE_RECEPTION, "$h3",
	                1, &f->other_staff)) {
		fprintf(stderr, "setup failed: %s\n", f->s ? consult_store_last_error(f->s) : err);
		consult_store_close(f->peer);
		if (f->s)
			store_test_remove(f->dir, f->path, f->s);
		free(f);
		return -1;
	}
	*state = f;
	f->appt = add_appt(f, f->practice, 10000, 1);
	f->appt2 = add_appt(f, f->practice, 20000, 2);
	f->other_appt = add_appt(f, f->other_practice, 15000, 3);
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	consult_store_close(f->peer);
	store_test_remove(f->dir, f->path, f->s);
	free(f);
	return 0;
}

/* --- transactions --- */

static void test_transactions(void **state)
{
	fixture *f = *state;
	int64_t id = 0;
	assert_false(consult_store_in_transaction(f->s));
	assert_int_equal(consult_store_commit(f->s), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_store_rollback(f->s), CONSULT_ERR_WRONG_STATE);

	/* rollback undoes every call since begin */
	assert_int_equal(consult_store_begin(f->s), CONSULT_OK);
	assert_true(consult_store_in_transaction(f->s));
	assert_int_equal(consult_store_begin(f->s), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_store_add_practice(f->s, "neu", "Neu", NULL, 5, &id), CONSULT_OK);
	int64_t m1 = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 1);
	consult_outbox_msg m;
	assert_int_equal(claim(f->s, 100, &m), CONSULT_OK); /* savepoint inside */
	assert_int_equal(m.id, m1);
	consult_outbox_msg_clear(&m);
	assert_true(consult_store_in_transaction(f->s));
	assert_int_equal(consult_store_rollback(f->s), CONSULT_OK);
	assert_false(consult_store_in_transaction(f->s));
	consult_practice p;
	assert_int_equal(consult_store_practice_by_slug(f->s, "neu", &p), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_by_id(f->s, m1, &m), CONSULT_ERR_NOT_FOUND);

	/* nothing is visible to another connection before commit */
	assert_int_equal(consult_store_begin(f->s), CONSULT_OK);
	assert_int_equal(consult_store_add_practice(f->s, "neu", "Neu", NULL, 5, &id), CONSULT_OK);
	m1 = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 2);
	/* a failing call inside keeps the transaction and the earlier changes */
	uint8_t mid[16];
	msgid_of(mid, 2);
	assert_int_equal(consult_outbox_add(f->s, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, mid, 5, NULL),
	        CONSULT_ERR_CONFLICT);
	msgid_of(mid, 3);
	assert_int_equal(consult_outbox_add(f->s, 999999, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, mid, 5, NULL),
	        CONSULT_ERR_NOT_FOUND);
	assert_true(consult_store_in_transaction(f->s));
	assert_int_equal(consult_store_practice_by_slug(f->peer, "neu", &p), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(total_msgs(f, f->peer), 0);
	assert_int_equal(consult_store_commit(f->s), CONSULT_OK);
	assert_false(consult_store_in_transaction(f->s));
	assert_int_equal(consult_store_practice_by_slug(f->peer, "neu", &p), CONSULT_OK);
	consult_practice_clear(&p);
	assert_int_equal(total_msgs(f, f->peer), 1);
	expect_status(f, m1, CONSULT_OUTBOX_QUEUED, 0);
}

/* --- contacts --- */

static void test_contact(void **state)
{
	fixture *f = *state;
	consult_contact c, out;
	assert_int_equal(consult_store_contact(f->s, f->appt, &out), CONSULT_ERR_NOT_FOUND);
	assert_null(out.phone);

	uint8_t box[40];
	for (size_t i = 0; i < sizeof box; i++)
		box[i] = (uint8_t)(0xA0 + i);
	memset(&c, 0, sizeof c);
	c.appointment_id = f->appt;
	c.phone = "+491711234578";
	c.email = "erika@example.org";
	c.consent_sms_at = 50;
	c.consent_sms_by = f->reception;
	c.consent_email_at = 51;
	c.consent_email_by = f->doctor;
	c.code_box = box;
	c.code_box_len = sizeof box;
	assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_OK);
	assert_int_equal(consult_store_contact(f->s, f->appt, &out), CONSULT_OK);
	assert_int_equal(out.appointment_id, f->appt);
	assert_string_equal(out.phone, "+491711234578");
	assert_string_equal(out.email, "erika@example.org");
	assert_int_equal(out.consent_sms_at, 50);
	assert_int_equal(out.consent_sms_by, f->reception);
	assert_int_equal(out.consent_email_at, 51);
	assert_int_equal(out.consent_email_by, f->doctor);
	assert_int_equal(out.wiped_at, 0);
	assert_int_equal(out.code_box_len, sizeof box);
	assert_memory_equal(out.code_box, box, sizeof box);
	consult_contact_clear(&out);
	assert_null(out.code_box);
	assert_int_equal(out.code_box_len, 0);

	/* replace: e-mail only, no SMS consent, no code box */
	memset(&c, 0, sizeof c);
	c.appointment_id = f->appt;
	c.email = "other@example.org";
	c.consent_email_at = 60;
	c.consent_email_by = f->reception;
	assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_OK);
	assert_int_equal(consult_store_contact(f->s, f->appt, &out), CONSULT_OK);
	assert_null(out.phone);
	assert_string_equal(out.email, "other@example.org");
	assert_int_equal(out.consent_sms_at, 0);
	assert_int_equal(out.consent_sms_by, 0);
	assert_int_equal(out.consent_email_at, 60);
	assert_null(out.code_box);
	consult_contact_clear(&out);

	/* unknown appointment or staff member */
	c.appointment_id = 999999;
	assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_ERR_NOT_FOUND);
	c.appointment_id = f->appt2;
	c.consent_email_by = 999999;
	assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_contact(f->s, f->appt2, &out), CONSULT_ERR_NOT_FOUND);
	consult_contact_clear(NULL);
}

/* --- outbox --- */

static void test_outbox_add(void **state)
{
	fixture *f = *state;
	int64_t id = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 500, 1);
	consult_outbox_msg m;
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_int_equal(m.id, id);
	assert_int_equal(m.appointment_id, f->appt);
	assert_int_equal(m.practice_id, f->practice);
	assert_int_equal(m.channel, CONSULT_CHANNEL_EMAIL);
	assert_int_equal(m.kind, CONSULT_MSG_INVITE);
	assert_int_equal(m.status, CONSULT_OUTBOX_QUEUED);
	assert_null(m.error);
	assert_int_equal(m.attempts, 0);
	assert_int_equal(m.due_at, 500);
	assert_int_equal(m.next_at, 500);
	assert_int_equal(m.sent_at, 0);
	assert_int_equal(m.created_at, 21);
	assert_int_equal(m.updated_at, 21);
	uint8_t want[16];
	msgid_of(want, 1);
	assert_memory_equal(m.msgid, want, 16);
	consult_outbox_msg_clear(&m);
	assert_int_equal(m.status, 0);
	assert_null(m.error);

	uint8_t mid[16];
	msgid_of(mid, 9);
	assert_int_equal(consult_outbox_add(f->s, f->appt, (consult_channel)9, CONSULT_MSG_INVITE, 1, mid, 1, NULL),
	        CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_outbox_add(f->s, f->appt, CONSULT_CHANNEL_SMS, (consult_msg_kind)9, 1, mid, 1, NULL),
	        CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_outbox_add(f->s, f->appt, CONSULT_CHANNEL_NONE, CONSULT_MSG_INVITE, 1, mid, 1, NULL),
	        CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_outbox_add(f->s, 999999, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 1, mid, 1, NULL),
	        CONSULT_ERR_NOT_FOUND);
	msgid_of(mid, 1); /* taken */
	assert_int_equal(consult_outbox_add(f->s, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 1, mid, 1, NULL),
	        CONSULT_ERR_CONFLICT);
	assert_int_equal(total_msgs(f, f->s), 1);
	assert_int_equal(consult_outbox_by_id(f->s, id + 1, &m), CONSULT_ERR_NOT_FOUND);
}

static void test_claim_order(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t at = -1;
	assert_int_equal(next_due(f->s, &at), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(claim(f->s, 1000, &m), CONSULT_ERR_NOT_FOUND);
	int64_t late = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_REMINDER, 300, 1);
	int64_t early1 = add_msg(f, f->appt2, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 2);
	int64_t early2 = add_msg(f, f->other_appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 3);
	assert_int_equal(next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 100);
	/* nothing due yet */
	assert_int_equal(claim(f->s, 99, &m), CONSULT_ERR_NOT_FOUND);
	int64_t queued = 0;
	assert_int_equal(consult_outbox_counts(f->peer, 0, &queued, NULL), CONSULT_OK);
	assert_int_equal(queued, 3);
	/* same next_at: lower id first; the claim is committed at once */
	assert_int_equal(claim(f->s, 200, &m), CONSULT_OK);
	assert_int_equal(m.id, early1);
	assert_int_equal(m.status, CONSULT_OUTBOX_SENDING);
	assert_int_equal(m.attempts, 1);
	assert_int_equal(m.updated_at, 200);
	assert_int_equal(m.practice_id, f->practice);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_by_id(f->peer, early1, &m), CONSULT_OK); /* committed */
	assert_int_equal(m.status, CONSULT_OUTBOX_SENDING);
	assert_int_equal(m.attempts, 1);
	consult_outbox_msg_clear(&m);
	assert_int_equal(claim(f->s, 200, &m), CONSULT_OK);
	assert_int_equal(m.id, early2);
	assert_int_equal(m.practice_id, f->other_practice);
	consult_outbox_msg_clear(&m);
	assert_int_equal(claim(f->s, 200, &m), CONSULT_ERR_NOT_FOUND);
	/* sending rows are not "due" */
	assert_int_equal(next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 300);
	assert_int_equal(claim(f->s, 300, &m), CONSULT_OK);
	assert_int_equal(m.id, late);
	consult_outbox_msg_clear(&m);
	assert_int_equal(next_due(f->s, &at), CONSULT_ERR_NOT_FOUND);
	/* a retry moves the row behind others by next_at */
	int64_t other = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_REMINDER, 400, 4);
	assert_int_equal(consult_outbox_retry(f->s, early1, ME, 450, "timeout", 310), CONSULT_OK);
	assert_int_equal(next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 400);
	assert_int_equal(claim(f->s, 1000, &m), CONSULT_OK);
	assert_int_equal(m.id, other);
	consult_outbox_msg_clear(&m);
	assert_int_equal(claim(f->s, 1000, &m), CONSULT_OK);
	assert_int_equal(m.id, early1);
	assert_int_equal(m.attempts, 2);
	consult_outbox_msg_clear(&m);
}

static void test_transitions(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t id = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 1);

	/* from queued: only claim, fail (and drop) */
	assert_int_equal(consult_outbox_sent(f->s, id, ME, 110), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, id, ME, 200, "x", 110), CONSULT_ERR_WRONG_STATE);
	expect_status(f, id, CONSULT_OUTBOX_QUEUED, 0);

	/* sending -> queued (retry) keeps the reason and the new time */
	assert_int_equal(claim(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_retry(f->s, id, ME, 160, "smtp 451", 130), CONSULT_OK);
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_int_equal(m.status, CONSULT_OUTBOX_QUEUED);
	assert_string_equal(m.error, "smtp 451");
	assert_int_equal(m.next_at, 160);
	assert_int_equal(m.due_at, 100);
	assert_int_equal(m.updated_at, 130);
	assert_int_equal(m.attempts, 1);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_retry(f->s, id, ME, 170, "again", 131), CONSULT_ERR_WRONG_STATE);

	/* sending -> sent; final */
	assert_int_equal(claim(f->s, 160, &m), CONSULT_OK);
	assert_int_equal(m.attempts, 2);
	assert_string_equal(m.error, "smtp 451"); /* the last reason stays visible while sending */
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_sent(f->s, id, ME, 165), CONSULT_OK);
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_int_equal(m.status, CONSULT_OUTBOX_SENT);
	assert_int_equal(m.sent_at, 165);
	assert_int_equal(m.updated_at, 165);
	assert_null(m.error);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_sent(f->s, id, ME, 170), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, id, ME, 200, "x", 170), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_fail(f->s, id, ME, "x", 170), CONSULT_ERR_WRONG_STATE);
	int64_t n = -1;
	assert_int_equal(requeue(f->s, 170, &n), CONSULT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_int_equal(m.status, CONSULT_OUTBOX_SENT);
	assert_int_equal(m.sent_at, 165);
	assert_int_equal(m.updated_at, 165);
	consult_outbox_msg_clear(&m);

	/* queued -> failed; final */
	int64_t q = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 2);
	assert_int_equal(consult_outbox_fail(f->s, q, ME, "invalid number", 180), CONSULT_OK);
	assert_int_equal(consult_outbox_by_id(f->s, q, &m), CONSULT_OK);
	assert_int_equal(m.status, CONSULT_OUTBOX_FAILED);
	assert_string_equal(m.error, "invalid number");
	assert_int_equal(m.updated_at, 180);
	consult_outbox_msg_clear(&m);
	assert_int_equal(claim(f->s, 1000, &m), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_fail(f->s, q, ME, "x", 181), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_sent(f->s, q, ME, 181), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, q, ME, 200, "x", 181), CONSULT_ERR_WRONG_STATE);

	/* sending -> failed */
	int64_t r = add_msg(f, f->appt2, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_REMINDER, 100, 3);
	assert_int_equal(claim(f->s, 200, &m), CONSULT_OK);
	assert_int_equal(m.id, r);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_fail(f->s, r, ME, "smtp 550", 201), CONSULT_OK);
	expect_status(f, r, CONSULT_OUTBOX_FAILED, 1);
	assert_int_equal(consult_outbox_sent(f->s, r, ME, 202), CONSULT_ERR_WRONG_STATE);

	/* dropped is final too */
	int64_t d = add_msg(f, f->appt2, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 4);
	assert_int_equal(consult_outbox_drop_pending(f->s, f->appt2, 210, &n), CONSULT_OK);
	assert_int_equal(n, 1);
	expect_status(f, d, CONSULT_OUTBOX_DROPPED, 0);
	assert_int_equal(consult_outbox_fail(f->s, d, ME, "x", 211), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_sent(f->s, d, ME, 211), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, d, ME, 300, "x", 211), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(claim(f->s, 1000, &m), CONSULT_ERR_NOT_FOUND);

	/* unknown rows */
	assert_int_equal(consult_outbox_sent(f->s, 999999, ME, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_retry(f->s, 999999, ME, 1, NULL, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_fail(f->s, 999999, ME, NULL, 1), CONSULT_ERR_NOT_FOUND);
}

static void test_requeue_sending(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t a = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 1);
	int64_t b = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 2);
	int64_t c = add_msg(f, f->appt2, CONSULT_CHANNEL_SMS, CONSULT_MSG_REMINDER, 5000, 3);
	assert_int_equal(claim(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	assert_int_equal(claim(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	/* the process "dies"; at the next start the rows go back to queued */
	consult_store_close(f->s);
	char err[256];
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	expect_status(f, a, CONSULT_OUTBOX_SENDING, 1);
	int64_t n = -1;
	assert_int_equal(requeue(f->s, 900, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(consult_outbox_by_id(f->s, b, &m), CONSULT_OK);
	assert_int_equal(m.status, CONSULT_OUTBOX_QUEUED);
	assert_int_equal(m.next_at, 900);
	assert_int_equal(m.updated_at, 900);
	assert_int_equal(m.attempts, 1); /* the interrupted attempt counts */
	consult_outbox_msg_clear(&m);
	expect_status(f, c, CONSULT_OUTBOX_QUEUED, 0); /* untouched */
	assert_int_equal(consult_outbox_by_id(f->s, c, &m), CONSULT_OK);
	assert_int_equal(m.next_at, 5000);
	consult_outbox_msg_clear(&m);
	int64_t at = 0;
	assert_int_equal(next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 900);
	assert_int_equal(claim(f->s, 899, &m), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(claim(f->s, 900, &m), CONSULT_OK);
	assert_int_equal(m.id, a);
	assert_int_equal(m.attempts, 2);
	consult_outbox_msg_clear(&m);
	assert_int_equal(requeue(f->s, 950, NULL), CONSULT_OK);
	expect_status(f, a, CONSULT_OUTBOX_QUEUED, 2);
}

/* Two instances on one store (f->s is A, f->peer B): a live claim is never
 * taken over, requeued or finished by the other; an ended one is. */
static void test_claim_instances(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t at = 0, n = -1;
	int64_t r = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 1);
	consult_outbox_claimer a = by("inst-a", 100, T0_MS, false), b = by("inst-b", 100, T0_MS + 1000, false);
	assert_int_equal(consult_outbox_claim_next(f->s, &a, &m), CONSULT_OK);
	assert_int_equal(m.id, r);
	assert_int_equal(m.attempts, 1);
	consult_outbox_msg_clear(&m);
	/* B (running, or starting) leaves A's live claim alone */
	assert_int_equal(consult_outbox_claim_next(f->peer, &b, &m), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_next_due(f->peer, &b, &at), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_requeue_sending(f->peer, "inst-b", 110, T0_MS + 1000, &n), CONSULT_OK);
	assert_int_equal(n, 0);
	expect_status(f, r, CONSULT_OUTBOX_SENDING, 1);
	assert_int_equal(consult_outbox_sent(f->peer, r, "inst-b", 110), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->peer, r, "inst-b", 200, "x", 110), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_fail(f->peer, r, "inst-b", "x", 110), CONSULT_ERR_WRONG_STATE);
	expect_status(f, r, CONSULT_OUTBOX_SENDING, 1);
	/* A's claim ends (A died mid-send): B takes the row over, once */
	b = by("inst-b", 120, a.until_ms, false);
	assert_int_equal(consult_outbox_claim_next(f->peer, &b, &m), CONSULT_OK);
	assert_int_equal(m.id, r);
	assert_int_equal(m.attempts, 2);
	assert_int_equal(m.status, CONSULT_OUTBOX_SENDING);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_claim_next(f->s, &b, &m), CONSULT_ERR_NOT_FOUND); /* B's claim is live */
	/* A's late outcome is refused; B's is stored */
	assert_int_equal(consult_outbox_sent(f->s, r, "inst-a", 130), CONSULT_ERR_WRONG_STATE);
	expect_status(f, r, CONSULT_OUTBOX_SENDING, 2);
	assert_int_equal(consult_outbox_sent(f->peer, r, "inst-b", 131), CONSULT_OK);
	expect_status(f, r, CONSULT_OUTBOX_SENT, 2);
	assert_int_equal(consult_outbox_claim_next(f->s, &b, &m), CONSULT_ERR_NOT_FOUND);

	/* a starting instance requeues its own rows at once and another's
	 * only once that claim has ended */
	int64_t mine = add_msg(f, f->appt2, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 2);
	int64_t theirs = add_msg(f, f->other_appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 3);
	a = by("inst-a", 200, T0_MS, false);
	assert_int_equal(consult_outbox_claim_next(f->s, &a, &m), CONSULT_OK);
	assert_int_equal(m.id, mine);
	consult_outbox_msg_clear(&m);
	b = by("inst-b", 200, T0_MS, false);
	assert_int_equal(consult_outbox_claim_next(f->peer, &b, &m), CONSULT_OK);
	assert_int_equal(m.id, theirs);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_requeue_sending(f->s, "inst-a", 300, T0_MS + 1000, &n), CONSULT_OK);
	assert_int_equal(n, 1);
	expect_status(f, mine, CONSULT_OUTBOX_QUEUED, 1);
	expect_status(f, theirs, CONSULT_OUTBOX_SENDING, 1);
	assert_int_equal(consult_outbox_requeue_sending(f->s, "inst-a", 300, b.until_ms - 1, &n), CONSULT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(consult_outbox_requeue_sending(f->s, "inst-a", 300, b.until_ms, &n), CONSULT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(consult_outbox_by_id(f->s, theirs, &m), CONSULT_OK);
	assert_int_equal(m.status, CONSULT_OUTBOX_QUEUED);
	assert_int_equal(m.next_at, 300);
	assert_int_equal(m.attempts, 1);
	consult_outbox_msg_clear(&m);
	/* the requeued rows carry no claim: B's outcome for its old claim is refused */
	assert_int_equal(consult_outbox_sent(f->peer, theirs, "inst-b", 301), CONSULT_ERR_WRONG_STATE);
	/* a claim without an instance is refused and changes nothing */
	consult_outbox_claimer none = by(NULL, 400, T0_MS, false);
	assert_int_equal(consult_outbox_claim_next(f->s, &none, &m), CONSULT_ERR_INVALID_FIELD);
	expect_status(f, mine, CONSULT_OUTBOX_QUEUED, 1);
}

/* With leases: an instance claims only rows of the practices whose live
 * lease row names it. */
static void test_claim_leases(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t at = 0;
	bool held = false;
	assert_int_equal(
	        consult_store_lease_claim(f->s, f->practice, "inst-a", T0_MS, T0_MS + 5000, &held), CONSULT_OK);
	assert_true(held);
	assert_int_equal(
	        consult_store_lease_claim(f->s, f->other_practice, "inst-b", T0_MS, T0_MS + 5000, &held), CONSULT_OK);
	assert_true(held);
	int64_t ra = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 200, 1);
	int64_t rb = add_msg(f, f->other_appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 2);
	consult_outbox_claimer a = by("inst-a", 300, T0_MS + 1000, true);
	consult_outbox_claimer b = by("inst-b", 300, T0_MS + 1000, true);
	assert_int_equal(consult_outbox_next_due(f->s, &a, &at), CONSULT_OK);
	assert_int_equal(at, 200); /* not B's row at 100 */
	assert_int_equal(consult_outbox_claim_next(f->s, &a, &m), CONSULT_OK);
	assert_int_equal(m.id, ra);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_claim_next(f->s, &a, &m), CONSULT_ERR_NOT_FOUND);
	expect_status(f, rb, CONSULT_OUTBOX_QUEUED, 0);
	assert_int_equal(consult_outbox_claim_next(f->peer, &b, &m), CONSULT_OK);
	assert_int_equal(m.id, rb);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_retry(f->peer, rb, "inst-b", 350, "smtp 451", 301), CONSULT_OK);
	/* A's lease has expired: none of its practice's rows for it either */
	int64_t ra2 = add_msg(f, f->appt2, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 3);
	a = by("inst-a", 400, T0_MS + 5000, true);
	assert_int_equal(consult_outbox_next_due(f->s, &a, &at), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_claim_next(f->s, &a, &m), CONSULT_ERR_NOT_FOUND);
	/* without leases (one instance) every practice's rows */
	a.leases = false;
	assert_int_equal(consult_outbox_next_due(f->s, &a, &at), CONSULT_OK);
	assert_int_equal(at, 100);
	assert_int_equal(consult_outbox_claim_next(f->s, &a, &m), CONSULT_OK);
	assert_int_equal(m.id, ra2);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_claim_next(f->s, &a, &m), CONSULT_OK);
	assert_int_equal(m.id, rb);
	consult_outbox_msg_clear(&m);
}

static void test_drop_pending(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t sending = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 1);
	assert_int_equal(claim(f->s, 100, &m), CONSULT_OK);
	assert_int_equal(m.id, sending);
	consult_outbox_msg_clear(&m);
	int64_t sent = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 2);
	assert_int_equal(claim(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_sent(f->s, sent, ME, 101), CONSULT_OK);
	int64_t inv = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 500, 3);
	int64_t rem = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_REMINDER, 900, 4);
	int64_t cancel = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_CANCEL, 300, 5);
	int64_t other = add_msg(f, f->appt2, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 500, 6);
	int64_t n = -1;
	assert_int_equal(consult_outbox_drop_pending(f->s, f->appt, 200, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	expect_status(f, inv, CONSULT_OUTBOX_DROPPED, 0);
	expect_status(f, rem, CONSULT_OUTBOX_DROPPED, 0);
	expect_status(f, sending, CONSULT_OUTBOX_SENDING, 1);
	expect_status(f, sent, CONSULT_OUTBOX_SENT, 1);
	expect_status(f, cancel, CONSULT_OUTBOX_QUEUED, 0);
	expect_status(f, other, CONSULT_OUTBOX_QUEUED, 0);
	assert_int_equal(consult_outbox_by_id(f->s, inv, &m), CONSULT_OK);
	assert_int_equal(m.updated_at, 200);
	consult_outbox_msg_clear(&m);
	/* again: nothing left to drop */
	assert_int_equal(consult_outbox_drop_pending(f->s, f->appt, 201, &n), CONSULT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(consult_outbox_drop_pending(f->s, 999999, 201, NULL), CONSULT_OK);
}

typedef struct collected {
	int n;
	int64_t ids[16];
	int64_t appts[16];
} collected;

static void collect(const consult_outbox_msg *m, void *ud)
{
	collected *c = ud;
	if (c->n < 16) {
		c->ids[c->n] = m->id;
		c->appts[c->n] = m->appointment_id;
	}
	c->n++;
}

static void test_list_and_counts(void **state)
{
	fixture *f = *state;
	/* created in this order (created_at = 20 + seed), due in another */
	int64_t a = add_msg(f, f->appt2, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 900, 1);
	int64_t b = add_msg(f, f->appt, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 2);
	int64_t c = add_msg(f, f->appt2, CONSULT_CHANNEL_SMS, CONSULT_MSG_INVITE, 100, 3);
	int64_t d = add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_REMINDER, 50, 4);
	int64_t e = add_msg(f, f->other_appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 5);
	collected got = { 0 };
	assert_int_equal(consult_outbox_list(f->s, f->appt2, collect, &got), CONSULT_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.ids[0], a);
	assert_int_equal(got.ids[1], c);
	memset(&got, 0, sizeof got);
	assert_int_equal(consult_outbox_list(f->s, 999999, collect, &got), CONSULT_OK);
	assert_int_equal(got.n, 0);
	/* the range follows list_appointments' order: appt (10000) before appt2 (20000) */
	assert_int_equal(consult_outbox_list_range(f->s, f->practice, 0, 30000, collect, &got), CONSULT_OK);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.ids[0], b);
	assert_int_equal(got.ids[1], d);
	assert_int_equal(got.ids[2], a);
	assert_int_equal(got.ids[3], c);
	memset(&got, 0, sizeof got);
	assert_int_equal(consult_outbox_list_range(f->s, f->practice, 15000, 30000, collect, &got), CONSULT_OK);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.appts[0], f->appt2);

	int64_t q = -1, fl = -1;
	assert_int_equal(consult_outbox_counts(f->s, 0, &q, &fl), CONSULT_OK);
	assert_int_equal(q, 5);
	assert_int_equal(fl, 0);
	consult_outbox_msg m;
	assert_int_equal(claim(f->s, 100, &m), CONSULT_OK); /* d: sending still counts */
	assert_int_equal(m.id, d);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_fail(f->s, b, ME, "http 400", 101), CONSULT_OK);
	assert_int_equal(consult_outbox_fail(f->s, e, ME, "smtp 550", 101), CONSULT_OK);
	assert_int_equal(consult_outbox_drop_pending(f->s, f->appt2, 102, NULL), CONSULT_OK);
	assert_int_equal(consult_outbox_counts(f->s, f->practice, &q, &fl), CONSULT_OK);
	assert_int_equal(q, 1);
	assert_int_equal(fl, 1);
	assert_int_equal(consult_outbox_counts(f->s, f->other_practice, &q, &fl), CONSULT_OK);
	assert_int_equal(q, 0);
	assert_int_equal(fl, 1);
	assert_int_equal(consult_outbox_counts(f->s, 0, &q, NULL), CONSULT_OK);
	assert_int_equal(q, 1);
	assert_int_equal(consult_outbox_counts(f->s, 999999, &q, &fl), CONSULT_OK);
	assert_int_equal(q, 0);
	assert_int_equal(fl, 0);
}

/* cancelling an appointment keeps its rows; deleting it removes them */
static void test_cascade(void **state)
{
	fixture *f = *state;
	add_msg(f, f->appt, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 1);
	add_msg(f, f->appt2, CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 100, 2);
	consult_contact c;
	memset(&c, 0, sizeof c);
	c.appointment_id = f->appt;
	c.email = "x@example.org";
	assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_OK);
	assert_int_equal(consult_store_cancel_appointment(f->s, f->practice, f->appt, 50), CONSULT_OK);
	assert_int_equal(total_msgs(f, f->s), 2); /* cancelling keeps the log */
	/* erasing the appointment takes its contact row and outbox rows */
	assert_int_equal(consult_store_erase_appointment(f->s, f->practice, f->appt, NULL), CONSULT_OK);
	assert_int_equal(total_msgs(f, f->s), 1);
	consult_contact out;
	assert_int_equal(consult_store_contact(f->s, f->appt, &out), CONSULT_ERR_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue_sending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_instances, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
