/*
 * cmd_rules.c - wardfs rules check|list: which rule decides a path, and
 * the effective policy.  A dry run of the rules module: no session, no
 * mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "rules/rules.h"
#include "rules/banned.h"

static const char *const usage_rules[] = {
	"usage: wardfs rules check [<options>] [--dir] PATH...",
	"   or: wardfs rules list [<options>]",
	"",
	"    -C PROJECT        the project (default: the current directory)",
	"    -o SEC.KEY=VALUE  a config override, e.g. -o hide.path=out/",
	"                      (repeatable; comma-separated also works)",
	"    --config FILE     the user config file, instead of",
	"                      $XDG_CONFIG_HOME/wardfs/config.ini",
	"                      (--config '' reads none)",
	"    --dir             take every PATH as a directory",
	"",
	"check prints the rule deciding each PATH as git check-ignore -v",
	"does, \"FILE:LINE:PATTERN<TAB>DECISION<TAB>PATH\", DECISION being",
	"hide, readonly or allow, and \"::\" standing for no rule.  A PATH",
	"that exists is taken relative to the current directory; one that",
	"does not, relative to the current directory when that is in the",
	"project, else to the project.  A trailing '/' names a directory.",
	"",
	"list prints every rule in effect, one a line:",
	"\"FILE:LINE<TAB>[SECTION] KEY = VALUE\".",
	NULL,
};

struct rules_opts {
	const char *project;
	const char *config;
	int dir;
	char **overrides;
	size_t noverrides;
};

static void opts_release(struct rules_opts *o)
{
	size_t i;

	for (i = 0; i < o->noverrides; i++)
		free(o->overrides[i]);
	free(o->overrides);
	o->overrides = NULL;
	o->noverrides = 0;
}

static int add_override(struct rules_opts *o, const char *s, size_t len)
{
	char **p, *copy;

	copy = strndup(s, len);
	if (!copy)
		return -1;
	p = realloc(o->overrides, (o->noverrides + 1) * sizeof(*p));
	if (!p) {
		free(copy);
		return -1;
	}
	o->overrides = p;
	o->overrides[o->noverrides++] = copy;
	return 0;
}

/* Does s start with "section.key="? */
static int starts_override(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");

	if (n == 0 || s[n] != '.')
		return 0;
	s += n + 1;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
	return n > 0 && s[n] == '=';
}

/*
 * -o takes comma-separated options; a comma splits only where the next
 * option starts, so a regex such as re:a{1,3} stays whole.
 */
static int split_overrides(struct rules_opts *o, const char *arg)
{
	const char *start = arg, *p;

	for (p = arg; *p; p++)
		if (*p == ',' && starts_override(p + 1)) {
			if (add_override(o, start, (size_t)(p - start)) < 0)
				return -1;
			start = p + 1;
		}
	return add_override(o, start, strlen(start));
}

enum { OPT_CONFIG = 256, OPT_DIR };

/* 0 ok, 1 --help, -1 usage error (printed). */
static int parse_opts(struct rules_opts *o, int argc, char **argv,
		      int check)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "dir", no_argument, NULL, OPT_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":C:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			o->project = optarg;
			break;
		case 'o':
			if (split_overrides(o, optarg) < 0) {
				cli_error("out of memory");
				return -1;
			}
			break;
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_DIR:
			if (!check)
				goto bad;
			o->dir = 1;
			break;
		case 'h':
			return 1;
		case ':':
			cli_error("rules %s: option '%s' needs a value",
				  argv[0], argv[optind - 1]);
			return -1;
		default:
			goto bad;
		}
	}
	return 0;
bad:
	if (optopt > 0 && optopt < 256)
		cli_error("rules %s: unknown option '-%c'", argv[0], optopt);
	else
		cli_error("rules %s: unknown option '%s'", argv[0],
			  argv[optind - 1]);
	return -1;
}

static void warn_line(const char *msg, void *payload)
{
	(void)payload;
	fprintf(stderr, "wardfs: warning: %s\n", msg);
}

/* Load the policy; errors printed.  0, or -1. */
static int load(struct rules **out, const struct rules_opts *o,
		const char *project)
{
	struct rules_config cfg = RULES_CONFIG_INIT;
	char err[16384], *line, *nl;

	cfg.project = project;
	cfg.user_file = o->config;
	cfg.overrides = (const char *const *)o->overrides;
	cfg.noverrides = o->noverrides;
	if (rules_load(out, &cfg, warn_line, NULL, err, sizeof(err)) == 0)
		return 0;
	for (line = err; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		cli_error("%s", line);
	}
	return -1;
}

static const char *action_name(enum rule_action action)
{
	switch (action) {
	case RULE_ALLOW:
		return "allow";
	case RULE_HIDE:
		return "hide";
	case RULE_READONLY:
		return "readonly";
	}
	abort();
}

/*
 * The canonical absolute path of arg, an existing path, without following
 * its last component (a symlink is decided as itself).
 */
static int resolve_existing(char *out, size_t outsz, const char *arg)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	const char *base;
	size_t len = strlen(arg);
	int n;

	if (len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, arg, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		if (!realpath(buf, out))
			return -1;
		return 0;
	}
	if (base == buf) {
		if (!realpath(".", dir))
			return -1;
	} else {
		buf[base - buf - 1] = '\0';
		if (!realpath(buf[0] ? buf : "/", dir))
			return -1;
	}
	n = snprintf(out, outsz, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
		     base);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Does the head of the regular file arg match a [content] rule? */
