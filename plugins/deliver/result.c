/* result.c - delivery results from libcurl outcomes, see result.h. */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "deliver/result.h"

static const char *curl_reason(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		return "";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_CONNECT:
		return "connection refused";
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "host not found";
	case CURLE_USE_SSL_FAILED:
		return "starttls unavailable";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
		return "tls error";
	case CURLE_LOGIN_DENIED:
		return "login denied";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return "connection dropped";
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_HTTP2:
		return "bad response";
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
		return "internal error";
	default:
		return "transport error";
	}
}

void consult_deliver_result(
        consult_send_result *r, int curl_code, long reply_code, consult_delivery (*classify)(int), const char *proto)
{
	int code = reply_code > 0 && reply_code < 1000 ? (int)reply_code : 0;
	r->code = code;
	r->reason[0] = '\0';
	if (curl_code == CURLE_OK) {
		r->cls = classify(code);
		if (r->cls != CONSULT_DELIVERY_OK) {
			if (code)
				snprintf(r->reason, sizeof r->reason, "%s %d", proto, code);
			else
				snprintf(r->reason, sizeof r->reason, "no reply");
		}
		return;
	}
	/* Not completed: a refusal the server stated counts as such, anything
	 * else (an intermediate 354 or 1xx/2xx before a drop) is temporary. */
	consult_delivery c = code ? classify(code) : CONSULT_DELIVERY_TEMPORARY;
	if (c != CONSULT_DELIVERY_OK && code >= 300) {
		r->cls = c;
		snprintf(r->reason, sizeof r->reason, "%s %d", proto, code);
		return;
	}
	r->cls = CONSULT_DELIVERY_TEMPORARY;
	snprintf(r->reason, sizeof r->reason, "%s", curl_reason(curl_code));
}
