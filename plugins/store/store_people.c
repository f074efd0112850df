/* store_people.c - practices and staff of the store (store.h).
 *
 * Contract: one statement per call (adding staff first checks that the
 * practice exists, so a missing practice is NOT_FOUND, not a constraint
 * failure). Rows are read by the generic row reader; a staff member's
 * password hash is zeroed when the struct is cleared. Roles are stored by
 * their core names ("doctor", "reception"). No logging.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stddef.h>
#include <string.h>

enum {
	P_ADD = STORE_SLOT_PEOPLE,
	P_BY_SLUG,
	P_BY_ID,
	P_LIST,
	P_EXISTS,
	P_RELAY_GET,
	P_RELAY_SET,
	P_FWD_GET,
	P_FWD_SET,
	P_AUDIO_GET,
	P_AUDIO_SET,
	P_SHARE_GET,
	P_SHARE_SET,
	S_ADD,
	S_BY_USERNAME,
	S_BY_ID,
	S_SET_DISABLED,
	S_SET_PW,
	S_LIST,
	P_END
};
_Static_assert((int)P_END <= (int)STORE_SLOT_VISITS, "store_people.c: too many statements for its slot range");

#define PRACTICE_COLS                                                                                          \
	"SELECT id, slug, name, phone, relay_only, coalesce(forward_never, 0), coalesce(audio_only_never, 0)," \
	" coalesce(patient_share, 0) FROM practices "
#define STAFF_COLS "SELECT id, practice_id, username, display_name, role, pw_hash, disabled FROM staff "

static const char *const sql_of[P_END - STORE_SLOT_PEOPLE] = {
#define Q(id) [id - STORE_SLOT_PEOPLE]
	Q(P_ADD) = "INSERT INTO practices(slug, name, phone, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
	Q(P_BY_SLUG) = PRACTICE_COLS "WHERE slug = ?1",
	Q(P_BY_ID) = PRACTICE_COLS "WHERE id = ?1",
	Q(P_LIST) = PRACTICE_COLS "ORDER BY id",
	Q(P_EXISTS) = "SELECT 1 FROM practices WHERE id = ?1",
	Q(P_RELAY_GET) = "SELECT coalesce(relay_only, 0) FROM practices WHERE id = ?1",
	Q(P_RELAY_SET) = "UPDATE practices SET relay_only = ?2 WHERE slug = ?1",
	Q(P_FWD_GET) = "SELECT coalesce(forward_never, 0) FROM practices WHERE id = ?1",
	Q(P_FWD_SET) = "UPDATE practices SET forward_never = ?2 WHERE slug = ?1",
	Q(P_AUDIO_GET) = "SELECT coalesce(audio_only_never, 0) FROM practices WHERE id = ?1",
	Q(P_AUDIO_SET) = "UPDATE practices SET audio_only_never = ?2 WHERE slug = ?1",
	Q(P_SHARE_GET) = "SELECT coalesce(patient_share, 0) FROM practices WHERE id = ?1",
	Q(P_SHARE_SET) = "UPDATE practices SET patient_share = ?2 WHERE slug = ?1",
	Q(S_ADD) = "INSERT INTO staff(practice_id, username, display_name, role, pw_hash, created_at)"
	           " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	Q(S_BY_USERNAME) = STAFF_COLS "WHERE username = ?1",
	Q(S_BY_ID) = STAFF_COLS "WHERE id = ?1",
	Q(S_SET_DISABLED) = "UPDATE staff SET disabled = ?2 WHERE username = ?1",
	Q(S_SET_PW) = "UPDATE staff SET pw_hash = ?2 WHERE username = ?1",
	Q(S_LIST) = STAFF_COLS "WHERE practice_id = ?1 AND role = coalesce(?2, role)"
	                       " ORDER BY lower(display_name), id",
#undef Q
};

static bool get(consult_store *s, int slot, stmt_use *u)
{
	return store_stmt(s, slot, sql_of[slot - STORE_SLOT_PEOPLE], u);
}

#define FIND(s, slot, row, out, key, id) \
	store_find((s), (slot), sql_of[(slot)-STORE_SLOT_PEOPLE], (row), (out), (key), (id))

static const store_col practice_cols[] = {
	{ COL_I64, offsetof(consult_practice, id), 0, NULL },
	{ COL_TEXT, offsetof(consult_practice, slug), 0, NULL },
	{ COL_TEXT, offsetof(consult_practice, name), 0, NULL },
	{ COL_TEXT, offsetof(consult_practice, phone), 0, NULL },
	{ COL_BOOL, offsetof(consult_practice, relay_only), 0, NULL },
	{ COL_BOOL, offsetof(consult_practice, forward_never), 0, NULL },
	{ COL_BOOL, offsetof(consult_practice, audio_only_never), 0, NULL },
	{ COL_BOOL, offsetof(consult_practice, patient_share), 0, NULL },
};
static const store_row practice_row = STORE_ROW(consult_practice, practice_cols);

static const store_col staff_cols[] = {
	{ COL_I64, offsetof(consult_staff, id), 0, NULL },
	{ COL_I64, offsetof(consult_staff, practice_id), 0, NULL },
	{ COL_TEXT, offsetof(consult_staff, username), 0, NULL },
	{ COL_TEXT, offsetof(consult_staff, display_name), 0, NULL },
	{ COL_ENUM, offsetof(consult_staff, role), 0, store_parse_role },
	{ COL_SECRET, offsetof(consult_staff, pw_hash), 0, NULL },
	{ COL_BOOL, offsetof(consult_staff, disabled), 0, NULL },
};
static const store_row staff_row = STORE_ROW(consult_staff, staff_cols);

/* --- practices --- */

