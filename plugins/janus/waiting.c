/* waiting.c - the waiting room as patients live it: the device check
 * (readiness), messages to waiting patients (message_waiting) and the
 * estimated wait.
 *
 * Contract: the core decides (room.h: who may report readiness and when;
 * addressees.h: who receives a message; estimate.h: the estimate), this
 * file carries it out under glue.lock. Readiness lives on the room's visit,
 * the newest message on the visit's glue_visit_info: both in memory only,
 * gone with the visit (FORGET). A changed readiness of a waiting visit
 * sends the doctors a fresh list (coalesced as every list). A message is
 * pushed as event `message` to the addressees that have a handle; an AWAY
 * one finds it in its next join reply. Texts, names and readiness are
 * never logged (ids and counts only).
 * Today's connected calls per practice (struct glue_day): rebuilt from the
 * store at init (calls ended since local midnight), then kept by every
 * visit end whose store write ran (glue_day_visit_ended: length =
 * ended_at - connected_at, doctor = the last caller, as the store has
 * them). The summary (count, median, doctors; per doctor count and
 * median) is recomputed when a call is added or the local day changes;
 * the timer's glue_day_tick tells patients when a new day drops the
 * estimates.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>
#include <janus/debug.h>
#include "core/addressees.h"
#include "glue.h"
#include "snapshot.h"

/* --- the day's calls --- */

typedef struct day_doctor {
	int64_t doctor_id;
	size_t calls;
	int64_t median_s;
} day_doctor;

struct glue_day {
	GArray *calls;     /* consult_call_len, ended_at >= from */
	int64_t from, to;  /* the local day summarised */
	bool dirty;        /* calls changed since the summary */
	size_t calls_n;    /* summary: calls in [from, to) */
	int64_t median_s;  /* their median length */
	uint32_t doctors;  /* distinct doctors among them */
	GArray *by_doctor; /* day_doctor */
};

void glue_local_day(int64_t now, int64_t *from, int64_t *to)
{
	time_t t = (time_t)now;
	struct tm tm;
	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	*from = (int64_t)mktime(&tm);
	tm.tm_mday += 1;
	tm.tm_isdst = -1;
	*to = (int64_t)mktime(&tm);
}

static struct glue_day *day_of(glue_practice *p)
{
	if (p->day == NULL) {
		p->day = g_new0(struct glue_day, 1);
		p->day->calls = g_array_new(FALSE, FALSE, sizeof(consult_call_len));
		p->day->by_doctor = g_array_new(FALSE, FALSE, sizeof(day_doctor));
		p->day->dirty = true;
	}
	return p->day;
}

void glue_day_free(struct glue_day *d)
{
	if (d == NULL)
		return;
	g_array_free(d->calls, TRUE);
	g_array_free(d->by_doctor, TRUE);
	g_free(d);
}

/* The summary for now's local day; true if the day changed. */
static bool day_refresh(struct glue_day *d, int64_t now)
{
	bool new_day = false;
	if (now < d->from || now >= d->to) {
		glue_local_day(now, &d->from, &d->to);
		guint keep = 0;
		for (guint i = 0; i < d->calls->len; i++) {
			consult_call_len c = g_array_index(d->calls, consult_call_len, i);
			if (c.ended_at >= d->from)
				g_array_index(d->calls, consult_call_len, keep++) = c;
		}
		g_array_set_size(d->calls, keep);
		d->dirty = true;
		new_day = true;
	}
	if (!d->dirty)
		return new_day;
	const consult_call_len *calls = (const consult_call_len *)(void *)d->calls->data;
	size_t n = d->calls->len;
	int64_t *scratch = g_new(int64_t, n ? n : 1);
	d->calls_n = consult_call_median(calls, n, 0, d->from, d->to, scratch, &d->median_s);
	d->doctors = consult_call_doctors(calls, n, d->from, d->to);
	g_array_set_size(d->by_doctor, 0);
	for (size_t i = 0; i < n; i++) {
		int64_t doc = calls[i].doctor_id;
		bool seen = doc <= 0;
		for (guint j = 0; j < d->by_doctor->len && !seen; j++)
			seen = g_array_index(d->by_doctor, day_doctor, j).doctor_id == doc;
		if (seen)
			continue;
		day_doctor dd = { doc, 0, 0 };
		dd.calls = consult_call_median(calls, n, doc, d->from, d->to, scratch, &dd.median_s);
		if (dd.calls)
			g_array_append_val(d->by_doctor, dd);
	}
	g_free(scratch);
	d->dirty = false;
	return new_day;
}

