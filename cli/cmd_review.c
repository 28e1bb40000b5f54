/*
 * cmd_review.c - wardfs review: accept the change file by file, hunk by
 * hunk, as "git add -p" stages it.
 *
 * Every answer is read as one line of standard input, so a terminal and
 * a script ("printf 'y\nn\n' | wardfs review") work alike; the end of the
 * input quits.  Nothing is applied before the last answer: then what was
 * chosen goes through the review gates and the same journalled accept as
 * "wardfs accept", and the hunks left stay in the session.
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
	"usage: wardfs review [ID|MOUNTPOINT] [--force] [--color[=WHEN]] "
	"[--] [PATH...]",
	"",
	"Show the session's change (or the PATHs' part of it) file by file",
	"and hunk by hunk, and ask for each whether to accept it:",
	"",
	"    y    accept this hunk",
	"    n    leave this hunk in the session",
	"    q    quit: accept nothing more (what was chosen is applied)",
	"    a    accept this hunk and every later hunk of the file",
	"    d    leave this hunk and every later hunk of the file",
	"    ?    print help",
	"",
	"New, deleted, renamed and binary files, symlinks and mode-only",
	"changes are accepted or left whole.  Answers are read a line at a",
	"time from standard input; its end quits.  Then what was chosen",
	"passes the review gates and is accepted as 'wardfs accept' does,",
	"also while the session is mounted; the hunks left stay in the",
	"session ('wardfs diff' shows them).",
	"",
	"    -f, --force         accept despite findings of the gates, and",
	"                        write conflicts (markers for text files)",
	"    --color[=WHEN]      always, never or auto (default: a terminal",
	"                        without NO_COLOR)",
	"    -s, --session ID    the session (instead of the first argument)",
	"    -h, --help          show this help",
	NULL,
};


enum answer {
	ANSWER_YES,
	ANSWER_NO,
	ANSWER_QUIT,
	ANSWER_ALL,
	ANSWER_NONE,
};

/* A file of which only some hunks were chosen. */
struct partial {
	const char *path;	/* borrowed from the review */
	size_t chosen, total;
};

struct review {
	struct snapshot_review *r;
	int color;
	int echo;		/* stdin is no terminal: show the answers */
	struct partial *partial;
	size_t npartial;
};

/* An answer is a short line; a longer one is read to its end and taken
 * for a wrong answer. */
#define ANSWER_MAX 256

/* Tell a live daemon what changed beneath it; a failure only warns. */
static void refresh_view(const struct session *s, char **paths, size_t n)
{
	if (session_refresh(s, (const char *const *)paths, n) < 0)
		cli_hint("the mounted view may show stale files until "
			 "'wardfs umount %s' and 'wardfs mount -s %s'",
			 s->id, s->id);
}

static void print_help(const char *what)
{
	printf("y - accept this %s\n"
	       "n - leave this %s in the session\n"
	       "q - quit; accept nothing more (what was chosen is applied)\n"
	       "a - accept this %s and all later hunks in the file\n"
	       "d - leave this %s and all later hunks in the file\n"
	       "? - print help\n", what, what, what, what);
}

/*
 * Ask about "this <what>" (one line of input per answer).  Returns 0 with
 * *out set, or -1 at the end of the input (which quits).
 */
static int ask(struct review *rv, const char *what, enum answer *out)
{
	char line[ANSWER_MAX], rest[ANSWER_MAX];
	char *p;
	int c;

	for (;;) {
		printf("Accept this %s [y,n,q,a,d,?]? ", what);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin)) {
			putchar('\n');
			return -1;
		}
		c = strlen(line) == sizeof(line) - 1 &&
			!strchr(line, '\n') ? '?' : 0;
		while (c && fgets(rest, sizeof(rest), stdin) &&
		       !strchr(rest, '\n'))
			;	/* the rest of a long line */
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		p[strcspn(p, "\r\n")] = '\0';
		if (rv->echo)
			printf("%s\n", p);
		switch (c ? c : *p) {
		case 'y':
			*out = ANSWER_YES;
			return 0;
		case 'n':
			*out = ANSWER_NO;
			return 0;
		case 'q':
			*out = ANSWER_QUIT;
			return 0;
		case 'a':
			*out = ANSWER_ALL;
			return 0;
		case 'd':
			*out = ANSWER_NONE;
			return 0;
		case '\0':
			break;		/* ask again */
		default:
			print_help(what);
			break;
		}
	}
}

