/*
 * cmd_log.c - wardfs log: the session's audit log, for people or tools.
 *
 * The daemon appends one JSON object a line to <session>/audit.jsonl
 * (fs/audit.c): {"time":"...Z","pid":N,"comm":"...","op":"...",
 * "path":"...","result":"..."}.  This reads it back, filters it, and
 * prints it as "10:00:32 cat[27603] lookup .env: hidden", or the lines
 * themselves with --json; --follow then waits for more, like tail -f.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "rules/banned.h"

#define LOG_LINE_MAX (1u << 20)	/* longer lines are skipped */
#define FOLLOW_POLL_MS 200

static const char *const usage[] = {
	"usage: wardfs log [ID|MOUNTPOINT] [--denied] [--writes] [--follow] "
	"[--json]",
	"",
	"Print the session's audit log, oldest first, one event a line:",
	"    TIME COMMAND[PID] OP PATH: RESULT",
	"RESULT is ok, hidden, denied or an errno name such as EROFS.  The",
	"log holds refused accesses and changes; reads too with [audit]",
	"reads = true.",
	"Without ID, the one session of the current directory.",
	"",
	"    --denied            only refused accesses (hidden, denied, EROFS,",
	"                        EACCES, EPERM)",
	"    --writes            only changes that succeeded (with --denied:",
	"                        both kinds)",
	"    -f, --follow        then print new events as they come, until",
	"                        interrupted",
	"    --json              the log's own JSON lines (stable, for tools)",
	"    --no-pager          never page",
	"    -s, --session ID    the session (instead of the first argument)",
	"    -h, --help          show this help",
	NULL,
};

enum log_filter {
	LOG_DENIED = 1 << 0,
	LOG_WRITES = 1 << 1,
};

struct log_options {
	unsigned int filter;	/* enum log_filter; 0: everything */
	int json;
};

/* One parsed line; the strings point into a scratch buffer. */
struct event {
	const char *time, *comm, *op, *path, *result;
	long pid;
	int has_pid;
};

/* A line reader over a file that may still grow. */
struct reader {
	int fd;
	char *buf;
	size_t len, alloc;
	int skipping;		/* inside a line over LOG_LINE_MAX */
	unsigned long bad;	/* lines that are no audit event */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Results that mean the access was refused. */
static int is_denial(const char *result)
{
	static const char *const denials[] = {
		"hidden", "denied", "EROFS", "EACCES", "EPERM",
	};
	size_t i;

	for (i = 0; i < sizeof(denials) / sizeof(denials[0]); i++)
		if (strcmp(result, denials[i]) == 0)
			return 1;
	return 0;
}

/* Operations that change the view ("open" is logged for writes only). */
static int is_change(const char *op)
{
	static const char *const changes[] = {
		"create", "open", "mkdir", "mknod", "symlink", "link",
		"unlink", "rmdir", "rename", "setattr", "setxattr",
		"removexattr", "fallocate", "write", "truncate",
	};
	size_t i;

	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		if (strcmp(op, changes[i]) == 0)
			return 1;
	return 0;
}

static int wanted(const struct event *ev, unsigned int filter)
{
	if (!filter || strcmp(ev->op, "audit") == 0)
		return 1;	/* the log's own notices always show */
	if ((filter & LOG_DENIED) && is_denial(ev->result))
		return 1;
	if ((filter & LOG_WRITES) && strcmp(ev->result, "ok") == 0 &&
	    is_change(ev->op))
		return 1;
	return 0;
}

static void put_utf8(char **out, unsigned long c)
{
	char *o = *out;

	if (c < 0x80) {
		*o++ = (char)c;
	} else if (c < 0x800) {
		*o++ = (char)(0xc0 | (c >> 6));
		*o++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*o++ = (char)(0xe0 | (c >> 12));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*o++ = (char)(0x80 | (c & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (c >> 18));
		*o++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*o++ = (char)(0x80 | (c & 0x3f));
	}
	*out = o;
}

static int hex4(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Decode the JSON string at *p (on its opening quote) into *out, which
 * has room (a decoded string is never longer than its encoding); advance
 * both.  0 or -1 when malformed.
 */
static int json_string(const char **p, char **out, const char **value)
{
	const char *s = *p;
	char *o = *out;
	unsigned long c, lo;

	if (*s++ != '"')
		return -1;
	*value = o;
	while (*s != '"') {
		if (*s == '\0')
			return -1;
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(s, &c) < 0)
				return -1;
			s += 4;
			if (c >= 0xd800 && c < 0xdc00 && s[0] == '\\' &&
			    s[1] == 'u' && hex4(s + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) +
					(lo - 0xdc00);
				s += 6;
			}
			if (c == 0)
				return -1;	/* no NUL inside a C string */
			put_utf8(&o, c);
			break;
		default:
			return -1;
		}
	}
	*o++ = '\0';
	*p = s + 1;
	*out = o;
	return 0;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

/*
 * Parse one line into ev, strings decoded into scratch (at least as long
 * as the line).  Only flat objects of strings and integers; op and result
 * are required.  0 or -1.
 */
static int parse_event(struct event *ev, const char *line, char *scratch)
{
	const char *s = skip_space(line), *key, *value;
	char *o = scratch, *end;

	memset(ev, 0, sizeof(*ev));
	if (*s++ != '{')
		return -1;
	s = skip_space(s);
	if (*s == '}')
		return -1;
	for (;;) {
		if (json_string(&s, &o, &key) < 0)
			return -1;
		s = skip_space(s);
		if (*s++ != ':')
			return -1;
		s = skip_space(s);
		if (*s == '"') {
			if (json_string(&s, &o, &value) < 0)
				return -1;
			if (strcmp(key, "time") == 0)
				ev->time = value;
			else if (strcmp(key, "comm") == 0)
				ev->comm = value;
			else if (strcmp(key, "op") == 0)
				ev->op = value;
			else if (strcmp(key, "path") == 0)
				ev->path = value;
			else if (strcmp(key, "result") == 0)
				ev->result = value;
		} else if (*s == '-' || (*s >= '0' && *s <= '9')) {
			long n;

			errno = 0;
			n = strtol(s, &end, 10);
			if (errno || end == s)
				return -1;
			s = end;
			if (strcmp(key, "pid") == 0) {
				ev->pid = n;
				ev->has_pid = 1;
			}
		} else {
			return -1;
		}
		s = skip_space(s);
		if (*s == ',') {
			s = skip_space(s + 1);
			continue;
		}
		if (*s++ != '}')
			return -1;
		break;
	}
	if (*skip_space(s) != '\0' || !ev->op || !ev->result)
		return -1;
	return 0;
}

/* "2026-11-22T10:00:32.132Z" as the local HH:MM:SS. */
static void format_time(char *out, size_t size, const char *stamp)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	snprintf(out, size, "--:--:--");
	if (!stamp || sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year,
			     &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			     &tm.tm_sec) != 6)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1 || !localtime_r(&t, &tm))
		return;
	strftime(out, size, "%H:%M:%S", &tm);
}

