/*
 * buf.c - a growable string and the collection of config problems.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

static int grow(struct rules_buf *b, size_t extra)
{
	size_t want;
	char *p;

	if (b->failed)
		return -1;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return -1;
	}
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return 0;
	if (want < 64)
		want = 64;
	if (want < b->alloc * 2)
		want = b->alloc * 2;
	p = realloc(b->ptr, want);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->ptr = p;
	b->alloc = want;
	return 0;
}

void rules_buf_add(struct rules_buf *b, const void *data, size_t len)
{
	if (grow(b, len) < 0)
		return;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void rules_buf_adds(struct rules_buf *b, const char *s)
{
	rules_buf_add(b, s, strlen(s));
}

void rules_buf_addc(struct rules_buf *b, char c)
{
	rules_buf_add(b, &c, 1);
}

void rules_buf_addf(struct rules_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if (grow(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *rules_buf_str(const struct rules_buf *b)
{
	return b->ptr ? b->ptr : "";
}

void rules_buf_release(struct rules_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	b->failed = 0;
}

/* Format "file:line: what" into buf. */
static void vformat(char *buf, size_t bufsz, const char *file, unsigned line,
		    const char *fmt, va_list ap)
{
	size_t len = 0;
	int n;

	if (file && line)
		n = snprintf(buf, bufsz, "%s:%u: ", file, line);
	else if (file)
		n = snprintf(buf, bufsz, "%s: ", file);
	else
		n = 0;
	if (n > 0)
		len = (size_t)n < bufsz ? (size_t)n : bufsz - 1;
	vsnprintf(buf + len, bufsz - len, fmt, ap);
}

void rules_diag_error(struct rules_diag *d, const char *file, unsigned line,
		      const char *fmt, ...)
{
	char msg[1024];
	size_t len, room;
	va_list ap;

	va_start(ap, fmt);
	vformat(msg, sizeof(msg), file, line, fmt, ap);
	va_end(ap);
	d->nerrors++;
	if (!d->err || d->errsz == 0)
		return;
	/* One line per error; once full, later errors are dropped. */
	if (d->used > 0 && d->used + 1 < d->errsz) {
		d->err[d->used++] = '\n';
		d->err[d->used] = '\0';
	}
	room = d->errsz - d->used;
	if (room <= 1)
		return;
	len = strlen(msg);
	if (len >= room)
		len = room - 1;
	memcpy(d->err + d->used, msg, len);
	d->used += len;
	d->err[d->used] = '\0';
}

void rules_diag_warn(struct rules_diag *d, const char *file, unsigned line,
		     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!d->warn)
		return;
	va_start(ap, fmt);
	vformat(msg, sizeof(msg), file, line, fmt, ap);
	va_end(ap);
	d->warn(msg, d->payload);
}

int rules_fail(char *err, size_t errsz, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!err || errsz == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return rc;
}
