/* strbuf.c - bounded growable buffer, see strbuf.h. */
#include <stdlib.h>
#include <string.h>
#include "strbuf.h"

void consult_sb_init(consult_strbuf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->err = CONSULT_OK;
}

void consult_sb_add(consult_strbuf *b, const char *s, size_t n)
{
	if (b->err != CONSULT_OK)
		return;
	if (n > b->max - b->len) {
		b->err = CONSULT_ERR_TOO_LONG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->err = CONSULT_ERR_INTERNAL;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void consult_sb_str(consult_strbuf *b, const char *s)
{
	consult_sb_add(b, s, strlen(s));
}

void consult_sb_char(consult_strbuf *b, char c)
{
	consult_sb_add(b, &c, 1);
}

consult_err consult_sb_finish(consult_strbuf *b, char **out, size_t *len)
{
	*out = NULL;
	if (len)
		*len = 0;
	if (b->err == CONSULT_OK && !b->data)
		consult_sb_add(b, "", 0);
	if (b->err != CONSULT_OK) {
		consult_err e = b->err;
		consult_sb_free(b);
		return e;
	}
	*out = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return CONSULT_OK;
}

void consult_sb_free(consult_strbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
