/* forward.c - forwarding mode (issue 5): pairs, jsep relay, media relay
 * and counters (see forward.h for the contract).
 *
 * Modelled on janus_videocall.c of Janus 1.1.2 (media path: relay_rtp with
 * the core's mindex/video flags, keyframe requests turned into send_pli on
 * the other leg, NACKs left to the core per leg, REMB passed on capped, data
 * relayed once the other leg's data channel is writable; the jsep the core
 * already processed is pushed to the other handle with "e2ee" kept). Unlike
 * videocall the peer is found through a table under a GRWLock held while a
 * packet is relayed, so a pair that ended can never be used by a media
 * thread afterwards. Other RTCP (SR/RR/SDES/NACK...) is terminated per leg
 * by the core and not relayed.
 */
#include <stdatomic.h>
#include <string.h>
#include <glib.h>
#include <jansson.h>
#include <janus/apierror.h>
#include <janus/debug.h>
#include <janus/rtcp.h>
#include "glue.h"
#include "forward.h"

enum { DOCTOR = 0, PATIENT = 1 };
static const char *const side_names[2] = { "doctor", "patient" };

typedef struct fwd_pair {
	janus_refcount ref;
	glue_session *leg[2];       /* [DOCTOR], [PATIENT]: one reference each */
	janus_plugin_session *h[2]; /* leg[i]->handle (kept alive by the session) */
	consult_forward_cause cause;
	bool e2ee;                       /* jseps must carry e2ee (false only in the test mode) */
	volatile gint active;            /* 1 while in the table */
	volatile gint offered, answered; /* negotiation steps done (one offer/answer in v1) */
	volatile gint up[2];             /* setup_media seen for leg i */
	volatile gint dataready[2];      /* data channel of leg i writable */
	atomic_uint_fast64_t rtp_in[2];  /* RTP packets received from leg i */
	GMutex hold_lock;                /* held[], and up[] while it is set */
	GQueue held[2];                  /* fwd_held from leg i until leg !i is up */
} fwd_pair;

/* A copy of an RTP packet held for a leg that is not up yet. */
typedef struct fwd_held {
	janus_plugin_rtp rtp; /* rtp.buffer points at data */
	char data[];
} fwd_held;

/* handle -> pair; both legs' handles map to the same pair. The table as a
 * whole holds one reference on each pair (dropped by whoever takes it out). */
static GHashTable *pairs;
static GRWLock pairs_lock;
static glue_forward_lost_fn lost_cb;

static struct {
	volatile gint active;
	atomic_uint_fast64_t total, refused, fallbacks[CONSULT_FWD_CAUSE_COUNT], legs_lost;
	atomic_uint_fast64_t rtp_packets, rtp_bytes, rtcp_packets, pli, remb, held;
	atomic_uint_fast64_t data_messages, data_bytes, dropped, data_dropped, slow_link;
} st;

#define COUNT(field, n) atomic_fetch_add_explicit(&(field), (uint_fast64_t)(n), memory_order_relaxed)
#define READ(field)     ((json_int_t)atomic_load_explicit(&(field), memory_order_relaxed))

static void pair_free(const janus_refcount *ref)
{
	fwd_pair *p = janus_refcount_containerof(ref, fwd_pair, ref);
	for (int i = 0; i < 2; i++) {
		fwd_held *h;
		while ((h = g_queue_pop_head(&p->held[i])) != NULL)
			g_free(h);
	}
	g_mutex_clear(&p->hold_lock);
	glue_session_unref(p->leg[DOCTOR]);
	glue_session_unref(p->leg[PATIENT]);
	g_free(p);
}

static void pair_unref(fwd_pair *p)
{
	if (p)
		janus_refcount_decrease(&p->ref);
}

static bool cause_ok(consult_forward_cause c)
{
	return c >= CONSULT_FWD_TIMEOUT && c < CONSULT_FWD_CAUSE_COUNT;
}

static bool usable(const glue_session *s)
{
	return s && s->handle && !g_atomic_int_get(&s->destroyed) && !g_atomic_int_get(&s->handle->stopped);
}

static void close_pc(janus_plugin_session *h)
{
	if (h && glue_gateway)
		glue_gateway->close_pc(h);
}

