/*
 * cmd_snapshot.c - wardfs snapshot: checkpoints of a session, and going
 * back to one while the agent works.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "snapshot/snapshot.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs snapshot [create] [ID|MOUNTPOINT] [-m MSG]",
	"   or: wardfs snapshot list [ID|MOUNTPOINT]",
	"   or: wardfs snapshot diff [--stat|--name-status|--json] A [B] "
	"[--] [PATH...]",
	"   or: wardfs snapshot restore SNAP [--] [PATH...]",
	"   or: wardfs snapshot drop SNAP...",
	"",
	"A snapshot records the session as it is (every changed path,",
	"deletions included); snapshots are numbered 1, 2, 3...  'list'",
	"shows them with the number of paths each changed, 'diff' prints the",
	"change from snapshot A to B (default: to the session now) as a git",
	"patch, 'restore' brings the session (or only the PATHs) back to",
	"snapshot SNAP, also while mounted: the view shows it at once.  A",
	"restore first takes a snapshot of the session as it was, so it can",
	"be undone too.  'drop' forgets snapshots.  'wardfs run' takes one",
	"before and one after its command.",
	"",
	"    -m, --message MSG   the snapshot's message",
	"    --stat, --name-status, --json, --color[=WHEN], --no-pager",
	"                        the output of diff, as for 'wardfs diff'",
	"    -s, --session ID    the session (instead of the first argument)",
	"    -h, --help          show this help",
	NULL,
};

/* Longest command line quoted in a snapshot message. */
#define CMD_QUOTE_MAX 200
/* Most bytes of paths sent to a live daemon; beyond, it forgets all. */
#define REFRESH_MAX ((size_t)256 << 10)

static int parse_id(const char *arg, unsigned long *out)
{
	char *end;

	if (!arg || *arg < '1' || *arg > '9')
		goto bad;
	*out = strtoul(arg, &end, 10);
	if (*end == '\0')
		return 0;
bad:
	cli_error("bad snapshot '%s': snapshots are numbered 1, 2, 3...",
		  arg ? arg : "");
	cli_hint("'wardfs snapshot list' shows them");
	return -1;
}

/* The one optional session argument of create and list. */
static int session_operand(const char **id, int argc, char **argv)
{
	if (argc > 1)
		return -1;
	if (argc == 1) {
		if (*id)
			return -1;
		*id = argv[0];
	}
	return 0;
}

