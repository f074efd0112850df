/* template.c - {{placeholder}} templates and value escaping, see template.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "template.h"
#include "strbuf.h"
#include "text.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* At p == "{{": parses the placeholder. Sets name/len and returns the
 * position after "}}", or NULL if malformed. */
static const char *placeholder(const char *p, const char **name, size_t *len)
{
	p += 2;
	while (*p == ' ')
		p++;
	*name = p;
	while (name_char(*p))
		p++;
	*len = (size_t)(p - *name);
	while (*p == ' ')
		p++;
	if (*len == 0 || *len > CONSULT_TPL_NAME_MAX || p[0] != '}' || p[1] != '}')
		return NULL;
	return p + 2;
}

static void set_bad(char *bad, const char *name, size_t len)
{
	if (!bad)
		return;
	if (len > CONSULT_TPL_NAME_MAX)
		len = CONSULT_TPL_NAME_MAX;
	memcpy(bad, name, len);
	bad[len] = '\0';
}

static consult_err check_tpl(const char *tpl)
{
	if (!tpl)
		return CONSULT_ERR_MISSING_FIELD;
	size_t n = strlen(tpl);
	if (n > CONSULT_TPL_MAX)
		return CONSULT_ERR_TOO_LONG;
	if (!consult_text_clean(tpl, n, true))
		return CONSULT_ERR_INVALID_UTF8;
	return CONSULT_OK;
}

/* Walks the template; for each literal run calls lit, for each placeholder
 * calls ph (which returns an error to stop). */
typedef consult_err (*ph_fn)(void *ctx, const char *name, size_t len);
typedef void (*lit_fn)(void *ctx, const char *s, size_t len);

static consult_err walk(const char *tpl, void *ctx, lit_fn lit, ph_fn ph, char *bad)
{
	const char *p = tpl, *run = tpl;
	while (*p) {
		if (p[0] == '{' && p[1] == '{') {
			const char *name;
			size_t len;
			const char *after = placeholder(p, &name, &len);
			if (!after) {
				set_bad(bad, "", 0);
				return CONSULT_ERR_INVALID_FIELD;
			}
			if (lit)
				lit(ctx, run, (size_t)(p - run));
			consult_err e = ph(ctx, name, len);
			if (e != CONSULT_OK) {
				set_bad(bad, name, len);
				return e;
			}
			p = run = after;
		} else {
			p++;
		}
	}
	if (lit)
		lit(ctx, run, (size_t)(p - run));
	return CONSULT_OK;
}

struct vctx {
	const char *const *allowed;
	size_t n;
};

static consult_err validate_ph(void *ctx, const char *name, size_t len)
{
	struct vctx *v = ctx;
	for (size_t i = 0; i < v->n; i++)
		if (v->allowed[i] && strlen(v->allowed[i]) == len && memcmp(v->allowed[i], name, len) == 0)
			return CONSULT_OK;
	return CONSULT_ERR_INVALID_FIELD;
}

consult_err consult_tpl_validate(
        const char *tpl, const char *const *allowed, size_t n_allowed, char bad[CONSULT_TPL_NAME_MAX + 1])
{
	if (bad)
		bad[0] = '\0';
	consult_err e = check_tpl(tpl);
	if (e != CONSULT_OK)
		return e;
	struct vctx v = { allowed, n_allowed };
	return walk(tpl, &v, NULL, validate_ph, bad);
}

struct rctx {
	const consult_tpl_var *vars;
	size_t n;
	consult_strbuf sb;
};

static void render_lit(void *ctx, const char *s, size_t len)
{
	struct rctx *r = ctx;
	consult_sb_add(&r->sb, s, len);
}

static consult_err render_ph(void *ctx, const char *name, size_t len)
{
	struct rctx *r = ctx;
	for (size_t i = 0; i < r->n; i++) {
		const char *nm = r->vars[i].name;
		if (nm && strlen(nm) == len && memcmp(nm, name, len) == 0) {
			consult_sb_str(&r->sb, r->vars[i].value ? r->vars[i].value : "");
			return CONSULT_OK;
		}
	}
	return CONSULT_ERR_INVALID_FIELD;
}

consult_err consult_tpl_render(const char *tpl, const consult_tpl_var *vars, size_t n_vars, size_t max_out, char **out,
        size_t *out_len, char bad[CONSULT_TPL_NAME_MAX + 1])
{
	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (bad)
		bad[0] = '\0';
	consult_err e = check_tpl(tpl);
	if (e != CONSULT_OK)
		return e;
	struct rctx r = { vars, n_vars, { 0 } };
	consult_sb_init(&r.sb, max_out);
	e = walk(tpl, &r, render_lit, render_ph, bad);
	if (e != CONSULT_OK) {
		consult_sb_free(&r.sb);
		return e;
	}
	return consult_sb_finish(&r.sb, out, out_len);
}

/* Escapers: a per-byte replacement (NULL = keep the byte). */
typedef const char *(*esc_fn)(unsigned char c, char tmp[8]);

static char *escape(const char *s, esc_fn f)
{
	if (!s)
		return NULL;
	consult_strbuf sb;
	consult_sb_init(&sb, (size_t)-1 / 2);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char tmp[8];
		const char *r = f(*p, tmp);
		if (r)
			consult_sb_str(&sb, r);
		else
			consult_sb_char(&sb, (char)*p);
	}
	char *out;
	return consult_sb_finish(&sb, &out, NULL) == CONSULT_OK ? out : NULL;
}

static const char *html_esc(unsigned char c, char tmp[8])
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

static const char *json_esc(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	default:
		if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, 8, "\\u%04x", (unsigned)c);
			return tmp;
		}
		return NULL;
	}
}

static const char *form_esc(unsigned char c, char tmp[8])
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	        c == '_' || c == '~')
		return NULL;
	if (c == ' ')
		return "+";
	snprintf(tmp, 8, "%%%02X", (unsigned)c);
	return tmp;
}

char *consult_html_escape(const char *s)
{
	return escape(s, html_esc);
}
char *consult_json_escape(const char *s)
{
	return escape(s, json_esc);
}
char *consult_form_escape(const char *s)
{
	return escape(s, form_esc);
}
