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
int cmd_diff(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_accept(int argc, char **argv);
int cmd_discard(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);

/*
 * Take a snapshot of session id (cmd_snapshot.c) with the message
 * "<when> '<cmd...>'" and say so on stderr ("wardfs: snapshot 3 before
 * 'make'").  Returns 0, or -1 with the error printed.
 */
int cli_snapshot_run(const char *id, const char *when, char *const *cmd);

/*
 * Shared by the review commands (cmd_diff.c).  cli_review_open() opens the
 * session arg names (NULL: the working directory's) for review: its policy
 * and its snapshot (an interrupted accept is completed); prints errors;
 * 0 or -1.  Release with cli_review_close().  cli_session_arg() tells
 * whether a first argument names a session (an id or a mountpoint) rather
 * than a path; cli_review_args() moves it from argv to *id.
 * cli_review_paths() makes project-relative paths of argv (relative to
 * the working directory inside the project or the mount).
 * cli_pager_start() pipes stdout to $PAGER (less) on a terminal and
 * returns its pid (or -1); cli_pager_end(pid) waits for it.
 */
struct session;
struct rules;
struct snapshot;
int cli_review_open(struct session *s, struct rules **rules,
		    struct snapshot **snap, const char *arg);
void cli_review_close(struct session *s, struct rules *rules,
		      struct snapshot *snap);
int cli_session_arg(const char *arg);
int cli_review_args(const char **id, int *argc, char ***argv);
int cli_review_paths(char ***out, size_t *n, const struct session *s,
		     int argc, char **argv);
int cli_pager_start(void);
void cli_pager_end(int pid);

/*
 * The output options of `diff` and `snapshot diff`: --stat,
 * --name-status, --json, --color[=WHEN], --no-pager, -s/--session, -h.
 * cli_diff_options() parses them from argv (getopt_long, optind left past
 * them) and returns -1, or the exit status to return (help, bad usage).
 * cli_diff_print() prints changes as they say (colour on a terminal
 * unless NO_COLOR, through the pager): 0, or -1 with the error printed.
 */
struct snapshot_changes;
struct cli_diff_opts {
	int format;		/* an enum snapshot_format */
	int color;		/* 1, 0, or -1: on a terminal */
	int use_pager;
	const char *id;		/* -s/--session, or NULL */
};
int cli_diff_options(struct cli_diff_opts *o, int argc, char **argv,
		     const char *const *help);
int cli_diff_print(struct snapshot_changes *changes,
		   const struct cli_diff_opts *o);

/*
 * The options of a command that takes only -s/--session and -h/--help:
 * parses them (optind left past them) into *id and returns -1, or the exit
 * status to return (help, bad usage).
 */
int cli_session_options(const char **id, int argc, char **argv,
			const char *const *help);

#endif
