/* test_store_contract.c - the store contract: practices, staff, devices,
 * appointments (with the booked name and note), visits, statistics, purge
 * and erasure (which remove the booked name and note with the appointment),
 * upkeep and health, run against store.h only.
 *
 * Contract: each test gets a new, empty store (store_fixture.h) and sees it
 * only through store.h, so the same suite runs unchanged on every backend
 * (today SQLite; a PostgreSQL backend links against it the same way).
 * What only a backend can show (files, pragmas, raw columns) lives in that
 * backend's own tests (test_store_sqlite.c, test_store_purge.c). Times are
 * small made-up integers so every time-dependent answer is predictable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/store.h"
#define STORE_FIXTURE_PEOPLE
#include "store_fixture.h"

/* --- open --- */

static void test_reopen_keeps_data(void **state)
{
	fixture *f = *state;
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(f->s, "am-markt", "Praxis am Markt", "0721", 5, &id), CONSULT_OK);
	assert_true(id > 0);
	consult_store_close(f->s);
	char err[256];
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	consult_practice p;
	assert_int_equal(consult_store_practice_by_slug(f->s, "am-markt", &p), CONSULT_OK);
	assert_int_equal(p.id, id);
	assert_string_equal(p.name, "Praxis am Markt");
	assert_string_equal(p.phone, "0721");
	consult_practice_clear(&p);
	assert_null(p.name);
	assert_int_equal(consult_store_practice_by_id(f->s, id, &p), CONSULT_OK);
	assert_string_equal(p.slug, "am-markt");
	consult_practice_clear(&p);
	assert_int_equal(consult_store_practice_by_slug(f->s, "nope", &p), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_practice_by_id(f->s, id + 100, &p), CONSULT_ERR_NOT_FOUND);
}

static void test_open_bad_path(void **state)
{
	(void)state;
	char err[256] = "";
	assert_null(consult_store_open("/nonexistent-dir-consult/x.db", err, sizeof err));
	assert_true(strlen(err) > 0);
	assert_null(consult_store_open("/nonexistent-dir-consult/x.db", NULL, 0));
}

/* --- practices and staff --- */

/* Schema v4 (issue 5): the forwarding policy per practice, default allowed. */
static void test_forward_never(void **state)
{
	fixture *f = *state;
	bool never = true;
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &never), CONSULT_OK);
	assert_false(never);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &never), CONSULT_OK);
	assert_true(never);
	bool relay = true; /* the other option is untouched */
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_false(relay);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "am-markt", false), CONSULT_OK);
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &never), CONSULT_OK);
	assert_false(never);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "no-such", true), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice + 99, &never), CONSULT_ERR_NOT_FOUND);
}

/* Schema v7: the audio-only policy per practice, default allowed; the
 * other options are independent of it. */
static void test_audio_only_never(void **state)
{
	fixture *f = *state;
	bool never = true, other = true;
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->practice, &never), CONSULT_OK);
	assert_false(never);
	assert_int_equal(consult_store_set_practice_audio_only_never(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->practice, &never), CONSULT_OK);
	assert_true(never);
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->other_practice, &other), CONSULT_OK);
	assert_false(other);
	bool fwd = true, relay = true;
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &fwd), CONSULT_OK);
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_false(fwd);
	assert_false(relay);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->practice, &never), CONSULT_OK);
	assert_true(never);
	assert_int_equal(consult_store_set_practice_audio_only_never(f->s, "am-markt", false), CONSULT_OK);
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->practice, &never), CONSULT_OK);
	assert_false(never);
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &fwd), CONSULT_OK);
	assert_true(fwd);
	assert_int_equal(consult_store_set_practice_audio_only_never(f->s, "no-such", true), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(
	        consult_store_practice_audio_only_never(f->s, f->practice + 99, &never), CONSULT_ERR_NOT_FOUND);
}

/* Schema v9: the patient's screen sharing per practice, default never;
 * the other options are independent of it. */
static void test_patient_share(void **state)
{
	fixture *f = *state;
	bool allowed = true, other = true;
	assert_int_equal(consult_store_practice_patient_share(f->s, f->practice, &allowed), CONSULT_OK);
	assert_false(allowed);
	assert_int_equal(consult_store_set_practice_patient_share(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_patient_share(f->s, f->practice, &allowed), CONSULT_OK);
	assert_true(allowed);
	assert_int_equal(consult_store_practice_patient_share(f->s, f->other_practice, &other), CONSULT_OK);
	assert_false(other);
	bool fwd = true, relay = true, audio = true;
	assert_int_equal(consult_store_practice_forward_never(f->s, f->practice, &fwd), CONSULT_OK);
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->practice, &audio), CONSULT_OK);
	assert_false(fwd);
	assert_false(relay);
	assert_false(audio);
	assert_int_equal(consult_store_set_practice_audio_only_never(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_patient_share(f->s, f->practice, &allowed), CONSULT_OK);
	assert_true(allowed);
	assert_int_equal(consult_store_set_practice_patient_share(f->s, "am-markt", false), CONSULT_OK);
	assert_int_equal(consult_store_practice_patient_share(f->s, f->practice, &allowed), CONSULT_OK);
	assert_false(allowed);
	assert_int_equal(consult_store_practice_audio_only_never(f->s, f->practice, &audio), CONSULT_OK);
	assert_true(audio);
	assert_int_equal(consult_store_set_practice_patient_share(f->s, "no-such", true), CONSULT_ERR_NOT_FOUND);
	allowed = true;
	assert_int_equal(consult_store_practice_patient_share(f->s, f->practice + 99, &allowed), CONSULT_ERR_NOT_FOUND);
	assert_false(allowed);
}

static void test_relay_only(void **state)
{
	fixture *f = *state;
	bool relay = true;
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_false(relay);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", true), CONSULT_OK);
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_true(relay);
	/* the other practice is untouched */
	assert_int_equal(consult_store_practice_relay_only(f->s, f->other_practice, &relay), CONSULT_OK);
	assert_false(relay);
	consult_practice p;
	assert_int_equal(consult_store_practice_by_id(f->s, f->practice, &p), CONSULT_OK);
	assert_true(p.relay_only);
	consult_practice_clear(&p);
	assert_int_equal(consult_store_practice_by_slug(f->s, "anderswo", &p), CONSULT_OK);
	assert_false(p.relay_only);
	consult_practice_clear(&p);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", false), CONSULT_OK);
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice, &relay), CONSULT_OK);
	assert_false(relay);
	/* unknown practice */
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "nope", true), CONSULT_ERR_NOT_FOUND);
	relay = true;
	assert_int_equal(consult_store_practice_relay_only(f->s, f->practice + 999, &relay), CONSULT_ERR_NOT_FOUND);
	assert_false(relay);
}

typedef struct names {
	int n;
	char v[8][32];
} names;

static void collect_staff(const consult_staff *st, void *ud)
{
	names *n = ud;
	if (n->n < 8)
		snprintf(n->v[n->n++], 32, "%s", st->username);
}

