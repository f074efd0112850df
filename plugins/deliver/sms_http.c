/* sms_http.c - one SMS through an HTTP gateway with libcurl, see sms_http.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "core/phone.h"
#include "core/text.h"
#include "deliver/sms_http.h"

static const char *const body_names[] = { "to", "text", "sender" };

bool consult_sms_method_parse(const char *s, consult_sms_method *out)
{
	if (s && strcmp(s, "POST") == 0)
		*out = CONSULT_SMS_POST;
	else if (s && strcmp(s, "GET") == 0)
		*out = CONSULT_SMS_GET;
	else
		return false;
	return true;
}

bool consult_sms_format_parse(const char *s, consult_sms_format *out)
{
	if (s && strcmp(s, "json") == 0)
		*out = CONSULT_SMS_JSON;
	else if (s && strcmp(s, "form") == 0)
		*out = CONSULT_SMS_FORM;
	else
		return false;
	return true;
}

static bool url_ok(const char *u)
{
	const char *h;
	if (strncmp(u, "http://", 7) == 0)
		h = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		h = u + 8;
	else
		return false;
	if (strlen(u) > CONSULT_SMS_HTTP_URL_MAX || !*h || *h == '/' || *h == ':' || strchr(u, '#'))
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* "Name: value": token name, one line, printable. */
static bool header_ok(const char *h)
{
	const char *colon = strchr(h, ':');
	if (!colon || colon == h || strlen(h) > CONSULT_SMS_HTTP_HEADER_MAX)
		return false;
	for (const char *p = h; p < colon; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		            strchr("!#$%&'*+-.^_`|~", *p)))
			return false;
	for (const char *p = colon; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

consult_err consult_sms_http_check(
        const consult_sms_http_cfg *cfg, const char **field, char bad[CONSULT_TPL_NAME_MAX + 1])
{
	const char *dummy;
	if (!field)
		field = &dummy;
	*field = NULL;
	if (bad)
		bad[0] = '\0';
	if (!cfg)
		return CONSULT_ERR_MISSING_FIELD;
	*field = "sms_url";
	if (!cfg->url || !*cfg->url)
		return CONSULT_ERR_MISSING_FIELD;
	if (!url_ok(cfg->url))
		return CONSULT_ERR_INVALID_FIELD;
	*field = "sms_method";
	if (cfg->method != CONSULT_SMS_POST && cfg->method != CONSULT_SMS_GET)
		return CONSULT_ERR_INVALID_FIELD;
	*field = "sms_body_format";
	if (cfg->format != CONSULT_SMS_JSON && cfg->format != CONSULT_SMS_FORM)
		return CONSULT_ERR_INVALID_FIELD;
	if (cfg->method == CONSULT_SMS_GET && cfg->format != CONSULT_SMS_FORM)
		return CONSULT_ERR_INVALID_FIELD;
	*field = "sms_body";
	if (!cfg->body || !*cfg->body)
		return CONSULT_ERR_MISSING_FIELD;
	consult_err e = consult_tpl_validate(cfg->body, body_names, 3, bad);
	if (e != CONSULT_OK)
		return e;
	if (strlen(cfg->body) > CONSULT_SMS_HTTP_REQ_MAX / 2)
		return CONSULT_ERR_TOO_LONG;
	*field = "sms_auth_header";
	if (cfg->auth_header && !header_ok(cfg->auth_header))
		return CONSULT_ERR_INVALID_FIELD;
	*field = "sms_sender";
	if (cfg->sender &&
	        (strlen(cfg->sender) > CONSULT_SMS_HTTP_SENDER_MAX ||
	                !consult_text_clean(cfg->sender, strlen(cfg->sender), false)))
		return CONSULT_ERR_INVALID_FIELD;
	*field = "sms_timeout_seconds";
	if (cfg->timeout_s < CONSULT_SMS_HTTP_TIMEOUT_MIN || cfg->timeout_s > CONSULT_SMS_HTTP_TIMEOUT_MAX)
		return CONSULT_ERR_INVALID_FIELD;
	*field = "sms_ca_file";
	if (cfg->ca_file && (!*cfg->ca_file || strpbrk(cfg->ca_file, "\r\n")))
		return CONSULT_ERR_INVALID_FIELD;
	*field = NULL;
	return CONSULT_OK;
}

/* The request body for `to` and `text` (malloc'ed); cfg already checked. */
static consult_err request_body(const consult_sms_http_cfg *cfg, const char *to, const char *text, char **out)
{
	*out = NULL;
	char *(*esc)(const char *) = cfg->format == CONSULT_SMS_JSON ? consult_json_escape : consult_form_escape;
	char *v[3] = { esc(to), esc(text), esc(cfg->sender ? cfg->sender : "") };
	consult_err e = CONSULT_ERR_INTERNAL;
	if (v[0] && v[1] && v[2]) {
		consult_tpl_var vars[3] = {
			{ body_names[0], v[0] },
			{ body_names[1], v[1] },
			{ body_names[2], v[2] },
		};
		e = consult_tpl_render(cfg->body, vars, 3, CONSULT_SMS_HTTP_REQ_MAX, out, NULL, NULL);
	}
	for (int i = 0; i < 3; i++)
		free(v[i]);
	return e;
}

typedef struct sink {
	char buf[CONSULT_SMS_HTTP_BODY_MAX];
	size_t len;
} sink;

/* Keeps at most the first CONSULT_SMS_HTTP_BODY_MAX bytes and swallows the
 * rest (returning less would abort the transfer and lose the status). */
static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
	sink *s = ud;
	size_t total = size * n, room = sizeof s->buf - s->len;
	size_t take = total < room ? total : room;
	memcpy(s->buf + s->len, data, take);
	s->len += take;
	return total;
}

