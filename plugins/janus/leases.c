/* leases.c - several instances on one store: which practices this one
 * serves. core/lease.h decides, the store applies each claim atomically
 * (consult_store_lease_claim), this file carries it out.
 *
 * Contract: with lease_seconds = 0 every practice is served here and
 * nothing else in this file runs (one instance, as before leases). Else:
 * - glue_leases_init (init, under glue.lock, before the restore) claims
 *   every free practice, so the restore brings back only those.
 * - glue_leases_tick (timer, once a second, WITHOUT glue.lock; it takes it
 *   itself only to decide and to apply) reads the practices and the lease
 *   rows and, per practice:
 *   STOP -> the practice is dropped (below); RENEW -> renewed, all in one
 *   commit, with the time taken BEFORE the statement as sent_ms; CLAIM ->
 *   claimed and, if won, its waiting room restored from the store (visits
 *   away, grace from now, the previous holder gone at its last renewal).
 * - glue_lease_require (requests about one practice: join, login, resume)
 *   answers practice_elsewhere with the holder's name (or null) unless this
 *   instance serves it; a free lease is claimed on the spot, so a single
 *   instance serves a new practice at its first request, as before.
 * - glue_lease_serves is the check of every other path (dispatch, the
 *   timer, destroy_session): false from the moment the safe time of the
 *   last renewal is over, even before the timer has dropped the practice.
 * The reads run on the timer's own store handle without glue.lock
 *   (timer_store.c). Renewals are not the timer's: a thread of their own
 *   (the renewer, started by glue_leases_init) renews every served lease
 *   that is due, on a store handle of its own (PostgreSQL; on SQLite on
 *   glue.store under glue.lock), and never waits for glue.lock, a
 *   practice's lock or the timer's other work, so a request storm cannot
 *   make renewals late. It decides and applies under `lease_mu` only: a
 *   renewal counts from its sent_ms (taken before the statement, only for
 *   a practice still served then) however long the round trip took, so a
 *   slow database only shortens the safe time; a renewal that failed to
 *   hold (another instance has the row) or came back after the safe time
 *   marks the practice not served at once (glue_lease_serves is false from
 *   then on), and the timer drops its memory (below). The timer's claims
 *   run each under its practice's lock in drop mode (plock.h: a pooled
 *   handle, glue.lock given up for each round trip of the claim and of the
 *   room's restore), as a request's claim (glue_lease_require) does: a
 *   claim on a slow database stalls that practice and the timer, not the
 *   other practices' requests. The renewer's store failures are counted
 *   in health `store_errors` (glue_leases_store_errors). A practice
 *   claimed or dropped after the timer read the rows (or after the renewer
 *   decided to renew it) is left alone by that tick (or renewal): the rows
 *   predate the claim and would name the previous holder.
 * Locks: `lease_mu` guards `mine`, every lease_state and the drops not yet
 *   run; it is taken last (alone or under glue.lock) and never held across
 *   a round trip or while another lock is taken.
 * Dropping a practice: each of its handles gets `practice_moved` (with the
 *   holder's name if known) and becomes anonymous, its forwarded leg ends,
 *   and its room is forgotten; nothing is written to the store (the
 *   visits stay live there for the next holder). Memory of a practice is
 *   dropped and rebuilt only under its own lock (plock.h): the timer marks
 *   a practice not served under glue.lock and drops its memory right after
 *   under the practice's lock; claims take it too; glue_lease_require runs
 *   in requests that hold it already.
 * - glue_leases_release (clean stop): every lease of this instance given
 *   up, so another instance takes over at once.
 * Times: lease times are the real wall clock in ms, never the test offset
 * of clock.h (a test moving the plugin's clock must not end a lease).
 * Test-only: with CONSULT_TEST=1, CONSULT_TEST_LEASE_RENEW_DELAY_MS in
 * Janus' environment delays every renewal by that many ms after its time
 * was taken (a slow store), so tests can show the safety rule;
 * CONSULT_TEST_LEASE_READ_DELAY_MS makes the timer wait that long between
 * reading the rows and acting on them (a busy glue.lock). Logs carry
 * practice ids and instance names only.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <janus/debug.h>
#include "glue.h"
#include "forward.h"
#include "store_health.h"
#include "core/lease.h"

typedef struct lease_state {
	int64_t practice_id; /* key */
	consult_lease_mine m;
	int64_t since_ms; /* when the claim that began this service was sent */
	gint changed;     /* value of `changes` at its last claim or drop */
} lease_state;