static int take(struct snapshot *snap, const char *message,
		unsigned long *id)
{
	char err[4096];

	if (snapshot_create(id, snap, message, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* create */

static int create_snapshot(int argc, char **argv, const char *id)
{
	static const struct option longopts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "session", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct session s;
	const char *message = NULL;
	unsigned long n;
	int c, status = CLI_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "m:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			message = optarg;
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
	if (session_operand(&id, argc - optind, argv + optind) < 0)
		return cli_usage(usage, 0);
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return CLI_EXIT_FAIL;
	if (take(snap, message, &n) == 0) {
		printf("snapshot %lu\n", n);
		status = CLI_EXIT_OK;
	}
	cli_review_close(&s, rules, snap);
	return status;
}

int cli_snapshot_run(const char *id, const char *when, char *const *cmd)
{
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct session s;
	char msg[CMD_QUOTE_MAX + 64];
	size_t len = 0, i;
	unsigned long n;
	int error = -1;

	len = (size_t)snprintf(msg, sizeof(msg), "%s '", when);
	for (i = 0; cmd[i] && len < CMD_QUOTE_MAX; i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
					i ? " " : "", cmd[i]);
	if (len > CMD_QUOTE_MAX) {
		len = CMD_QUOTE_MAX;
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "...");
	}
	snprintf(msg + len, sizeof(msg) - len, "'");
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return -1;
	if (take(snap, msg, &n) == 0) {
		fprintf(stderr, "wardfs: snapshot %lu %s\n", n, msg);
		error = 0;
	}
	cli_review_close(&s, rules, snap);
	return error;
}

/* ------------------------------------------------------------------ */
/* list */

static int print_info(const struct snapshot_info *info, void *payload)
{
	time_t t = (time_t)info->time;
	char when[64];
	struct tm tm;

	(void)payload;
	if (!localtime_r(&t, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)info->time);
	printf("%4lu  %s  %5zu path%s  %s\n", info->id, when, info->changed,
	       info->changed == 1 ? " " : "s", info->message);
	return 0;
}

static int list_snapshots(int argc, char **argv, const char *id)
{
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct session s;
	char err[4096];
	int c, status = CLI_EXIT_FAIL;

	c = cli_session_options(&id, argc, argv, usage);
	if (c >= 0)
		return c;
	if (session_operand(&id, argc - optind, argv + optind) < 0)
		return cli_usage(usage, 0);
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return CLI_EXIT_FAIL;
	if (snapshot_list(snap, print_info, NULL, err, sizeof(err)) < 0)
		cli_error("%s", err);
	else
		status = CLI_EXIT_OK;
	cli_review_close(&s, rules, snap);
	return status;
}

/* ------------------------------------------------------------------ */
/* diff */

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int diff_snapshots(int argc, char **argv, const char *id)
{
	struct snapshot_changes *changes = NULL;
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct cli_diff_opts o;
	struct session s;
	unsigned long a = 0, b = 0;
	char **paths = NULL, err[4096];
	size_t npaths = 0;
	int status = cli_diff_options(&o, argc, argv, usage);

	if (status >= 0)
		return status;
	status = CLI_EXIT_FAIL;
	if (o.id)
		id = o.id;
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cli_usage(usage, 0);
	if (parse_id(argv[0], &a) < 0)
		return CLI_EXIT_USAGE;
	argc--;
	argv++;
	if (argc > 0 && is_number(argv[0])) {
		if (parse_id(argv[0], &b) < 0)
			return CLI_EXIT_USAGE;
		argc--;
		argv++;
	}
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return CLI_EXIT_FAIL;
	if (cli_review_paths(&paths, &npaths, &s, argc, argv) < 0)
		goto out;
	if (snapshot_diff(&changes, snap, a, b, (const char *const *)paths,
			  npaths, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	if (cli_diff_print(changes, &o) == 0)
		status = CLI_EXIT_OK;
out:
	snapshot_changes_free(changes);
	snapshot_paths_free(paths);
	cli_review_close(&s, rules, snap);
	return status;
}

/* ------------------------------------------------------------------ */
/* restore */

/* The paths a restore touched, for the daemon. */
struct touched {
	char **paths;
	size_t n, alloc, bytes;
	int all;		/* too many: the daemon forgets everything */
};

static void add_touched(const char *path, void *payload)
{
	struct touched *t = payload;
	char **grown;

	if (t->all)
		return;
	t->bytes += strlen(path) + 1;
	if (t->bytes > REFRESH_MAX) {
		t->all = 1;
		return;
	}
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 32;
		grown = realloc(t->paths, t->alloc * sizeof(*grown));
		if (!grown) {
			t->all = 1;
			return;
		}
		t->paths = grown;
	}
	t->paths[t->n] = strdup(path);
	if (!t->paths[t->n]) {
		t->all = 1;
		return;
	}
	t->n++;
}

/*
 * Tell a live daemon: every touched path (so that the kernel also drops
 * names it cached as missing), then "" (everything it knew).
 */
static int refresh_view(const struct session *s, struct touched *t)
{
	static const char *const all[] = { "" };

	if (!t->all) {
		add_touched("", t);
		if (!t->all)
			return session_refresh(s, (const char *const *)t->paths,
					       t->n);
	}
	return session_refresh(s, all, 1);
}

static int restore_snapshot(int argc, char **argv, const char *id)
{
	struct snapshot_restore_options opts = SNAPSHOT_RESTORE_OPTIONS_INIT;
	struct touched t = { NULL, 0, 0, 0, 0 };
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct session s;
	char **paths = NULL, err[4096];
	unsigned long n, saved = 0;
	size_t npaths = 0, i;
	int c, live, error, status = CLI_EXIT_FAIL;

	c = cli_session_options(&id, argc, argv, usage);
	if (c >= 0)
		return c;
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cli_usage(usage, 0);
	if (parse_id(argv[0], &n) < 0)
		return CLI_EXIT_USAGE;
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return CLI_EXIT_FAIL;
	live = session_state(&s) == SESSION_LIVE;
	if (cli_review_paths(&paths, &npaths, &s, argc - 1, argv + 1) < 0)
		goto out;
	opts.paths = (const char *const *)paths;
	opts.npaths = npaths;
	opts.saved = &saved;
	opts.progress = isatty(STDERR_FILENO);
	opts.touched = add_touched;
	opts.payload = &t;
	error = snapshot_restore(snap, n, &opts, err, sizeof(err));
	if (saved)
		fprintf(stderr, "wardfs: snapshot %lu before restoring "
			"snapshot %lu\n", saved, n);
	if (error < 0) {
		cli_error("%s", err);
		if (saved)
			cli_hint("'wardfs snapshot restore %lu' goes back to "
				 "how the session was", saved);
		goto out;
	}
	if (live && refresh_view(&s, &t) < 0) {
		cli_hint("the mounted view may show stale files until "
			 "'wardfs umount %s' and 'wardfs mount -s %s'",
			 s.id, s.id);
		goto out;
	}
	if (npaths == 0)
		printf("restored snapshot %lu\n", n);
	for (i = 0; i < npaths; i++)
		printf("restored %s from snapshot %lu\n",
		       *paths[i] ? paths[i] : ".", n);
	status = CLI_EXIT_OK;
out:
	for (i = 0; i < t.n; i++)
		free(t.paths[i]);
	free(t.paths);
	snapshot_paths_free(paths);
	cli_review_close(&s, rules, snap);
	return status;
}

/* ------------------------------------------------------------------ */
/* drop */

static int drop_snapshots(int argc, char **argv, const char *id)
{
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct session s;
	unsigned long *ids;
	char err[4096];
	int c, i, status = CLI_EXIT_FAIL;

	c = cli_session_options(&id, argc, argv, usage);
	if (c >= 0)
		return c;
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return cli_usage(usage, 0);
	ids = calloc((size_t)argc, sizeof(*ids));
	if (!ids) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	for (i = 0; i < argc; i++) {
		if (parse_id(argv[i], &ids[i]) < 0) {
			free(ids);
			return CLI_EXIT_USAGE;
		}
	}
	if (cli_review_open(&s, &rules, &snap, id) < 0) {
		free(ids);
		return CLI_EXIT_FAIL;
	}
	for (i = 0; i < argc; i++) {
		if (snapshot_drop(snap, ids[i], err, sizeof(err)) < 0) {
			cli_error("%s", err);
			goto out;
		}
		printf("dropped snapshot %lu\n", ids[i]);
	}
	status = CLI_EXIT_OK;
out:
	free(ids);
	cli_review_close(&s, rules, snap);
	return status;
}

/* ------------------------------------------------------------------ */

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv, const char *id);
};

static const struct subcommand subcommands[] = {
	{ "create", create_snapshot },
	{ "list", list_snapshots },
	{ "diff", diff_snapshots },
	{ "restore", restore_snapshot },
	{ "drop", drop_snapshots },
};

static const struct subcommand *find_subcommand(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

/*
 * The sub-command parses argv from optind on: after its name, which may
 * follow a session ("wardfs snapshot ID list"); create is the default.
 * The whole argv is passed on, so that cli_usage() names a bad option.
 */
int cmd_snapshot(int argc, char **argv)
{
	const struct subcommand *sub = NULL;
	const char *id = NULL;

	optind = 1;
	if (argc > 1)
		sub = find_subcommand(argv[1]);
	if (sub) {
		optind = 2;
	} else if (argc > 2 && argv[1][0] != '-' &&
		   find_subcommand(argv[2]) && cli_session_arg(argv[1])) {
		id = argv[1];
		sub = find_subcommand(argv[2]);
		optind = 3;
	}
	if (sub)
		return sub->fn(argc, argv, id);
	return create_snapshot(argc, argv, NULL);
}
