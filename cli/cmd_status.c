/*
 * cmd_status.c - wardfs status: sessions, mounts and change counts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "fs/fs.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs status [ID|MOUNTPOINT]",
	"",
	"Without an argument, one line per session:",
	"    ID STATE CHANGES PROJECT MOUNTPOINT",
	"STATE is live (served), stale (the daemon died; 'wardfs mount -s ID'",
	"recovers it) or unmounted.  With an argument, that session in detail.",
	"",
	"    -h, --help    show this help",
	NULL,
};

static long changes_of(const struct session *s)
{
	char *upper = session_path(s, "upper");
	long n = upper ? fs_count_changes(upper, s->project) : -1;

	free(upper);
	return n < 0 ? 0 : n;
}

static void hint_stale(const struct session *s)
{
	cli_hint("session '%s' is stale (its daemon died); "
		 "'wardfs mount -s %s' recovers it", s->id, s->id);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct session *list = NULL, s;
	enum session_state state;
	size_t n = 0, i;
	int c;

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
	if (argc - optind == 1) {
		if (session_resolve(&s, argv[optind]) < 0)
			return CLI_EXIT_FAIL;
		state = session_state(&s);
		printf("session: %s\nproject: %s\nmountpoint: %s\n"
		       "state: %s\nchanges: %ld\n", s.id, s.project,
		       s.mountpoint, session_state_name(state), changes_of(&s));
		if (state == SESSION_STALE)
			hint_stale(&s);
		session_release(&s);
		return CLI_EXIT_OK;
	}
	if (session_list(&list, &n) < 0) {
		cli_error_errno("cannot list sessions");
		return CLI_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		state = session_state(&list[i]);
		printf("%s %s %ld %s %s\n", list[i].id,
		       session_state_name(state), changes_of(&list[i]),
		       list[i].project, list[i].mountpoint);
		if (state == SESSION_STALE)
			hint_stale(&list[i]);
	}
	session_list_free(list, n);
	return CLI_EXIT_OK;
}