static bool on;
static consult_lease_cfg lcfg;
static GMutex lease_mu;  /* see the contract: mine, lease_state, deferred */
static GHashTable *mine; /* &practice_id -> lease_state*, under lease_mu */
static int64_t renew_delay_ms, read_delay_ms;
static gint changes; /* claims and drops so far (atomic) */
static GThread *renewer;
static GMutex renewer_mu; /* renewer_quit, with renewer_cond */
static GCond renewer_cond;
static bool renewer_quit;
static consult_store *renew_db; /* the renewer's own handle (PostgreSQL), or NULL: glue.store under glue.lock */
static int renewer_start(void);

static int64_t real_ms(void)
{
	return g_get_real_time() / 1000;
}

bool glue_leases_on(void)
{
	return on;
}

static lease_state *state_of(int64_t practice_id, bool create)
{
	lease_state *st = mine ? g_hash_table_lookup(mine, &practice_id) : NULL;
	if (st == NULL && create && mine) {
		st = g_new0(lease_state, 1);
		st->practice_id = practice_id;
		g_hash_table_insert(mine, &st->practice_id, st);
	}
	return st;
}

bool glue_lease_serves(int64_t practice_id)
{
	if (!on)
		return true;
	g_mutex_lock(&lease_mu);
	lease_state *st = state_of(practice_id, false);
	bool serves = st != NULL && consult_lease_serves(&lcfg, real_ms(), &st->m);
	g_mutex_unlock(&lease_mu);
	return serves;
}

/* Is the practice marked served (the timer's or the renewer's last word)? */
static bool marked_serving(int64_t practice_id)
{
	g_mutex_lock(&lease_mu);
	lease_state *st = state_of(practice_id, false);
	bool serving = st != NULL && st->m.serving;
	g_mutex_unlock(&lease_mu);
	return serving;
}

/* --- the store's rows --- */

typedef struct row_copy {
	bool exists;
	char *holder;
	int64_t expires_at_ms;
} row_copy;

static void row_free(gpointer p)
{
	row_copy *r = p;
	g_free(r->holder);
	g_free(r);
}

static void collect_row(const consult_lease *l, void *ud)
{
	row_copy *r = g_new0(row_copy, 1);
	r->exists = true;
	r->holder = g_strdup(l->holder);
	r->expires_at_ms = l->expires_at_ms;
	int64_t *key = g_new(int64_t, 1);
	*key = l->practice_id;
	g_hash_table_replace(ud, key, r);
}

/* practice id -> row_copy of every lease row, or NULL (store failed, logged by its hook) */
static GHashTable *read_rows(consult_store *db)
{
	GHashTable *rows = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, row_free);
	if (consult_store_list_leases(db, collect_row, rows) != CONSULT_OK) {
		g_hash_table_destroy(rows);
		return NULL;
	}
	return rows;
}

static consult_lease_row row_view(GHashTable *rows, int64_t practice_id)
{
	row_copy *r = rows ? g_hash_table_lookup(rows, &practice_id) : NULL;
	consult_lease_row v = { r ? r->holder : NULL, r ? r->expires_at_ms : 0 };
	return v;
}

/* --- gaining and losing a practice --- */

/* Serving from a claim sent at sent; the room back from the store. */
static void start_serving(int64_t practice_id, int64_t sent, const consult_lease_row *prev)
{
	g_mutex_lock(&lease_mu);
	lease_state *st = state_of(practice_id, true);
	if (st) {
		st->m.serving = true;
		st->m.sent_ms = sent;
		st->since_ms = sent;
		st->changed = g_atomic_int_add(&changes, 1) + 1;
	}
	g_mutex_unlock(&lease_mu);
	if (st == NULL)
		return;
	glue_practice_check(practice_id); /* rebuilt only under its lock (CONSULT_LOCK_CHECK) */
	glue_practice *stale = glue_practice_find(practice_id);
	if (stale)
		g_hash_table_remove(glue.practices, &practice_id);
	int64_t now = glue_now(), gone = 0;
	bool other = prev->holder != NULL && strcmp(prev->holder, glue.cfg.instance) != 0;
	if (other) { /* it went away at its last renewal (as far as we know) */
		gone = (prev->expires_at_ms - lcfg.lease_ms) / 1000 + glue_clock_offset();
		if (gone > now || gone <= 0)
			gone = now;
	}
	glue_restore_room(now, practice_id, gone);
	glue_day_load(now, practice_id);
	JANUS_LOG(LOG_INFO, "[consult] practice %" G_GINT64_FORMAT " is served here now (lease of %s%s)\n", practice_id,
	        other ? "instance " : "", other ? prev->holder : "nobody else");
}

