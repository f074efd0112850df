/* test_store_outbox.c - schema v3 of the store: explicit transactions,
 * contact rows and the outbox state machine, on a real SQLite file.
 *
 * Contract: each test gets its own mkdtemp() folder with a new database
 * and two practices; `now` values are made up (small integers) so every
 * time-dependent answer is predictable. A raw sqlite3 connection checks
 * what is durable on disk where the API alone could not tell.
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
#include <sqlite3.h>

#include "store/store.h"

typedef struct fixture {
	char dir[64];
	char path[96];
	consult_store *s;
	int64_t practice, other_practice, doctor, reception, other_staff;
	int64_t appt, appt2, other_appt;
} fixture;

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -999;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

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
	assert_int_equal(consult_store_add_appointment(f->s, practice, 0, starts_at, starts_at - 600,
		starts_at + 3600, h, 0, 10, &id), CONSULT_OK);
	return id;
}

static int64_t add_msg(fixture *f, int64_t appt, const char *channel, const char *kind, int64_t due, int seed)
{
	uint8_t m[16];
	msgid_of(m, seed);
	int64_t id = 0;
	assert_int_equal(consult_outbox_add(f->s, appt, channel, kind, due, m, 20 + seed, &id), CONSULT_OK);
	assert_true(id > 0);
	return id;
}

/* the status of one outbox row, freshly read */
static void expect_status(fixture *f, int64_t id, const char *status, int attempts)
{
	consult_outbox_msg m;
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_string_equal(m.status, status);
	assert_int_equal(m.attempts, attempts);
	consult_outbox_msg_clear(&m);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/consult-outbox-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/consult.db", f->dir);
	char err[256];
	f->s = consult_store_open(f->path, err, sizeof err);
	if (!f->s
			|| consult_store_add_practice(f->s, "am-markt", "Praxis am Markt", "0721-1", 1, &f->practice)
			|| consult_store_add_practice(f->s, "anderswo", "Praxis Anderswo", NULL, 1, &f->other_practice)
			|| consult_store_add_staff(f->s, f->practice, "dr.weber", "Dr. Weber", "doctor", "$h1", 1, &f->doctor)
			|| consult_store_add_staff(f->s, f->practice, "empfang", "Empfang", "reception", "$h2", 1,
				&f->reception)
			|| consult_store_add_staff(f->s, f->other_practice, "empfang2", "Empfang 2", "reception", "$h3", 1,
				&f->other_staff)) {
		fprintf(stderr, "setup failed: %s\n", f->s ? consult_store_last_error(f->s) : err);
		consult_store_close(f->s);
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
	char p[128];
	consult_store_close(f->s);
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* --- schema --- */

static void test_schema_v3(void **state)
{
	fixture *f = *state;
	assert_true(consult_store_latest_version() >= 3);
	assert_int_equal(consult_store_schema_version(f->s), consult_store_latest_version());
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		" AND name IN ('appointment_contacts','outbox')"), 2);
	/* the outbox holds no address and no text columns */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('outbox')"
		" WHERE name IN ('phone','email','address','body','text','subject')"), 0);
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
	int64_t m1 = add_msg(f, f->appt, "email", "invite", 100, 1);
	consult_outbox_msg m;
	assert_int_equal(consult_outbox_claim_next(f->s, 100, &m), CONSULT_OK);   /* savepoint inside */
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
	m1 = add_msg(f, f->appt, "sms", "invite", 100, 2);
	/* a failing call inside keeps the transaction and the earlier changes */
	uint8_t mid[16];
	msgid_of(mid, 2);
	assert_int_equal(consult_outbox_add(f->s, f->appt, "sms", "invite", 100, mid, 5, NULL), CONSULT_ERR_CONFLICT);
	msgid_of(mid, 3);
	assert_int_equal(consult_outbox_add(f->s, 999999, "sms", "invite", 100, mid, 5, NULL), CONSULT_ERR_NOT_FOUND);
	assert_true(consult_store_in_transaction(f->s));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM practices WHERE slug = 'neu'"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(consult_store_commit(f->s), CONSULT_OK);
	assert_false(consult_store_in_transaction(f->s));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM practices WHERE slug = 'neu'"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox"), 1);
	expect_status(f, m1, "queued", 0);
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
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointment_contacts"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointment_contacts WHERE consent_sms_at IS NULL"
		" AND consent_sms_by IS NULL AND phone IS NULL AND code_box IS NULL"), 1);

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
	int64_t id = add_msg(f, f->appt, "email", "invite", 500, 1);
	consult_outbox_msg m;
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_int_equal(m.id, id);
	assert_int_equal(m.appointment_id, f->appt);
	assert_int_equal(m.practice_id, f->practice);
	assert_string_equal(m.channel, "email");
	assert_string_equal(m.kind, "invite");
	assert_string_equal(m.status, "queued");
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
	assert_null(m.status);

	uint8_t mid[16];
	msgid_of(mid, 9);
	assert_int_equal(consult_outbox_add(f->s, f->appt, "fax", "invite", 1, mid, 1, NULL), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_outbox_add(f->s, f->appt, "sms", "hello", 1, mid, 1, NULL), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_outbox_add(f->s, f->appt, NULL, "invite", 1, mid, 1, NULL), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(consult_outbox_add(f->s, 999999, "sms", "invite", 1, mid, 1, NULL), CONSULT_ERR_NOT_FOUND);
	msgid_of(mid, 1);   /* taken */
	assert_int_equal(consult_outbox_add(f->s, f->appt, "sms", "invite", 1, mid, 1, NULL), CONSULT_ERR_CONFLICT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(consult_outbox_by_id(f->s, id + 1, &m), CONSULT_ERR_NOT_FOUND);
	/* the CHECKs back the API up */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE outbox SET status = 'lost'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE outbox SET msgid = x'00'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_claim_order(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t at = -1;
	assert_int_equal(consult_outbox_next_due(f->s, &at), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_claim_next(f->s, 1000, &m), CONSULT_ERR_NOT_FOUND);
	int64_t late = add_msg(f, f->appt, "email", "reminder", 300, 1);
	int64_t early1 = add_msg(f, f->appt2, "sms", "invite", 100, 2);
	int64_t early2 = add_msg(f, f->other_appt, "email", "invite", 100, 3);
	assert_int_equal(consult_outbox_next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 100);
	/* nothing due yet */
	assert_int_equal(consult_outbox_claim_next(f->s, 99, &m), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox WHERE status = 'queued'"), 3);
	/* same next_at: lower id first; the claim is committed at once */
	assert_int_equal(consult_outbox_claim_next(f->s, 200, &m), CONSULT_OK);
	assert_int_equal(m.id, early1);
	assert_string_equal(m.status, "sending");
	assert_int_equal(m.attempts, 1);
	assert_int_equal(m.updated_at, 200);
	assert_int_equal(m.practice_id, f->practice);
	consult_outbox_msg_clear(&m);
	assert_int_equal(raw_int(f->path, "SELECT attempts FROM outbox WHERE status = 'sending'"), 1);
	assert_int_equal(consult_outbox_claim_next(f->s, 200, &m), CONSULT_OK);
	assert_int_equal(m.id, early2);
	assert_int_equal(m.practice_id, f->other_practice);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_claim_next(f->s, 200, &m), CONSULT_ERR_NOT_FOUND);
	/* sending rows are not "due" */
	assert_int_equal(consult_outbox_next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 300);
	assert_int_equal(consult_outbox_claim_next(f->s, 300, &m), CONSULT_OK);
	assert_int_equal(m.id, late);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_next_due(f->s, &at), CONSULT_ERR_NOT_FOUND);
	/* a retry moves the row behind others by next_at */
	int64_t other = add_msg(f, f->appt, "sms", "reminder", 400, 4);
	assert_int_equal(consult_outbox_retry(f->s, early1, 450, "timeout", 310), CONSULT_OK);
	assert_int_equal(consult_outbox_next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 400);
	assert_int_equal(consult_outbox_claim_next(f->s, 1000, &m), CONSULT_OK);
	assert_int_equal(m.id, other);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_claim_next(f->s, 1000, &m), CONSULT_OK);
	assert_int_equal(m.id, early1);
	assert_int_equal(m.attempts, 2);
	consult_outbox_msg_clear(&m);
}

