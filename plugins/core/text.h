/* text.h - internal: UTF-8 and character class checks for request.c and sms.c.
 *
 * Contract: pure functions on (pointer, byte length); embedded NUL bytes
 * are treated as control characters. Not part of the public API.
 */
#ifndef CONSULT_TEXT_H
#define CONSULT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "errors.h"

/* Valid UTF-8 (strict: no overlong forms, no surrogates, nothing above
 * U+10FFFF) and no control characters (C0, DEL, C1). If lines is true,
 * CR, LF and TAB are allowed (SDP). */
bool consult_text_clean(const char *s, size_t len, bool lines);
/* Decodes the strict UTF-8 character at s[*i] (i < len) into *cp and moves
 * *i past it; false (nothing moved) if it is not valid there. */
bool consult_utf8_next(const char *s, size_t len, size_t *i, uint32_t *cp);
/* Every byte is in the set (ASCII only; ranges like "a-z" are not parsed:
 * pass every character, e.g. via the class helpers below). */
bool consult_ascii_only(const char *s, size_t len, bool (*ok)(unsigned char c));

#endif