/* The drops decided by the timer (plan, under glue.lock) and by the
 * renewer (renew_apply, under lease_mu alone): the practice stops being
 * served at once, its memory is dropped after by the timer, under the
 * practice's own lock (drops_run), since a request of it may be in a store
 * round trip without glue.lock (plock.h). */
typedef struct deferred_drop {
	int64_t id;
	char *holder;
} deferred_drop;
static GArray *deferred; /* deferred_drop, or NULL; under lease_mu */

/* Not served from now on; its memory dropped later (drops_run). Under lease_mu. */
static void stop_locked(int64_t practice_id, const char *holder)
{
	lease_state *st = state_of(practice_id, false);
	if (st) {
		st->m.serving = false;
		st->m.sent_ms = 0;
		st->changed = g_atomic_int_add(&changes, 1) + 1;
	}
	if (deferred == NULL)
		deferred = g_array_new(FALSE, FALSE, sizeof(deferred_drop));
	deferred_drop d = { practice_id, g_strdup(holder) };
	g_array_append_val(deferred, d);
}

/* Drops a practice this instance no longer serves (see the contract), at
 * once: under glue.lock and the practice's lock. */
static void drop(int64_t practice_id, const char *holder)
{
	glue_practice_check(practice_id); /* dropped only under its lock (CONSULT_LOCK_CHECK) */
	g_mutex_lock(&lease_mu);
	lease_state *st = state_of(practice_id, false);
	if (st) {
		st->m.serving = false;
		st->m.sent_ms = 0;
		st->changed = g_atomic_int_add(&changes, 1) + 1;
	}
	g_mutex_unlock(&lease_mu);
	GPtrArray *all = glue_sessions_all();
	size_t n = 0;
	for (guint i = 0; i < all->len; i++) {
		glue_session *s = g_ptr_array_index(all, i);
		if ((s->kind != GLUE_PATIENT && s->kind != GLUE_STAFF) || s->practice_id != practice_id)
			continue;
		json_t *f = json_object();
		json_object_set_new(f, "instance", holder ? json_string(holder) : json_null());
		glue_push(s, consult_push_event_name(CONSULT_PUSH_practice_moved), f);
		glue_forward_end(s);
		glue_session_reset(s);
		n++;
	}
	for (guint i = 0; i < all->len; i++)
		glue_session_unref(g_ptr_array_index(all, i));
	g_ptr_array_free(all, TRUE);
	if (glue_practice_find(practice_id))
		g_hash_table_remove(glue.practices, &practice_id);
	JANUS_LOG(LOG_WARN, "[consult] practice %" G_GINT64_FORMAT " no longer served here (%s%s); %zu handles told\n",
	        practice_id, holder ? "held by instance " : "lease not renewed in time", holder ? holder : "", n);
}

/* Claims one practice now; true if this instance serves it afterwards. */
static bool claim_now(int64_t practice_id, const consult_lease_row *prev)
{
	int64_t sent = real_ms();
	bool held = false;
	if (consult_store_lease_claim(glue_store(), practice_id, glue.cfg.instance, sent,
	            consult_lease_expires(&lcfg, sent), &held) != CONSULT_OK ||
	        !held)
		return false;
	start_serving(practice_id, sent, prev);
	return true;
}

/* --- the practices --- */

static void collect_id(const consult_practice *p, void *ud)
{
	g_array_append_val((GArray *)ud, p->id);
}

static GArray *practice_ids(consult_store *db)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (consult_store_list_practices(db, collect_id, ids) != CONSULT_OK) {
		g_array_free(ids, TRUE);
		return NULL;
	}
	return ids;
}

