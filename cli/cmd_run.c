/*
 * cmd_run.c - wardfs run: CMD in an isolated view of the project.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "fs/fs.h"
#include "rules/rules.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs run [--net=none|host] [-s ID] [-o OPT] [--allow-weaker]",
	"                  [PROJECT] -- CMD [ARG...]",
	"",
	"Run CMD where the guarded view is the only view: the view is mounted",
	"over the project's own path, home secrets are masked, the rest of the",
	"filesystem is read-only but for a private /tmp and [run] writable",
	"paths, other processes are invisible.  Exits with CMD's status.",
	"",
	"    -s, --session ID   use session ID (default: the project's one",
	"                       session, or a new one)",
	"    --net=none|host    none: loopback only (default from [run] network)",
	"    -o OPT             mount options for a new mount (see wardfs mount)",
	"    --allow-weaker     go on when the kernel refuses a protection",
	"    -h, --help         show this help",
	NULL,
};

/* Home paths masked inside run, besides [run] mask. */
static const char *const default_masks[] = {
	"~/.ssh", "~/.aws", "~/.gnupg", "~/.config/gcloud", "~/.kube",
	"~/.docker", "~/.netrc", "~/.git-credentials", "~/.azure",
	"~/.config/gh", "~/.npmrc", "~/.pypirc", "~/.password-store",
};

/* Environment variables dropped, besides [run] env_drop. */
static const char *const default_env_drop[] = {
	"AWS_*", "*_TOKEN", "*_SECRET", "*_SECRET_*", "*PASSWORD*",
	"*_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS", "SSH_AUTH_SOCK",
	"GPG_AGENT_INFO", "AZURE_CLIENT_SECRET",
};

struct list {
	char **items;
	size_t n;
};

static int list_add(struct list *l, char *item)
{
	char **grown;

	if (!item)
		return -1;
	grown = realloc(l->items, (l->n + 1) * sizeof(*grown));
	if (!grown) {
		free(item);
		return -1;
	}
	l->items = grown;
	l->items[l->n++] = item;
	return 0;
}

static void list_clear(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static char *expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (strncmp(path, "~/", 2) == 0)
		return home && *home ? path_join(home, path + 2) : NULL;
	return strdup(path);
}

static void add_mask(const char *value, const struct rule_origin *o,
		     void *payload)
{
	(void)o;
	list_add(payload, expand_home(value));
}

static void add_env_drop(const char *value, const struct rule_origin *o,
			 void *payload)
{
	(void)o;
	list_add(payload, strdup(value));
}

static void set_network(const char *value, const struct rule_origin *o,
			void *payload)
{
	(void)o;
	*(int *)payload = strcmp(value, "none") == 0;
}

/* Drop secret-looking variables; print their names. */
static void drop_env(const struct list *patterns)
{
	extern char **environ;
	char **e, name[256];
	size_t i, len;
	int dropped;

	for (e = environ; *e;) {
		const char *eq = strchr(*e, '=');

		len = eq ? (size_t)(eq - *e) : strlen(*e);
		if (len >= sizeof(name)) {
			e++;
			continue;
		}
		memcpy(name, *e, len);
		name[len] = '\0';
		dropped = 0;
		for (i = 0; i < sizeof(default_env_drop) /
			     sizeof(default_env_drop[0]) && !dropped; i++)
			dropped = fnmatch(default_env_drop[i], name, 0) == 0;
		for (i = 0; i < patterns->n && !dropped; i++)
			dropped = fnmatch(patterns->items[i], name, 0) == 0;
		if (dropped) {
			fprintf(stderr, "wardfs: run: not passing $%s\n", name);
			unsetenv(name);	/* environ shifts: look again here */
		} else {
			e++;
		}
	}
}

