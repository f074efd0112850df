/* smtp.c - one message over SMTP with libcurl, see smtp.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "core/email.h"
#include "deliver/smtp.h"

#define ENV_MAX (CONSULT_EMAIL_MAX + 3) /* "<" addr ">" NUL */

static bool clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

/* smtp:// or smtps:// with a host; optional :port and /ehlo-name. */
static bool url_ok(const char *u)
{
	const char *h;
	if (strncmp(u, "smtp://", 7) == 0)
		h = u + 7;
	else if (strncmp(u, "smtps://", 8) == 0)
		h = u + 8;
	else
		return false;
	return strlen(u) <= CONSULT_SMTP_URL_MAX && clean(u) && *h && *h != '/' && *h != ':' && !strchr(h, '@') &&
	        !strchr(h, '?') && !strchr(h, '#');
}

consult_err consult_smtp_check(const consult_smtp_cfg *cfg, const char **field)
{
	const char *dummy;
	if (!field)
		field = &dummy;
	*field = NULL;
	if (!cfg)
		return CONSULT_ERR_MISSING_FIELD;
	*field = "smtp_url";
	if (!cfg->url || !*cfg->url)
		return CONSULT_ERR_MISSING_FIELD;
	if (!url_ok(cfg->url))
		return CONSULT_ERR_INVALID_FIELD;
	*field = "smtp_from";
	if (!cfg->from)
		return CONSULT_ERR_MISSING_FIELD;
	if (consult_email_check(cfg->from) != CONSULT_OK)
		return CONSULT_ERR_INVALID_FIELD;
	*field = (cfg->user && !cfg->password) ? "smtp_password" : "smtp_user";
	if (!cfg->user != !cfg->password)
		return CONSULT_ERR_MISSING_FIELD;
	if (cfg->user && (!*cfg->user || strlen(cfg->user) > CONSULT_SMTP_CRED_MAX || !clean(cfg->user)))
		return CONSULT_ERR_INVALID_FIELD;
	*field = "smtp_password";
	if (cfg->password && (strlen(cfg->password) > CONSULT_SMTP_CRED_MAX || strpbrk(cfg->password, "\r\n")))
		return CONSULT_ERR_INVALID_FIELD;
	*field = "smtp_timeout_seconds";
	if (cfg->timeout_s < CONSULT_SMTP_TIMEOUT_MIN || cfg->timeout_s > CONSULT_SMTP_TIMEOUT_MAX)
		return CONSULT_ERR_INVALID_FIELD;
	*field = "smtp_ca_file";
	if (cfg->ca_file && (!*cfg->ca_file || strpbrk(cfg->ca_file, "\r\n")))
		return CONSULT_ERR_INVALID_FIELD;
	*field = NULL;
	return CONSULT_OK;
}

typedef struct upload {
	const char *p;
	size_t len, pos;
} upload;

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
	upload *u = ud;
	size_t room = size * n, left = u->len - u->pos;
	if (room > left)
		room = left;
	memcpy(buf, u->p + u->pos, room);
	u->pos += room;
	return room;
}

static consult_delivery fail(consult_send_result *r, consult_delivery c, const char *reason)
{
	r->code = 0;
	r->cls = c;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	return c;
}

consult_delivery consult_smtp_send(
        const consult_smtp_cfg *cfg, const char *rcpt, const char *msg, size_t len, consult_send_result *r)
{
	consult_send_result dummy;
	if (!r)
		r = &dummy;
	memset(r, 0, sizeof *r);
	if (consult_smtp_check(cfg, NULL) != CONSULT_OK)
		return fail(r, CONSULT_DELIVERY_PERMANENT, "bad configuration");
	if (!rcpt || consult_email_check(rcpt) != CONSULT_OK)
		return fail(r, CONSULT_DELIVERY_PERMANENT, "bad recipient");
	if (!msg || len == 0)
		return fail(r, CONSULT_DELIVERY_PERMANENT, "bad message");

	char from[ENV_MAX], to[ENV_MAX];
	snprintf(from, sizeof from, "<%s>", cfg->from);
	snprintf(to, sizeof to, "<%s>", rcpt);
	CURL *c = curl_easy_init();
	struct curl_slist *rcpts = curl_slist_append(NULL, to);
	if (!c || !rcpts) {
		fail(r, CONSULT_DELIVERY_TEMPORARY, "internal error");
		goto done;
	}
	upload u = { msg, len, 0 };
	bool smtps = strncmp(cfg->url, "smtps://", 8) == 0;

	curl_easy_setopt(c, CURLOPT_URL, cfg->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg->timeout_s);
	if (!smtps && cfg->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);

	CURLcode rc = curl_easy_perform(c);
	long reply = 0;
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply) != CURLE_OK)
		reply = 0;
	consult_deliver_result(r, (int)rc, reply, consult_smtp_classify, "smtp");
done:
	curl_slist_free_all(rcpts);
	if (c)
		curl_easy_cleanup(c);
	return r->cls;
}