static int content_hidden(const struct rules *r, const char *arg,
			  const struct rule_origin **why)
{
	char head[RULES_CONTENT_HEAD];
	ssize_t n;
	int fd, hit = 0;

	fd = open(arg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head));
	if (n > 0)
		hit = rules_content_hidden(r, head, (size_t)n, why);
	close(fd);
	return hit;
}

static int check_one(const struct rules *r, const struct rules_opts *o,
		     const char *project, const char *cwd_rel, const char *arg)
{
	const struct rule_origin *why = NULL, *content = NULL;
	char rel[PATH_MAX], abs[PATH_MAX], err[PATH_MAX + 256];
	size_t len = strlen(arg);
	enum rule_action action;
	struct stat st;
	int is_dir = 0, exists, rc;

	exists = lstat(arg, &st) == 0;
	if (exists) {
		if (resolve_existing(abs, sizeof(abs), arg) < 0) {
			cli_error_errno("cannot resolve '%s'", arg);
			return -1;
		}
		rc = rules_path_relative(rel, sizeof(rel), project, abs, err,
					 sizeof(err));
		is_dir = S_ISDIR(st.st_mode);
	} else if (arg[0] == '/') {
		rc = rules_path_relative(rel, sizeof(rel), project, arg, err,
					 sizeof(err));
	} else if (cwd_rel && cwd_rel[0]) {
		rc = snprintf(abs, sizeof(abs), "%s/%s", cwd_rel, arg);
		if (rc < 0 || (size_t)rc >= sizeof(abs)) {
			cli_error("path '%s' too long", arg);
			return -1;
		}
		rc = rules_path_normalize(rel, sizeof(rel), abs, NULL, err,
					  sizeof(err));
	} else {
		rc = rules_path_normalize(rel, sizeof(rel), arg, NULL, err,
					  sizeof(err));
	}
	if (rc < 0) {
		cli_error("%s", err);
		return -1;
	}
	if (o->dir || (len > 0 && arg[len - 1] == '/'))
		is_dir = 1;
	action = rules_decide(r, rel, is_dir, &why);
	if (action != RULE_HIDE && exists && S_ISREG(st.st_mode) &&
	    rules_has_content(r) && content_hidden(r, arg, &content)) {
		action = RULE_HIDE;
		why = content;
	}
	if (why)
		printf("%s:%u:%s\t%s\t%s\n", why->file, why->line, why->pattern,
		       action_name(action), arg);
	else
		printf("::\t%s\t%s\n", action_name(action), arg);
	return 0;
}

static int rules_check(int argc, char **argv)
{
	struct rules_opts o = { NULL, NULL, 0, NULL, 0 };
	char project[PATH_MAX], cwd[PATH_MAX], cwd_rel[PATH_MAX], err[256];
	const char *here = NULL;
	struct rules *r = NULL;
	int status = CLI_EXIT_FAIL, rc, i;

	rc = parse_opts(&o, argc, argv, 1);
	if (rc != 0) {
		status = cli_usage(usage_rules, rc > 0);
		goto out;
	}
	if (optind >= argc) {
		cli_error("rules check: no path given");
		status = cli_usage(usage_rules, 0);
		goto out;
	}
	if (!realpath(o.project ? o.project : ".", project)) {
		cli_error_errno("cannot use project '%s'",
				o.project ? o.project : ".");
		goto out;
	}
	if (realpath(".", cwd) &&
	    rules_path_relative(cwd_rel, sizeof(cwd_rel), project, cwd, err,
				sizeof(err)) == 0)
		here = cwd_rel;
	if (load(&r, &o, project) < 0)
		goto out;
	status = CLI_EXIT_OK;
	for (i = optind; i < argc; i++)
		if (check_one(r, &o, project, here, argv[i]) < 0)
			status = CLI_EXIT_FAIL;
out:
	rules_free(r);
	opts_release(&o);
	return status;
}

static int rules_list_cmd(int argc, char **argv)
{
	struct rules_opts o = { NULL, NULL, 0, NULL, 0 };
	struct rules *r = NULL;
	char project[PATH_MAX];
	int status = CLI_EXIT_FAIL, rc;

	rc = parse_opts(&o, argc, argv, 0);
	if (rc != 0) {
		status = cli_usage(usage_rules, rc > 0);
		goto out;
	}
	if (optind < argc) {
		cli_error("rules list: unexpected argument '%s'", argv[optind]);
		status = cli_usage(usage_rules, 0);
		goto out;
	}
	if (!realpath(o.project ? o.project : ".", project)) {
		cli_error_errno("cannot use project '%s'",
				o.project ? o.project : ".");
		goto out;
	}
	if (load(&r, &o, project) < 0)
		goto out;
	rules_list(r, stdout);
	status = CLI_EXIT_OK;
out:
	rules_free(r);
	opts_release(&o);
	return status;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} subcommands[] = {
	{ "check", rules_check },
	{ "list", rules_list_cmd },
};

int cmd_rules(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return cli_usage(usage_rules, 0);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_usage(usage_rules, 1);
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	cli_error("rules: '%s' is not a rules command (check, list)", argv[1]);
	return cli_usage(usage_rules, 0);
}
