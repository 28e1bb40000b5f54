/*
 * main.c - wardfs: git-style dispatch to the subcommands.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "rules/banned.h"

#ifndef WARDFS_VERSION
#define WARDFS_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "mount", cmd_mount, "start (or resume) a guarded session" },
	{ "umount", cmd_umount, "unmount a session, keep its changes" },
	{ "status", cmd_status, "sessions, mounts and change counts" },
	{ "run", cmd_run, "run a command inside an isolated view" },
	{ "rules", cmd_rules, "which rule decides a path, and why" },
	{ "doctor", cmd_doctor, "which protections this machine can give" },
	{ "diff", cmd_diff, "show the session's change as a git patch" },
	{ "check", cmd_check, "run the review gates over the change" },
	{ "accept", cmd_accept, "apply the change to the project" },
	{ "review", cmd_review,
	  "accept the change file by file, hunk by hunk" },
	{ "discard", cmd_discard, "drop the session, or some paths of it" },
	{ "log", cmd_log, "the session's audit log" },
	{ "snapshot", cmd_snapshot,
	  "checkpoints of a session: create, list, diff, restore, drop" },
};

static void vreport(const char *prefix, const char *fmt, va_list ap,
		    const char *suffix)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	if (suffix) {
		fputs(": ", stderr);
		fputs(suffix, stderr);
	}
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("wardfs: ", fmt, ap, NULL);
	va_end(ap);
}

void cli_error_errno(const char *fmt, ...)
{
	const char *why = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vreport("wardfs: ", fmt, ap, why);
	va_end(ap);
}

void cli_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("hint: ", fmt, ap, NULL);
	va_end(ap);
}

/* The subcommand's arguments, to name a bad option in cli_usage(). */
static int cmd_argc;
static char **cmd_argv;

int cli_usage(const char *const *usage, int help)
{
	FILE *out = help ? stdout : stderr;

	if (!help) {
		const char *arg = optind > 0 && optind <= cmd_argc ?
			cmd_argv[optind - 1] : NULL;

		if (optopt && optopt != '?')
			cli_error("bad option '-%c': unknown, or missing its "
				  "argument", optopt);
		else if (arg && arg[0] == '-' && arg[1])
			cli_error("bad option '%s': unknown, or missing its "
				  "argument", arg);
		else
			cli_error("bad arguments: see the usage below");
	}
	for (; *usage; usage++)
		fprintf(out, "%s\n", *usage);
	return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cli_finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error_errno("cannot write output");
		return CLI_EXIT_FAIL;
	}
	return status;
}

static void print_help(FILE *out)
{
	size_t i;

	fprintf(out, "usage: wardfs [--version] [--help] <command> "
		"[<args>]\n\n"
		"wardfs gives an AI coding agent a guarded copy of a project:\n"
		"secrets are invisible and every write lands in a private\n"
		"layer until you review and accept it.\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "   %-10s %s\n", commands[i].name,
			commands[i].help);
	fprintf(out, "\n'wardfs help <command>' or 'wardfs <command> --help' "
		"shows a command's options.\n");
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		print_help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("wardfs %s\n", WARDFS_VERSION);
		return cli_finish(CLI_EXIT_OK);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_help(stdout);
		return cli_finish(CLI_EXIT_OK);
	}
	if (strcmp(argv[1], "help") == 0) {
		char *help_argv[] = { argv[2], (char *)"--help", NULL };

		if (argc < 3) {
			print_help(stdout);
			return cli_finish(CLI_EXIT_OK);
		}
		cmd = find_command(argv[2]);
		if (!cmd) {
			cli_error("unknown command '%s': not a wardfs "
				  "command", argv[2]);
			return CLI_EXIT_USAGE;
		}
		return cli_finish(cmd->fn(2, help_argv));
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		cli_error("unknown command '%s': not a wardfs command",
			  argv[1]);
		cli_hint("see 'wardfs --help'");
		return CLI_EXIT_USAGE;
	}
	/* Commands word their own usage errors (cli_usage). */
	opterr = 0;
	cmd_argc = argc - 1;
	cmd_argv = argv + 1;
	return cli_finish(cmd->fn(argc - 1, argv + 1));
}
