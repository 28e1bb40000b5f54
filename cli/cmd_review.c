/*
 * cmd_review.c - wardfs review: accept the change file by file.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs review [ID|MOUNTPOINT]",
	"",
	"Not implemented yet: use 'wardfs diff' and 'wardfs accept PATH...'.",
	"",
	"    -h, --help    show this help",
	NULL,
};

int cmd_review(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_usage(usage, 1);
		default:
			return cli_usage(usage, 0);
		}
	}
	cli_error("review is not implemented yet");
	cli_hint("'wardfs diff' shows the change, 'wardfs accept PATH...' "
		 "accepts part of it");
	return CLI_EXIT_FAIL;
}
