/* outbox.c - the delivery worker: one thread that sends the outbox's due
 * messages by e-mail (SMTP) or SMS (HTTP gateway), off the Janus handler
 * threads.
 *
 * Contract: at start, rows left "sending" by this instance (same
 * `instance` name: it died mid-send), with no claim recorded, or whose
 * claim has ended go back to "queued"; a live claim of another instance
 * sharing the store is left alone. Loop: claim the next due row (one
 * commit: sending, attempts + 1, claimed_by = this instance, claimed
 * until CLAIM_MARGIN_S plus twice the longest send timeout from now, wall
 * clock) and copy everything it needs (address or number, the unsealed
 * code, practice, time, doctor, the booked name for the greeting); then
 * render (core/compose, core/mime) and send (deliver/smtp,
 * deliver/sms_http, blocking with their timeouts); then record the
 * outcome: sent; temporary failure -> queued again at the core/backoff
 * time (no later than the code's end); permanent failure, attempts
 * exhausted, data gone (contact wiped, appointment cancelled or erased) ->
 * failed with the reason. The outcome is stored only while the row is
 * still claimed by this instance. Due rows are: queued with next_at due,
 * or sending with an ended claim (its instance died: taken over, found at
 * the latest IDLE_WAIT_S after the claim ended); with leases on, only
 * those of practices whose lease this instance holds in the store (the
 * practice's instance owns its invitations); with leases off, every
 * practice. Every change reaches the practice's staff (if served here) as
 * a `delivery` event. Sleeps until the next row is due or
 * glue_outbox_wake().
 * Store work: on PostgreSQL on a handle of its own (opened at start, like
 * timer_store.c), WITHOUT glue.lock, which it takes only to push the
 * events (the rooms and handles are in memory); on SQLite (no second
 * connection, see timer_store.c) on glue.store under glue.lock, as
 * before. A row is sent at most once unless the process dies (or cannot
 * store the outcome) between the server's acceptance and the commit of
 * "sent": it is then sent again, with the same Message-ID, after the
 * restart or once the claim has ended. Logs carry row ids, channels and
 * reasons only; the unsealed code, the address and the booked name are
 * wiped after use.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <sodium.h>
#include <curl/curl.h>
#include <janus/debug.h>
#include "core/backoff.h"
#include "core/compose.h"
#include "core/mime.h"
#include "core/seal.h"
#include "deliver/smtp.h"
#include "deliver/sms_http.h"
#include "glue.h"
#include "messages.h"
#include "store_health.h"

static GThread *worker;
static consult_store *own; /* the worker's handle (PostgreSQL), or NULL */
static GMutex wake_mutex;
static GCond wake_cond;
static volatile gint stop, woken;

#define IDLE_WAIT_S 60
/* A claim outlives the longest send (twice its timeout) by this much. */
#define CLAIM_MARGIN_S 60

/* Everything one send needs, copied out of the store under the lock. */
typedef struct job {
	int64_t id, appointment_id, practice_id, starts_at, valid_until;
	int attempts;
	bool sms;
	consult_msg_kind kind;
	uint8_t msgid[16];
	char *to, *code, *practice_name, *practice_phone, *doctor, *link;
	char *patient_name; /* booked by reception, or NULL */
} job;

static void job_clear(job *j)
{
	if (j->to)
		sodium_memzero(j->to, strlen(j->to));
	if (j->code)
		sodium_memzero(j->code, strlen(j->code));
	if (j->patient_name)
		sodium_memzero(j->patient_name, strlen(j->patient_name));
	g_free(j->patient_name);
	g_free(j->to);
	g_free(j->code);
	g_free(j->practice_name);
	g_free(j->practice_phone);
	g_free(j->doctor);
	g_free(j->link);
	memset(j, 0, sizeof(*j));
}

/* The row's state to the practice's staff; under glue.lock. */
static void push_msg(int64_t practice_id, const consult_outbox_msg *m)
{
	glue_practice *p = glue_practice_find(practice_id);
	if (p == NULL)
		return;
	for (GList *l = p->staff; l; l = l->next)
		glue_push(l->data, "delivery", glue_delivery_json(m));
}

void glue_push_delivery(int64_t practice_id, int64_t delivery_id)
{
	glue_practice *p = glue_practice_find(practice_id);
	if (p == NULL || p->staff == NULL)
		return;
	consult_outbox_msg m;
	memset(&m, 0, sizeof(m));
	if (consult_outbox_by_id(glue.store, delivery_id, &m) == CONSULT_OK)
		push_msg(practice_id, &m);
	consult_outbox_msg_clear(&m);
}

/* The worker's store: its own handle, or glue.store with glue.lock taken. */
static consult_store *db_begin(void)
{
	if (own)
		return own;
	g_mutex_lock(&glue.lock);
	return glue.store;
}

