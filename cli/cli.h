/*
 * cli.h - shared pieces of the command-line front end.
 *
 * Every subcommand is int cmd_<name>(int argc, char **argv), argv[0]
 * being the subcommand's name; it returns the process exit status
 * (0 ok, 1 refused or failed, 2 usage).  Errors are printed with
 * cli_error() as "wardfs: <what failed>: <why>".
 */
#ifndef WARDFS_CLI_H
#define WARDFS_CLI_H

#include <stddef.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* Print "wardfs: <fmt>" and a newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with ": strerror(errno)" appended. */
void cli_error_errno(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Print "hint: <fmt>" to stderr. */
void cli_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print a usage array (NULL-terminated, first line "usage: ...") to
 * stdout when help is set, else stderr; returns 0 for help, 2 otherwise.
 */
int cli_usage(const char *const *usage, int help);

/* Flush stdout and report a write failure; returns status or 1. */
int cli_finish(int status);

int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
