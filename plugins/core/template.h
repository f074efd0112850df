/* template.h - message templates with {{placeholder}} fields.
 *
 * Contract: pure; results are malloc'ed, the caller frees. A placeholder
 * is "{{", optional spaces, a name [a-z0-9_]{1,32}, optional spaces, "}}".
 * Everything else is copied literally, including single braces. A "{{"
 * that does not start a well-formed placeholder is an error. Values are
 * inserted exactly as given and never rescanned (no recursion): a value
 * containing "{{x}}" stays literal. Escaping is the caller's job: HTML
 * parts pass values through consult_html_escape(), JSON bodies through
 * consult_json_escape(), form bodies through consult_form_escape().
 * Templates must be valid UTF-8 (CR, LF and TAB allowed) of at most
 * CONSULT_TPL_MAX bytes.
 * Errors: CONSULT_ERR_MISSING_FIELD (NULL template), CONSULT_ERR_INVALID_UTF8,
 * CONSULT_ERR_TOO_LONG (template over CONSULT_TPL_MAX or output over the
 * given bound), CONSULT_ERR_INVALID_FIELD (malformed or unknown placeholder;
 * the offending name, or "" for a malformed one, goes to `bad`),
 * CONSULT_ERR_INTERNAL (out of memory).
 */
#ifndef CONSULT_TEMPLATE_H
#define CONSULT_TEMPLATE_H

#include <stddef.h>
#include "errors.h"

#define CONSULT_TPL_MAX      65536
#define CONSULT_TPL_NAME_MAX 32

typedef struct consult_tpl_var {
	const char *name;
	const char *value; /* NULL counts as "" */
} consult_tpl_var;

/* Checks a template at load time: every placeholder names one of the
 * `allowed` names. `bad` (may be NULL) receives the first unknown name. */
consult_err consult_tpl_validate(
        const char *tpl, const char *const *allowed, size_t n_allowed, char bad[CONSULT_TPL_NAME_MAX + 1]);

/* Renders tpl with vars into *out (NUL-terminated, *out_len bytes if
 * out_len is given); output bounded by max_out bytes. On error *out is NULL. */
consult_err consult_tpl_render(const char *tpl, const consult_tpl_var *vars, size_t n_vars, size_t max_out, char **out,
        size_t *out_len, char bad[CONSULT_TPL_NAME_MAX + 1]);

/* HTML text/attribute escaping: & < > " ' become &amp; &lt; &gt; &quot;
 * &#39;. Returns a new string, NULL only when out of memory or s is NULL. */
char *consult_html_escape(const char *s);

/* The inside of a JSON string: " \ and control characters escaped
 * (\n \r \t \b \f, others \u00XX), UTF-8 passed through. Same return rule. */
char *consult_json_escape(const char *s);

/* application/x-www-form-urlencoded: unreserved A-Z a-z 0-9 - . _ ~ kept,
 * space as '+', every other byte as %XX. Same return rule. */
char *consult_form_escape(const char *s);

#endif