/* A test-only delay from the environment (CONSULT_TEST=1 only), 0..60000 ms. */
static int64_t test_delay(const char *name, const char *what)
{
	const char *d = g_getenv(name);
	if (d == NULL || !glue_test_mode())
		return 0;
	int64_t ms = g_ascii_strtoll(d, NULL, 10);
	if (ms <= 0 || ms > 60000)
		return 0;
	JANUS_LOG(LOG_WARN, "[consult] TEST: %s by %" G_GINT64_FORMAT " ms\n", what, ms);
	return ms;
}

int glue_leases_init(void)
{
	on = glue.cfg.lease_seconds > 0;
	if (!on)
		return 0;
	if (!consult_lease_cfg_of(glue.cfg.lease_seconds, &lcfg))
		return -1;
	mine = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	renew_delay_ms = test_delay("CONSULT_TEST_LEASE_RENEW_DELAY_MS", "every lease renewal is delayed");
	read_delay_ms = test_delay("CONSULT_TEST_LEASE_READ_DELAY_MS", "the timer acts on the lease rows later");
	g_atomic_int_set(&changes, 0);
	GArray *ids = practice_ids(glue_store());
	GHashTable *rows = read_rows(glue_store());
	size_t held = 0, elsewhere = 0, mine_live = 0;
	if (ids && rows) {
		int64_t now = real_ms();
		for (guint i = 0; i < ids->len; i++) {
			int64_t id = g_array_index(ids, int64_t, i);
			consult_lease_row r = row_view(rows, id);
			if (r.holder && strcmp(r.holder, glue.cfg.instance) == 0 && r.expires_at_ms >= now)
				mine_live++;
			consult_lease_mine idle = { false, 0 };
			if (consult_lease_decide(&lcfg, now, glue.cfg.instance, &r, &idle) != CONSULT_LEASE_CLAIM) {
				elsewhere++;
				continue;
			}
			int64_t sent = real_ms();
			bool got = false;
			if (consult_store_lease_claim(glue_store(), id, glue.cfg.instance, sent,
			            consult_lease_expires(&lcfg, sent), &got) == CONSULT_OK &&
			        got) {
				g_mutex_lock(&lease_mu);
				lease_state *st = state_of(id, true);
				st->m.serving = true;
				st->m.sent_ms = st->since_ms = sent;
				g_mutex_unlock(&lease_mu);
				held++;
			} else {
				elsewhere++;
			}
		}
	} else {
		JANUS_LOG(LOG_ERR, "[consult] leases not readable: no practice claimed yet (the timer tries again)\n");
	}
	if (ids)
		g_array_free(ids, TRUE);
	if (rows)
		g_hash_table_destroy(rows);
	if (mine_live)
		JANUS_LOG(LOG_WARN,
		        "[consult] %zu leases were still held under this instance's name (%s): a previous run of"
		        " this instance, or another instance with the same name (each needs its own `instance`)\n",
		        mine_live, glue.cfg.instance);
	JANUS_LOG(LOG_INFO,
	        "[consult] instance %s: lease %" G_GINT64_FORMAT " s, %zu practices claimed, %zu served elsewhere\n",
	        glue.cfg.instance, glue.cfg.lease_seconds, held, elsewhere);
	return renewer_start();
}

void glue_leases_free(void)
{
	glue_leases_stop();
	if (renew_db)
		consult_store_close(renew_db);
	renew_db = NULL;
	if (mine)
		g_hash_table_destroy(mine);
	mine = NULL;
	for (guint i = 0; deferred && i < deferred->len; i++)
		g_free(g_array_index(deferred, deferred_drop, i).holder);
	if (deferred)
		g_array_free(deferred, TRUE);
	deferred = NULL;
	on = false;
}

typedef struct pending {
	int64_t id;
	bool held;
	consult_err e;
	char *prev_holder;
	int64_t prev_expires;
	gint changed; /* the lease_state's `changed` when it was collected */
} pending;

static void pending_add(GArray *a, int64_t id, const consult_lease_row *r, gint changed)
{
	pending p = { id, false, CONSULT_OK, g_strdup(r->holder), r->expires_at_ms, changed };
	g_array_append_val(a, p);
}

static void pending_free(GArray *a)
{
	for (guint i = 0; i < a->len; i++)
		g_free(g_array_index(a, pending, i).prev_holder);
	g_array_free(a, TRUE);
}