static void test_staff(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	consult_staff st;
	assert_int_equal(consult_store_staff_by_username(s, "dr.weber", &st), CONSULT_OK);
	assert_int_equal(st.id, f->doctor);
	assert_int_equal(st.practice_id, f->practice);
	assert_string_equal(st.display_name, "Dr. Weber");
	assert_int_equal(st.role, CONSULT_ROLE_DOCTOR);
	assert_string_equal(st.pw_hash, "$h1");
	assert_false(st.disabled);
	consult_staff_clear(&st);
	assert_int_equal(consult_store_set_staff_disabled(s, "dr.weber", true), CONSULT_OK);
	assert_int_equal(consult_store_set_staff_password(s, "dr.weber", "$new"), CONSULT_OK);
	assert_int_equal(consult_store_staff_by_id(s, f->doctor, &st), CONSULT_OK);
	assert_true(st.disabled);
	assert_string_equal(st.pw_hash, "$new");
	consult_staff_clear(&st);
	assert_int_equal(consult_store_set_staff_disabled(s, "nobody", true), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_set_staff_password(s, "nobody", "$x"), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_staff_by_id(s, 9999, &st), CONSULT_ERR_NOT_FOUND);

	names n = { 0 };
	assert_int_equal(consult_store_list_staff(s, f->practice, CONSULT_ROLE_NONE, collect_staff, &n), CONSULT_OK);
	assert_int_equal(n.n, 3); /* by display name: Dr. Adler, Dr. Weber, Empfang */
	assert_string_equal(n.v[0], "dr.adler");
	assert_string_equal(n.v[1], "dr.weber");
	assert_string_equal(n.v[2], "empfang");
	memset(&n, 0, sizeof n);
	assert_int_equal(consult_store_list_staff(s, f->practice, CONSULT_ROLE_DOCTOR, collect_staff, &n), CONSULT_OK);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "dr.adler");
	assert_string_equal(n.v[1], "dr.weber");
	memset(&n, 0, sizeof n);
	assert_int_equal(
	        consult_store_list_staff(s, f->other_practice, CONSULT_ROLE_RECEPTION, collect_staff, &n), CONSULT_OK);
	assert_int_equal(n.n, 0);
}

static void collect_practice(const consult_practice *p, void *ud)
{
	names *n = ud;
	if (n->n < 8)
		snprintf(n->v[n->n++], 32, "%s", p->slug);
}

static void test_list_practices(void **state)
{
	fixture *f = *state;
	names n = { 0 };
	assert_int_equal(consult_store_list_practices(f->s, collect_practice, &n), CONSULT_OK);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "am-markt");
	assert_string_equal(n.v[1], "anderswo");
}

/* --- appointments and visits --- */

static void count_appt(const consult_appointment *a, void *ud)
{
	(void)a;
	(*(int *)ud)++;
}

/* Appointments of a practice over all times (counts what an API user sees). */
static int count_appts(consult_store *s, int64_t practice)
{
	int n = 0;
	assert_int_equal(
	        consult_store_list_appointments(s, practice, INT64_MIN, INT64_MAX, count_appt, &n), CONSULT_OK);
	return n;
}

static void test_constraints(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(s, "am-markt", "X", NULL, 1, &id), CONSULT_ERR_CONFLICT);
	assert_true(strlen(consult_store_last_error(s)) > 0);
	assert_int_equal(
	        consult_store_add_staff(s, f->other_practice, "dr.weber", "X", CONSULT_ROLE_DOCTOR, "$h", 1, &id),
	        CONSULT_ERR_CONFLICT);
	/* bad role: refused, nothing stored */
	assert_int_equal(consult_store_add_staff(s, f->practice, "boss", "Boss", CONSULT_ROLE_NONE, "$h", 1, &id),
	        CONSULT_ERR_INVALID_FIELD);
	consult_staff st;
	assert_int_equal(consult_store_staff_by_username(s, "boss", &st), CONSULT_ERR_NOT_FOUND);
	/* missing parent */
	assert_int_equal(consult_store_add_staff(s, 9999, "ghost", "Ghost", CONSULT_ROLE_DOCTOR, "$h", 1, &id),
	        CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_staff_by_username(s, "ghost", &st), CONSULT_ERR_NOT_FOUND);
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 1);
	assert_int_equal(
	        consult_store_add_appointment(s, 9999, 0, 1000, 900, 1100, h, 0, 1, &id), CONSULT_ERR_NOT_FOUND);
	/* doctor of another practice, reception as doctor, unknown doctor */
	assert_int_equal(consult_store_add_appointment(s, f->practice, f->other_doctor, 1000, 900, 1100, h, 0, 1, &id),
	        CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_add_appointment(s, f->practice, f->reception, 1000, 900, 1100, h, 0, 1, &id),
	        CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_add_appointment(s, f->practice, 9999, 1000, 900, 1100, h, 0, 1, &id),
	        CONSULT_ERR_NOT_FOUND);
	/* unknown creator: foreign key */
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1100, h, 9999, 1, &id),
	        CONSULT_ERR_NOT_FOUND);
	assert_int_equal(count_appts(s, f->practice), 0);
	assert_int_equal(
	        consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1100, h, f->reception, 1, &id), CONSULT_OK);
	int64_t id2 = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 2000, 1900, 2100, h, 0, 1, &id2),
	        CONSULT_ERR_CONFLICT);
	assert_int_equal(count_appts(s, f->practice), 1);
	/* visits need an appointment; updates need a visit */
	assert_int_equal(consult_store_visit_begin(s, 9999, "A", "B", 1, &id2), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_state(s, 9999, CONSULT_VISIT_WAITING, false, 0), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_called(s, 9999, f->doctor, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_connected(s, 9999, 1), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_report(s, 9999, CONSULT_PARTY_DOCTOR, "connected", "host", "host"),
	        CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_end(s, 9999, CONSULT_END_LEFT, 1), CONSULT_ERR_NOT_FOUND);
	char *a, *b;
	assert_int_equal(consult_store_visit_names(s, 9999, &a, &b), CONSULT_ERR_NOT_FOUND);
	assert_null(a);
	/* a state outside the state machine is refused */
	assert_int_equal(consult_store_visit_begin(s, id, "A", "B", 1, &id2), CONSULT_OK);
	assert_int_equal(
	        consult_store_visit_state(s, id2, (consult_visit_state)99, false, 0), CONSULT_ERR_INVALID_FIELD);
	assert_int_equal(
	        consult_store_visit_report(s, id2, (consult_party)9, "x", "y", "z"), CONSULT_ERR_INVALID_FIELD);
}