static void db_end(consult_store *db)
{
	if (db != own)
		g_mutex_unlock(&glue.lock);
}

/* Pushes the row's state read on db (from db_begin); ends db. */
static void push_end(consult_store *db, int64_t practice_id, const consult_outbox_msg *m)
{
	if (db == own)
		g_mutex_lock(&glue.lock);
	push_msg(practice_id, m);
	g_mutex_unlock(&glue.lock);
}

static consult_outbox_claimer claimer(void)
{
	int64_t now_ms = g_get_real_time() / 1000;
	int64_t longest = MAX(glue.cfg.smtp_timeout, glue.cfg.sms_timeout);
	return (consult_outbox_claimer){
		.instance = glue.cfg.instance,
		.now = glue_now(),
		.now_ms = now_ms,
		.until_ms = now_ms + (2 * longest + CLAIM_MARGIN_S) * 1000,
		.leases = glue_leases_on(),
	};
}

/* Fills j from the store db; a reason (permanent) if the data is gone. */
static const char *job_load(consult_store *db, const consult_outbox_msg *m, job *j)
{
	consult_appointment a;
	consult_practice pr;
	consult_contact ct;
	memset(&a, 0, sizeof(a));
	memset(&pr, 0, sizeof(pr));
	memset(&ct, 0, sizeof(ct));
	const char *why = NULL;
	j->id = m->id;
	j->appointment_id = m->appointment_id;
	j->attempts = m->attempts;
	j->sms = m->channel == CONSULT_CHANNEL_SMS;
	memcpy(j->msgid, m->msgid, sizeof(j->msgid));
	j->kind = m->kind;
	if (consult_store_appointment_by_id(db, m->appointment_id, &a) != CONSULT_OK ||
	        consult_store_practice_by_id(db, a.practice_id, &pr) != CONSULT_OK)
		why = "appointment gone";
	else if (a.cancelled_at != 0 && j->kind != CONSULT_MSG_CANCEL)
		why = "appointment cancelled";
	else if (consult_store_contact(db, m->appointment_id, &ct) != CONSULT_OK ||
	        (j->sms ? ct.phone == NULL || !ct.consent_sms_at : ct.email == NULL || !ct.consent_email_at))
		why = "contact data deleted";
	else if ((j->sms ? glue.cfg.sms_url : glue.cfg.smtp_url) == NULL || glue_messages(j->kind) == NULL)
		why = "channel not configured";
	if (why == NULL) {
		char code[CONSULT_SEAL_PLAIN_MAX + 1] = "";
		if (j->kind != CONSULT_MSG_CANCEL &&
		        (ct.code_box == NULL ||
		                consult_unseal(glue.cfg.code_secret, ct.code_box, ct.code_box_len, code) != CONSULT_OK))
			why = "access code unavailable";
		else {
			j->starts_at = a.starts_at;
			j->valid_until = a.valid_until;
			j->to = g_strdup(j->sms ? ct.phone : ct.email);
			j->code = g_strdup(code);
			j->practice_name = g_strdup(pr.name ? pr.name : "");
			j->practice_phone = g_strdup(pr.phone ? pr.phone : "");
			j->doctor = g_strdup(a.doctor_name ? a.doctor_name : "");
			j->patient_name = g_strdup(a.booked_name);
			j->link = g_strdup_printf("%s/patient.html?p=%s#%s", glue.cfg.public_url, pr.slug, code);
		}
		sodium_memzero(code, sizeof(code));
	}
	j->practice_id = a.practice_id;
	consult_appointment_clear(&a);
	consult_practice_clear(&pr);
	consult_contact_clear(&ct);
	return why;
}

/* Local offset (minutes) of the configured time zone at t. */
static int tz_offset(int64_t t)
{
	GTimeZone *tz = g_time_zone_new_identifier(glue.cfg.timezone);
	if (tz == NULL)
		return 0;
	gint iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, t);
	int off = iv < 0 ? 0 : g_time_zone_get_offset(tz, iv) / 60;
	g_time_zone_unref(tz);
	return off;
}

static consult_msg_values job_values(const job *j)
{
	return (consult_msg_values){
		.kind = j->kind,
		.practice_name = j->practice_name,
		.practice_phone = j->practice_phone,
		.starts_at = j->starts_at,
		.tz_offset_min = tz_offset(j->starts_at),
		.doctor = j->doctor,
		.link = j->link,
		.code = j->kind == CONSULT_MSG_CANCEL ? NULL : j->code,
		.patient_name = j->patient_name,
	};
}

static void set_reason(consult_send_result *r, consult_delivery cls, const char *reason)
{
	r->code = 0;
	r->cls = cls;
	g_strlcpy(r->reason, reason, sizeof(r->reason));
}