/* Start `wardfs mount` for the project (or session) and read its lines. */
static int start_mount(const char *project, const char *id,
		       const char *opts, struct session *out)
{
	char *argv[8], line[PATH_MAX + 32], *nl;
	int pipefd[2], status, argc = 0;
	FILE *f;
	pid_t pid;

	argv[argc++] = (char *)"wardfs";
	argv[argc++] = (char *)"mount";
	if (opts) {
		argv[argc++] = (char *)"-o";
		argv[argc++] = (char *)opts;
	}
	if (id) {
		argv[argc++] = (char *)"-s";
		argv[argc++] = (char *)id;
	} else {
		argv[argc++] = (char *)project;
	}
	argv[argc] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(pipefd[1]);
	f = fdopen(pipefd[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "session ", 8) == 0)
			out->id = strdup(line + 8);
	}
	if (f)
		fclose(f);
	else
		close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || !out->id)
		return -1;
	return 0;
}

/* Without PROJECT: the git work tree holding cwd, else cwd itself. */
static const char *default_project(const char *cwd)
{
	static char top[PATH_MAX];
	struct stat st;
	char *slash, *git;

	snprintf(top, sizeof(top), "%s", cwd);
	for (;;) {
		git = path_join(top, ".git");
		if (git && stat(git, &st) == 0) {
			free(git);
			return top;
		}
		free(git);
		slash = strrchr(top, '/');
		if (!slash || slash == top)
			return cwd;
		*slash = '\0';
	}
}

/* The project's one session, if there is exactly one. */
static int find_session(const char *project, struct session *out)
{
	struct session *list = NULL;
	size_t n = 0, i, found = 0, which = 0;

	if (session_list(&list, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(list[i].project, project) == 0) {
			found++;
			which = i;
		}
	}
	if (found > 1) {
		cli_error("cannot choose a session for '%s': there are several; name one with -s:",
			  project);
		for (i = 0; i < n; i++)
			if (strcmp(list[i].project, project) == 0)
				fprintf(stderr, "\t%s\n", list[i].id);
		session_list_free(list, n);
		return -1;
	}
	if (found == 1) {
		*out = list[which];
		memset(&list[which], 0, sizeof(list[which]));
	}
	session_list_free(list, n);
	return 0;
}

static void summary(const struct session *s, const char *cmd, int status)
{
	char *upper = session_path(s, "upper");
	long changes = upper ? fs_count_changes(upper, s->project) : -1;

	free(upper);
	fprintf(stderr, "\nwardfs: '%s' exited with status %d; session %s "
		"holds %ld changed path%s\n", cmd, status, s->id,
		changes < 0 ? 0 : changes, changes == 1 ? "" : "s");
	fprintf(stderr, "  wardfs diff %s      review the change\n"
		"  wardfs accept %s    apply it to %s\n"
		"  wardfs discard %s   drop it\n", s->id, s->id, s->project,
		s->id);
}