static void test_appointment_by_code(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN], other[CONSULT_CODE_HASH_LEN];
	hash_of(h, 7);
	hash_of(other, 8);
	int64_t id = 0, id_any = 0;
	assert_int_equal(
	        consult_store_add_appointment(s, f->practice, f->doctor, 1000, 900, 1200, h, f->reception, 50, &id),
	        CONSULT_OK);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_code(s, h, &a), CONSULT_OK);
	assert_int_equal(a.id, id);
	assert_int_equal(a.practice_id, f->practice);
	assert_int_equal(a.doctor_id, f->doctor);
	assert_int_equal(a.starts_at, 1000);
	assert_int_equal(a.valid_from, 900);
	assert_int_equal(a.valid_until, 1200);
	assert_int_equal(a.created_by, f->reception);
	assert_int_equal(a.created_at, 50);
	assert_int_equal(a.cancelled_at, 0);
	assert_int_equal(a.status, CONSULT_APPT_BOOKED);
	assert_int_equal(a.end_reason, CONSULT_END_NONE);
	assert_null(a.patient_first);
	assert_string_equal(a.doctor_name, "Dr. Weber");
	assert_null(a.booked_name); /* none booked */
	assert_null(a.note);
	consult_appointment_clear(&a);
	assert_int_equal(consult_store_appointment_by_code(s, other, &a), CONSULT_ERR_NOT_FOUND);
	assert_null(a.status);
	/* any doctor: 0 in the API, NULL in SQL */
	assert_int_equal(
	        consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, other, 0, 50, &id_any), CONSULT_OK);
	assert_int_equal(consult_store_appointment_by_id(s, id_any, &a), CONSULT_OK);
	assert_int_equal(a.doctor_id, 0);
	assert_int_equal(a.created_by, 0);
	assert_null(a.doctor_name);
	consult_appointment_clear(&a);
	assert_int_equal(consult_store_appointment_by_id(s, 9999, &a), CONSULT_ERR_NOT_FOUND);
}

static void test_cancel(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 9);
	int64_t id = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &id), CONSULT_OK);
	assert_int_equal(consult_store_cancel_appointment(s, f->other_practice, id, 60), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, 9999, 60), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 60), CONSULT_OK);
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 70), CONSULT_ERR_WRONG_STATE);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
	assert_int_equal(a.cancelled_at, 60);
	assert_int_equal(a.status, CONSULT_APPT_CANCELLED);
	consult_appointment_clear(&a);
}

static void expect_status(fixture *f, int64_t id, consult_appt_status status, consult_end_reason reason)
{
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(f->s, id, &a), CONSULT_OK);
	assert_int_equal(a.status, status);
	assert_int_equal(a.end_reason, reason);
	consult_appointment_clear(&a);
}

static void test_visit_lifecycle(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 11);
	int64_t id = 0, v = 0, v2 = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 1000, 900, 1200, h, 0, 50, &id), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_BOOKED, CONSULT_END_NONE);
	assert_int_equal(consult_store_visit_begin(s, id, "Erika", "Muster", 950, &v), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_WAITING, CONSULT_END_NONE);
	char *first, *last;
	assert_int_equal(consult_store_visit_names(s, v, &first, &last), CONSULT_OK);
	assert_string_equal(first, "Erika");
	assert_string_equal(last, "Muster");
	free(first);
	free(last);
	assert_int_equal(consult_store_visit_state(s, v, CONSULT_VISIT_AWAY, false, 0), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_AWAY, CONSULT_END_NONE);
	assert_int_equal(consult_store_visit_state(s, v, CONSULT_VISIT_WAITING, false, 0), CONSULT_OK);
	assert_int_equal(consult_store_visit_called(s, v, f->doctor, 980), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(s, v, CONSULT_VISIT_RINGING, false, 0), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_RINGING, CONSULT_END_NONE);
	/* declined, called again by another doctor: first call time stays */
	assert_int_equal(consult_store_visit_called(s, v, f->doctor2, 990), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(s, v, CONSULT_VISIT_IN_CALL, false, 0), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_IN_CALL, CONSULT_END_NONE);
	assert_int_equal(consult_store_visit_connected(s, v, 995), CONSULT_OK);
	assert_int_equal(consult_store_visit_connected(s, v, 999), CONSULT_OK);
	/* reports: the doctor's pair of candidate types is the media path */
	assert_int_equal(
	        consult_store_visit_report(s, v, CONSULT_PARTY_PATIENT, "connected", "srflx", "relay"), CONSULT_OK);
	assert_int_equal(consult_store_visit_report(s, v, CONSULT_PARTY_DOCTOR, "checking", NULL, NULL), CONSULT_OK);
	assert_int_equal(
	        consult_store_visit_report(s, v, CONSULT_PARTY_DOCTOR, "connected", "relay", "srflx"), CONSULT_OK);
	/* a report without types keeps the earlier ones */
	assert_int_equal(
	        consult_store_visit_report(s, v, CONSULT_PARTY_PATIENT, "disconnected", NULL, NULL), CONSULT_OK);
	assert_int_equal(consult_store_visit_end(s, v, CONSULT_END_DOCTOR_HANGUP, 1100), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_ENDED, CONSULT_END_DOCTOR_HANGUP);
	/* ending again keeps the first reason */
	assert_int_equal(consult_store_visit_end(s, v, CONSULT_END_LEFT, 1110), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_ENDED, CONSULT_END_DOCTOR_HANGUP);
	/* a new join: the newest visit decides status and name */
	assert_int_equal(consult_store_visit_begin(s, id, "Max", "Mustermann", 1120, &v2), CONSULT_OK);
	assert_true(v2 > v);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
	assert_int_equal(a.status, CONSULT_APPT_WAITING);
	assert_int_equal(a.end_reason, CONSULT_END_NONE);
	assert_string_equal(a.patient_first, "Max");
	assert_string_equal(a.patient_last, "Mustermann");
	consult_appointment_clear(&a);
	/* cancelled wins over the visit's state */
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 1130), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_CANCELLED, CONSULT_END_NONE);
}

typedef struct appt_list {
	int n;
	int64_t starts[8];
	consult_store *s;
	int nested; /* rows seen by a nested list inside the callback */
	bool want_booking;
	char booked[8][64], notes[8][64]; /* "" for NULL */
} appt_list;

static void collect_appt(const consult_appointment *a, void *ud)
{
	appt_list *l = ud;
	if (l->n >= 8)
		return;
	if (l->want_booking) {
		snprintf(l->booked[l->n], sizeof l->booked[0], "%s", a->booked_name ? a->booked_name : "");
		snprintf(l->notes[l->n], sizeof l->notes[0], "%s", a->note ? a->note : "");
	}
	l->starts[l->n++] = a->starts_at;
}

/* re-enters the store from the callback: the same query and a lookup */
static void reenter_appt(const consult_appointment *a, void *ud)
{
	appt_list *l = ud;
	collect_appt(a, ud);
	int n = 0;
	assert_int_equal(consult_store_list_appointments(l->s, a->practice_id, 0, 100000, count_appt, &n), CONSULT_OK);
	l->nested += n;
	consult_appointment b;
	assert_int_equal(consult_store_appointment_by_id(l->s, a->id, &b), CONSULT_OK);
	assert_int_equal(b.starts_at, a->starts_at);
	consult_appointment_clear(&b);
}