/* Under pairs_lock (reader or writer): the pair of h and its side, or NULL. */
static fwd_pair *find(janus_plugin_session *h, int *side)
{
	fwd_pair *p = (pairs && h) ? g_hash_table_lookup(pairs, h) : NULL;
	if (p && side)
		*side = p->h[DOCTOR] == h ? DOCTOR : PATIENT;
	return p;
}

/* The pair of h with a reference for the caller, or NULL. */
static fwd_pair *lookup_ref(janus_plugin_session *h, int *side)
{
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(h, side);
	if (p)
		janus_refcount_increase(&p->ref);
	g_rw_lock_reader_unlock(&pairs_lock);
	return p;
}

/* Takes the pair of h out of the table; returns the table's reference. */
static fwd_pair *take(janus_plugin_session *h, int *side)
{
	g_rw_lock_writer_lock(&pairs_lock);
	fwd_pair *p = find(h, side);
	if (p) {
		g_hash_table_remove(pairs, p->h[DOCTOR]);
		g_hash_table_remove(pairs, p->h[PATIENT]);
		g_atomic_int_set(&p->active, 0);
		g_atomic_int_add(&st.active, -1);
	}
	g_rw_lock_writer_unlock(&pairs_lock);
	return p;
}

/* --- lifecycle --- */

void glue_forward_init(glue_forward_lost_fn lost)
{
	g_rw_lock_writer_lock(&pairs_lock);
	if (pairs == NULL)
		pairs = g_hash_table_new(NULL, NULL);
	lost_cb = lost;
	g_rw_lock_writer_unlock(&pairs_lock);
}

void glue_forward_deinit(void)
{
	GList *all = NULL;
	g_rw_lock_writer_lock(&pairs_lock);
	if (pairs) {
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, pairs);
		while (g_hash_table_iter_next(&it, &key, &value)) {
			fwd_pair *p = value;
			if (key == p->h[DOCTOR]) { /* once per pair */
				g_atomic_int_set(&p->active, 0);
				all = g_list_prepend(all, p);
			}
		}
		g_hash_table_destroy(pairs);
		pairs = NULL;
	}
	g_atomic_int_set(&st.active, 0);
	lost_cb = NULL;
	g_rw_lock_writer_unlock(&pairs_lock);
	for (GList *l = all; l; l = l->next) {
		fwd_pair *p = l->data;
		close_pc(p->h[DOCTOR]);
		close_pc(p->h[PATIENT]);
		pair_unref(p);
	}
	g_list_free(all);
}

consult_err glue_forward_begin(
        glue_session *doctor, glue_session *patient, consult_forward_cause cause, bool e2ee_test_off, json_t *reply)
{
	if (!cause_ok(cause))
		return CONSULT_ERR_INVALID_FIELD;
	if (!usable(doctor) || !usable(patient) || doctor == patient || doctor->handle == patient->handle)
		return CONSULT_ERR_WRONG_STATE;
	fwd_pair *p = g_new0(fwd_pair, 1);
	g_mutex_init(&p->hold_lock);
	g_queue_init(&p->held[DOCTOR]);
	g_queue_init(&p->held[PATIENT]);
	janus_refcount_init(&p->ref, pair_free);
	p->cause = cause;
	p->e2ee = !e2ee_test_off;
	p->h[DOCTOR] = doctor->handle;
	p->h[PATIENT] = patient->handle;
	g_rw_lock_writer_lock(&pairs_lock);
	if (pairs == NULL || g_hash_table_contains(pairs, doctor->handle) ||
	        g_hash_table_contains(pairs, patient->handle)) {
		g_rw_lock_writer_unlock(&pairs_lock);
		g_mutex_clear(&p->hold_lock);
		g_free(p); /* no session referenced yet, nothing held */
		return CONSULT_ERR_WRONG_STATE;
	}
	glue_session_ref(doctor);
	glue_session_ref(patient);
	p->leg[DOCTOR] = doctor;
	p->leg[PATIENT] = patient;
	g_atomic_int_set(&p->active, 1);
	g_hash_table_insert(pairs, doctor->handle, p);
	g_hash_table_insert(pairs, patient->handle, p);
	g_atomic_int_inc(&st.active);
	g_rw_lock_writer_unlock(&pairs_lock);
	COUNT(st.total, 1);
	COUNT(st.fallbacks[cause], 1);
	if (reply)
		json_object_set_new(reply, "e2ee", json_boolean(p->e2ee));
	json_t *f = json_object();
	json_object_set_new(f, "cause", json_string(consult_forward_cause_name(cause)));
	json_object_set_new(f, "e2ee", json_boolean(p->e2ee));
	glue_push(patient, "forward", f);
	JANUS_LOG(LOG_INFO, "[consult] call moves to forwarding through Janus (cause %s%s)\n",
	        consult_forward_cause_name(cause), p->e2ee ? "" : ", E2EE OFF: test mode");
	return CONSULT_OK;
}