int cmd_run(int argc, char **argv)
{
	enum { OPT_NET = 256, OPT_WEAKER };
	static const struct option longopts[] = {
		{ "session", required_argument, NULL, 's' },
		{ "net", required_argument, NULL, OPT_NET },
		{ "allow-weaker", no_argument, NULL, OPT_WEAKER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rules_config rc = RULES_CONFIG_INIT;
	struct list masks = { 0 }, writable = { 0 }, env_drop = { 0 };
	struct sandbox sb;
	struct session s = { 0 };
	struct rules *rules = NULL;
	const char *id = NULL, *opts = NULL, *project_arg = NULL;
	char project[PATH_MAX], cwd[PATH_MAX], err[8192], **cmd;
	char *home = NULL, *cwd_in = NULL;
	int c, net = -1, weaker = 0, mounted = 0, status = 125;
	size_t i;

	while ((c = getopt_long(argc, argv, "+s:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			id = optarg;
			break;
		case 'o':
			opts = optarg;
			break;
		case OPT_NET:
			if (strcmp(optarg, "none") && strcmp(optarg, "host")) {
				cli_error("bad option --net: it takes 'none' or 'host', not "
					  "'%s'", optarg);
				return CLI_EXIT_USAGE;
			}
			net = strcmp(optarg, "none") == 0;
			break;
		case OPT_WEAKER:
			weaker = 1;
			break;
		case 'h':
			return cli_usage(usage, 1);
		default:
			return cli_usage(usage, 0);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0 &&
	    strcmp(argv[optind], "--") != 0) {
		project_arg = argv[optind++];
	}
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	else if (strcmp(argv[optind - 1], "--") != 0)
		return cli_usage(usage, 0);
	if (optind >= argc)
		return cli_usage(usage, 0);
	cmd = argv + optind;

	if (!getcwd(cwd, sizeof(cwd))) {
		cli_error_errno("cannot get the working directory");
		return 125;
	}
	if (id) {
		if (session_load(&s, id) < 0)
			return 125;
		if (!realpath(s.project, project)) {
			cli_error_errno("cannot use project '%s'", s.project);
			goto out;
		}
	} else {
		if (!project_arg)
			project_arg = default_project(cwd);
		if (!realpath(project_arg, project)) {
			cli_error_errno("cannot use project '%s'",
					project_arg ? project_arg : cwd);
			return 125;
		}
		if (find_session(project, &s) < 0)
			goto out;
	}

	rc.project = project;
	rc.overrides = (const char *const *)s.overrides;
	rc.noverrides = s.noverrides;
	if (rules_load(&rules, &rc, NULL, NULL, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	rules_foreach_value(rules, "run", "mask", add_mask, &masks);
	rules_foreach_value(rules, "run", "writable", add_mask, &writable);
	rules_foreach_value(rules, "run", "env_drop", add_env_drop, &env_drop);
	if (net < 0) {
		net = 0;
		rules_foreach_value(rules, "run", "network", set_network, &net);
	}
	for (i = 0; i < sizeof(default_masks) / sizeof(default_masks[0]); i++)
		list_add(&masks, expand_home(default_masks[i]));
	for (i = 0; i < writable.n; i++) {
		/* An agent's state directory may not exist yet; a name with
		 * an extension (~/.claude.json) is a file, not created. */
		const char *base = strrchr(writable.items[i], '/');

		base = base ? base + 1 : writable.items[i];
		if (!strchr(base + 1, '.'))
			mkdir(writable.items[i], 0700);
	}

	if (!s.id || session_state(&s) != SESSION_LIVE) {
		struct session started = { 0 };

		if (s.id && session_state(&s) == SESSION_STALE)
			fprintf(stderr, "wardfs: run: recovering the stale "
				"session %s\n", s.id);
		if (start_mount(project, s.id, opts, &started) < 0) {
			cli_error("run: cannot mount the session");
			goto out;
		}
		session_release(&s);
		if (session_load(&s, started.id) < 0) {
			session_release(&started);
			goto out;
		}
		session_release(&started);
		mounted = 1;
	}

	if (path_is_within(cwd, project))
		cwd_in = strdup(cwd);
	home = session_home();
	memset(&sb, 0, sizeof(sb));
	sb.project = project;
	sb.view = s.mountpoint;
	sb.cwd = cwd_in ? cwd_in : project;
	sb.home = getenv("HOME");
	sb.state = home;
	sb.masks = masks.items;
	sb.nmasks = masks.n;
	sb.writable = writable.items;
	sb.nwritable = writable.n;
	sb.net_none = net;
	sb.weaker = weaker;
	drop_env(&env_drop);
	/* Snapshots before and after CMD (cmd_snapshot.c): undo points.  A
	 * failure is reported; CMD still runs guarded. */
	(void)cli_snapshot_run(s.id, "before", cmd);
	status = sandbox_run(&sb, cmd);
	if (status == 125)
		cli_hint("'wardfs doctor' shows which protections this "
			 "machine can give");
	(void)cli_snapshot_run(s.id, "after", cmd);
	summary(&s, cmd[0], status);
	if (mounted && session_unmount(s.mountpoint, 0) == 0)
		session_wait_unlocked(&s, 10000);
out:
	list_clear(&masks);
	list_clear(&writable);
	list_clear(&env_drop);
	rules_free(rules);
	session_release(&s);
	free(home);
	free(cwd_in);
	return status;
}
