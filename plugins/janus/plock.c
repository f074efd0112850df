/* plock.c - per-practice locks and the pool of store handles (plock.h).
 *
 * Contract: see plock.h. The practice locks live in a table of their own
 * (id -> GMutex, under a leaf mutex), never freed before the plugin stops.
 * The pool is a fixed array of PostgreSQL handles, each with the error
 * hook of store_health.c and the wait hook below; a free list under the
 * pool mutex with a condition to wait on. What a thread holds (its
 * practice lock, its pooled handle, drop mode) is thread-local: one
 * request, callback or timer step per thread at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <janus/debug.h>
#include "glue.h"
#include "plock.h"
#include "store_health.h"

static GMutex locks_mutex; /* leaf: guards `locks` */
static GHashTable *locks;  /* &id -> plock_entry* */
static bool check_on;      /* CONSULT_LOCK_CHECK=1 */
static GMutex pool_mutex;  /* after a practice lock, before glue.lock */
static GCond pool_cond;
static consult_store **pool; /* pool_n handles; NULL on SQLite */
static bool *pool_busy;
static unsigned pool_n;

typedef struct plock_entry {
	int64_t id;
	GMutex m;
} plock_entry;

typedef struct held {
	int64_t practice_id; /* its lock held, 0 none */
	GMutex *plock;
	consult_store *st; /* checked-out pooled handle, or NULL */
	bool drop;         /* drop mode (plock.h) */
	bool dropped;      /* glue.lock given up for a round trip now */
} held;

static __thread held me;

/* The store's wait hook of a pooled handle: glue.lock given up while the
 * server works, if this thread is in drop mode on this very handle. */
static void on_wait(void *ud, bool begin)
{
	if (!me.drop || me.st != ud)
		return;
	if (begin) {
		me.dropped = true;
		g_mutex_unlock(&glue.lock);
	} else {
		g_mutex_lock(&glue.lock);
		me.dropped = false;
	}
}

int glue_pool_open(void)
{
	const char *env = getenv("CONSULT_LOCK_CHECK");
	check_on = env && strcmp(env, "1") == 0;
	const char *db = glue.cfg.database;
	if (db == NULL || (strncmp(db, "postgresql://", 13) != 0 && strncmp(db, "postgres://", 11) != 0))
		return 0; /* SQLite: the one handle */
	unsigned n = (unsigned)glue.cfg.store_connections;
	pool = g_new0(consult_store *, n);
	pool_busy = g_new0(bool, n);
	for (unsigned i = 0; i < n; i++) {
		char err[256] = "";
		pool[i] = consult_store_open(db, err, sizeof(err));
		if (pool[i] == NULL) {
			JANUS_LOG(LOG_FATAL, "[consult] store pool: connection %u of %u failed (%s)\n", i + 1, n, err);
			glue_pool_close();
			return -1;
		}
		glue_store_watch_handle(pool[i]);
		consult_store_set_wait_hook(pool[i], on_wait, pool[i]);
		pool_n = i + 1;
	}
	JANUS_LOG(LOG_INFO, "[consult] store pool: %u connections for requests\n", n);
	return 0;
}

void glue_pool_close(void)
{
	for (unsigned i = 0; i < pool_n; i++)
		consult_store_close(pool[i]);
	g_free(pool);
	g_free(pool_busy);
	pool = NULL;
	pool_busy = NULL;
	pool_n = 0;
	g_mutex_lock(&locks_mutex);
	if (locks)
		g_hash_table_destroy(locks);
	locks = NULL;
	g_mutex_unlock(&locks_mutex);
}

unsigned glue_pool_size(void)
{
	return pool_n;
}

unsigned glue_pool_errors(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < pool_n; i++)
		n += consult_store_error_count(pool[i]);
	return n;
}

consult_store *glue_store(void)
{
	return me.st ? me.st : glue.store;
}

void glue_pool_checkout(void)
{
	if (pool_n == 0 || me.st)
		return;
	g_mutex_lock(&pool_mutex);
	for (;;) {
		for (unsigned i = 0; i < pool_n; i++) {
			if (!pool_busy[i]) {
				pool_busy[i] = true;
				me.st = pool[i];
				g_mutex_unlock(&pool_mutex);
				return;
			}
		}
		g_cond_wait(&pool_cond, &pool_mutex);
	}
}

void glue_pool_checkin(void)
{
	if (me.st == NULL)
		return;
	me.drop = false;
	g_mutex_lock(&pool_mutex);
	for (unsigned i = 0; i < pool_n; i++)
		if (pool[i] == me.st)
			pool_busy[i] = false;
	g_cond_signal(&pool_cond);
	g_mutex_unlock(&pool_mutex);
	me.st = NULL;
}

void glue_pool_drop(bool on)
{
	me.drop = on && me.st != NULL;
}

static GMutex *lock_of(int64_t practice_id)
{
	g_mutex_lock(&locks_mutex);
	if (locks == NULL)
		locks = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	plock_entry *e = g_hash_table_lookup(locks, &practice_id);
	if (e == NULL) {
		e = g_new0(plock_entry, 1);
		e->id = practice_id;
		g_mutex_init(&e->m);
		g_hash_table_insert(locks, &e->id, e);
	}
	g_mutex_unlock(&locks_mutex);
	return &e->m;
}

void glue_practice_lock(int64_t practice_id)
{
	if (me.practice_id) {
		JANUS_LOG(LOG_FATAL,
		        "[consult] BUG: practice %" G_GINT64_FORMAT " locked while %" G_GINT64_FORMAT " is held\n",
		        practice_id, me.practice_id);
		abort();
	}
	GMutex *m = lock_of(practice_id);
	g_mutex_lock(m);
	me.practice_id = practice_id;
	me.plock = m;
}

void glue_practice_unlock(void)
{
	if (me.plock == NULL)
		return;
	GMutex *m = me.plock;
	me.plock = NULL;
	me.practice_id = 0;
	g_mutex_unlock(m);
}

int64_t glue_practice_held(void)
{
	return me.practice_id;
}

void glue_practice_enter(int64_t practice_id)
{
	if (me.practice_id == practice_id)
		return;
	bool had = me.st != NULL, drop = me.drop;
	g_mutex_unlock(&glue.lock);
	glue_pool_checkin();
	glue_practice_lock(practice_id);
	if (had)
		glue_pool_checkout();
	g_mutex_lock(&glue.lock);
	me.drop = drop && me.st != NULL;
}

int64_t glue_lock_session_practice(glue_session *s)
{
	for (;;) {
		g_mutex_lock(&glue.lock);
		int64_t pid = (s->kind == GLUE_PATIENT || s->kind == GLUE_STAFF) ? s->practice_id : 0;
		if (pid == 0)
			return 0;
		g_mutex_unlock(&glue.lock);
		glue_practice_lock(pid);
		g_mutex_lock(&glue.lock);
		if ((s->kind == GLUE_PATIENT || s->kind == GLUE_STAFF) && s->practice_id == pid)
			return pid;
		g_mutex_unlock(&glue.lock); /* joined, left or moved meanwhile: again */
		glue_practice_unlock();
	}
}

void glue_practice_check(int64_t practice_id)
{
	if (!check_on || practice_id == me.practice_id)
		return;
	JANUS_LOG(LOG_FATAL,
	        "[consult] BUG: practice %" G_GINT64_FORMAT " changed without its lock (held: %" G_GINT64_FORMAT ")\n",
	        practice_id, me.practice_id);
	abort();
}