void glue_forward_note_refused(consult_forward_cause cause)
{
	COUNT(st.refused, 1);
	if (cause_ok(cause))
		COUNT(st.fallbacks[cause], 1);
}

bool glue_forward_end(glue_session *s)
{
	if (s == NULL || s->handle == NULL)
		return false;
	fwd_pair *p = take(s->handle, NULL);
	if (p == NULL)
		return false;
	close_pc(p->h[DOCTOR]);
	close_pc(p->h[PATIENT]);
	JANUS_LOG(LOG_VERB, "[consult] forwarding ended, both PeerConnections closed\n");
	pair_unref(p);
	return true;
}

bool glue_forward_active(glue_session *s)
{
	if (s == NULL || s->handle == NULL)
		return false;
	g_rw_lock_reader_lock(&pairs_lock);
	bool on = find(s->handle, NULL) != NULL;
	g_rw_lock_reader_unlock(&pairs_lock);
	return on;
}

/* --- jsep relay --- */

static consult_err check_jsep(
        json_t *jsep, bool offer, const char **type, const char **sdp, bool *e2ee, const char **field)
{
	if (jsep == NULL) {
		*field = "jsep";
		return CONSULT_ERR_MISSING_FIELD;
	}
	*type = json_string_value(json_object_get(jsep, "type"));
	*sdp = json_string_value(json_object_get(jsep, "sdp"));
	if (!json_is_object(jsep) || *type == NULL || *sdp == NULL || **sdp == '\0' ||
	        strcmp(*type, offer ? "offer" : "answer") != 0) {
		*field = "jsep";
		return CONSULT_ERR_INVALID_FIELD;
	}
	*e2ee = json_is_true(json_object_get(jsep, "e2ee"));
	return CONSULT_OK;
}

static consult_err push_err(int rc)
{
	if (rc == JANUS_ERROR_JSEP_INVALID_SDP)
		return CONSULT_ERR_INVALID_FIELD;
	return CONSULT_ERR_WRONG_STATE; /* the other handle is gone or its negotiation stopped */
}

