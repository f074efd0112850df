/* fuzz_template.c - message templates and the escapers (template.c).
 *
 * Input: template, then four values, separated by NUL bytes. Checks:
 *   - render agrees with an independent reference renderer written from
 *     the contract ("{{", spaces, [a-z0-9_]{1,32}, spaces, "}}"; any other
 *     "{{" is an error; values inserted once, never rescanned; single
 *     braces literal), including the error code for malformed/unknown
 *     placeholders and invalid UTF-8/control characters;
 *   - validate accepts exactly the templates render accepts with the same
 *     names; the output bound is respected (too_long, never more);
 *   - html escaping leaves no & < > " ' except as the five entities and
 *     unescapes to the input; form escaping keeps only unreserved bytes,
 *     '+' and %XX and decodes to the input; JSON escaping parsed back by
 *     jansson gives the input (valid UTF-8 only).
 */
#include "fuzz.h"
#include <jansson.h>
#include "core/template.h"

static const char *const NAMES[] = { "name", "link", "code", "x" };
#define NV 4

typedef struct ref {
	char *buf;
	size_t len, cap;
} ref;

static void ref_add(ref *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->buf = realloc(r->buf, r->cap);
		FZ_CHECK(r->buf);
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

/* The reference: CONSULT_OK, INVALID_FIELD (bad: name or "") or the check errors. */
static consult_err ref_render(const char *t, const consult_tpl_var *vars, size_t nv, ref *out, char *bad)
{
	size_t n = strlen(t);
	if (n > CONSULT_TPL_MAX)
		return CONSULT_ERR_TOO_LONG;
	if (!fz_utf8(t, n) || fz_has_ctl(t, n, "\r\n\t") || fz_has_c1(t, n))
		return CONSULT_ERR_INVALID_UTF8;
	for (size_t i = 0; i < n;) {
		if (!(t[i] == '{' && t[i + 1] == '{')) {
			ref_add(out, t + i, 1);
			i++;
			continue;
		}
		size_t j = i + 2;
		while (t[j] == ' ')
			j++;
		size_t s = j;
		while ((t[j] >= 'a' && t[j] <= 'z') || (t[j] >= '0' && t[j] <= '9') || t[j] == '_')
			j++;
		size_t len = j - s;
		while (t[j] == ' ')
			j++;
		if (len < 1 || len > CONSULT_TPL_NAME_MAX || t[j] != '}' || t[j + 1] != '}') {
			bad[0] = '\0';
			return CONSULT_ERR_INVALID_FIELD;
		}
		const consult_tpl_var *v = NULL;
		for (size_t k = 0; k < nv; k++)
			if (strlen(vars[k].name) == len && memcmp(vars[k].name, t + s, len) == 0)
				v = &vars[k];
		if (!v) {
			memcpy(bad, t + s, len);
			bad[len] = '\0';
			return CONSULT_ERR_INVALID_FIELD;
		}
		if (v->value)
			ref_add(out, v->value, strlen(v->value));
		i = j + 2;
	}
	ref_add(out, "", 0);
	return CONSULT_OK;
}

static void check_html(const char *s)
{
	char *h = consult_html_escape(s);
	FZ_CHECK(h);
	ref back = { 0 };
	for (const char *p = h; *p;) {
		FZ_CHECK(*p != '<' && *p != '>' && *p != '"' && *p != '\'');
		if (*p != '&') {
			ref_add(&back, p++, 1);
			continue;
		}
		static const struct {
			const char *ent, *c;
		} ents[] = {
			{ "&amp;", "&" },
			{ "&lt;", "<" },
			{ "&gt;", ">" },
			{ "&quot;", "\"" },
			{ "&#39;", "'" },
		};
		size_t k;
		for (k = 0; k < 5; k++)
			if (strncmp(p, ents[k].ent, strlen(ents[k].ent)) == 0)
				break;
		FZ_CHECK(k < 5);
		ref_add(&back, ents[k].c, 1);
		p += strlen(ents[k].ent);
	}
	ref_add(&back, "", 0);
	FZ_CHECK(strcmp(back.buf, s) == 0);
	free(back.buf);
	free(h);
}

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void check_form(const char *s)
{
	char *f = consult_form_escape(s);
	FZ_CHECK(f);
	ref back = { 0 };
	for (const char *p = f; *p;) {
		char c = *p;
		if (c == '%') {
			int hi = hexv(p[1]), lo = hi >= 0 ? hexv(p[2]) : -1;
			FZ_CHECK(hi >= 0 && lo >= 0);
			char d = (char)(hi << 4 | lo);
			FZ_CHECK(!((d >= 'A' && d <= 'Z') || (d >= 'a' && d <= 'z') || (d >= '0' && d <= '9') ||
			        (d && strchr("-._~", d))));
			ref_add(&back, &d, 1);
			p += 3;
			continue;
		}
		FZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        strchr("-._~+", c));
		ref_add(&back, c == '+' ? " " : &c, 1);
		p++;
	}
	ref_add(&back, "", 0);
	FZ_CHECK(strcmp(back.buf, s) == 0);
	free(back.buf);
	free(f);
}

