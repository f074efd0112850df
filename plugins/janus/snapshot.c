/* snapshot.c - the per-practice snapshot of practice flags and staff
 * (snapshot.h). When it is fresh is core/snapshot.h's decision; this file
 * only reads the store and keeps the copies. Under glue.lock. No logging
 * of names. A reload's round trips may give glue.lock up (drop mode): an
 * admin write that forgot a snapshot meanwhile (`forgets` moved) may have
 * committed after the reload read its rows, so such a copy is kept for
 * its caller but stale (loaded_ms -1): the next request reads again.
 */
#include <string.h>
#include <glib.h>

#include "glue.h"
#include "snapshot.h"
#include "core/snapshot.h"

static GHashTable *snaps; /* &practice id -> glue_snapshot* */
static unsigned forgets;  /* glue_snapshot_forget calls so far */

static void staff_free(gpointer p)
{
	glue_snap_staff *st = p;
	g_free(st->display_name);
	g_free(st);
}

static void snap_free(gpointer p)
{
	glue_snapshot *sn = p;
	consult_practice_clear(&sn->pr);
	if (sn->staff)
		g_hash_table_destroy(sn->staff);
	g_free(sn);
}

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static void add_staff(const consult_staff *st, void *ud)
{
	glue_snap_staff *c = g_new0(glue_snap_staff, 1);
	c->id = st->id;
	c->display_name = g_strdup(st->display_name);
	c->role = st->role;
	c->disabled = st->disabled;
	g_hash_table_replace(ud, &c->id, c);
}

/* A new snapshot from a practice row just read (taken over) when
 * `forgets` was gen; NULL on a store failure (the row is freed). */
static glue_snapshot *load(consult_practice *pr, int64_t at, unsigned gen, consult_err *e)
{
	glue_snapshot *sn = g_new0(glue_snapshot, 1);
	sn->pr = *pr;
	memset(pr, 0, sizeof(*pr));
	sn->staff = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, staff_free);
	sn->loaded_ms = at;
	if (consult_store_list_staff(glue_store(), sn->pr.id, CONSULT_ROLE_NONE, add_staff, sn->staff) != CONSULT_OK) {
		snap_free(sn);
		*e = CONSULT_ERR_INTERNAL;
		return NULL;
	}
	if (forgets != gen)
		sn->loaded_ms = -1; /* an admin write may have come after the read: stale */
	if (snaps == NULL)
		snaps = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, snap_free);
	g_hash_table_replace(snaps, &sn->pr.id, sn);
	*e = CONSULT_OK;
	return sn;
}

/* Removes a practice's copy (0: all) without counting it as a forget. */
static void drop(int64_t practice_id)
{
	if (snaps == NULL)
		return;
	if (practice_id == 0)
		g_hash_table_remove_all(snaps);
	else
		g_hash_table_remove(snaps, &practice_id);
}

static consult_err store_answer(consult_err e)
{
	return e == CONSULT_OK || e == CONSULT_ERR_NOT_FOUND ? e : CONSULT_ERR_INTERNAL;
}

const glue_snapshot *glue_snapshot_get(int64_t practice_id, consult_err *e)
{
	consult_err dummy;
	if (e == NULL)
		e = &dummy;
	int64_t at = now_ms();
	glue_snapshot *sn = snaps ? g_hash_table_lookup(snaps, &practice_id) : NULL;
	if (sn && consult_snapshot_fresh(sn->loaded_ms, at, CONSULT_SNAPSHOT_TTL_MS)) {
		*e = CONSULT_OK;
		return sn;
	}
	drop(practice_id);
	unsigned gen = forgets;
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	*e = store_answer(consult_store_practice_by_id(glue_store(), practice_id, &pr));
	if (*e != CONSULT_OK) {
		consult_practice_clear(&pr);
		return NULL;
	}
	return load(&pr, at, gen, e);
}

const glue_snapshot *glue_snapshot_by_slug(const char *slug, consult_err *e)
{
	consult_err dummy;
	if (e == NULL)
		e = &dummy;
	if (slug == NULL) {
		*e = CONSULT_ERR_NOT_FOUND;
		return NULL;
	}
	int64_t at = now_ms();
	if (snaps) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, snaps);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			glue_snapshot *sn = v;
			if (sn->pr.slug && strcmp(sn->pr.slug, slug) == 0 &&
			        consult_snapshot_fresh(sn->loaded_ms, at, CONSULT_SNAPSHOT_TTL_MS)) {
				*e = CONSULT_OK;
				return sn;
			}
		}
	}
	unsigned gen = forgets;
	consult_practice pr;
	memset(&pr, 0, sizeof(pr));
	*e = store_answer(consult_store_practice_by_slug(glue_store(), slug, &pr));
	if (*e != CONSULT_OK) {
		consult_practice_clear(&pr);
		return NULL;
	}
	drop(pr.id);
	return load(&pr, at, gen, e);
}

const glue_snap_staff *glue_snapshot_staff(int64_t practice_id, int64_t staff_id, consult_err *e)
{
	consult_err dummy;
	if (e == NULL)
		e = &dummy;
	const glue_snapshot *sn = glue_snapshot_get(practice_id, e);
	if (sn == NULL)
		return NULL;
	glue_snap_staff *st = g_hash_table_lookup(sn->staff, &staff_id);
	if (st == NULL && sn->loaded_ms != now_ms()) {
		/* unknown here: perhaps added since (on another instance) */
		drop(practice_id);
		sn = glue_snapshot_get(practice_id, e);
		if (sn == NULL)
			return NULL;
		st = g_hash_table_lookup(sn->staff, &staff_id);
	}
	*e = st ? CONSULT_OK : CONSULT_ERR_NOT_FOUND;
	return st;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL; /* consult_practice_clear frees with free() */
}

void glue_snapshot_copy_practice(const glue_snapshot *sn, consult_practice *out)
{
	*out = sn->pr;
	out->slug = dup_or_null(sn->pr.slug);
	out->name = dup_or_null(sn->pr.name);
	out->phone = dup_or_null(sn->pr.phone);
}

void glue_snapshot_forget(int64_t practice_id)
{
	forgets++;
	drop(practice_id);
}

void glue_snapshot_free(void)
{
	if (snaps)
		g_hash_table_destroy(snaps);
	snaps = NULL;
}