static consult_delivery fail(consult_send_result *r, consult_delivery c, const char *reason)
{
	r->code = 0;
	r->cls = c;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	return c;
}

/* The request headers: content type (POST), no "Expect: 100-continue", the
 * optional auth line. NULL when out of memory. */
static struct curl_slist *request_headers(const consult_sms_http_cfg *cfg)
{
	const char *lines[3];
	size_t n = 0;
	if (cfg->method == CONSULT_SMS_POST)
		lines[n++] = cfg->format == CONSULT_SMS_JSON ? "Content-Type: application/json"
		                                             : "Content-Type: application/x-www-form-urlencoded";
	lines[n++] = "Expect:";
	if (cfg->auth_header)
		lines[n++] = cfg->auth_header;
	struct curl_slist *hdrs = NULL;
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *tmp = curl_slist_append(hdrs, lines[i]);
		if (!tmp) {
			curl_slist_free_all(hdrs);
			return NULL;
		}
		hdrs = tmp;
	}
	return hdrs;
}

consult_delivery consult_sms_http_send(
        const consult_sms_http_cfg *cfg, const char *to, const char *text, consult_send_result *r)
{
	consult_send_result dummy;
	if (!r)
		r = &dummy;
	memset(r, 0, sizeof *r);
	if (consult_sms_http_check(cfg, NULL, NULL) != CONSULT_OK)
		return fail(r, CONSULT_DELIVERY_PERMANENT, "bad configuration");
	if (!to || !consult_phone_e164_ok(to))
		return fail(r, CONSULT_DELIVERY_PERMANENT, "bad recipient");
	if (!text || !*text || !consult_text_clean(text, strlen(text), true))
		return fail(r, CONSULT_DELIVERY_PERMANENT, "bad message");
	char *body = NULL, *url = NULL;
	CURL *c = NULL;
	struct curl_slist *hdrs = NULL;
	sink *resp = NULL;
	consult_err e = request_body(cfg, to, text, &body);
	if (e != CONSULT_OK) {
		fail(r, e == CONSULT_ERR_INTERNAL ? CONSULT_DELIVERY_TEMPORARY : CONSULT_DELIVERY_PERMANENT,
		        e == CONSULT_ERR_INTERNAL ? "internal error" : "bad message");
		goto done;
	}
	if (cfg->method == CONSULT_SMS_GET) {
		size_t n = strlen(cfg->url) + 1 + strlen(body) + 1;
		url = malloc(n);
		if (url)
			snprintf(url, n, "%s%c%s", cfg->url, strchr(cfg->url, '?') ? '&' : '?', body);
	}
	c = curl_easy_init();
	hdrs = request_headers(cfg);
	resp = calloc(1, sizeof *resp);
	if (!c || !hdrs || !resp || (cfg->method == CONSULT_SMS_GET && !url)) {
		fail(r, CONSULT_DELIVERY_TEMPORARY, "internal error");
		goto done;
	}
	curl_easy_setopt(c, CURLOPT_URL, url ? url : cfg->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTP09_ALLOWED, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg->timeout_s);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "consult");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (cfg->method == CONSULT_SMS_GET) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);

	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	consult_deliver_result(r, (int)rc, status, consult_http_classify, "http");
done:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	/* The response may echo the number or the text: wipe it. */
	if (resp)
		memset(resp, 0, sizeof *resp);
	free(resp);
	free(url);
	free(body);
	return r->cls;
}