static void check_json(const char *s)
{
	char *j = consult_json_escape(s);
	FZ_CHECK(j);
	size_t n = strlen(j);
	FZ_CHECK(!fz_has_ctl(j, n, ""));
	if (fz_utf8(s, strlen(s))) {
		char *doc = malloc(n + 3);
		FZ_CHECK(doc);
		doc[0] = '"';
		memcpy(doc + 1, j, n);
		doc[n + 1] = '"';
		doc[n + 2] = '\0';
		json_error_t err;
		json_t *v = json_loads(doc, JSON_DECODE_ANY, &err);
		FZ_CHECK(v && json_is_string(v) && strcmp(json_string_value(v), s) == 0);
		json_decref(v);
		free(doc);
	}
	free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	char *tpl = fz_str(&in, 8192);
	char *val[NV];
	consult_tpl_var vars[NV];
	for (size_t i = 0; i < NV; i++) {
		val[i] = fz_str(&in, 512);
		vars[i].name = NAMES[i];
		vars[i].value = (flags >> i) & 1 ? NULL : val[i];
	}
	size_t nv = 1 + (flags >> 4) % NV; /* names known to this render */
	size_t max_out = (flags & 0x80) ? 64 : 1 << 20;

	ref want = { 0 };
	char bad_ref[CONSULT_TPL_NAME_MAX + 1] = "", bad[CONSULT_TPL_NAME_MAX + 1] = "?";
	consult_err er = ref_render(tpl, vars, nv, &want, bad_ref);
	char *out = (char *)1;
	size_t out_len = 0;
	consult_err e = consult_tpl_render(tpl, vars, nv, max_out, &out, &out_len, bad);
	if (er == CONSULT_OK && want.len > max_out) {
		FZ_CHECK(e == CONSULT_ERR_TOO_LONG && out == NULL);
	} else {
		FZ_CHECK(e == er);
		if (e == CONSULT_OK) {
			FZ_CHECK(out && out_len == want.len && memcmp(out, want.buf, want.len) == 0 &&
			        out[out_len] == '\0');
		} else {
			FZ_CHECK(out == NULL);
			if (e == CONSULT_ERR_INVALID_FIELD)
				FZ_CHECK(strcmp(bad, bad_ref) == 0);
		}
	}
	free(out);
	free(want.buf);
	char vbad[CONSULT_TPL_NAME_MAX + 1] = "?";
	consult_err ev = consult_tpl_validate(tpl, NAMES, nv, vbad);
	FZ_CHECK(ev == er);
	if (ev == CONSULT_ERR_INVALID_FIELD)
		FZ_CHECK(strcmp(vbad, bad_ref) == 0);

	check_html(val[0]);
	check_form(val[1]);
	check_json(val[2]);
	free(tpl);
	for (size_t i = 0; i < NV; i++)
		free(val[i]);
	return 0;
}