static void send_email(const job *j, int64_t now, consult_send_result *r)
{
	const char *domain = strchr(glue.cfg.smtp_from, '@') + 1;
	consult_msg_values v = job_values(j);
	char *uid = g_strdup_printf(
	        "consult-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "@%s", j->practice_id, j->appointment_id, domain);
	consult_msg_ics ics = { .uid = uid, .sequence = j->kind == CONSULT_MSG_CANCEL ? 1 : 0, .dtstamp = now };
	consult_composed_mail cm;
	const char *part = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1] = "";
	if (consult_compose_mail(glue_messages(j->kind), &v, &ics, &cm, &part, bad) != CONSULT_OK) {
		set_reason(r, CONSULT_DELIVERY_PERMANENT, "template error");
		g_free(uid);
		return;
	}
	consult_mail m;
	memset(&m, 0, sizeof(m));
	consult_composed_mail_apply(&cm, &m);
	m.from_name = glue.cfg.smtp_from_name ? glue.cfg.smtp_from_name : j->practice_name;
	m.from_addr = glue.cfg.smtp_from;
	m.reply_to = glue.cfg.smtp_reply_to;
	m.to_addr = j->to;
	m.date = now;
	m.tz_offset_min = tz_offset(now);
	memcpy(m.msgid_random, j->msgid, sizeof(m.msgid_random));
	m.msgid_domain = domain;
	randombytes_buf(m.boundary_random, sizeof(m.boundary_random));
	char *msg = NULL;
	size_t len = 0;
	if (consult_mime_build(&m, &msg, &len) != CONSULT_OK) {
		set_reason(r, CONSULT_DELIVERY_PERMANENT, "message not buildable");
	} else {
		consult_smtp_cfg sc = glue_smtp_cfg(&glue.cfg);
		consult_smtp_send(&sc, j->to, msg, len, r);
		sodium_memzero(msg, len);
		free(msg);
	}
	consult_composed_mail_free(&cm);
	g_free(uid);
}

static void send_sms(const job *j, consult_send_result *r)
{
	consult_msg_values v = job_values(j);
	char *text = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1] = "";
	if (consult_compose_sms(glue_messages(j->kind), &v, &text, NULL, bad) != CONSULT_OK) {
		set_reason(r, CONSULT_DELIVERY_PERMANENT, "template error");
		return;
	}
	consult_sms_http_cfg hc = glue_sms_cfg(&glue.cfg);
	consult_sms_http_send(&hc, j->to, text, r);
	sodium_memzero(text, strlen(text));
	free(text);
}

/* Records the outcome of one attempt on db (from db_begin). */
static void record(consult_store *db, const job *j, const char *why, const consult_send_result *r, int64_t now)
{
	consult_err e;
	const char *outcome;
	const char *me = glue.cfg.instance;
	if (why != NULL) {
		e = consult_outbox_fail(db, j->id, me, why, now);
		outcome = "failed";
	} else if (r->cls == CONSULT_DELIVERY_OK) {
		e = consult_outbox_sent(db, j->id, me, now);
		outcome = "sent";
	} else {
		consult_backoff bo = consult_backoff_default();
		bo.base_s = glue.cfg.backoff_base;
		if (bo.cap_s < bo.base_s)
			bo.cap_s = bo.base_s;
		bo.max_attempts = (int)glue.cfg.max_attempts;
		int64_t next = 0;
		bool again = r->cls == CONSULT_DELIVERY_TEMPORARY &&
		        consult_backoff_next(&bo, now, j->attempts, randombytes_random(), j->valid_until, &next);
		e = again ? consult_outbox_retry(db, j->id, me, next, r->reason, now)
		          : consult_outbox_fail(db, j->id, me, r->reason, now);
		outcome = again ? "retry" : "failed";
		why = r->reason;
	}
	if (e == CONSULT_ERR_WRONG_STATE)
		JANUS_LOG(LOG_WARN,
		        "[consult] outbox: row %" G_GINT64_FORMAT
		        " outcome not stored: its claim ended and was taken over\n",
		        j->id);
	else if (e != CONSULT_OK)
		JANUS_LOG(LOG_ERR, "[consult] outbox: row %" G_GINT64_FORMAT " outcome not stored (%s)\n", j->id,
		        consult_err_name(e));
	JANUS_LOG(LOG_INFO, "[consult] outbox: %s %s row %" G_GINT64_FORMAT " attempt %d: %s%s%s\n",
	        j->sms ? "sms" : "email", consult_msg_kind_name(j->kind), j->id, j->attempts, outcome, why ? ", " : "",
	        why ? why : "");
}