/* What is due per practice, under glue.lock, from the practices and lease
 * rows read just before (NULL: not readable; both freed here) when
 * `changes` was read_at: marks STOPs (their memory dropped by drops_run),
 * collects the claims; a practice claimed or dropped since is left to the
 * next tick; renewals are the renewer's. */
static void plan(GArray *ids, GHashTable *rows, gint read_at, GArray *claim)
{
	g_mutex_lock(&lease_mu);
	int64_t now = real_ms();
	GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
	for (guint i = 0; ids && i < ids->len; i++) {
		int64_t id = g_array_index(ids, int64_t, i);
		g_hash_table_add(seen, &g_array_index(ids, int64_t, i));
		consult_lease_row r = row_view(rows, id);
		lease_state *st = state_of(id, false);
		if (st && st->changed > read_at)
			continue;
		consult_lease_mine idle = { false, 0 };
		consult_lease_action a = consult_lease_decide(&lcfg, now, glue.cfg.instance, &r, st ? &st->m : &idle);
		if (rows == NULL && a == CONSULT_LEASE_CLAIM)
			a = CONSULT_LEASE_WAIT; /* the rows were not readable: claim nothing */
		if (a == CONSULT_LEASE_STOP)
			stop_locked(id, r.holder && strcmp(r.holder, glue.cfg.instance) != 0 ? r.holder : NULL);
		else if (a == CONSULT_LEASE_CLAIM)
			pending_add(claim, id, &r, st ? st->changed : 0);
	}
	/* practices that are gone from the store, or a list that failed: only the deadline counts */
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, mine);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		lease_state *st = value;
		if (st->m.serving && (ids == NULL || !g_hash_table_contains(seen, &st->practice_id)) &&
		        !consult_lease_serves(&lcfg, now, &st->m))
			stop_locked(st->practice_id, NULL);
	}
	g_mutex_unlock(&lease_mu);
	g_hash_table_destroy(seen);
	if (ids)
		g_array_free(ids, TRUE);
	if (rows)
		g_hash_table_destroy(rows);
}

/* Renewals sent at sent, in one commit on db (the renewer's handle,
 * without glue.lock: they change nothing in memory); true if committed. */
static bool renew_store(consult_store *db, GArray *renew, int64_t sent)
{
	bool tx = renew->len > 1 && consult_store_begin(db) == CONSULT_OK;
	for (guint i = 0; i < renew->len; i++) {
		pending *p = &g_array_index(renew, pending, i);
		p->e = consult_store_lease_claim(
		        db, p->id, glue.cfg.instance, sent, consult_lease_expires(&lcfg, sent), &p->held);
	}
	bool committed = !tx || consult_store_commit(db) == CONSULT_OK;
	if (tx && !committed)
		(void)consult_store_rollback(db);
	return committed;
}

/* Under lease_mu, what the renewals sent at sent came to: a practice whose
 * renewal did not hold (or whose safe time is over anyway) is not served
 * from now on (its memory dropped by the timer); one claimed or dropped
 * since the renewal was collected is left alone. */
static void renew_apply(GArray *renew, bool committed, int64_t sent)
{
	int64_t now = real_ms();
	for (guint i = 0; i < renew->len; i++) {
		pending *p = &g_array_index(renew, pending, i);
		lease_state *st = state_of(p->id, false);
		if (st == NULL || !st->m.serving || st->changed != p->changed)
			continue;
		if (p->e == CONSULT_OK && committed && p->held) {
			if (sent > st->m.sent_ms)
				st->m.sent_ms = sent;
			if (!consult_lease_serves(&lcfg, now, &st->m))
				stop_locked(p->id, NULL); /* renewed too late to count: claimed afresh next time */
		} else if (p->e == CONSULT_OK && committed) {
			stop_locked(p->id, NULL); /* another instance holds it */
		}                                 /* a store failure: the deadline decides */
	}
}

/* The renewer: every served lease renewed when due (see the contract). */

