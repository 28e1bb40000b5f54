/*
 * cmd_umount.c - wardfs umount: unmount a session, keep its changes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs umount [--lazy] [ID|MOUNTPOINT]",
	"",
	"Unmount a session's view; the session and its changes stay",
	"('wardfs mount -s ID' resumes it).  Without an argument, the one",
	"session of the current directory.",
	"",
	"    -l, --lazy    detach now even if programs still use the mount",
	"    -h, --help    show this help",
	NULL,
};

int cmd_umount(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lazy", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct session s;
	int c, lazy = 0, error, status = CLI_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "+lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lazy = 1;
			break;
		case 'h':
			return cli_usage(usage, 1);
		default:
			return cli_usage(usage, 0);
		}
	}
	if (argc - optind > 1)
		return cli_usage(usage, 0);
	if (session_resolve(&s, argc > optind ? argv[optind] : NULL) < 0)
		return CLI_EXIT_FAIL;

	switch (session_state(&s)) {
	case SESSION_UNMOUNTED:
		cli_error("cannot unmount session '%s': not mounted", s.id);
		goto out;
	case SESSION_STALE:
		lazy = 1;
		break;
	case SESSION_LIVE:
		break;
	}
	error = session_unmount(s.mountpoint, lazy);
	if (error < 0) {
		errno = -error;
		cli_error_errno("cannot unmount '%s'", s.mountpoint);
		if (error == -EBUSY)
			cli_hint("close the programs using it, or "
				 "'wardfs umount --lazy %s'", s.id);
		goto out;
	}
	if (session_wait_unlocked(&s, 10000) < 0) {
		cli_error("session '%s': the daemon did not exit", s.id);
		goto out;
	}
	printf("unmounted %s; 'wardfs mount -s %s' resumes it\n", s.id, s.id);
	status = CLI_EXIT_OK;
out:
	session_release(&s);
	return status;
}