/* One due row: claim, send, record. false if nothing was due. */
static bool step(void)
{
	job j;
	memset(&j, 0, sizeof(j));
	consult_outbox_msg m;
	memset(&m, 0, sizeof(m));
	consult_outbox_claimer c = claimer();
	int64_t now = c.now;
	consult_store *db = db_begin();
	consult_err e = consult_outbox_claim_next(db, &c, &m);
	const char *why = e == CONSULT_OK ? job_load(db, &m, &j) : NULL;
	if (e != CONSULT_OK && e != CONSULT_ERR_NOT_FOUND)
		JANUS_LOG(LOG_ERR, "[consult] outbox: store not readable (%s)\n", consult_store_last_error(db));
	if (e == CONSULT_OK)
		push_end(db, j.practice_id, &m);
	else
		db_end(db);
	consult_outbox_msg_clear(&m);
	if (e != CONSULT_OK)
		return false;
	consult_send_result r;
	memset(&r, 0, sizeof(r));
	if (why == NULL) {
		if (j.sms)
			send_sms(&j, &r);
		else
			send_email(&j, now, &r);
	}
	now = glue_now();
	db = db_begin();
	record(db, &j, why, &r, now);
	if (consult_outbox_by_id(db, j.id, &m) == CONSULT_OK)
		push_end(db, j.practice_id, &m);
	else
		db_end(db);
	consult_outbox_msg_clear(&m);
	job_clear(&j);
	return true;
}

/* Seconds until the next queued row is due (IDLE_WAIT_S if none). */
static int64_t next_wait(void)
{
	int64_t at = 0, wait = IDLE_WAIT_S;
	consult_outbox_claimer c = claimer();
	consult_store *db = db_begin();
	if (consult_outbox_next_due(db, &c, &at) == CONSULT_OK)
		wait = at <= c.now ? 0 : MIN(at - c.now, IDLE_WAIT_S);
	db_end(db);
	return wait;
}

static gpointer worker_main(gpointer data)
{
	while (!g_atomic_int_get(&stop)) {
		if (step())
			continue;
		int64_t wait = next_wait();
		if (wait == 0)
			wait = 1; /* due but not claimable (store error): do not spin */
		g_mutex_lock(&wake_mutex);
		gint64 until = g_get_monotonic_time() + wait * G_TIME_SPAN_SECOND;
		while (!g_atomic_int_get(&stop) && !g_atomic_int_get(&woken) &&
		        g_cond_wait_until(&wake_cond, &wake_mutex, until))
			;
		g_atomic_int_set(&woken, 0);
		g_mutex_unlock(&wake_mutex);
	}
	return NULL;
}

void glue_outbox_wake(void)
{
	g_mutex_lock(&wake_mutex);
	g_atomic_int_set(&woken, 1);
	g_cond_signal(&wake_cond);
	g_mutex_unlock(&wake_mutex);
}

/* PostgreSQL: a connection of the worker's own (see the contract). */
static void open_own(void)
{
	const char *db = glue.cfg.database;
	if (db == NULL || (strncmp(db, "postgresql://", 13) != 0 && strncmp(db, "postgres://", 11) != 0))
		return;
	char err[256] = "";
	own = consult_store_open(db, err, sizeof(err));
	if (own == NULL) {
		JANUS_LOG(LOG_WARN,
		        "[consult] outbox: no store handle of its own (%s); its store work runs under the lock\n", err);
		return;
	}
	glue_store_watch_handle(own);
}

static void close_own(void)
{
	if (own)
		consult_store_close(own);
	own = NULL;
}

int glue_outbox_start(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		JANUS_LOG(LOG_FATAL, "[consult] outbox: libcurl initialisation failed\n");
		return -1;
	}
	open_own();
	int64_t n = 0;
	consult_outbox_claimer c = claimer();
	consult_store *db = db_begin();
	if (consult_outbox_requeue_sending(db, c.instance, c.now, c.now_ms, &n) != CONSULT_OK)
		JANUS_LOG(LOG_ERR, "[consult] outbox: rows of the last run not requeued\n");
	db_end(db);
	if (n > 0)
		JANUS_LOG(LOG_WARN,
		        "[consult] outbox: %" G_GINT64_FORMAT
		        " messages were being sent at the last stop (or their claims ended): queued again\n",
		        n);
	g_atomic_int_set(&stop, 0);
	GError *err = NULL;
	worker = g_thread_try_new("consult outbox", worker_main, NULL, &err);
	if (worker == NULL) {
		JANUS_LOG(LOG_FATAL, "[consult] cannot start the outbox thread: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		close_own();
		curl_global_cleanup();
		return -1;
	}
	return 0;
}

void glue_outbox_stop(void)
{
	if (worker == NULL)
		return;
	g_atomic_int_set(&stop, 1);
	glue_outbox_wake();
	g_thread_join(worker);
	worker = NULL;
	close_own();
	curl_global_cleanup();
}