static void add_call(glue_practice *p, int64_t doctor_id, int64_t ended_at, int64_t seconds)
{
	struct glue_day *d = day_of(p);
	consult_call_len c = { doctor_id, ended_at, seconds };
	g_array_append_val(d->calls, c);
	d->dirty = true;
}

typedef struct day_load {
	int64_t practice_id; /* 0: every practice served here */
	size_t n;
} day_load;

static void load_one(const consult_call_row *c, void *ud)
{
	day_load *l = ud;
	if ((l->practice_id && c->practice_id != l->practice_id) || !glue_lease_serves(c->practice_id))
		return;
	glue_practice *p = glue_practice_get(c->practice_id);
	if (p)
		add_call(p, c->doctor_id, c->ended_at, c->seconds);
	l->n++;
}

void glue_day_load(int64_t now, int64_t practice_id)
{
	int64_t from, to;
	day_load l = { practice_id, 0 };
	glue_local_day(now, &from, &to);
	if (consult_store_calls_ended(glue_store(), from, to, load_one, &l) != CONSULT_OK)
		JANUS_LOG(LOG_ERR, "[consult] today's calls not readable: wait estimates start without them\n");
	else if (l.n)
		JANUS_LOG(LOG_INFO, "[consult] %zu connected calls of today read for wait estimates\n", l.n);
}

void glue_day_visit_ended(glue_practice *p, int64_t visit_id, int64_t ended_at)
{
	glue_visit_info *vi = glue_visit_info_get(p, visit_id);
	if (vi == NULL || vi->connected_at <= 0 || ended_at < vi->connected_at)
		return;
	add_call(p, vi->called_by, ended_at, ended_at - vi->connected_at);
}

consult_wait glue_wait_of(glue_practice *p, const consult_visit *v, uint32_t ahead, int64_t now)
{
	consult_wait none = { false, 0, 0 };
	if (p->day == NULL || v->state != CONSULT_VISIT_WAITING)
		return none;
	struct glue_day *d = p->day;
	day_refresh(d, now);
	consult_wait_basis b = {
		.ahead = ahead,
		.any_doctor = v->doctor_id == 0,
		.doctor_busy = v->doctor_id > 0 && consult_room_doctor_visit(p->room, v->doctor_id) != NULL,
		.practice_calls = d->calls_n,
		.practice_median_s = d->median_s,
		.practice_doctors = d->doctors,
	};
	for (guint j = 0; j < d->by_doctor->len; j++) {
		const day_doctor *dd = &g_array_index(d->by_doctor, day_doctor, j);
		if (dd->doctor_id == v->doctor_id) {
			b.doctor_calls = dd->calls;
			b.doctor_median_s = dd->median_s;
		}
	}
	return consult_wait_estimate(&b);
}

void glue_day_tick(glue_practice *p, int64_t now)
{
	if (p->day && day_refresh(p->day, now))
		glue_push_positions(p, now, NULL, NULL);
}

void glue_wait_fields(json_t *o, consult_wait w)
{
	if (!w.known)
		return;
	json_object_set_new(o, "wait_min", json_integer(w.min_minutes));
	json_object_set_new(o, "wait_max", json_integer(w.max_minutes));
}

/* --- readiness --- */

