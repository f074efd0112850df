/* strbuf.h - internal: a bounded, growable byte buffer for the message
 * builders (template.c, ics.c, mime.c).
 *
 * Contract: pure (libc malloc only). Appends never write past `max` bytes
 * of content; the first failure (out of memory or over the bound) is
 * sticky in `err` and later appends do nothing. The content is always
 * NUL-terminated once anything was appended. Not part of the public API.
 */
#ifndef CONSULT_STRBUF_H
#define CONSULT_STRBUF_H

#include <stddef.h>
#include "errors.h"

typedef struct consult_strbuf {
	char *data;
	size_t len, cap, max;
	consult_err err; /* CONSULT_OK, CONSULT_ERR_TOO_LONG or CONSULT_ERR_INTERNAL */
} consult_strbuf;

void consult_sb_init(consult_strbuf *b, size_t max);
void consult_sb_add(consult_strbuf *b, const char *s, size_t n);
void consult_sb_str(consult_strbuf *b, const char *s);
void consult_sb_char(consult_strbuf *b, char c);
/* Hands the content to the caller (never NULL on success; "" if empty) or,
 * on a sticky error, frees everything and returns that error. */
consult_err consult_sb_finish(consult_strbuf *b, char **out, size_t *len);
void consult_sb_free(consult_strbuf *b);

#endif
