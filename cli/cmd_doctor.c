/*
 * cmd_doctor.c - wardfs doctor: which protections this machine can give.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs doctor",
	"",
	"Check what this machine and user can have: the FUSE device,",
	"whiteouts, and the namespaces 'wardfs run' uses.  Exit 1 when",
	"something is missing.",
	"",
	"    -h, --help    show this help",
	NULL,
};

int cmd_doctor(int argc, char **argv)
{
	struct sandbox_probe probes[16];
	size_t n, i;
	int c, missing = 0;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1)
		return cli_usage(usage, c == 'h');
	if (optind < argc)
		return cli_usage(usage, 0);
	printf("wardfs doctor (%s)\n", geteuid() == 0 ? "root" :
	       "ordinary user");
	n = sandbox_probe(probes, sizeof(probes) / sizeof(probes[0]));
	for (i = 0; i < n; i++) {
		printf("  %-4s %-42s %s\n", probes[i].ok ? "ok" : "NO",
		       probes[i].name, probes[i].detail);
		missing += !probes[i].ok;
	}
	if (missing)
		printf("%d protection%s missing: 'wardfs run' refuses unless "
		       "--allow-weaker\n", missing, missing == 1 ? " is" :
		       "s are");
	return missing ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