/*
 * Print a name the agent chose: as it is, or, when it holds control
 * characters (which could steer the terminal), quoted with C escapes
 * the way git quotes paths.
 */
static void put_name(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (!*p) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\%03o", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void print_event(const struct event *ev)
{
	char when[16];

	format_time(when, sizeof(when), ev->time);
	printf("%s ", when);
	put_name(ev->comm && *ev->comm ? ev->comm : "?");
	if (ev->has_pid)
		printf("[%ld]", ev->pid);
	else
		fputs("[?]", stdout);
	printf(" %s", ev->op);
	if (ev->path && *ev->path) {
		putchar(' ');
		put_name(ev->path);
	}
	fputs(": ", stdout);
	put_name(ev->result);
	putchar('\n');
}

/* One complete line (without its newline). */
static void handle_line(struct reader *r, char *line, size_t len,
			const struct log_options *o)
{
	struct event ev;
	char *scratch;

	if (len == 0)
		return;
	scratch = malloc(len + 1);
	if (!scratch || parse_event(&ev, line, scratch) < 0) {
		r->bad++;
		free(scratch);
		return;
	}
	if (wanted(&ev, o->filter)) {
		if (o->json)
			printf("%s\n", line);
		else
			print_event(&ev);
	}
	free(scratch);
}

/*
 * Read what the file holds now and print its complete lines; an
 * unterminated last line waits in r->buf for the rest.  Returns the
 * bytes read, or -1 (errno set).
 */
static ssize_t reader_drain(struct reader *r, const struct log_options *o)
{
	ssize_t total = 0, n;
	char *nl, *start;

	for (;;) {
		if (r->alloc - r->len < 65536) {
			size_t grown = r->alloc ? r->alloc * 2 : 131072;
			char *b = realloc(r->buf, grown);

			if (!b)
				return -1;
			r->buf = b;
			r->alloc = grown;
		}
		n = read(r->fd, r->buf + r->len, r->alloc - r->len - 1);
		if (n < 0) {
			if (errno == EINTR && !stop)
				continue;
			return -1;
		}
		if (n == 0)
			return total;
		total += n;
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
		start = r->buf;
		while ((nl = memchr(start, '\n', r->len -
				    (size_t)(start - r->buf)))) {
			*nl = '\0';
			if (r->skipping)	/* the end of a long one */
				r->skipping = 0;
			else
				handle_line(r, start, (size_t)(nl - start),
					    o);
			start = nl + 1;
		}
		r->len -= (size_t)(start - r->buf);
		memmove(r->buf, start, r->len);
		if (r->len > LOG_LINE_MAX) {
			r->bad++;
			r->skipping = 1;
			r->len = 0;
		} else if (r->skipping) {
			r->len = 0;
		}
	}
}

static void reader_reset(struct reader *r)
{
	r->len = 0;
	r->skipping = 0;
}

/* Is stdout gone (a pipe whose reader quit, a hung-up terminal)?  Waits
 * up to ms for that, which is also the pause between polls. */
static int stdout_gone(int ms)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&p, 1, ms) > 0 &&
	    (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
		return 1;
	return 0;
}