/* One round: the due renewals collected, sent and applied. */
static void renew_due(void)
{
	GArray *renew = g_array_new(FALSE, FALSE, sizeof(pending));
	consult_lease_row none = { NULL, 0 };
	g_mutex_lock(&lease_mu);
	int64_t sent = real_ms(); /* before the statement: the safe time counts from here */
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, mine);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		lease_state *st = value;
		if (consult_lease_serves(&lcfg, sent, &st->m) && sent - st->m.sent_ms >= lcfg.renew_ms)
			pending_add(renew, st->practice_id, &none, st->changed);
	}
	g_mutex_unlock(&lease_mu);
	if (renew->len) {
		if (renew_delay_ms > 0)
			g_usleep(renew_delay_ms * G_TIME_SPAN_MILLISECOND);
		if (renew_db == NULL)
			g_mutex_lock(&glue.lock);
		bool committed = renew_store(renew_db ? renew_db : glue.store, renew, sent);
		if (renew_db == NULL)
			g_mutex_unlock(&glue.lock);
		g_mutex_lock(&lease_mu);
		renew_apply(renew, committed, sent);
		g_mutex_unlock(&lease_mu);
	}
	pending_free(renew);
}

static gpointer renewer_main(gpointer data)
{
	(void)data;
	/* an eighth of the renewal period between rounds: a renewal goes out
	 * at most that late (50..500 ms) */
	int64_t every_ms = CLAMP(lcfg.renew_ms / 8, 50, 500);
	g_mutex_lock(&renewer_mu);
	while (!renewer_quit) {
		gint64 until = g_get_monotonic_time() + every_ms * G_TIME_SPAN_MILLISECOND;
		while (!renewer_quit && g_cond_wait_until(&renewer_cond, &renewer_mu, until))
			;
		if (renewer_quit)
			break;
		g_mutex_unlock(&renewer_mu);
		renew_due();
		g_mutex_lock(&renewer_mu);
	}
	g_mutex_unlock(&renewer_mu);
	return NULL;
}

/* Its handle (PostgreSQL only: on SQLite it renews on glue.store under
 * glue.lock, as the timer did) and its thread. */
static int renewer_start(void)
{
	const char *db = glue.cfg.database;
	if (db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)) {
		char err[256] = "";
		renew_db = consult_store_open(db, err, sizeof(err));
		if (renew_db == NULL)
			JANUS_LOG(LOG_WARN,
			        "[consult] leases: no store handle of their own (%s); renewals run under the lock\n",
			        err);
		else
			glue_store_watch_handle(renew_db);
	}
	renewer_quit = false;
	GError *gerr = NULL;
	renewer = g_thread_try_new("consult leases", renewer_main, NULL, &gerr);
	if (renewer == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot start the lease renewer: %s\n", gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		return -1;
	}
	return 0;
}

unsigned glue_leases_store_errors(void)
{
	return renew_db ? consult_store_error_count(renew_db) : 0;
}

void glue_leases_stop(void)
{
	if (renewer == NULL)
		return;
	g_mutex_lock(&renewer_mu);
	renewer_quit = true;
	g_cond_broadcast(&renewer_cond);
	g_mutex_unlock(&renewer_mu);
	g_thread_join(renewer);
	renewer = NULL;
}

/* The drops decided (plan, the renewer), each under its practice's lock,
 * unless a request claimed the practice again meanwhile. Without any lock;
 * the timer's. */
static void drops_run(void)
{
	g_mutex_lock(&lease_mu);
	GArray *a = deferred;
	deferred = NULL;
	g_mutex_unlock(&lease_mu);
	for (guint i = 0; a && i < a->len; i++) {
		deferred_drop *d = &g_array_index(a, deferred_drop, i);
		glue_practice_lock(d->id);
		g_mutex_lock(&glue.lock);
		if (!marked_serving(d->id))
			drop(d->id, d->holder);
		g_mutex_unlock(&glue.lock);
		glue_practice_unlock();
		g_free(d->holder);
	}
	if (a)
		g_array_free(a, TRUE);
}

void glue_leases_tick(void)
{
	if (!on)
		return;
	drops_run(); /* the renewer's, if any */
	GArray *claim = g_array_new(FALSE, FALSE, sizeof(pending));
	gint read_at = g_atomic_int_get(&changes);
	consult_store *db = glue_timer_store_begin();
	GArray *ids = practice_ids(db);
	GHashTable *rows = read_rows(db);
	glue_timer_store_end(db);
	if (read_delay_ms > 0)
		g_usleep(read_delay_ms * G_TIME_SPAN_MILLISECOND);
	g_mutex_lock(&glue.lock);
	plan(ids, rows, read_at, claim);
	g_mutex_unlock(&glue.lock);
	drops_run();
	for (guint i = 0; i < claim->len; i++) { /* each under its practice's lock (plock.h) */
		pending *p = &g_array_index(claim, pending, i);
		consult_lease_row prev = { p->prev_holder, p->prev_expires };
		glue_practice_lock(p->id);
		glue_pool_checkout(); /* PostgreSQL: the claim and restore without glue.lock */
		g_mutex_lock(&glue.lock);
		glue_pool_drop(true);
		if (!marked_serving(p->id))
			(void)claim_now(p->id, &prev);
		glue_pool_drop(false);
		g_mutex_unlock(&glue.lock);
		glue_pool_checkin();
		glue_practice_unlock();
	}
	pending_free(claim);
}

