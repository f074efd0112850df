/* test_store_contract_sessions.c - the store contract for resumable staff
 * sessions (schema v6 table staff_sessions), against store.h only.
 *
 * Contract: each test gets a new store with two practices and their staff
 * (store_fixture.h); `now` values are made up small integers. Shown: a
 * session is found by its token hash and belongs to exactly one staff
 * member; touch only moves forward; delete ends one session; revoke ends
 * all of one staff member and nobody else's; purge ends the unused ones;
 * sessions survive reopening the store (the point: a restart); a second
 * session of the same staff member is separate; a practice's live
 * sessions are listed without other practices' and disabled members'.
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

static void ses_hash(uint8_t h[CONSULT_SESSION_HASH_LEN], int seed)
{
	for (int i = 0; i < CONSULT_SESSION_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 37 + i);
}

static int64_t create(consult_store *s, int64_t staff, int seed, int64_t now)
{
	uint8_t h[CONSULT_SESSION_HASH_LEN];
	ses_hash(h, seed);
	int64_t id = 0;
	assert_int_equal(consult_store_session_create(s, staff, h, now, &id), CONSULT_OK);
	assert_true(id > 0);
	return id;
}

/* consult_store_session_find by seed: OK with the row, or NOT_FOUND */
static consult_err find(consult_store *s, int seed, consult_staff_session *out)
{
	uint8_t h[CONSULT_SESSION_HASH_LEN];
	ses_hash(h, seed);
	return consult_store_session_find(s, h, out);
}

