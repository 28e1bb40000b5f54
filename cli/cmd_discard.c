/*
 * cmd_discard.c - wardfs discard: drop the session, or some of its paths.
 */
#include <errno.h>
#include <ftw.h>
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
	"usage: wardfs discard [ID|MOUNTPOINT] [--] [PATH...]",
	"",
	"Without PATHs, unmount the session (when mounted) and delete it with",
	"every change.  With PATHs, drop only those paths' changes (while",
	"the session is mounted, the view shows the project's files there",
	"at once).  Never touches the project.",
	"",
	"    -s, --session ID    the session (instead of the first argument)",
	"    -h, --help          show this help",
	NULL,
};

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int discard_all(const struct session *s)
{
	enum session_state state = session_state(s);

	if (state == SESSION_LIVE) {
		if (session_unmount(s->mountpoint, 0) < 0 &&
		    session_unmount(s->mountpoint, 1) < 0) {
			cli_error("cannot unmount '%s': it is busy",
				  s->mountpoint);
			cli_hint("close what uses it, then 'wardfs umount %s'",
				 s->id);
			return -1;
		}
		if (session_wait_unlocked(s, 10000) < 0) {
			cli_error("cannot discard session '%s': its daemon "
				  "does not exit", s->id);
			return -1;
		}
	} else if (state == SESSION_STALE) {
		(void)session_unmount(s->mountpoint, 1);
	}
	if (nftw(s->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) <
	    0) {
		cli_error_errno("cannot delete '%s'", s->dir);
		return -1;
	}
	printf("discarded session %s\n", s->id);
	return 0;
}

int cmd_discard(int argc, char **argv)
{
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct session s;
	const char *id = NULL;
	char **paths = NULL, err[4096];
	size_t npaths = 0, i;
	int c, rc, status = CLI_EXIT_FAIL;

	c = cli_session_options(&id, argc, argv, usage);
	if (c >= 0)
		return c;
	argc -= optind;
	argv += optind;
	cli_review_args(&id, &argc, &argv);
	if (argc == 0) {
		if (session_resolve(&s, id) < 0)
			return CLI_EXIT_FAIL;
		status = discard_all(&s) < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
		session_release(&s);
		return status;
	}
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return CLI_EXIT_FAIL;
	if (cli_review_paths(&paths, &npaths, &s, argc, argv) < 0)
		goto out;
	rc = snapshot_discard(snap, (const char *const *)paths, npaths, err,
			      sizeof(err));
	if (rc < 0)
		cli_error("%s", err);
	/* even a failed discard may have dropped some paths */
	if (session_refresh(&s, (const char *const *)paths, npaths) < 0)
		cli_hint("the mounted view may show stale files until "
			 "'wardfs umount %s' and 'wardfs mount -s %s'",
			 s.id, s.id);
	if (rc < 0)
		goto out;
	for (i = 0; i < npaths; i++)
		printf("discarded %s\n", *paths[i] ? paths[i] : ".");
	status = CLI_EXIT_OK;
out:
	snapshot_paths_free(paths);
	cli_review_close(&s, rules, snap);
	return status;
}
