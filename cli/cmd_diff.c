/*
 * cmd_diff.c - wardfs diff: the session's change as a git patch.
 *
 * Also the pieces the review commands (diff, check, accept, discard,
 * review) share: opening a session for review, telling a session argument
 * from a path, and the pager.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "rules/rules.h"
#include "snapshot/snapshot.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs diff [ID|MOUNTPOINT] [--stat|--name-status|--json] "
	"[--] [PATH...]",
	"",
	"Print the session's change (to the project as it was when the",
	"session first touched each path) as a git patch: 'git apply' takes",
	"it.  PATHs limit it to those paths and everything beneath them.",
	"",
	"    --stat              a diffstat instead of the patch",
	"    --name-status       status letter and path of every change",
	"    --json              a JSON array of {path, status, old_path,",
	"                        binary, additions, deletions}",
	"    --color[=WHEN]      always, never or auto (default: a terminal",
	"                        without NO_COLOR)",
	"    --no-pager          never page",
	"    -s, --session ID    the session (instead of the first argument)",
	"    -h, --help          show this help",
	NULL,
};

static void notice(const char *msg, void *payload)
{
	(void)payload;
	fprintf(stderr, "wardfs: %s\n", msg);
}

static void drop_warning(const char *msg, void *payload)
{
	(void)msg;
	(void)payload;
}

int cli_session_arg(const char *arg)
{
	struct session *list = NULL;
	char real[PATH_MAX];
	size_t n = 0, i;
	int found = 0;

	if (!arg || !*arg)
		return 0;
	if (session_list(&list, &n) < 0)
		return 0;
	for (i = 0; i < n && !found; i++)
		if (strcmp(list[i].id, arg) == 0)
			found = 1;
	if (!found && realpath(arg, real))
		for (i = 0; i < n && !found; i++)
			if (strcmp(list[i].mountpoint, real) == 0)
				found = 1;
	session_list_free(list, n);
	return found;
}

int cli_review_open(struct session *s, struct rules **rules,
		    struct snapshot **snap, const char *arg)
{
	struct snapshot_options so = SNAPSHOT_OPTIONS_INIT;
	struct rules_config rc = RULES_CONFIG_INIT;
	char err[8192];
	char *home = NULL;
	struct stat st;
	const char *line, *nl;

	*rules = NULL;
	*snap = NULL;
	if (session_resolve(s, arg) < 0)
		return -1;
	rc.project = s->project;
	rc.overrides = (const char *const *)s->overrides;
	rc.noverrides = s->noverrides;
	if (rules_load(rules, &rc, drop_warning, NULL, err, sizeof(err)) < 0) {
		for (line = err; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			fprintf(stderr, "wardfs: %.*s\n", nl ? (int)(nl - line) :
				(int)strlen(line), line);
			if (!nl)
				break;
		}
		goto fail;
	}
	so.project = s->project;
	so.dir = s->dir;
	so.rules = *rules;
	so.live = session_state(s) == SESSION_LIVE;
	so.notice = notice;
	home = session_home();
	if (home && stat(home, &st) == 0) {
		so.hide_dev = st.st_dev;
		so.hide_ino = st.st_ino;
	}
	free(home);
	if (snapshot_open(snap, &so, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto fail;
	}
	return 0;
fail:
	rules_free(*rules);
	*rules = NULL;
	session_release(s);
	return -1;
}

void cli_review_close(struct session *s, struct rules *rules,
		      struct snapshot *snap)
{
	snapshot_free(snap);
	rules_free(rules);
	session_release(s);
}

int cli_review_paths(char ***out, size_t *n, const struct session *s,
		     int argc, char **argv)
{
	char cwd[PATH_MAX], err[1024];

	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	if (snapshot_paths(out, n, s->project, s->mountpoint,
			   *cwd ? cwd : NULL, argc, argv, err,
			   sizeof(err)) < 0) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

int cli_pager_start(void)
{
	const char *pager = getenv("PAGER");
	int fds[2];
	pid_t pid;

	if (!isatty(STDOUT_FILENO))
		return -1;
	if (!pager || !*pager)
		pager = "less";
	if (strcmp(pager, "cat") == 0)
		return -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		setenv("LESS", "FRX", 0);
		execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
		_exit(127);
	}
	dup2(fds[1], STDOUT_FILENO);
	close(fds[0]);
	close(fds[1]);
	signal(SIGPIPE, SIG_IGN);
	return (int)pid;
}

void cli_pager_end(int pid)
{
	int null;

	if (pid <= 0)
		return;
	fflush(stdout);
	/* the pager sees the end of its input; a pager that quit early is
	 * no write error */
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	clearerr(stdout);
	waitpid((pid_t)pid, NULL, 0);
}

