/* staff_session.h - resumable staff sessions: the token issued at login
 * and the anonymous request `resume` (staff_session.c), and the parts of
 * login that resume shares (staff.c).
 *
 * Contract: a session is one login. Its token (auth.h) goes to the
 * browser once, in the login reply; the store keeps only its hash, the
 * staff member and the last use. Everything here runs under glue.lock.
 */
#ifndef CONSULT_GLUE_STAFF_SESSION_H
#define CONSULT_GLUE_STAFF_SESSION_H

#include <stdint.h>
#include "glue.h"
#include "auth.h"

/* A new session of staff_id used now: token (to hand out once) and *id. */
consult_err glue_login_session_new(int64_t staff_id, int64_t now, char token[GLUE_SESSION_TOKEN_LEN + 1], int64_t *id);
/* The handle's session was used now: written to the store at most every
 * GLUE_SESSION_TOUCH_S (store failures are logged and not fatal). */
void glue_login_session_used(glue_session *s, int64_t now);
/* Ends the handle's session (logout, idle logout): its token is invalid. */
void glue_login_session_end(glue_session *s);

/* staff.c: makes c->s the staff handle of st in practice p (login and
 * resume): session fields, the practice's staff list, and the reply fields
 * both share (staff_id, role, display_name, idle_seconds, practice). */
void glue_staff_enter(
        glue_ctx *c, const consult_staff *st, glue_practice *p, const consult_practice *pr, int64_t login_session);
/* staff.c: `waiting` to a doctor handle that just came in (no-op for reception). */
void glue_staff_welcome(glue_session *s, glue_practice *p);

#endif