static void test_list_appointments(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	const int64_t starts[] = { 300, 100, 200, 400, 200 };
	for (int i = 0; i < 5; i++) {
		uint8_t h[CONSULT_CODE_HASH_LEN];
		hash_of(h, 20 + i);
		assert_int_equal(consult_store_add_appointment(
		                         s, f->practice, 0, starts[i], starts[i] - 50, starts[i] + 50, h, 0, 1, NULL),
		        CONSULT_OK);
	}
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, 40);
	assert_int_equal(
	        consult_store_add_appointment(s, f->other_practice, 0, 250, 200, 300, h, 0, 1, NULL), CONSULT_OK);
	appt_list l = { 0 };
	assert_int_equal(consult_store_list_appointments(s, f->practice, 100, 400, collect_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 4); /* 400 is outside [100,400); other practice excluded */
	assert_int_equal(l.starts[0], 100);
	assert_int_equal(l.starts[1], 200);
	assert_int_equal(l.starts[2], 200);
	assert_int_equal(l.starts[3], 300);
	memset(&l, 0, sizeof l);
	assert_int_equal(consult_store_list_appointments(s, f->practice, 101, 200, collect_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 0);
	memset(&l, 0, sizeof l);
	l.s = s;
	assert_int_equal(consult_store_list_appointments(s, f->practice, 0, 1000, reenter_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.nested, 25);
	assert_int_equal(l.starts[4], 400);
}

/* Schema v7: the name and note reception booked, read by id, by code and
 * in the list, beside (not instead of) the names the patient typed. */
static void test_booking(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h[CONSULT_CODE_HASH_LEN], h2[CONSULT_CODE_HASH_LEN];
	hash_of(h, 50);
	hash_of(h2, 51);
	int64_t id = 0, id2 = 0, v = 0;
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 500, 400, 900, h, 0, 1, &id), CONSULT_OK);
	assert_int_equal(consult_store_add_appointment(s, f->practice, 0, 600, 500, 900, h2, 0, 1, &id2), CONSULT_OK);
	/* UTF-8 u-umlaut in octal: a hex escape would swallow the "c" after it */
	const char *name = "Erika M\xc3\xbcster", *note = "R\303\274ckfrage Befund; bitte Dolmetscher (TR)";
	assert_int_equal(consult_store_set_appointment_booking(s, id, name, note), CONSULT_OK);
	assert_int_equal(consult_store_set_appointment_booking(s, id2, NULL, "nur Notiz"), CONSULT_OK);
	assert_int_equal(consult_store_set_appointment_booking(s, 9999, name, note), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_begin(s, id, "Eri", "Mus", 450, &v), CONSULT_OK);
	consult_appointment a;
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
	assert_string_equal(a.booked_name, name);
	assert_string_equal(a.note, note);
	assert_string_equal(a.patient_first, "Eri"); /* the typed names stay apart */
	assert_string_equal(a.patient_last, "Mus");
	consult_appointment_clear(&a);
	assert_null(a.booked_name);
	assert_int_equal(consult_store_appointment_by_code(s, h, &a), CONSULT_OK);
	assert_string_equal(a.booked_name, name);
	assert_string_equal(a.note, note);
	consult_appointment_clear(&a);
	assert_int_equal(consult_store_appointment_by_id(s, id2, &a), CONSULT_OK);
	assert_null(a.booked_name);
	assert_string_equal(a.note, "nur Notiz");
	consult_appointment_clear(&a);
	appt_list l = { 0 };
	l.want_booking = true;
	assert_int_equal(consult_store_list_appointments(s, f->practice, 0, 1000, collect_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.booked[0], name);
	assert_string_equal(l.notes[0], note);
	assert_string_equal(l.booked[1], "");
	assert_string_equal(l.notes[1], "nur Notiz");
	/* NULL clears; a cancelled appointment keeps them */
	assert_int_equal(consult_store_set_appointment_booking(s, id2, NULL, NULL), CONSULT_OK);
	assert_int_equal(consult_store_appointment_by_id(s, id2, &a), CONSULT_OK);
	assert_null(a.note);
	consult_appointment_clear(&a);
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 700), CONSULT_OK);
	assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
	assert_string_equal(a.booked_name, name);
	consult_appointment_clear(&a);
	/* part of an outer transaction: rolled back with it */
	assert_int_equal(consult_store_begin(s), CONSULT_OK);
	assert_int_equal(consult_store_set_appointment_booking(s, id2, "Zur\303\274ck", NULL), CONSULT_OK);
	assert_int_equal(consult_store_rollback(s), CONSULT_OK);
	assert_int_equal(consult_store_appointment_by_id(s, id2, &a), CONSULT_OK);
	assert_null(a.booked_name);
	consult_appointment_clear(&a);
}

/* --- statistics and restart --- */

static int64_t called_visit(fixture *f, int seed, int64_t practice, int64_t joined, int64_t called)
{
	uint8_t h[CONSULT_CODE_HASH_LEN];
	int64_t a = 0, v = 0;
	hash_of(h, seed);
	assert_int_equal(consult_store_add_appointment(f->s, practice, 0, joined, joined, joined + 3600, h, 0, 1, &a),
	        CONSULT_OK);
	assert_int_equal(consult_store_visit_begin(f->s, a, "P", "Q", joined, &v), CONSULT_OK);
	if (called >= 0)
		assert_int_equal(consult_store_visit_called(f->s, v, 0, called), CONSULT_OK);
	return v;
}