/* The file at path, if it is another one than fd holds (re-created). */
static int replaced(int fd, const char *path)
{
	struct stat a, b;

	if (stat(path, &b) < 0)
		return 0;
	if (fd < 0 || fstat(fd, &a) < 0)
		return 1;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

/* Print new lines as they come, until a signal or stdout goes away. */
static int follow(struct reader *r, const char *path,
		  const struct log_options *o)
{
	struct sigaction sa;
	struct stat st;
	off_t pos;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: poll() returns */
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		if (fflush(stdout) != 0 || ferror(stdout))
			return errno == EPIPE ? 0 : -1;
		if (stdout_gone(FOLLOW_POLL_MS))
			return 0;
		if (stop)
			break;
		if (replaced(r->fd, path)) {
			if (r->fd >= 0)
				close(r->fd);
			reader_reset(r);
			r->fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (r->fd < 0)
			continue;
		/* truncated under us: start again from its beginning */
		pos = lseek(r->fd, 0, SEEK_CUR);
		if (fstat(r->fd, &st) == 0 && pos > st.st_size) {
			lseek(r->fd, 0, SEEK_SET);
			reader_reset(r);
		}
		if (reader_drain(r, o) < 0 && !stop)
			return -1;
	}
	return 0;
}

int cmd_log(int argc, char **argv)
{
	enum { OPT_DENIED = 256, OPT_WRITES, OPT_JSON, OPT_NO_PAGER };
	static const struct option longopts[] = {
		{ "denied", no_argument, NULL, OPT_DENIED },
		{ "writes", no_argument, NULL, OPT_WRITES },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-pager", no_argument, NULL, OPT_NO_PAGER },
		{ "session", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct log_options o = { 0, 0 };
	struct reader r = { .fd = -1 };
	struct session s = { 0 };
	const char *id = NULL;
	char *path = NULL;
	int c, follow_mode = 0, no_pager = 0, pager = -1;
	int status = CLI_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "fs:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DENIED:
			o.filter |= LOG_DENIED;
			break;
		case OPT_WRITES:
			o.filter |= LOG_WRITES;
			break;
		case 'f':
			follow_mode = 1;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_NO_PAGER:
			no_pager = 1;
			break;
		case 's':
			id = optarg;
			break;
		case 'h':
			return cli_usage(usage, 1);
		default:
			return cli_usage(usage, 0);
		}
	}
	if (argc - optind > 1 || (id && argc - optind == 1))
		return cli_usage(usage, 0);
	if (argc - optind == 1)
		id = argv[optind];

	if (session_resolve(&s, id) < 0)
		return CLI_EXIT_FAIL;
	path = session_path(&s, "audit.jsonl");
	if (!path) {
		cli_error_errno("cannot read the audit log");
		goto out;
	}
	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0 && errno != ENOENT) {
		cli_error_errno("cannot open '%s'", path);
		goto out;
	}
	if (!follow_mode && !o.json && !no_pager)
		pager = cli_pager_start();
	if (r.fd >= 0 && reader_drain(&r, &o) < 0) {
		cli_error_errno("cannot read '%s'", path);
		goto out;
	}
	if (follow_mode && follow(&r, path, &o) < 0) {
		cli_error_errno("cannot follow '%s'", path);
		goto out;
	}
	if (r.bad)
		cli_error("warning: skipped %lu line%s of '%s' that %s no "
			  "audit event", r.bad, r.bad == 1 ? "" : "s", path,
			  r.bad == 1 ? "is" : "are");
	status = CLI_EXIT_OK;
out:
	cli_pager_end(pager);
	if (r.fd >= 0)
		close(r.fd);
	free(r.buf);
	free(path);
	session_release(&s);
	return status;
}
