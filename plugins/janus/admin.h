/* admin.h - the Admin API of the consult plugin (protocol.md, "Admin API").
 *
 * Contract: glue_admin_message() is handle_admin_message: it borrows the
 * request and returns a new reply object owned by the caller (the core).
 * Replies never contain passwords, hashes, codes or patient names.
 */
#ifndef CONSULT_GLUE_ADMIN_H
#define CONSULT_GLUE_ADMIN_H

#include <jansson.h>

json_t *glue_admin_message(json_t *message);

#endif