/* "instance": the holder other than this instance, or null. */
static void elsewhere_extra(glue_ctx *c, const consult_lease_row *r)
{
	bool other = r->holder && strcmp(r->holder, glue.cfg.instance) != 0;
	if (c->error_extra == NULL)
		c->error_extra = json_object();
	json_object_set_new(c->error_extra, "instance", other ? json_string(r->holder) : json_null());
}

consult_err glue_lease_refuse(glue_ctx *c, int64_t practice_id)
{
	GHashTable *rows = read_rows(glue_store());
	consult_lease_row r = row_view(rows, practice_id);
	elsewhere_extra(c, &r);
	if (rows)
		g_hash_table_destroy(rows);
	return CONSULT_ERR_PRACTICE_ELSEWHERE;
}

consult_err glue_lease_require(glue_ctx *c, int64_t practice_id)
{
	if (glue_lease_serves(practice_id))
		return CONSULT_OK;
	GHashTable *rows = read_rows(glue_store());
	if (rows == NULL)
		return CONSULT_ERR_INTERNAL;
	consult_lease_row r = row_view(rows, practice_id);
	if (marked_serving(practice_id)) /* its safe time is over: dropped first */
		drop(practice_id, r.holder && strcmp(r.holder, glue.cfg.instance) != 0 ? r.holder : NULL);
	consult_lease_mine idle = { false, 0 };
	consult_err e = CONSULT_ERR_PRACTICE_ELSEWHERE;
	if (consult_lease_decide(&lcfg, real_ms(), glue.cfg.instance, &r, &idle) == CONSULT_LEASE_CLAIM &&
	        claim_now(practice_id, &r))
		e = CONSULT_OK;
	if (e != CONSULT_OK)
		elsewhere_extra(c, &r);
	g_hash_table_destroy(rows);
	return e;
}

void glue_leases_release(void)
{
	if (!on)
		return;
	int64_t n = 0;
	if (consult_store_lease_release(glue_store(), 0, glue.cfg.instance, &n) == CONSULT_OK && n > 0)
		JANUS_LOG(LOG_INFO, "[consult] %" G_GINT64_FORMAT " leases released\n", n);
	GHashTableIter it;
	gpointer key, value;
	g_mutex_lock(&lease_mu);
	g_hash_table_iter_init(&it, mine);
	while (g_hash_table_iter_next(&it, &key, &value))
		((lease_state *)value)->m.serving = false;
	g_mutex_unlock(&lease_mu);
}

json_t *glue_leases_health(void)
{
	json_t *o = json_object();
	json_object_set_new(o, "instance", json_string(glue.cfg.instance));
	json_object_set_new(o, "lease_seconds", json_integer(glue.cfg.lease_seconds));
	int64_t now = real_ms();
	json_object_set_new(o, "now_ms", json_integer(now));
	json_t *held = json_array();
	if (on) {
		g_mutex_lock(&lease_mu);
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, mine);
		while (g_hash_table_iter_next(&it, &key, &value)) {
			lease_state *st = value;
			if (!consult_lease_serves(&lcfg, now, &st->m))
				continue;
			json_t *h = json_object();
			json_object_set_new(h, "practice_id", json_integer(st->practice_id));
			json_object_set_new(h, "since_ms", json_integer(st->since_ms));
			json_object_set_new(
			        h, "until_ms", json_integer(consult_lease_serve_until(&lcfg, st->m.sent_ms)));
			json_object_set_new(h, "renew_age_ms", json_integer(now - st->m.sent_ms));
			json_array_append_new(held, h);
		}
		g_mutex_unlock(&lease_mu);
	}
	json_object_set_new(o, "practices", held);
	return o;
}