static void test_transitions(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t id = add_msg(f, f->appt, "email", "invite", 100, 1);

	/* from queued: only claim, fail (and drop) */
	assert_int_equal(consult_outbox_sent(f->s, id, 110), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, id, 200, "x", 110), CONSULT_ERR_WRONG_STATE);
	expect_status(f, id, "queued", 0);

	/* sending -> queued (retry) keeps the reason and the new time */
	assert_int_equal(consult_outbox_claim_next(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_retry(f->s, id, 160, "smtp 451", 130), CONSULT_OK);
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_string_equal(m.status, "queued");
	assert_string_equal(m.error, "smtp 451");
	assert_int_equal(m.next_at, 160);
	assert_int_equal(m.due_at, 100);
	assert_int_equal(m.updated_at, 130);
	assert_int_equal(m.attempts, 1);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_retry(f->s, id, 170, "again", 131), CONSULT_ERR_WRONG_STATE);

	/* sending -> sent; final */
	assert_int_equal(consult_outbox_claim_next(f->s, 160, &m), CONSULT_OK);
	assert_int_equal(m.attempts, 2);
	assert_string_equal(m.error, "smtp 451");   /* the last reason stays visible while sending */
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_sent(f->s, id, 165), CONSULT_OK);
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_string_equal(m.status, "sent");
	assert_int_equal(m.sent_at, 165);
	assert_int_equal(m.updated_at, 165);
	assert_null(m.error);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_sent(f->s, id, 170), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, id, 200, "x", 170), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_fail(f->s, id, "x", 170), CONSULT_ERR_WRONG_STATE);
	int64_t n = -1;
	assert_int_equal(consult_outbox_requeue_sending(f->s, 170, &n), CONSULT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(consult_outbox_by_id(f->s, id, &m), CONSULT_OK);
	assert_string_equal(m.status, "sent");
	assert_int_equal(m.sent_at, 165);
	assert_int_equal(m.updated_at, 165);
	consult_outbox_msg_clear(&m);

	/* queued -> failed; final */
	int64_t q = add_msg(f, f->appt, "sms", "invite", 100, 2);
	assert_int_equal(consult_outbox_fail(f->s, q, "invalid number", 180), CONSULT_OK);
	assert_int_equal(consult_outbox_by_id(f->s, q, &m), CONSULT_OK);
	assert_string_equal(m.status, "failed");
	assert_string_equal(m.error, "invalid number");
	assert_int_equal(m.updated_at, 180);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_claim_next(f->s, 1000, &m), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_fail(f->s, q, "x", 181), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_sent(f->s, q, 181), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, q, 200, "x", 181), CONSULT_ERR_WRONG_STATE);

	/* sending -> failed */
	int64_t r = add_msg(f, f->appt2, "email", "reminder", 100, 3);
	assert_int_equal(consult_outbox_claim_next(f->s, 200, &m), CONSULT_OK);
	assert_int_equal(m.id, r);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_fail(f->s, r, "smtp 550", 201), CONSULT_OK);
	expect_status(f, r, "failed", 1);
	assert_int_equal(consult_outbox_sent(f->s, r, 202), CONSULT_ERR_WRONG_STATE);

	/* dropped is final too */
	int64_t d = add_msg(f, f->appt2, "sms", "invite", 100, 4);
	assert_int_equal(consult_outbox_drop_pending(f->s, f->appt2, 210, &n), CONSULT_OK);
	assert_int_equal(n, 1);
	expect_status(f, d, "dropped", 0);
	assert_int_equal(consult_outbox_fail(f->s, d, "x", 211), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_sent(f->s, d, 211), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_retry(f->s, d, 300, "x", 211), CONSULT_ERR_WRONG_STATE);
	assert_int_equal(consult_outbox_claim_next(f->s, 1000, &m), CONSULT_ERR_NOT_FOUND);

	/* unknown rows */
	assert_int_equal(consult_outbox_sent(f->s, 999999, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_retry(f->s, 999999, 1, NULL, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_fail(f->s, 999999, NULL, 1), CONSULT_ERR_NOT_FOUND);
}

static void test_requeue_sending(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t a = add_msg(f, f->appt, "email", "invite", 100, 1);
	int64_t b = add_msg(f, f->appt, "sms", "invite", 100, 2);
	int64_t c = add_msg(f, f->appt2, "sms", "reminder", 5000, 3);
	assert_int_equal(consult_outbox_claim_next(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_claim_next(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	/* the process "dies"; at the next start the rows go back to queued */
	consult_store_close(f->s);
	char err[256];
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	expect_status(f, a, "sending", 1);
	int64_t n = -1;
	assert_int_equal(consult_outbox_requeue_sending(f->s, 900, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(consult_outbox_by_id(f->s, b, &m), CONSULT_OK);
	assert_string_equal(m.status, "queued");
	assert_int_equal(m.next_at, 900);
	assert_int_equal(m.updated_at, 900);
	assert_int_equal(m.attempts, 1);   /* the interrupted attempt counts */
	consult_outbox_msg_clear(&m);
	expect_status(f, c, "queued", 0);   /* untouched */
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT next_at FROM outbox WHERE id = %lld", (long long)c);
	assert_int_equal(raw_int(f->path, sql), 5000);
	int64_t at = 0;
	assert_int_equal(consult_outbox_next_due(f->s, &at), CONSULT_OK);
	assert_int_equal(at, 900);
	assert_int_equal(consult_outbox_claim_next(f->s, 899, &m), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_outbox_claim_next(f->s, 900, &m), CONSULT_OK);
	assert_int_equal(m.id, a);
	assert_int_equal(m.attempts, 2);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_requeue_sending(f->s, 950, NULL), CONSULT_OK);
	expect_status(f, a, "queued", 2);
}

static void test_drop_pending(void **state)
{
	fixture *f = *state;
	consult_outbox_msg m;
	int64_t sending = add_msg(f, f->appt, "email", "invite", 100, 1);
	assert_int_equal(consult_outbox_claim_next(f->s, 100, &m), CONSULT_OK);
	assert_int_equal(m.id, sending);
	consult_outbox_msg_clear(&m);
	int64_t sent = add_msg(f, f->appt, "sms", "invite", 100, 2);
	assert_int_equal(consult_outbox_claim_next(f->s, 100, &m), CONSULT_OK);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_sent(f->s, sent, 101), CONSULT_OK);
	int64_t inv = add_msg(f, f->appt, "sms", "invite", 500, 3);
	int64_t rem = add_msg(f, f->appt, "email", "reminder", 900, 4);
	int64_t cancel = add_msg(f, f->appt, "sms", "cancel", 300, 5);
	int64_t other = add_msg(f, f->appt2, "email", "invite", 500, 6);
	int64_t n = -1;
	assert_int_equal(consult_outbox_drop_pending(f->s, f->appt, 200, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	expect_status(f, inv, "dropped", 0);
	expect_status(f, rem, "dropped", 0);
	expect_status(f, sending, "sending", 1);
	expect_status(f, sent, "sent", 1);
	expect_status(f, cancel, "queued", 0);
	expect_status(f, other, "queued", 0);
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
	int64_t a = add_msg(f, f->appt2, "email", "invite", 900, 1);
	int64_t b = add_msg(f, f->appt, "sms", "invite", 100, 2);
	int64_t c = add_msg(f, f->appt2, "sms", "invite", 100, 3);
	int64_t d = add_msg(f, f->appt, "email", "reminder", 50, 4);
	int64_t e = add_msg(f, f->other_appt, "email", "invite", 100, 5);
	collected got = {0};
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
	assert_int_equal(consult_outbox_claim_next(f->s, 100, &m), CONSULT_OK);   /* d: sending still counts */
	assert_int_equal(m.id, d);
	consult_outbox_msg_clear(&m);
	assert_int_equal(consult_outbox_fail(f->s, b, "http 400", 101), CONSULT_OK);
	assert_int_equal(consult_outbox_fail(f->s, e, "smtp 550", 101), CONSULT_OK);
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
	add_msg(f, f->appt, "email", "invite", 100, 1);
	add_msg(f, f->appt2, "email", "invite", 100, 2);
	consult_contact c;
	memset(&c, 0, sizeof c);
	c.appointment_id = f->appt;
	c.email = "x@example.org";
	assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_OK);
	assert_int_equal(consult_store_cancel_appointment(f->s, f->practice, f->appt, 50), CONSULT_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox"), 2);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA foreign_keys = ON; DELETE FROM appointments WHERE id = %lld",
		(long long)f->appt);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM appointment_contacts"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue_sending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