void consult_practice_clear(consult_practice *p)
{
	store_row_free(&practice_row, p);
}

consult_err consult_store_add_practice(
        consult_store *s, const char *slug, const char *name, const char *phone, int64_t now, int64_t *id)
{
	stmt_use u;
	if (!get(s, P_ADD, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, slug);
	store_bind_text(u.st, 2, name);
	store_bind_text(u.st, 3, phone);
	db_bind_int64(u.st, 4, now);
	return store_run_insert(s, &u, id);
}

consult_err consult_store_practice_by_slug(consult_store *s, const char *slug, consult_practice *out)
{
	return FIND(s, P_BY_SLUG, &practice_row, out, slug, 0);
}

consult_err consult_store_practice_by_id(consult_store *s, int64_t id, consult_practice *out)
{
	return FIND(s, P_BY_ID, &practice_row, out, NULL, id);
}

consult_err consult_store_list_practices(consult_store *s, consult_practice_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, P_LIST, &u))
		return CONSULT_ERR_INTERNAL;
	consult_practice p;
	consult_err e;
	while ((e = store_next(s, &u, &practice_row, &p)) == CONSULT_OK) {
		cb(&p, ud);
		consult_practice_clear(&p);
	}
	return store_done(e);
}

/* One boolean option of a practice: read by id, written by slug. */
static consult_err practice_flag_get(consult_store *s, int slot, int64_t id, bool *out)
{
	stmt_use u;
	int64_t v = 0;
	*out = false;
	if (!get(s, slot, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, id);
	consult_err e = store_run_int(s, &u, &v);
	*out = e == CONSULT_OK && v != 0;
	return e;
}

static consult_err practice_flag_set(consult_store *s, int slot, const char *slug, bool on)
{
	stmt_use u;
	if (!get(s, slot, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, slug);
	db_bind_int64(u.st, 2, on ? 1 : 0);
	return store_run_update_one(s, &u);
}

consult_err consult_store_practice_relay_only(consult_store *s, int64_t id, bool *relay_only)
{
	return practice_flag_get(s, P_RELAY_GET, id, relay_only);
}

consult_err consult_store_set_practice_relay_only(consult_store *s, const char *slug, bool relay_only)
{
	return practice_flag_set(s, P_RELAY_SET, slug, relay_only);
}

consult_err consult_store_practice_forward_never(consult_store *s, int64_t id, bool *never)
{
	return practice_flag_get(s, P_FWD_GET, id, never);
}

consult_err consult_store_set_practice_forward_never(consult_store *s, const char *slug, bool never)
{
	return practice_flag_set(s, P_FWD_SET, slug, never);
}

consult_err consult_store_practice_audio_only_never(consult_store *s, int64_t id, bool *never)
{
	return practice_flag_get(s, P_AUDIO_GET, id, never);
}

consult_err consult_store_set_practice_audio_only_never(consult_store *s, const char *slug, bool never)
{
	return practice_flag_set(s, P_AUDIO_SET, slug, never);
}

consult_err consult_store_practice_patient_share(consult_store *s, int64_t id, bool *allowed)
{
	return practice_flag_get(s, P_SHARE_GET, id, allowed);
}

consult_err consult_store_set_practice_patient_share(consult_store *s, const char *slug, bool allowed)
{
	return practice_flag_set(s, P_SHARE_SET, slug, allowed);
}

/* --- staff --- */

void consult_staff_clear(consult_staff *st)
{
	store_row_free(&staff_row, st);
}

consult_err consult_store_add_staff(consult_store *s, int64_t practice_id, const char *username,
        const char *display_name, consult_role role, const char *pw_hash, int64_t now, int64_t *id)
{
	if (role != CONSULT_ROLE_DOCTOR && role != CONSULT_ROLE_RECEPTION) {
		snprintf(s->last_error, sizeof s->last_error, "staff: unknown role");
		return CONSULT_ERR_INVALID_FIELD;
	}
	stmt_use u;
	if (!get(s, P_EXISTS, &u))
		return CONSULT_ERR_INTERNAL;
	STORE_BIND(u.st, practice_id);
	consult_err e = store_run_exists(s, &u);
	if (e != CONSULT_OK)
		return e;
	if (!get(s, S_ADD, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, practice_id);
	store_bind_text(u.st, 2, username);
	store_bind_text(u.st, 3, display_name);
	store_bind_text(u.st, 4, consult_role_name(role));
	store_bind_text(u.st, 5, pw_hash);
	db_bind_int64(u.st, 6, now);
	return store_run_insert(s, &u, id);
}

consult_err consult_store_staff_by_username(consult_store *s, const char *username, consult_staff *out)
{
	return FIND(s, S_BY_USERNAME, &staff_row, out, username, 0);
}

consult_err consult_store_staff_by_id(consult_store *s, int64_t id, consult_staff *out)
{
	return FIND(s, S_BY_ID, &staff_row, out, NULL, id);
}

/* A one-row update of staff by username with one text or int value. */
static consult_err staff_set(consult_store *s, int slot, const char *username, const char *text, int v)
{
	stmt_use u;
	if (!get(s, slot, &u))
		return CONSULT_ERR_INTERNAL;
	store_bind_text(u.st, 1, username);
	if (slot == S_SET_PW)
		store_bind_text(u.st, 2, text);
	else
		db_bind_int64(u.st, 2, v);
	return store_run_update_one(s, &u);
}

consult_err consult_store_set_staff_disabled(consult_store *s, const char *username, bool disabled)
{
	return staff_set(s, S_SET_DISABLED, username, NULL, disabled ? 1 : 0);
}

consult_err consult_store_set_staff_password(consult_store *s, const char *username, const char *pw_hash)
{
	return staff_set(s, S_SET_PW, username, pw_hash, 0);
}

consult_err consult_store_list_staff(
        consult_store *s, int64_t practice_id, consult_role role, consult_staff_cb cb, void *ud)
{
	stmt_use u;
	if (!get(s, S_LIST, &u))
		return CONSULT_ERR_INTERNAL;
	db_bind_int64(u.st, 1, practice_id);
	store_bind_text(u.st, 2, role == CONSULT_ROLE_NONE ? NULL : consult_role_name(role));
	consult_staff st;
	consult_err e;
	while ((e = store_next(s, &u, &staff_row, &st)) == CONSULT_OK) {
		cb(&st, ud);
		consult_staff_clear(&st);
	}
	return store_done(e);
}