static int print(struct review *rv, size_t file, size_t hunk)
{
	char err[1024];

	if (snapshot_review_print(rv->r, file, hunk, rv->color, stdout, err,
				  sizeof(err)) < 0) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

static int note_partial(struct review *rv, const char *path, size_t chosen,
			size_t total)
{
	struct partial *grown;

	grown = realloc(rv->partial, (rv->npartial + 1) * sizeof(*grown));
	if (!grown) {
		cli_error("cannot review: out of memory");
		return -1;
	}
	rv->partial = grown;
	rv->partial[rv->npartial].path = path;
	rv->partial[rv->npartial].chosen = chosen;
	rv->partial[rv->npartial].total = total;
	rv->npartial++;
	return 0;
}

/*
 * Ask about every hunk of file; *quit is set by q or the end of input.
 * Returns 0 or -1 (error printed).
 */
static int ask_file(struct review *rv, size_t file, int *quit)
{
	struct snapshot_review_file f;
	enum answer a;
	size_t h, chosen = 0;
	int more = 1;

	snapshot_review_file(&f, rv->r, file);
	if (print(rv, file, SNAPSHOT_REVIEW_HEADER) < 0)
		return -1;
	if (f.hunks == 0) {
		if (ask(rv, "file", &a) < 0 || a == ANSWER_QUIT)
			*quit = 1;
		else if (a == ANSWER_YES || a == ANSWER_ALL)
			snapshot_review_choose(rv->r, file,
					       SNAPSHOT_REVIEW_HEADER, 1);
		return 0;
	}
	for (h = 0; h < f.hunks && more; h++) {
		if (print(rv, file, h) < 0)
			return -1;
		if (ask(rv, h == 0 && f.mode_change ? "mode change" : "hunk",
			&a) < 0)
			a = ANSWER_QUIT;
		switch (a) {
		case ANSWER_YES:
			snapshot_review_choose(rv->r, file, h, 1);
			chosen++;
			break;
		case ANSWER_NO:
			break;
		case ANSWER_QUIT:
			*quit = 1;
			more = 0;
			break;
		case ANSWER_ALL:
			for (; h < f.hunks; h++, chosen++)
				snapshot_review_choose(rv->r, file, h, 1);
			more = 0;
			break;
		case ANSWER_NONE:
			more = 0;
			break;
		}
	}
	if (chosen > 0 && chosen < f.hunks)
		return note_partial(rv, f.path, chosen, f.hunks);
	return 0;
}

static void print_finding(const struct snapshot_finding *f, void *payload)
{
	(void)payload;
	fprintf(stderr, "%s:%u: %s: %s\n", f->path, f->line, f->gate,
		f->reason);
}

static void print_event(enum snapshot_event ev, const char *path,
			const char *msg, void *payload)
{
	struct review *rv = payload;
	const struct partial *part = NULL;
	size_t i;

	for (i = 0; i < rv->npartial && !part; i++)
		if (strcmp(rv->partial[i].path, path) == 0)
			part = &rv->partial[i];
	switch (ev) {
	case SNAPSHOT_APPLIED:
		printf("accepted %s", path);
		break;
	case SNAPSHOT_MERGED:
		printf("merged   %s", path);
		break;
	case SNAPSHOT_FORCED:
		printf("forced   %s (%s)", path, msg ? msg : "conflict");
		break;
	case SNAPSHOT_CONFLICT:
		fprintf(stderr, "conflict %s: %s\n", path, msg ? msg : "");
		return;
	case SNAPSHOT_SKIPPED:
		printf("skipped  %s (%s)\n", path, msg ? msg : "");
		return;
	}
	if (part)
		printf(" (%zu of %zu hunks)", part->chosen, part->total);
	putchar('\n');
}

/* Run the gates over what was chosen, then accept it. */
static int accept_chosen(struct review *rv, struct session *s,
			 struct snapshot *snap, struct snapshot_changes *part,
			 int force)
{
	struct snapshot_accept_options ao = SNAPSHOT_ACCEPT_OPTIONS_INIT;
	char **refresh = NULL, err[4096];
	size_t nrefresh = 0;
	int n, rc, status = CLI_EXIT_FAIL;

	n = snapshot_check(part, print_finding, NULL, err, sizeof(err));
	if (n < 0) {
		cli_error("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (n > 0 && !force) {
		cli_error("refusing to accept: the review gates found %d "
			  "thing%s to look at", n, n == 1 ? "" : "s");
		cli_hint("look at them, then 'wardfs review --force' to "
			 "accept anyway");
		return CLI_EXIT_FAIL;
	}
	ao.force = force;
	ao.progress = isatty(STDERR_FILENO);
	ao.event = print_event;
	ao.payload = rv;
	if (session_state(s) == SESSION_LIVE &&
	    snapshot_changes_paths(&refresh, &nrefresh, part, err,
				   sizeof(err)) < 0) {
		cli_error("%s", err);
		return CLI_EXIT_FAIL;
	}
	rc = snapshot_accept(snap, part, &ao, err, sizeof(err));
	if (rc == SNAPSHOT_ECONFLICT) {
		cli_error("%s", err);
		cli_hint("'wardfs review --force' writes conflict markers "
			 "(text) or the session's side");
	} else if (rc < 0) {
		cli_error("%s", err);
	} else {
		status = CLI_EXIT_OK;
	}
	/* even a failed accept may have changed some paths */
	if (rc != SNAPSHOT_ECONFLICT && refresh)
		refresh_view(s, refresh, nrefresh);
	snapshot_paths_free(refresh);
	return status;
}

int cmd_review(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "session", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapshot_changes *changes = NULL, *part = NULL;
	struct snapshot *snap = NULL;
	struct rules *rules = NULL;
	struct review rv;
	struct session s;
	const char *id = NULL;
	char **paths = NULL, err[4096];
	size_t npaths = 0, i, nfiles;
	int c, force = 0, color = -1, quit = 0, status = CLI_EXIT_FAIL;

	memset(&rv, 0, sizeof(rv));
	while ((c = getopt_long(argc, argv, "fs:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'C':
			if (!optarg || strcmp(optarg, "always") == 0)
				color = 1;
			else if (strcmp(optarg, "never") == 0)
				color = 0;
			else if (strcmp(optarg, "auto") == 0)
				color = -1;
			else
				return cli_usage(usage, 0);
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
	argc -= optind;
	argv += optind;
	cli_review_args(&id, &argc, &argv);
	if (cli_review_open(&s, &rules, &snap, id) < 0)
		return CLI_EXIT_FAIL;
	if (cli_review_paths(&paths, &npaths, &s, argc, argv) < 0)
		goto out;
	if (snapshot_changes(&changes, snap, (const char *const *)paths,
			     npaths, err, sizeof(err)) < 0 ||
	    snapshot_review_new(&rv.r, changes, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	nfiles = snapshot_review_count(rv.r);
	if (nfiles == 0) {
		printf("nothing to review\n");
		status = CLI_EXIT_OK;
		goto out;
	}
	rv.color = color >= 0 ? color : isatty(STDOUT_FILENO) &&
		!getenv("NO_COLOR");
	rv.echo = !isatty(STDIN_FILENO);
	for (i = 0; i < nfiles && !quit; i++)
		if (ask_file(&rv, i, &quit) < 0)
			goto out;
	if (snapshot_review_changes(&part, rv.r, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	if (snapshot_changes_count(part) == 0) {
		printf("nothing accepted\n");
		status = CLI_EXIT_OK;
		goto out;
	}
	status = accept_chosen(&rv, &s, snap, part, force);
out:
	free(rv.partial);
	snapshot_changes_free(part);
	snapshot_review_free(rv.r);
	snapshot_changes_free(changes);
	snapshot_paths_free(paths);
	cli_review_close(&s, rules, snap);
	return status;
}
