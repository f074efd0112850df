/* dispatch.h - request dispatch of the consult plugin.
 *
 * Contract: glue_handle_message() is the plugin's handle_message: it owns
 * and frees transaction, message and jsep, parses the body, checks the
 * table {request -> allowed handle kinds/roles -> handler}, runs the
 * handler under glue.lock (and its practice's lock, plock.h) and returns a synchronous JANUS_PLUGIN_OK result
 * with {"consult":req,"ok":true,...} or the error object of protocol.md.
 */
#ifndef CONSULT_GLUE_DISPATCH_H
#define CONSULT_GLUE_DISPATCH_H

#include <stdbool.h>
#include <jansson.h>
#include <plugins/plugin.h>
#include "core/errors.h"

struct janus_plugin_result *glue_handle_message(
        janus_plugin_session *handle, char *transaction, json_t *message, json_t *jsep);
/* {"consult":name,"ok":false,"error_code":..,"error":..,"reason":..,"field"?,"retry_after"?} */
json_t *glue_error_reply(const char *name, consult_err err, const char *field, int64_t retry_after);
/* {"consult":name,"ok":true} merged with fields (stolen, may be NULL). */
json_t *glue_ok_reply(const char *name, json_t *fields);
/* At destroy, once no new request is let in: waits (at most max_ms) for
 * the requests still running, which may be in a store round trip without
 * glue.lock (plock.h); false if some still run. */
bool glue_dispatch_drain(int max_ms);
/* Counts another callback that may make such a round trip (destroy_session, the admin API) as running. */
void glue_dispatch_busy(bool on);

#endif