static void test_day_stats(void **state)
{
	fixture *f = *state;
	consult_day_stats st;
	assert_int_equal(consult_store_day_stats(f->s, f->practice, 0, 100000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 0);
	assert_int_equal(st.median_wait_s, -1);
	/* waits 10, 30, 20 inside [1000, 2000) */
	called_visit(f, 50, f->practice, 1000, 1010);
	called_visit(f, 51, f->practice, 1100, 1130);
	called_visit(f, 52, f->practice, 1200, 1220);
	/* not counted: outside the day, other practice, never called */
	called_visit(f, 53, f->practice, 1900, 2000);
	called_visit(f, 54, f->other_practice, 1000, 1500);
	called_visit(f, 55, f->practice, 1000, -1);
	assert_int_equal(consult_store_day_stats(f->s, f->practice, 1000, 2000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 3);
	assert_int_equal(st.median_wait_s, 20);
	/* even count: 10, 20, 30, 100 -> (20 + 30) / 2 */
	called_visit(f, 56, f->practice, 1300, 1400);
	assert_int_equal(consult_store_day_stats(f->s, f->practice, 1000, 2000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 4);
	assert_int_equal(st.median_wait_s, 25);
	assert_int_equal(consult_store_day_stats(f->s, f->other_practice, 1000, 2000, &st), CONSULT_OK);
	assert_int_equal(st.calls_today, 1);
	assert_int_equal(st.median_wait_s, 500);
}

typedef struct live_seen {
	consult_live_visit v[8];
	size_t n;
} live_seen;
static void see_live(const consult_live_visit *v, void *ud)
{
	live_seen *l = ud;
	assert_true(l->n < 8);
	l->v[l->n++] = *v;
}

/* Live visits come back with their place (state, head, away_since, who
 * called), in visit id order, with the appointment's practice, doctor and
 * time; ended ones do not. */
static void test_live_visits(void **state)
{
	fixture *f = *state;
	int64_t v1 = called_visit(f, 60, f->practice, 1000, -1);
	int64_t v2 = called_visit(f, 61, f->practice, 1100, -1);
	int64_t v3 = called_visit(f, 62, f->other_practice, 1000, -1);
	int64_t v4 = called_visit(f, 63, f->practice, 1200, -1);
	assert_int_equal(consult_store_visit_ring(f->s, v2, f->doctor, 1150), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(f->s, v2, CONSULT_VISIT_IN_CALL, true, 1160), CONSULT_OK);
	assert_int_equal(consult_store_visit_state(f->s, v1, CONSULT_VISIT_AWAY, false, 1050), CONSULT_OK);
	assert_int_equal(consult_store_visit_end(f->s, v4, CONSULT_END_LEFT, 1250), CONSULT_OK);
	live_seen l = { .n = 0 };
	assert_int_equal(consult_store_live_visits(f->s, see_live, &l), CONSULT_OK);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].id, v1);
	assert_int_equal(l.v[0].practice_id, f->practice);
	assert_int_equal(l.v[0].state, CONSULT_VISIT_AWAY);
	assert_int_equal(l.v[0].away_since, 1050);
	assert_false(l.v[0].head);
	assert_int_equal(l.v[0].called_by, 0);
	assert_int_equal(l.v[0].joined_at, 1000);
	assert_int_equal(l.v[0].starts_at, 1000);
	assert_int_equal(l.v[0].doctor_id, 0);
	assert_int_equal(l.v[1].id, v2);
	assert_int_equal(l.v[1].state, CONSULT_VISIT_IN_CALL);
	assert_true(l.v[1].head);
	assert_int_equal(l.v[1].away_since, 1160);
	assert_int_equal(l.v[1].called_by, f->doctor);
	assert_int_equal(l.v[2].id, v3);
	assert_int_equal(l.v[2].practice_id, f->other_practice);
	assert_int_equal(l.v[2].state, CONSULT_VISIT_WAITING);
	/* back: away_since cleared */
	assert_int_equal(consult_store_visit_state(f->s, v1, CONSULT_VISIT_WAITING, false, 0), CONSULT_OK);
	l.n = 0;
	assert_int_equal(consult_store_live_visits(f->s, see_live, &l), CONSULT_OK);
	assert_int_equal(l.v[0].away_since, 0);
	assert_int_equal(l.v[0].state, CONSULT_VISIT_WAITING);
}

/* Heartbeat and clean stop: none at first, then the newest of each. */
static void test_lifecycle(void **state)
{
	fixture *f = *state;
	int64_t alive = -1, stopped = -1;
	assert_int_equal(consult_store_lifecycle(f->s, &alive, &stopped), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(alive, 0);
	assert_int_equal(stopped, 0);
	assert_int_equal(consult_store_alive(f->s, 100), CONSULT_OK);
	assert_int_equal(consult_store_alive(f->s, 105), CONSULT_OK);
	assert_int_equal(consult_store_lifecycle(f->s, &alive, &stopped), CONSULT_OK);
	assert_int_equal(alive, 105);
	assert_int_equal(stopped, 0);
	assert_int_equal(consult_store_stopped(f->s, 107), CONSULT_OK);
	assert_int_equal(consult_store_lifecycle(f->s, &alive, &stopped), CONSULT_OK);
	assert_int_equal(alive, 105);
	assert_int_equal(stopped, 107);
	/* the next run's heartbeat keeps the stop of the last one */
	assert_int_equal(consult_store_alive(f->s, 200), CONSULT_OK);
	assert_int_equal(consult_store_lifecycle(f->s, &alive, &stopped), CONSULT_OK);
	assert_int_equal(alive, 200);
	assert_int_equal(stopped, 107);
}

/* --- known devices --- */

/* Schema v5: known staff devices, by token hash; rotation, trim per staff,
 * revoke, purge of unused, cascade with the staff row, constraints. */
static void dev_hash(uint8_t h[CONSULT_DEVICE_HASH_LEN], int seed)
{
	for (int i = 0; i < CONSULT_DEVICE_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 31 + i);
}

static void test_devices(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t h1[32], h2[32], h3[32];
	dev_hash(h1, 1);
	dev_hash(h2, 2);
	dev_hash(h3, 3);
	consult_device d;
	assert_int_equal(consult_store_device_find(s, h1, &d), CONSULT_ERR_NOT_FOUND);
	int64_t id = 0;
	assert_int_equal(consult_store_device_issue(s, f->doctor, 0, h1, 1000, 3, &id), CONSULT_OK);
	assert_true(id > 0);
	assert_int_equal(consult_store_device_find(s, h1, &d), CONSULT_OK);
	assert_int_equal(d.id, id);
	assert_int_equal(d.staff_id, f->doctor);
	assert_int_equal(d.created_at, 1000);
	assert_int_equal(d.last_used_at, 1000);
	assert_memory_equal(d.hash, h1, 32);
	/* rotation: same device, new hash, new last use; the old hash is gone */
	int64_t id2 = 0;
	assert_int_equal(consult_store_device_issue(s, f->doctor, id, h2, 2000, 3, &id2), CONSULT_OK);
	assert_int_equal(id2, id);
	assert_int_equal(consult_store_device_find(s, h1, &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_device_find(s, h2, &d), CONSULT_OK);
	assert_int_equal(d.last_used_at, 2000);
	assert_int_equal(d.created_at, 1000);
	/* rotating a device of another staff member changes nothing */
	assert_int_equal(consult_store_device_issue(s, f->doctor2, id, h3, 2100, 3, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_device_find(s, h2, &d), CONSULT_OK);
	/* the same hash twice: conflict, nothing added */
	assert_int_equal(consult_store_device_issue(s, f->doctor2, 0, h2, 2100, 3, NULL), CONSULT_ERR_CONFLICT);
	assert_int_equal(consult_store_device_find(s, h2, &d), CONSULT_OK);
	assert_int_equal(d.staff_id, f->doctor);
	/* no such staff member */
	assert_int_equal(consult_store_device_issue(s, 999999, 0, h3, 2100, 3, NULL), CONSULT_ERR_NOT_FOUND);
	/* at most `keep` per staff member: the least recently used go */
	for (int i = 10; i < 15; i++) {
		uint8_t h[32];
		dev_hash(h, i);
		assert_int_equal(consult_store_device_issue(s, f->doctor, 0, h, 3000 + i, 3, NULL), CONSULT_OK);
	}
	for (int i = 12; i < 15; i++) {
		uint8_t h[32];
		dev_hash(h, i);
		assert_int_equal(consult_store_device_find(s, h, &d), CONSULT_OK);
	}
	uint8_t h11[32];
	dev_hash(h11, 11);
	assert_int_equal(consult_store_device_find(s, h11, &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_device_find(s, h2, &d), CONSULT_ERR_NOT_FOUND);
	uint8_t h14[32];
	dev_hash(h14, 14);
	assert_int_equal(consult_store_device_find(s, h14, &d), CONSULT_OK);
	/* another staff member's devices are separate */
	assert_int_equal(consult_store_device_issue(s, f->doctor2, 0, h3, 3100, 3, NULL), CONSULT_OK);
	/* purge of unused: before 3012 -> 3010, 3011 gone? (only 3012..3014 of dr.weber remain) */
	int64_t n = -1;
	assert_int_equal(consult_store_devices_purge(s, 3013, &n), CONSULT_OK);
	assert_int_equal(n, 1); /* 3012 */
	assert_int_equal(consult_store_device_find(s, h14, &d), CONSULT_OK);
	/* revoke: only that staff member's */
	assert_int_equal(consult_store_devices_revoke(s, f->doctor, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(consult_store_device_find(s, h14, &d), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_device_find(s, h3, &d), CONSULT_OK);
}

/* --- enums round-trip --- */

/* The id of the appointment called_visit made with this seed. */
static int64_t appt_of(fixture *f, int seed)
{
	uint8_t h[CONSULT_CODE_HASH_LEN];
	consult_appointment a;
	hash_of(h, seed);
	assert_int_equal(consult_store_appointment_by_code(f->s, h, &a), CONSULT_OK);
	int64_t id = a.id;
	consult_appointment_clear(&a);
	return id;
}

/* Every visit state and end reason written comes back as the same enum in
 * the appointment's status; every role comes back from a staff row. */
static void test_enums_round_trip(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	static const struct {
		consult_visit_state st;
		consult_appt_status want;
	} states[] = {
		{ CONSULT_VISIT_WAITING, CONSULT_APPT_WAITING },
		{ CONSULT_VISIT_AWAY, CONSULT_APPT_AWAY },
		{ CONSULT_VISIT_RINGING, CONSULT_APPT_RINGING },
		{ CONSULT_VISIT_IN_CALL, CONSULT_APPT_IN_CALL },
		{ CONSULT_VISIT_ENDED, CONSULT_APPT_ENDED },
	};
	assert_int_equal(sizeof states / sizeof states[0], CONSULT_VISIT_STATE_COUNT);
	int64_t v = called_visit(f, 70, f->practice, 1000, -1), id = appt_of(f, 70);
	consult_appointment a;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		assert_int_equal(consult_store_visit_state(s, v, states[i].st, false, 0), CONSULT_OK);
		assert_int_equal(consult_store_appointment_by_id(s, id, &a), CONSULT_OK);
		assert_int_equal(a.status, states[i].want);
		assert_string_equal(consult_appt_status_name(a.status), consult_visit_state_name(states[i].st));
		consult_appointment_clear(&a);
	}
	for (int r = CONSULT_END_NONE + 1; r < CONSULT_END_REASON_COUNT; r++) {
		int64_t vr = called_visit(f, 100 + r, f->practice, 2000 + r, -1);
		assert_int_equal(consult_store_visit_end(s, vr, (consult_end_reason)r, 3000), CONSULT_OK);
		consult_appointment b;
		uint8_t h[CONSULT_CODE_HASH_LEN];
		hash_of(h, 100 + r);
		assert_int_equal(consult_store_appointment_by_code(s, h, &b), CONSULT_OK);
		assert_int_equal(b.status, CONSULT_APPT_ENDED);
		assert_int_equal(b.end_reason, r);
		consult_appointment_clear(&b);
	}
	/* ending with an unknown reason is refused and changes nothing */
	assert_int_equal(consult_store_visit_end(s, v, CONSULT_END_REASON_COUNT, 1), CONSULT_ERR_INVALID_FIELD);
	/* a cancelled appointment is CANCELLED whatever its visit's state */
	assert_int_equal(consult_store_cancel_appointment(s, f->practice, id, 4000), CONSULT_OK);
	expect_status(f, id, CONSULT_APPT_CANCELLED, CONSULT_END_NONE);
	/* roles */
	consult_staff st;
	assert_int_equal(consult_store_staff_by_id(s, f->reception, &st), CONSULT_OK);
	assert_int_equal(st.role, CONSULT_ROLE_RECEPTION);
	consult_staff_clear(&st);
	assert_int_equal(consult_store_staff_by_id(s, f->doctor2, &st), CONSULT_OK);
	assert_int_equal(st.role, CONSULT_ROLE_DOCTOR);
	consult_staff_clear(&st);
	for (int i = 0; i < CONSULT_APPT_STATUS_COUNT; i++)
		assert_true(strlen(consult_appt_status_name(i)) > 0);
	assert_string_equal(consult_appt_status_name(CONSULT_APPT_STATUS_COUNT), "");
}

/* --- purge and erasure really remove --- */

static void add_contact(consult_store *s, int64_t appt)
{
	uint8_t box[4] = { 1, 2, 3, 4 };
	consult_contact c = { .appointment_id = appt,
		.phone = "+4972112345",
		.email = "p@example.org",
		.code_box = box,
		.code_box_len = sizeof box };
	assert_int_equal(consult_store_set_contact(s, &c), CONSULT_OK);
}

static void count_msg(const consult_outbox_msg *m, void *ud)
{
	(void)m;
	(*(int *)ud)++;
}

static int msgs_of(consult_store *s, int64_t appt)
{
	int n = 0;
	assert_int_equal(consult_outbox_list(s, appt, count_msg, &n), CONSULT_OK);
	return n;
}

static void test_purge_and_erase_remove(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	uint8_t mid[16] = { 9 };
	int64_t old_v = called_visit(f, 80, f->practice, 1000, 1010); /* purged */
	int64_t mid_v = called_visit(f, 81, f->practice, 5000, -1);   /* contact wiped */
	int64_t new_v = called_visit(f, 82, f->practice, 9000, -1);   /* kept, then erased */
	(void)mid_v;
	int64_t ids[3] = { appt_of(f, 80), appt_of(f, 81), appt_of(f, 82) };
	for (int i = 0; i < 3; i++) {
		add_contact(s, ids[i]);
		assert_int_equal(
		        consult_store_set_appointment_booking(s, ids[i], "Booked Name", "Booked note"), CONSULT_OK);
		mid[0] = (uint8_t)(i + 1);
		assert_int_equal(
		        consult_outbox_add(s, ids[i], CONSULT_CHANNEL_EMAIL, CONSULT_MSG_INVITE, 1, mid, 1, NULL),
		        CONSULT_OK);
	}
	consult_purge_counts c;
	assert_int_equal(consult_store_purge(s, 2000, 6000, 7000, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_int_equal(c.visits, 1);
	assert_int_equal(c.deliveries, 1);
	assert_int_equal(c.contacts_wiped, 1);
	consult_appointment a;
	char *first, *last;
	consult_contact ct;
	assert_int_equal(consult_store_appointment_by_id(s, ids[0], &a), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_names(s, old_v, &first, &last), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_contact(s, ids[0], &ct), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(msgs_of(s, ids[0]), 0);
	/* the wiped contact keeps its row, without the data */
	assert_int_equal(consult_store_contact(s, ids[1], &ct), CONSULT_OK);
	assert_null(ct.phone);
	assert_null(ct.email);
	assert_null(ct.code_box);
	assert_int_equal(ct.wiped_at, 7000);
	consult_contact_clear(&ct);
	/* the booked name and note go with the appointment, not with the contact */
	assert_int_equal(consult_store_appointment_by_id(s, ids[1], &a), CONSULT_OK);
	assert_string_equal(a.booked_name, "Booked Name");
	assert_string_equal(a.note, "Booked note");
	consult_appointment_clear(&a);
	appt_list l = { 0 };
	l.want_booking = true;
	assert_int_equal(consult_store_list_appointments(s, f->practice, 0, 100000, collect_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 2); /* the purged one is not listed with its name any more */
	assert_int_equal(l.starts[0], 5000);
	assert_int_equal(consult_store_contact(s, ids[2], &ct), CONSULT_OK);
	assert_string_equal(ct.phone, "+4972112345");
	consult_contact_clear(&ct);
	/* a second purge finds nothing more */
	assert_int_equal(consult_store_purge(s, 2000, 6000, 7100, &c), CONSULT_OK);
	assert_int_equal(c.appointments + c.visits + c.deliveries + c.contacts_wiped, 0);
	/* erase: only in its practice; then everything of it is gone */
	assert_int_equal(consult_store_erase_appointment(s, f->other_practice, ids[2], &c), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_appointment_by_id(s, ids[2], &a), CONSULT_OK);
	consult_appointment_clear(&a);
	assert_int_equal(consult_store_erase_appointment(s, f->practice, ids[2], &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_int_equal(c.visits, 1);
	assert_int_equal(c.deliveries, 1);
	assert_int_equal(c.contacts_wiped, 1);
	assert_int_equal(consult_store_appointment_by_id(s, ids[2], &a), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_visit_names(s, new_v, &first, &last), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_set_appointment_booking(s, ids[2], "Again", NULL), CONSULT_ERR_NOT_FOUND);
	memset(&l, 0, sizeof l);
	l.want_booking = true;
	assert_int_equal(consult_store_list_appointments(s, f->practice, 0, 100000, collect_appt, &l), CONSULT_OK);
	assert_int_equal(l.n, 1); /* only the wiped one, with its booking */
	assert_string_equal(l.booked[0], "Booked Name");
	assert_int_equal(consult_store_contact(s, ids[2], &ct), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(msgs_of(s, ids[2]), 0);
	assert_int_equal(consult_store_erase_appointment(s, f->practice, ids[2], &c), CONSULT_ERR_NOT_FOUND);
	/* a purge rolled back with its transaction removes nothing */
	assert_int_equal(consult_store_begin(s), CONSULT_OK);
	assert_int_equal(consult_store_purge(s, 100000, 100000, 7200, &c), CONSULT_OK);
	assert_int_equal(c.appointments, 1);
	assert_int_equal(consult_store_rollback(s), CONSULT_OK);
	assert_int_equal(consult_store_appointment_by_id(s, ids[1], &a), CONSULT_OK);
	consult_appointment_clear(&a);
}

/* --- upkeep and health --- */

static void test_maintain_and_probe(void **state)
{
	fixture *f = *state;
	consult_store *s = f->s;
	consult_store_upkeep r;
	/* upkeep runs when the backend finds it due; it never fails here */
	for (int64_t now = 1000; now < 1100; now += 30) {
		assert_int_equal(consult_store_maintain(s, now, &r), CONSULT_OK);
		assert_string_equal(r.error, "");
		assert_true(r.done <= r.due);
	}
	int64_t v = called_visit(f, 90, f->practice, 1000, -1);
	/* upkeep may run now or later; it never fails and the data stays */
	assert_int_equal(consult_store_maintain(s, 2000, &r), CONSULT_OK);
	assert_int_equal(consult_store_maintain(s, 2000, NULL), CONSULT_OK);
	char *first, *last;
	assert_int_equal(consult_store_visit_names(s, v, &first, &last), CONSULT_OK);
	assert_string_equal(first, "P");
	free(first);
	free(last);
	consult_store_health h;
	assert_int_equal(consult_store_probe(s, &h), CONSULT_OK);
	assert_true(h.writable);
	assert_string_equal(h.error, "");
	assert_true(h.disk_free_mb >= -1);
	assert_true(h.log_bytes >= -1);
	assert_true(h.log_limit_bytes == -1 || h.log_limit_bytes == CONSULT_STORE_LOG_LIMIT);
	/* plain answers are not counted as store failures */
	int64_t id = 0;
	assert_int_equal(consult_store_add_practice(s, "am-markt", "X", NULL, 1, &id), CONSULT_ERR_CONFLICT);
	assert_int_equal(consult_store_visit_state(s, 9999, CONSULT_VISIT_AWAY, false, 0), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_error_count(s), 0);
	assert_string_equal(consult_store_last_error_name(s), "");
}

/* --- reads folded for fewer round trips --- */

/* Every practice read (by slug, by id, the list) carries all four flags,
 * so one read answers what four flag reads did; each flag on its own. */
static void flags_of(const consult_practice *p, void *ud)
{
	consult_practice *out = ud;
	if (p->id != out->id)
		return;
	out->relay_only = p->relay_only;
	out->forward_never = p->forward_never;
	out->audio_only_never = p->audio_only_never;
	out->patient_share = p->patient_share;
}

static void expect_flags(fixture *f, bool relay, bool fwd, bool audio, bool share)
{
	consult_practice p;
	assert_int_equal(consult_store_practice_by_id(f->s, f->practice, &p), CONSULT_OK);
	assert_int_equal(p.relay_only, relay);
	assert_int_equal(p.forward_never, fwd);
	assert_int_equal(p.audio_only_never, audio);
	assert_int_equal(p.patient_share, share);
	consult_practice_clear(&p);
	assert_int_equal(consult_store_practice_by_slug(f->s, "am-markt", &p), CONSULT_OK);
	assert_int_equal(p.relay_only, relay);
	assert_int_equal(p.forward_never, fwd);
	assert_int_equal(p.audio_only_never, audio);
	assert_int_equal(p.patient_share, share);
	consult_practice_clear(&p);
	consult_practice l = { .id = f->practice,
		.relay_only = !relay,
		.forward_never = !fwd,
		.audio_only_never = !audio,
		.patient_share = !share };
	assert_int_equal(consult_store_list_practices(f->s, flags_of, &l), CONSULT_OK);
	assert_int_equal(l.relay_only, relay);
	assert_int_equal(l.forward_never, fwd);
	assert_int_equal(l.audio_only_never, audio);
	assert_int_equal(l.patient_share, share);
	/* the other practice keeps its defaults */
	assert_int_equal(consult_store_practice_by_id(f->s, f->other_practice, &p), CONSULT_OK);
	assert_false(p.relay_only || p.forward_never || p.audio_only_never || p.patient_share);
	consult_practice_clear(&p);
}

static void test_practice_flags_in_row(void **state)
{
	fixture *f = *state;
	expect_flags(f, false, false, false, false);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", true), CONSULT_OK);
	expect_flags(f, true, false, false, false);
	assert_int_equal(consult_store_set_practice_forward_never(f->s, "am-markt", true), CONSULT_OK);
	expect_flags(f, true, true, false, false);
	assert_int_equal(consult_store_set_practice_audio_only_never(f->s, "am-markt", true), CONSULT_OK);
	expect_flags(f, true, true, true, false);
	assert_int_equal(consult_store_set_practice_patient_share(f->s, "am-markt", true), CONSULT_OK);
	expect_flags(f, true, true, true, true);
	assert_int_equal(consult_store_set_practice_relay_only(f->s, "am-markt", false), CONSULT_OK);
	assert_int_equal(consult_store_set_practice_audio_only_never(f->s, "am-markt", false), CONSULT_OK);
	expect_flags(f, false, true, false, true);
}

typedef struct {
	int n;
	int64_t ids[8];
	char *phone[8], *email[8];
	int64_t sms_at[8], email_at[8], wiped_at[8];
	bool box[8];
} contact_rows;

static void collect_contact(const consult_contact *c, void *ud)
{
	contact_rows *r = ud;
	if (r->n >= 8)
		return;
	r->ids[r->n] = c->appointment_id;
	r->phone[r->n] = c->phone ? strdup(c->phone) : NULL;
	r->email[r->n] = c->email ? strdup(c->email) : NULL;
	r->sms_at[r->n] = c->consent_sms_at;
	r->email_at[r->n] = c->consent_email_at;
	r->wiped_at[r->n] = c->wiped_at;
	r->box[r->n] = c->code_box != NULL || c->code_box_len != 0;
	r->n++;
}

static void contact_rows_clear(contact_rows *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->phone[i]);
		free(r->email[i]);
	}
	memset(r, 0, sizeof(*r));
}

static int64_t appt_at(fixture *f, int64_t practice, int64_t starts_at, int seed)
{
	uint8_t h[CONSULT_CODE_HASH_LEN];
	hash_of(h, seed);
	int64_t id = 0;
	assert_int_equal(consult_store_add_appointment(f->s, practice, 0, starts_at, starts_at - 60, starts_at + 60, h,
	                         f->reception, 100, &id),
	        CONSULT_OK);
	return id;
}

/* The contact rows of a practice's appointments in a range, in one call:
 * the order of the appointment list, nothing of other practices or outside
 * the range, appointments without contact row skipped, code_box not read,
 * a wiped row reported wiped. */
static void test_contacts_range(void **state)
{
	fixture *f = *state;
	contact_rows r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(consult_store_contacts_range(f->s, f->practice, 0, 100000, collect_contact, &r), CONSULT_OK);
	assert_int_equal(r.n, 0);

	int64_t late = appt_at(f, f->practice, 3000, 71);
	int64_t early = appt_at(f, f->practice, 2000, 72);
	int64_t none = appt_at(f, f->practice, 2500, 73); /* no contact row */
	int64_t same_time = appt_at(f, f->practice, 3000, 74);
	int64_t outside = appt_at(f, f->practice, 9000, 75);
	int64_t other = appt_at(f, f->other_practice, 2000, 76);
	(void)none;
	uint8_t box[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const int64_t with[] = { late, early, same_time, outside, other };
	for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
		char phone[20];
		snprintf(phone, sizeof(phone), "+4917100000%zu", i);
		consult_contact c = { .appointment_id = with[i],
			.phone = phone,
			.email = i == 1 ? "early@example.org" : NULL,
			.consent_sms_at = 500 + (int64_t)i,
			.consent_sms_by = f->reception,
			.consent_email_at = i == 1 ? 600 : 0,
			.consent_email_by = i == 1 ? f->reception : 0,
			.code_box = box,
			.code_box_len = sizeof(box) };
		assert_int_equal(consult_store_set_contact(f->s, &c), CONSULT_OK);
	}
	assert_int_equal(consult_store_contacts_range(f->s, f->practice, 1000, 5000, collect_contact, &r), CONSULT_OK);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ids[0], early);
	assert_int_equal(r.ids[1], late < same_time ? late : same_time);
	assert_int_equal(r.ids[2], late < same_time ? same_time : late);
	assert_string_equal(r.phone[0], "+49171000001");
	assert_string_equal(r.email[0], "early@example.org");
	assert_int_equal(r.sms_at[0], 501);
	assert_int_equal(r.email_at[0], 600);
	assert_null(r.email[1]);
	assert_int_equal(r.email_at[1], 0);
	for (int i = 0; i < r.n; i++) {
		assert_false(r.box[i]);
		assert_int_equal(r.wiped_at[i], 0);
	}
	contact_rows_clear(&r);

	/* the range is [from, to): an appointment at to is outside */
	assert_int_equal(consult_store_contacts_range(f->s, f->practice, 2000, 3000, collect_contact, &r), CONSULT_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ids[0], early);
	contact_rows_clear(&r);

	/* the other practice sees only its own */
	assert_int_equal(
	        consult_store_contacts_range(f->s, f->other_practice, 0, 100000, collect_contact, &r), CONSULT_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ids[0], other);
	contact_rows_clear(&r);

	/* wiped rows stay in the list, wiped */
	consult_purge_counts pc;
	assert_int_equal(consult_store_purge(f->s, 0, 2600, 700, &pc), CONSULT_OK);
	assert_int_equal(consult_store_contacts_range(f->s, f->practice, 1000, 5000, collect_contact, &r), CONSULT_OK);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ids[0], early);
	assert_int_equal(r.wiped_at[0], 700);
	assert_null(r.phone[0]);
	assert_int_equal(r.sms_at[0], 501); /* consents stay */
	assert_int_equal(r.wiped_at[1], 0);
	contact_rows_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
		cmocka_unit_test(test_open_bad_path),
		cmocka_unit_test_setup_teardown(test_forward_never, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_relay_only, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_audio_only_never, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_patient_share, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_staff, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_list_practices, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_constraints, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_appointment_by_code, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_visit_lifecycle, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_list_appointments, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_booking, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_day_stats, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_live_visits, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_devices, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_enums_round_trip, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_purge_and_erase_remove, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_maintain_and_probe, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_practice_flags_in_row, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_contacts_range, setup_people, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