consult_err glue_h_readiness(glue_ctx *c)
{
	glue_practice *p = glue_practice_find(c->s->practice_id);
	consult_visit *v = (p && c->s->visit_id) ? consult_room_visit(p->room, c->s->visit_id) : NULL;
	if (v == NULL || v->patient != c->s)
		return CONSULT_ERR_WRONG_STATE;
	bool changed = false;
	consult_err e = consult_room_set_readiness(
	        p->room, v->id, c->req->u.readiness.camera, c->req->u.readiness.microphone, &changed);
	if (e != CONSULT_OK)
		return e;
	if (changed && v->state == CONSULT_VISIT_WAITING) /* a ringing visit is in no list */
		glue_push_waiting(p, v->doctor_id);
	return CONSULT_OK;
}

/* --- messages to waiting patients --- */

json_t *glue_visit_message(const glue_visit_info *vi)
{
	if (vi == NULL || vi->msg_text == NULL)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "text", json_string(vi->msg_text));
	json_object_set_new(o, "from", vi->msg_from ? json_string(vi->msg_from) : json_null());
	json_object_set_new(o, "sent_at", json_integer(vi->msg_at));
	return o;
}

typedef struct deliver_ud {
	glue_practice *p;
	const char *text, *from;
	int64_t now;
} deliver_ud;

static void deliver(const consult_visit *v, void *ud)
{
	deliver_ud *u = ud;
	glue_visit_info *vi = glue_visit_info_get(u->p, v->id);
	if (vi == NULL)
		return;
	g_free(vi->msg_text);
	g_free(vi->msg_from);
	vi->msg_text = g_strdup(u->text);
	vi->msg_from = g_strdup(u->from); /* NULL stays NULL */
	vi->msg_at = u->now;
	if (v->patient)
		glue_push(v->patient, "message", glue_visit_message(vi));
}

/* Is id a doctor of the practice? (a store failure: INTERNAL) */
static consult_err practice_doctor(int64_t practice_id, int64_t id, bool *known)
{
	consult_err e;
	const glue_snap_staff *st = glue_snapshot_staff(practice_id, id, &e);
	*known = st && st->role == CONSULT_ROLE_DOCTOR;
	return e == CONSULT_OK || e == CONSULT_ERR_NOT_FOUND ? CONSULT_OK : CONSULT_ERR_INTERNAL;
}

consult_err glue_h_message_waiting(glue_ctx *c)
{
	static const char *const target_field[] = {
		[CONSULT_MSG_VISIT] = "visit_id",
		[CONSULT_MSG_APPOINTMENT] = "appointment_id",
		[CONSULT_MSG_DOCTOR] = "doctor_id",
	};
	glue_practice *p = glue_practice_get(c->s->practice_id);
	if (p == NULL)
		return CONSULT_ERR_INTERNAL;
	const consult_request *r = c->req;
	bool doctor = c->s->role == CONSULT_ROLE_DOCTOR;
	bool known = false;
	if (r->u.message_waiting.target == CONSULT_MSG_DOCTOR && !doctor &&
	        practice_doctor(p->id, r->u.message_waiting.id, &known) != CONSULT_OK)
		return CONSULT_ERR_INTERNAL;
	char *text = g_strndup(r->u.message_waiting.text, r->u.message_waiting.text_len);
	deliver_ud u = { p, text, doctor ? c->s->display_name : NULL, c->now };
	size_t n = 0;
	consult_err e = consult_message_addressees(p->room, r->u.message_waiting.target, r->u.message_waiting.id,
	        doctor ? c->s->staff_id : 0, known, deliver, &u, &n);
	g_free(text);
	if (e != CONSULT_OK) {
		c->field = target_field[r->u.message_waiting.target];
		return e;
	}
	json_object_set_new(c->reply, "delivered", json_integer((json_int_t)n));
	JANUS_LOG(LOG_INFO, "[consult] staff %" G_GINT64_FORMAT " sent a message to %zu waiting patient(s)\n",
	        c->s->staff_id, n);
	return CONSULT_OK;
}