consult_err glue_forward_jsep(glue_session *s, consult_req_kind kind, json_t *jsep, const char **field)
{
	const char *dummy = NULL;
	if (field == NULL)
		field = &dummy;
	bool offer = kind == CONSULT_REQ_FORWARD_OFFER;
	if (!offer && kind != CONSULT_REQ_FORWARD_ANSWER)
		return CONSULT_ERR_UNKNOWN_REQUEST;
	const char *type = NULL, *sdp = NULL;
	bool e2ee = false;
	consult_err e = check_jsep(jsep, offer, &type, &sdp, &e2ee, field);
	if (e != CONSULT_OK)
		return e;
	if (s == NULL || glue_gateway == NULL)
		return CONSULT_ERR_WRONG_STATE;
	int side = DOCTOR;
	fwd_pair *p = lookup_ref(s->handle, &side);
	if (p == NULL)
		return CONSULT_ERR_WRONG_STATE;
	if (side != (offer ? DOCTOR : PATIENT) || !g_atomic_int_get(&p->active)) {
		pair_unref(p);
		return CONSULT_ERR_WRONG_STATE;
	}
	if (p->e2ee && !e2ee) {
		pair_unref(p);
		*field = "e2ee";
		return CONSULT_ERR_INVALID_FIELD;
	}
	/* one offer, then one answer (no renegotiation in v1) */
	volatile gint *step = offer ? &p->offered : &p->answered;
	if ((!offer && !g_atomic_int_get(&p->offered)) || !g_atomic_int_compare_and_exchange(step, 0, 1)) {
		pair_unref(p);
		return CONSULT_ERR_WRONG_STATE;
	}
	json_t *out = json_pack("{ssss}", "type", type, "sdp", sdp);
	if (e2ee)
		json_object_set_new(out, "e2ee", json_true());
	json_t *ev = json_object();
	json_object_set_new(ev, "consult", json_string("event"));
	json_object_set_new(ev, "event", json_string(offer ? "forward_offer" : "forward_answer"));
	json_object_set_new(ev, "e2ee", json_boolean(e2ee));
	janus_plugin_session *peer = p->h[offer ? PATIENT : DOCTOR];
	int rc = glue_gateway->push_event(peer, &glue_plugin, NULL, ev, out);
	json_decref(ev);
	json_decref(out);
	if (rc != 0) {
		g_atomic_int_set(step, 0);
		e = push_err(rc);
		if (e == CONSULT_ERR_INVALID_FIELD)
			*field = "jsep";
		JANUS_LOG(LOG_WARN, "[consult] forwarding: %s not passed on (%d)\n", offer ? "offer" : "answer", rc);
	} else if (!g_atomic_int_get(&p->active)) {
		/* the call ended while the core processed the SDP: undo */
		close_pc(peer);
		close_pc(s->handle);
		e = CONSULT_ERR_WRONG_STATE;
	}
	pair_unref(p);
	return e;
}

/* Request handlers (dispatch: unlocked routes; c->jsep is the jsep the
 * core handed to handle_message). */
consult_err glue_h_forward_offer(glue_ctx *c)
{
	return glue_forward_jsep(c->s, CONSULT_REQ_FORWARD_OFFER, c->jsep, &c->field);
}

consult_err glue_h_forward_answer(glue_ctx *c)
{
	return glue_forward_jsep(c->s, CONSULT_REQ_FORWARD_ANSWER, c->jsep, &c->field);
}

void glue_forward_drop_jsep(glue_session *s)
{
	/* The core already set up ICE for this jsep; a second offer would fail
	 * in the core ("Error setting ICE locally") while that agent lives. On
	 * an active leg this ends the pair through hangup_media (fail closed). */
	if (s && s->handle)
		close_pc(s->handle);
}

/* --- media callbacks (Janus loop threads; never glue.lock) --- */

static void relay(fwd_pair *p, int to, janus_plugin_rtp *packet)
{
	glue_gateway->relay_rtp(p->h[to], packet);
	COUNT(st.rtp_packets, 1);
	COUNT(st.rtp_bytes, packet->length);
}

/* Under p->hold_lock: a copy of packet from leg `from`, kept for the other leg. */
static void hold(fwd_pair *p, int from, const janus_plugin_rtp *packet)
{
	if (packet->buffer == NULL || packet->length == 0)
		return;
	if (g_queue_get_length(&p->held[from]) >= GLUE_FWD_HOLD_MAX) {
		g_free(g_queue_pop_head(&p->held[from]));
		COUNT(st.dropped, 1);
	}
	fwd_held *h = g_malloc(sizeof(*h) + packet->length);
	h->rtp = *packet;
	memcpy(h->data, packet->buffer, packet->length);
	h->rtp.buffer = h->data;
	g_queue_push_tail(&p->held[from], h);
}

void glue_forward_setup_media(janus_plugin_session *handle)
{
	int side = DOCTOR;
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(handle, &side);
	if (p) {
		/* what the other leg sent meanwhile goes first, in order; then this
		 * leg counts as up (under the same lock, so nothing newer overtakes) */
		g_mutex_lock(&p->hold_lock);
		guint n = g_queue_get_length(&p->held[!side]);
		fwd_held *h;
		while ((h = g_queue_pop_head(&p->held[!side])) != NULL) {
			if (glue_gateway)
				relay(p, side, &h->rtp);
			g_free(h);
		}
		g_atomic_int_set(&p->up[side], 1);
		g_mutex_unlock(&p->hold_lock);
		COUNT(st.held, n);
		JANUS_LOG(LOG_INFO, "[consult] forwarding: %s PeerConnection up (%u packets held for it)\n",
		        side_names[side], n);
		if (g_atomic_int_get(&p->up[!side]) && glue_gateway) {
			/* both legs up: each receiver needs a keyframe from the other sender */
			glue_gateway->send_pli(p->h[DOCTOR]);
			glue_gateway->send_pli(p->h[PATIENT]);
		}
	}
	g_rw_lock_reader_unlock(&pairs_lock);
}