/* The session argument and the paths after it. */
int cli_review_args(const char **id, int *argc, char ***argv)
{
	if (!*id && *argc > 0 && cli_session_arg((*argv)[0])) {
		*id = (*argv)[0];
		(*argc)--;
		(*argv)++;
	}
	return 0;
}

int cli_diff_options(struct cli_diff_opts *o, int argc, char **argv,
		     const char *const *help)
{
	static const struct option longopts[] = {
		{ "stat", no_argument, NULL, 'S' },
		{ "name-status", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'J' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "no-pager", no_argument, NULL, 'P' },
		{ "session", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->format = SNAPSHOT_PATCH;
	o->color = -1;
	o->use_pager = 1;
	o->id = NULL;
	while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			o->format = SNAPSHOT_STAT;
			break;
		case 'N':
			o->format = SNAPSHOT_NAME_STATUS;
			break;
		case 'J':
			o->format = SNAPSHOT_JSON;
			break;
		case 'C':
			if (!optarg || strcmp(optarg, "always") == 0)
				o->color = 1;
			else if (strcmp(optarg, "never") == 0)
				o->color = 0;
			else if (strcmp(optarg, "auto") == 0)
				o->color = -1;
			else
				return cli_usage(help, 0);
			break;
		case 'P':
			o->use_pager = 0;
			break;
		case 's':
			o->id = optarg;
			break;
		case 'h':
			return cli_usage(help, 1);
		default:
			return cli_usage(help, 0);
		}
	}
	return -1;
}

int cli_session_options(const char **id, int argc, char **argv,
			const char *const *help)
{
	static const struct option longopts[] = {
		{ "session", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			*id = optarg;
			break;
		case 'h':
			return cli_usage(help, 1);
		default:
			return cli_usage(help, 0);
		}
	}
	return -1;
}

int cli_diff_print(struct snapshot_changes *changes,
		   const struct cli_diff_opts *o)
{
	enum snapshot_format fmt = (enum snapshot_format)o->format;
	int color = o->color, pager = -1, error = 0;
	char err[4096];

	if (color < 0)
		color = fmt != SNAPSHOT_JSON && isatty(STDOUT_FILENO) &&
			!getenv("NO_COLOR");
	if (o->use_pager && fmt != SNAPSHOT_JSON &&
	    snapshot_changes_count(changes) > 0)
		pager = cli_pager_start();
	if (snapshot_print(changes, fmt, color, stdout, err,
			   sizeof(err)) < 0) {
		cli_error("%s", err);
		error = -1;
	}
	cli_pager_end(pager);
	return error;
}

int cmd_diff(int argc, char **argv)
{
	struct snapshot_changes *changes = NULL;
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct cli_diff_opts o;
	struct session s;
	char **paths = NULL, err[4096];
	size_t npaths = 0;
	int status = cli_diff_options(&o, argc, argv, usage);

	if (status >= 0)
		return status;
	status = CLI_EXIT_FAIL;
	argc -= optind;
	argv += optind;
	cli_review_args(&o.id, &argc, &argv);
	if (cli_review_open(&s, &rules, &snap, o.id) < 0)
		return CLI_EXIT_FAIL;
	if (cli_review_paths(&paths, &npaths, &s, argc, argv) < 0)
		goto out;
	if (snapshot_changes(&changes, snap, (const char *const *)paths,
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
