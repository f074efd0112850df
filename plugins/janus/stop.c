/* stop.c - a clean stop that pages can see coming.
 *
 * Contract: glue_stop_watch_start() (at init) puts its own handler in
 * front of Janus' SIGTERM and SIGINT handlers. Janus closes its transports
 * before it calls the plugins' destroy, so destroy is too late to tell
 * anyone: at the first signal the handler (async-signal-safe: one write()
 * to a pipe) wakes the watcher thread, which under glue.lock records the
 * stop time (glue.stopped_at, store lifecycle stopped_at: restore.c dates
 * unclaimed visits by it), pushes `server_restarting` (no fields) to every
 * handle, waits GLUE_STOP_FLUSH_MS for the transport to write those events
 * out, and then calls Janus' saved handler, so Janus stops as before. A
 * further signal goes to Janus' handler at once (Janus' own "in a hurry"
 * counting: if the watcher has not handed the first one on yet, the
 * handler does that first). glue_stop_watch_end() (at destroy) puts
 * Janus' handlers back and joins the thread. Logs carry counts only.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <janus/debug.h>
#include "glue.h"

#define GLUE_STOP_FLUSH_MS 500

static struct sigaction janus_term, janus_int;
static int wake[2] = { -1, -1 };
static volatile sig_atomic_t first_signal, handed_on;
static GThread *watcher;

/* Janus' handler for signum (or the default action if it had none). */
static void hand_on(int signum)
{
	const struct sigaction *old = signum == SIGINT ? &janus_int : &janus_term;
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(signum, NULL, NULL);
	} else if (old->sa_handler == SIG_DFL) {
		sigaction(signum, old, NULL);
		raise(signum);
	} else if (old->sa_handler != SIG_IGN) {
		old->sa_handler(signum);
	}
}

static void on_signal(int signum)
{
	int saved = errno;
	if (!first_signal) {
		first_signal = signum;
		ssize_t n = write(wake[1], "s", 1);
		(void)n;
	} else {
		if (!handed_on) {
			handed_on = 1;
			hand_on(first_signal);
		}
		hand_on(signum);
	}
	errno = saved;
}

static gpointer watch_main(gpointer data)
{
	char c = 0;
	while (read(wake[0], &c, 1) < 0 && errno == EINTR)
		;
	if (c != 's')
		return NULL; /* destroy: nothing happened */
	int64_t now = glue_now();
	g_mutex_lock(&glue.lock);
	glue.stopped_at = now;
	glue_lifecycle_stopped(now);
	GPtrArray *all = glue_sessions_all();
	for (guint i = 0; i < all->len; i++) {
		glue_session *s = g_ptr_array_index(all, i);
		glue_push(s, consult_push_event_name(CONSULT_PUSH_server_restarting), NULL);
		glue_session_unref(s);
	}
	JANUS_LOG(LOG_INFO, "[consult] stopping: %u handles told server_restarting\n", all->len);
	g_ptr_array_free(all, TRUE);
	g_mutex_unlock(&glue.lock);
	g_usleep(GLUE_STOP_FLUSH_MS * 1000);
	if (!handed_on) {
		handed_on = 1;
		hand_on(first_signal);
	}
	return NULL;
}

int glue_stop_watch_start(void)
{
	first_signal = handed_on = 0;
	if (pipe(wake) != 0) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot create the stop pipe: %s\n", g_strerror(errno));
		return -1;
	}
	GError *err = NULL;
	watcher = g_thread_try_new("consult stop", watch_main, NULL, &err);
	if (watcher == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot start the stop watcher: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		close(wake[0]);
		close(wake[1]);
		wake[0] = wake[1] = -1;
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &janus_term);
	sigaction(SIGINT, &sa, &janus_int);
	return 0;
}

void glue_stop_watch_end(void)
{
	if (watcher == NULL)
		return;
	sigaction(SIGTERM, &janus_term, NULL);
	sigaction(SIGINT, &janus_int, NULL);
	ssize_t n = write(wake[1], "q", 1); /* ends the thread if no signal came */
	(void)n;
	g_thread_join(watcher);
	watcher = NULL;
	close(wake[0]);
	close(wake[1]);
	wake[0] = wake[1] = -1;
}
