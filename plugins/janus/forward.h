/* forward.h - forwarding mode (issue 5): the plugin relays media between
 * the doctor's and the patient's Janus PeerConnections of one call.
 *
 * Contract:
 * - A pair {doctor leg, patient leg} lives in a table keyed by the Janus
 *   handle, guarded by its own GRWLock (never glue.lock). Lock order:
 *   glue.lock before the forward table lock; the media callbacks take only
 *   the table lock (reader; inside it a pair's own hold lock, see below)
 *   and hold it while they relay, so once
 *   glue_forward_end() returned, no packet of that pair is relayed any more.
 *   The pair holds one reference on each glue_session (and so on each
 *   handle) until it ends.
 * - glue_forward_begin / glue_forward_end are called under glue.lock.
 *   begin pushes the `forward` event {cause, e2ee} to the patient.
 *   end closes both PeerConnections (close_pc: asynchronous, the core then
 *   calls hangup_media, which finds no pair any more).
 * - glue_forward_jsep may be called with or without glue.lock (prefer
 *   without: the core processes the SDP inside push_event). It relays a
 *   jsep already processed by the core (as janus_videocall does) to the
 *   other leg as event `forward_offer` / `forward_answer`.
 * - The media callbacks (setup_media ... hangup_media) run on Janus' loop
 *   threads and never take glue.lock. When a leg's PeerConnection goes away
 *   while its pair is active (DTLS alert, ICE failure, browser closed it),
 *   the pair ends, the other leg's PeerConnection is closed and the `lost`
 *   callback given to glue_forward_init runs (no forward lock held) so the
 *   glue can end the call.
 * - RTP that one leg sends before the other leg is up (its DTLS not done
 *   yet: the leg that negotiated first always sends first, its first
 *   keyframe included) is held, at most GLUE_FWD_HOLD_MAX packets per leg
 *   (the oldest go first, counted as dropped), and relayed in order right
 *   when the other leg comes up (setup_media), before anything newer: the
 *   receiver gets the first keyframe at once instead of waiting for the
 *   one a PLI asks for. Held packets are copies, freed with the pair.
 * - Counters for the admin API are atomics. Nothing here logs personal
 *   data, SDP or addresses.
 */
#ifndef CONSULT_GLUE_FORWARD_H
#define CONSULT_GLUE_FORWARD_H

#include <stdbool.h>
#include <jansson.h>
#include <plugins/plugin.h>
#include "core/errors.h"
#include "core/request.h"
#include "session.h"

/* Highest bandwidth estimate (bit/s) passed on in a REMB to a sender. */
#define GLUE_FWD_MAX_BITRATE 2500000u
/* RTP packets of one leg held while the other leg is not up yet (~2 s of
 * a 720p call's audio and video). */
#define GLUE_FWD_HOLD_MAX 256u

/* Called (on a Janus loop thread, without any lock) when the PeerConnection
 * of leg s went away while forwarding. handle_gone: the handle is being
 * detached (destroy_session follows). s is referenced during the call. */
typedef void (*glue_forward_lost_fn)(glue_session *s, bool handle_gone);

void glue_forward_init(glue_forward_lost_fn lost);
/* The glue's lost callback (to be defined in call.c): ends the IN_CALL
 * visit of s with CONNECTION_LOST unless handle_gone - through the timer,
 * once the handle is still there a second later (Janus closes a detaching
 * handle's PeerConnection before it flags the handle: such a call is held). */
void glue_forward_lost(glue_session *s, bool handle_gone);
/* Ends every pair (close_pc on both legs) and frees the table. */
void glue_forward_deinit(void);

/* Under glue.lock. Pairs the two sessions of an IN_CALL visit; sets
 * "e2ee" (bool) on reply (may be NULL) and pushes {"event":"forward",
 * "cause","e2ee"} to the patient. e2ee is false only with e2ee_test_off.
 * wrong_state if either is gone or already forwarding. */
consult_err glue_forward_begin(
        glue_session *doctor, glue_session *patient, consult_forward_cause cause, bool e2ee_test_off, json_t *reply);
/* Counts a fallback refused by the practice policy (no pair made). */
void glue_forward_note_refused(consult_forward_cause cause);
/* Under glue.lock. Ends the pair s belongs to (either leg): close_pc on
 * both handles, references dropped. Returns false if s was not forwarding.
 * s may be NULL. */
bool glue_forward_end(glue_session *s);
/* Whether s is a leg of an active pair. */
bool glue_forward_active(glue_session *s);

/* kind: CONSULT_REQ_FORWARD_OFFER (doctor leg, jsep type "offer") or
 * CONSULT_REQ_FORWARD_ANSWER (patient leg, "answer", only after an offer).
 * jsep: as handed to handle_message (borrowed). e2ee must be true unless
 * the pair was made with e2ee_test_off. Errors: missing_field "jsep",
 * invalid_field "jsep" / "e2ee", wrong_state (not forwarding, wrong leg,
 * wrong order, peer gone). *field is set on field errors. On success the
 * other leg received the event with a jsep {type, sdp, e2ee?}. */
consult_err glue_forward_jsep(glue_session *s, consult_req_kind kind, json_t *jsep, const char **field);
/* glue_h_forward_offer / glue_h_forward_answer (declared in glue.h) are
 * defined in forward.c: glue_forward_jsep on c->s with c->jsep. */
/* A message with a jsep was refused for s (by the dispatch or by
 * glue_forward_jsep): close the PeerConnection the core started for it.
 * On an active leg the pair then ends through hangup_media and the lost
 * callback ends the call (fail closed: e.g. an offer without e2ee). */
void glue_forward_drop_jsep(glue_session *s);

/* janus_plugin media callbacks (see plugins/plugin.h of Janus 1.1.2). */
void glue_forward_setup_media(janus_plugin_session *handle);
void glue_forward_incoming_rtp(janus_plugin_session *handle, janus_plugin_rtp *packet);
void glue_forward_incoming_rtcp(janus_plugin_session *handle, janus_plugin_rtcp *packet);
void glue_forward_incoming_data(janus_plugin_session *handle, janus_plugin_data *packet);
void glue_forward_data_ready(janus_plugin_session *handle);
void glue_forward_slow_link(janus_plugin_session *handle, int mindex, gboolean video, gboolean uplink);
void glue_forward_hangup_media(janus_plugin_session *handle);

/* Admin: {"active","total","refused","fallbacks":{"timeout","ice_failed",
 * "turn_failed"},"legs_lost","rtp_packets","rtp_bytes","rtcp_packets",
 * "pli","remb","held","data_messages","data_bytes","dropped","slow_link"}. */
json_t *glue_forward_stats(void);
/* query_session: adds "forward": {side, cause, e2ee, offered, answered,
 * media_up, data_ready, rtp_in} to o if the handle is a leg. */
void glue_forward_query(janus_plugin_session *handle, json_t *o);

#endif