void glue_forward_incoming_rtp(janus_plugin_session *handle, janus_plugin_rtp *packet)
{
	if (handle == NULL || packet == NULL || g_atomic_int_get(&handle->stopped) || glue_gateway == NULL)
		return;
	int side = DOCTOR;
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(handle, &side);
	if (p) {
		atomic_fetch_add_explicit(&p->rtp_in[side], 1, memory_order_relaxed);
		/* packet keeps the core's mindex and video flag (same m-lines on both legs) */
		if (g_atomic_int_get(&p->up[!side])) {
			relay(p, !side, packet);
		} else {
			g_mutex_lock(&p->hold_lock);
			bool up = g_atomic_int_get(&p->up[!side]) != 0; /* came up meanwhile: held ones already sent */
			if (!up)
				hold(p, side, packet);
			g_mutex_unlock(&p->hold_lock);
			if (up)
				relay(p, !side, packet);
		}
	}
	g_rw_lock_reader_unlock(&pairs_lock);
}

void glue_forward_incoming_rtcp(janus_plugin_session *handle, janus_plugin_rtcp *packet)
{
	if (handle == NULL || packet == NULL || packet->buffer == NULL || g_atomic_int_get(&handle->stopped) ||
	        glue_gateway == NULL)
		return;
	int side = DOCTOR;
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(handle, &side);
	if (p && g_atomic_int_get(&p->up[!side])) {
		janus_plugin_session *peer = p->h[!side];
		COUNT(st.rtcp_packets, 1);
		uint32_t bitrate = janus_rtcp_get_remb(packet->buffer, packet->length);
		if (bitrate > 0) {
			/* this receiver's estimate goes to the other sender, capped */
			glue_gateway->send_remb(peer, bitrate < GLUE_FWD_MAX_BITRATE ? bitrate : GLUE_FWD_MAX_BITRATE);
			COUNT(st.remb, 1);
		}
		if (janus_rtcp_has_pli(packet->buffer, packet->length) ||
		        janus_rtcp_has_fir(packet->buffer, packet->length)) {
			glue_gateway->send_pli(peer);
			COUNT(st.pli, 1);
		}
	}
	g_rw_lock_reader_unlock(&pairs_lock);
}

void glue_forward_incoming_data(janus_plugin_session *handle, janus_plugin_data *packet)
{
	if (handle == NULL || packet == NULL || packet->buffer == NULL || packet->length == 0 ||
	        g_atomic_int_get(&handle->stopped) || glue_gateway == NULL)
		return;
	int side = DOCTOR;
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(handle, &side);
	if (p && g_atomic_int_get(&p->dataready[!side])) {
		janus_plugin_data r = {
			.label = packet->label,
			.protocol = packet->protocol,
			.binary = packet->binary,
			.buffer = packet->buffer,
			.length = packet->length,
		};
		glue_gateway->relay_data(p->h[!side], &r);
		COUNT(st.data_messages, 1);
		COUNT(st.data_bytes, packet->length);
	} else if (p) {
		COUNT(st.data_dropped, 1);
	}
	g_rw_lock_reader_unlock(&pairs_lock);
}

void glue_forward_data_ready(janus_plugin_session *handle)
{
	if (handle == NULL || g_atomic_int_get(&handle->stopped))
		return;
	int side = DOCTOR;
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(handle, &side);
	if (p)
		g_atomic_int_set(&p->dataready[side], 1);
	g_rw_lock_reader_unlock(&pairs_lock);
}

