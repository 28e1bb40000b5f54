/*
 * cmd_accept.c - wardfs accept: apply the session's change to the project.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "snapshot/snapshot.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs accept [ID|MOUNTPOINT] [--force] [--commit [-m MSG] | "
	"--branch NAME] [--] [PATH...]",
	"",
	"Apply the session's change (or the PATHs' part of it) to the",
	"project, after the review gates ('wardfs check').  Where the project",
	"changed since the session first touched a path, the two changes are",
	"merged; a conflict applies nothing.  Accepted paths leave the",
	"session; while it is mounted, the mounted view keeps showing them",
	"(a file the agent holds open stays in the session, with nothing",
	"left to accept).",
	"",
	"    -f, --force         accept despite findings of the gates, and",
	"                        write conflicts (markers for text files)",
	"    -c, --commit        also commit the accepted paths on HEAD of",
	"                        the project's repository (other staged",
	"                        changes stay staged, uncommitted)",
	"    -m, --message MSG   the commit message (implies --commit)",
	"    -b, --branch NAME   instead, commit HEAD plus the change on a new",
	"                        branch NAME; the work tree, the index and the",
	"                        session are left alone",
	"    -s, --session ID    the session (instead of the first argument)",
	"    -h, --help          show this help",
	NULL,
};

/* Tell a live daemon what changed beneath it; a failure only warns. */
static void refresh_view(const struct session *s, char **paths, size_t n)
{
	if (session_refresh(s, (const char *const *)paths, n) < 0)
		cli_hint("the mounted view may show stale files until "
			 "'wardfs umount %s' and 'wardfs mount -s %s'",
			 s->id, s->id);
}

static void print_finding(const struct snapshot_finding *f, void *payload)
{
	(void)payload;
	fprintf(stderr, "%s:%u: %s: %s\n", f->path, f->line, f->gate,
		f->reason);
}

struct counts {
	size_t applied, conflicts;
};

static void print_event(enum snapshot_event ev, const char *path,
			const char *msg, void *payload)
{
	struct counts *n = payload;

	switch (ev) {
	case SNAPSHOT_APPLIED:
		n->applied++;
		printf("accepted %s\n", path);
		break;
	case SNAPSHOT_MERGED:
		n->applied++;
		printf("merged   %s\n", path);
		break;
	case SNAPSHOT_FORCED:
		n->applied++;
		printf("forced   %s (%s)\n", path, msg ? msg : "conflict");
		break;
	case SNAPSHOT_CONFLICT:
		n->conflicts++;
		fprintf(stderr, "conflict %s: %s\n", path, msg ? msg : "");
		break;
	case SNAPSHOT_SKIPPED:
		printf("skipped  %s (%s)\n", path, msg ? msg : "");
		break;
	}
}

int cmd_accept(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "commit", no_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "branch", required_argument, NULL, 'b' },
		{ "session", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapshot_accept_options ao = SNAPSHOT_ACCEPT_OPTIONS_INIT;
	struct snapshot_changes *changes = NULL;
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct counts counts = { 0, 0 };
	struct session s;
	const char *id = NULL, *message = NULL;
	char **paths = NULL, **refresh = NULL, err[4096], msgbuf[256];
	size_t npaths = 0, nrefresh = 0;
	int c, n, commit = 0, status = CLI_EXIT_FAIL, rc;

	while ((c = getopt_long(argc, argv, "fcm:b:s:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'f':
			ao.force = 1;
			break;
		case 'c':
			commit = 1;
			break;
		case 'm':
			message = optarg;
			commit = 1;
			break;
		case 'b':
			ao.branch = optarg;
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
	if (commit && ao.branch) {
		cli_error("bad options: --commit and --branch exclude each "
			  "other");
		return cli_usage(usage, 0);
	}
	argc -= optind;
	argv += optind;
	cli_review_args(&id, &argc, &argv);
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return CLI_EXIT_FAIL;
	if (cli_review_paths(&paths, &npaths, &s, argc, argv) < 0)
		goto out;
	if (snapshot_changes(&changes, snap, (const char *const *)paths,
			     npaths, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	if (snapshot_changes_count(changes) == 0) {
		printf("nothing to accept\n");
		status = CLI_EXIT_OK;
		goto out;
	}
	n = snapshot_check(changes, print_finding, NULL, err, sizeof(err));
	if (n < 0) {
		cli_error("%s", err);
		goto out;
	}
	if (n > 0 && !ao.force) {
		cli_error("refusing to accept: the review gates found %d "
			  "thing%s to look at", n, n == 1 ? "" : "s");
		cli_hint("review them ('wardfs diff'), then 'wardfs accept "
			 "--force' to accept anyway");
		goto out;
	}
	if (commit) {
		if (!message) {
			snprintf(msgbuf, sizeof(msgbuf), "wardfs: accept "
				 "session %s", s.id);
			message = msgbuf;
		}
		ao.commit_message = message;
	}
	ao.progress = isatty(STDERR_FILENO);
	ao.event = print_event;
	ao.payload = &counts;
	/* the view of these paths changes beneath a live daemon */
	if (!ao.branch && session_state(&s) == SESSION_LIVE &&
	    snapshot_changes_paths(&refresh, &nrefresh, changes, err,
				   sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	rc = snapshot_accept(snap, changes, &ao, err, sizeof(err));
	if (rc == SNAPSHOT_ECONFLICT) {
		cli_error("%s", err);
		cli_hint("'wardfs accept --force' writes conflict markers "
			 "(text) or the session's side");
		goto out;	/* nothing applied */
	}
	if (rc < 0)
		cli_error("%s", err);
	else
		status = CLI_EXIT_OK;
	/* even a failed accept may have changed some paths */
	if (refresh)
		refresh_view(&s, refresh, nrefresh);
out:
	snapshot_changes_free(changes);
	snapshot_paths_free(refresh);
	snapshot_paths_free(paths);
	cli_review_close(&s, rules, snap);
	return status;
}