static void test_create_find(void **state)
{
	fixture *f = *state;
	consult_staff_session ss;
	assert_int_equal(find(f->s, 1, &ss), CONSULT_ERR_NOT_FOUND);
	int64_t id = create(f->s, f->doctor, 1, 1000);
	assert_int_equal(find(f->s, 1, &ss), CONSULT_OK);
	assert_int_equal(ss.id, id);
	assert_int_equal(ss.staff_id, f->doctor);
	assert_int_equal(ss.created_at, 1000);
	assert_int_equal(ss.last_used_at, 1000);
	uint8_t h[CONSULT_SESSION_HASH_LEN];
	ses_hash(h, 1);
	assert_memory_equal(ss.hash, h, CONSULT_SESSION_HASH_LEN);
	/* a second login of the same staff member is a second session */
	int64_t id2 = create(f->s, f->doctor, 2, 1100);
	assert_true(id2 != id);
	assert_int_equal(find(f->s, 2, &ss), CONSULT_OK);
	assert_int_equal(ss.staff_id, f->doctor);
	/* the same hash twice: conflict, the first owner stays */
	assert_int_equal(consult_store_session_create(f->s, f->doctor2, h, 1200, NULL), CONSULT_ERR_CONFLICT);
	assert_int_equal(find(f->s, 1, &ss), CONSULT_OK);
	assert_int_equal(ss.staff_id, f->doctor);
	/* no such staff member */
	ses_hash(h, 3);
	assert_int_equal(consult_store_session_create(f->s, 999999, h, 1200, NULL), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(find(f->s, 3, &ss), CONSULT_ERR_NOT_FOUND);
	/* a hash differing in one byte finds nothing */
	ses_hash(h, 1);
	h[31] ^= 1;
	assert_int_equal(consult_store_session_find(f->s, h, &ss), CONSULT_ERR_NOT_FOUND);
}

static void test_touch(void **state)
{
	fixture *f = *state;
	int64_t id = create(f->s, f->doctor, 1, 1000);
	consult_staff_session ss;
	assert_int_equal(consult_store_session_touch(f->s, id, 1500), CONSULT_OK);
	assert_int_equal(find(f->s, 1, &ss), CONSULT_OK);
	assert_int_equal(ss.last_used_at, 1500);
	assert_int_equal(ss.created_at, 1000);
	/* never backwards */
	assert_int_equal(consult_store_session_touch(f->s, id, 1200), CONSULT_OK);
	assert_int_equal(find(f->s, 1, &ss), CONSULT_OK);
	assert_int_equal(ss.last_used_at, 1500);
	assert_int_equal(consult_store_session_touch(f->s, id + 1000, 1600), CONSULT_ERR_NOT_FOUND);
}

static void test_delete_revoke_purge(void **state)
{
	fixture *f = *state;
	consult_staff_session ss;
	int64_t a = create(f->s, f->doctor, 1, 1000);
	create(f->s, f->doctor, 2, 1000);
	create(f->s, f->doctor2, 3, 1000);
	create(f->s, f->reception, 4, 2000);
	create(f->s, f->other_doctor, 5, 3000);
	/* delete: that session only */
	assert_int_equal(consult_store_session_delete(f->s, a), CONSULT_OK);
	assert_int_equal(find(f->s, 1, &ss), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(find(f->s, 2, &ss), CONSULT_OK);
	assert_int_equal(consult_store_session_delete(f->s, a), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(consult_store_session_touch(f->s, a, 1100), CONSULT_ERR_NOT_FOUND);
	/* revoke: every session of that staff member, nobody else's */
	create(f->s, f->doctor, 6, 1000);
	int64_t n = -1;
	assert_int_equal(consult_store_sessions_revoke(f->s, f->doctor, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(find(f->s, 2, &ss), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(find(f->s, 6, &ss), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(find(f->s, 3, &ss), CONSULT_OK);
	assert_int_equal(consult_store_sessions_revoke(f->s, f->doctor, &n), CONSULT_OK);
	assert_int_equal(n, 0);
	/* purge: unused before the cutoff go, a touched one stays */
	int64_t b = create(f->s, f->doctor, 7, 1000);
	assert_int_equal(consult_store_session_touch(f->s, b, 2500), CONSULT_OK);
	assert_int_equal(consult_store_sessions_purge(f->s, 2000, &n), CONSULT_OK);
	assert_int_equal(n, 1); /* doctor2's, last used 1000 */
	assert_int_equal(find(f->s, 3, &ss), CONSULT_ERR_NOT_FOUND);
	assert_int_equal(find(f->s, 4, &ss), CONSULT_OK); /* 2000 is not before 2000 */
	assert_int_equal(find(f->s, 7, &ss), CONSULT_OK);
	assert_int_equal(consult_store_sessions_purge(f->s, 2600, &n), CONSULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(find(f->s, 5, &ss), CONSULT_OK);
	assert_int_equal(find(f->s, 7, &ss), CONSULT_ERR_NOT_FOUND);
}

typedef struct ids {
	int n;
	int64_t id[8];
} ids;

static void collect(int64_t id, void *ud)
{
	ids *v = ud;
	if (v->n < 8)
		v->id[v->n] = id;
	v->n++;
}

static ids of_practice(consult_store *s, int64_t practice)
{
	ids v;
	memset(&v, 0, sizeof v);
	assert_int_equal(consult_store_practice_sessions(s, practice, collect, &v), CONSULT_OK);
	return v;
}

static void test_practice_sessions(void **state)
{
	fixture *f = *state;
	assert_int_equal(of_practice(f->s, f->practice).n, 0);
	int64_t a = create(f->s, f->doctor, 1, 1000);
	int64_t b = create(f->s, f->doctor2, 2, 1000);
	int64_t c = create(f->s, f->reception, 3, 1000);
	int64_t d = create(f->s, f->other_doctor, 4, 1000);
	ids v = of_practice(f->s, f->practice);
	assert_int_equal(v.n, 3); /* by id; not the other practice's */
	assert_int_equal(v.id[0], a);
	assert_int_equal(v.id[1], b);
	assert_int_equal(v.id[2], c);
	v = of_practice(f->s, f->other_practice);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.id[0], d);
	/* a disabled member's session is not live, even before it is revoked */
	assert_int_equal(consult_store_set_staff_disabled(f->s, "dr.weber", true), CONSULT_OK);
	v = of_practice(f->s, f->practice);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.id[0], b);
	assert_int_equal(consult_store_sessions_revoke(f->s, f->doctor2, NULL), CONSULT_OK);
	v = of_practice(f->s, f->practice);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.id[0], c);
	assert_int_equal(of_practice(f->s, 999999).n, 0);
}

/* Sessions are durable: a store opened again (the server restarted) finds them. */
static void test_survive_reopen(void **state)
{
	fixture *f = *state;
	int64_t id = create(f->s, f->reception, 1, 1000);
	assert_int_equal(consult_store_session_touch(f->s, id, 1700), CONSULT_OK);
	consult_store_close(f->s);
	char err[256] = "";
	f->s = consult_store_open(f->path, err, sizeof err);
	assert_non_null(f->s);
	consult_staff_session ss;
	assert_int_equal(find(f->s, 1, &ss), CONSULT_OK);
	assert_int_equal(ss.id, id);
	assert_int_equal(ss.staff_id, f->reception);
	assert_int_equal(ss.last_used_at, 1700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_find, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_touch, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_delete_revoke_purge, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_survive_reopen, setup_people, teardown),
		cmocka_unit_test_setup_teardown(test_practice_sessions, setup_people, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
