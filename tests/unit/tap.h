/*
 * tap.h - a tiny TAP producer for the unit tests.
 *
 *	check(cond, desc)		ok when cond is true
 *	check_int(got, want, desc)	ok when the integers are equal
 *	check_str(got, want, desc)	ok when the strings are equal
 *					(NULL equals only NULL)
 *	check_pass(call, err)		ok when call returns 0; else prints err
 *	tap_done()			prints the plan "1..N", returns the
 *					exit status (0 when all passed)
 *
 * Each check prints "ok N - desc" or "not ok N - desc" and, on failure,
 * diagnostics as "# " lines.  Model: libgit2's clar_libgit2.h.
 */
#ifndef WARDFS_TAP_H
#define WARDFS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline int tap_result(int ok, const char *file, int line,
			     const char *desc)
{
	tap_count++;
	printf("%sok %d - %s\n", ok ? "" : "not ", tap_count, desc);
	if (!ok) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return ok;
}

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("#   ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static inline int tap_check_int(long long got, long long want,
				const char *file, int line, const char *desc)
{
	if (tap_result(got == want, file, line, desc))
		return 1;
	tap_diag("got %lld, want %lld", got, want);
	return 0;
}

static inline int tap_check_str(const char *got, const char *want,
				const char *file, int line, const char *desc)
{
	int ok = (!got && !want) || (got && want && strcmp(got, want) == 0);

	if (tap_result(ok, file, line, desc))
		return 1;
	tap_diag("got  '%s'", got ? got : "(null)");
	tap_diag("want '%s'", want ? want : "(null)");
	return 0;
}

static inline int tap_check_pass(int rc, const char *err, const char *file,
				 int line, const char *desc)
{
	const char *p, *nl;

	if (tap_result(rc == 0, file, line, desc))
		return 1;
	tap_diag("returned %d", rc);
	for (p = err; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		tap_diag("%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
	return 0;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#define check(cond, desc) tap_result(!!(cond), __FILE__, __LINE__, desc)
#define check_int(got, want, desc) \
	tap_check_int((long long)(got), (long long)(want), __FILE__, \
		      __LINE__, desc)
#define check_str(got, want, desc) \
	tap_check_str(got, want, __FILE__, __LINE__, desc)
#define check_pass(call, err) \
	tap_check_pass((call), err, __FILE__, __LINE__, #call)

#endif