void glue_forward_slow_link(janus_plugin_session *handle, int mindex, gboolean video, gboolean uplink)
{
	if (handle == NULL)
		return;
	int side = DOCTOR;
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(handle, &side);
	g_rw_lock_reader_unlock(&pairs_lock);
	if (p == NULL)
		return;
	COUNT(st.slow_link, 1);
	JANUS_LOG(LOG_VERB, "[consult] forwarding: slow %s %s on the %s leg\n", uplink ? "uplink" : "downlink",
	        video ? "video" : "audio", side_names[side]);
}

void glue_forward_hangup_media(janus_plugin_session *handle)
{
	if (handle == NULL)
		return;
	int side = DOCTOR;
	fwd_pair *p = take(handle, &side);
	if (p == NULL)
		return; /* not forwarding, or the pair already ended (our own close_pc) */
	bool gone = g_atomic_int_get(&handle->stopped) != 0;
	close_pc(p->h[!side]);
	COUNT(st.legs_lost, 1);
	JANUS_LOG(LOG_INFO, "[consult] forwarding: %s PeerConnection gone%s, call loses its media\n", side_names[side],
	        gone ? " (handle detached)" : "");
	glue_session *s = p->leg[side];
	glue_session_ref(s);
	pair_unref(p);
	glue_forward_lost_fn cb = lost_cb;
	if (cb)
		cb(s, gone);
	glue_session_unref(s);
}

/* --- admin --- */

json_t *glue_forward_stats(void)
{
	json_t *o = json_object();
	json_t *f = json_object();
	for (int c = CONSULT_FWD_TIMEOUT; c < CONSULT_FWD_CAUSE_COUNT; c++)
		json_object_set_new(
		        f, consult_forward_cause_name((consult_forward_cause)c), json_integer(READ(st.fallbacks[c])));
	json_object_set_new(o, "active", json_integer(g_atomic_int_get(&st.active)));
	json_object_set_new(o, "total", json_integer(READ(st.total)));
	json_object_set_new(o, "refused", json_integer(READ(st.refused)));
	json_object_set_new(o, "fallbacks", f);
	json_object_set_new(o, "legs_lost", json_integer(READ(st.legs_lost)));
	json_object_set_new(o, "rtp_packets", json_integer(READ(st.rtp_packets)));
	json_object_set_new(o, "rtp_bytes", json_integer(READ(st.rtp_bytes)));
	json_object_set_new(o, "rtcp_packets", json_integer(READ(st.rtcp_packets)));
	json_object_set_new(o, "pli", json_integer(READ(st.pli)));
	json_object_set_new(o, "remb", json_integer(READ(st.remb)));
	json_object_set_new(o, "data_messages", json_integer(READ(st.data_messages)));
	json_object_set_new(o, "data_bytes", json_integer(READ(st.data_bytes)));
	json_object_set_new(o, "held", json_integer(READ(st.held)));
	json_object_set_new(o, "dropped", json_integer(READ(st.dropped)));
	json_object_set_new(o, "data_dropped", json_integer(READ(st.data_dropped)));
	json_object_set_new(o, "slow_link", json_integer(READ(st.slow_link)));
	return o;
}

void glue_forward_query(janus_plugin_session *handle, json_t *o)
{
	int side = DOCTOR;
	g_rw_lock_reader_lock(&pairs_lock);
	fwd_pair *p = find(handle, &side);
	if (p && o) {
		json_t *f = json_object();
		json_object_set_new(f, "side", json_string(side_names[side]));
		json_object_set_new(f, "cause", json_string(consult_forward_cause_name(p->cause)));
		json_object_set_new(f, "e2ee", json_boolean(p->e2ee));
		json_object_set_new(f, "offered", json_boolean(g_atomic_int_get(&p->offered)));
		json_object_set_new(f, "answered", json_boolean(g_atomic_int_get(&p->answered)));
		json_object_set_new(f, "media_up", json_boolean(g_atomic_int_get(&p->up[side])));
		json_object_set_new(f, "data_ready", json_boolean(g_atomic_int_get(&p->dataready[side])));
		json_object_set_new(f, "rtp_in", json_integer(READ(p->rtp_in[side])));
		json_object_set_new(o, "forward", f);
	}
	g_rw_lock_reader_unlock(&pairs_lock);
}
