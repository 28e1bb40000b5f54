/*
 * cmd_check.c - wardfs check: the review gates only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "snapshot/snapshot.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs check [ID|MOUNTPOINT]",
	"",
	"Run the review gates over the session's change and print each",
	"finding as 'path:line: gate: reason' (line 0: the whole file).",
	"Gates: secret (keys, tokens, passwords in added lines, and [gates]",
	"secret patterns), env-file, exec-config (CI, git hooks and config,",
	".envrc, editor, agent and shell startup files), executable, symlink",
	"(pointing outside the project), mass-deletion, sensitive ([gates]",
	"sensitive patterns).  Exit status 1 when anything is found.",
	"",
	"    -h, --help    show this help",
	NULL,
};

static void print_finding(const struct snapshot_finding *f, void *payload)
{
	FILE *out = payload;

	fprintf(out, "%s:%u: %s: %s\n", f->path, f->line, f->gate, f->reason);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapshot_changes *changes = NULL;
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct session s;
	char err[4096];
	int c, n, status = CLI_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_usage(usage, 1);
		default:
			return cli_usage(usage, 0);
		}
	}
	if (argc - optind > 1)
		return cli_usage(usage, 0);
	if (cli_review_open(&s, &rules, &snap,
			    argc > optind ? argv[optind] : NULL) < 0)
		return CLI_EXIT_FAIL;
	if (snapshot_changes(&changes, snap, NULL, 0, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	n = snapshot_check(changes, print_finding, stdout, err, sizeof(err));
	if (n < 0) {
		cli_error("%s", err);
		goto out;
	}
	if (n > 0)
		fprintf(stderr, "wardfs: %d finding%s in %zu changed path%s\n",
			n, n == 1 ? "" : "s", snapshot_changes_count(changes),
			snapshot_changes_count(changes) == 1 ? "" : "s");
	status = n > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	snapshot_changes_free(changes);
	cli_review_close(&s, rules, snap);
	return status;
}
