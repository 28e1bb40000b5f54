/*
 * cmd_mount.c - wardfs mount: start or resume a guarded session.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FUSE_USE_VERSION 312
#include <fuse_log.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "fs/fs.h"
#include "rules/rules.h"
#include "snapshot/snapshot.h"
#include "rules/banned.h"

static const char *const usage[] = {
	"usage: wardfs mount [-f] [-d] [-o OPT[,OPT...]] PROJECT [MOUNTPOINT]",
	"   or: wardfs mount [-f] [-d] [-o OPT[,OPT...]] -s ID [MOUNTPOINT]",
	"",
	"Start a guarded session over PROJECT (or resume session ID) and",
	"mount its merged view at MOUNTPOINT (default: inside the session",
	"directory).  Prints the session id and the mountpoint.",
	"",
	"    -s, --session ID    resume session ID",
	"    -f, --foreground    serve in the foreground until unmounted",
	"    -d, --debug         log every request (implies -f)",
	"    -o OPT              mount options, comma separated:",
	"                          allow_other, allow_root, fsname=NAME",
	"                          timeout=SECONDS (kernel caches, default 3600)",
	"                          threads=N (default: one per CPU)",
	"                          section.key=VALUE (config override, e.g.",
	"                          hide.path=build/secrets/)",
	"    -h, --help          show this help",
	NULL,
};

struct mount_opts {
	char fuse[1024];
	double timeout;
	int threads;
	const char **overrides;
	size_t noverrides;
	int foreground;
	int debug;
};

static int add_override(struct mount_opts *o, const char *opt)
{
	const char **grown = realloc(o->overrides, (o->noverrides + 1) *
				     sizeof(*grown));

	if (!grown)
		return -1;
	o->overrides = grown;
	o->overrides[o->noverrides++] = opt;
	return 0;
}

static int add_fuse_opt(struct mount_opts *o, const char *opt)
{
	size_t len = strlen(o->fuse);
	int n = snprintf(o->fuse + len, sizeof(o->fuse) - len, "%s%s",
			 len ? "," : "", opt);

	return (n < 0 || (size_t)n >= sizeof(o->fuse) - len) ? -1 : 0;
}

static int starts_option(const char *s)
{
	static const char *const names[] = {
		"allow_other", "allow_root", "default_permissions", "fsname=",
		"timeout=", "threads=", "debug",
	};
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (strncmp(s, names[i], n) == 0 &&
		    (names[i][n - 1] == '=' || s[n] == ',' || s[n] == '\0'))
			return 1;
	}
	/* section.key= */
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz");
	if (n == 0 || s[n] != '.')
		return 0;
	s += n + 1;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
	return n > 0 && s[n] == '=';
}

/* Parse one -o argument (modified in place; pieces stay borrowed). */
static int parse_opts(struct mount_opts *o, char *arg)
{
	char *opt, *next;

	for (opt = arg; opt; opt = next) {
		char *eq, *dot;

		/* A comma splits only where an option starts, so a pattern
		 * such as hide.path=re:a{1,3} stays whole. */
		for (next = strchr(opt, ','); next && !starts_option(next + 1);
		     next = strchr(next + 1, ','))
			;
		if (next)
			*next++ = '\0';
		eq = strchr(opt, '=');
		dot = strchr(opt, '.');
		if (!*opt)
			continue;
		if (eq && dot && dot < eq) {
			if (add_override(o, opt) < 0)
				return -1;
		} else if (strncmp(opt, "timeout=", 8) == 0) {
			char *end;

			o->timeout = strtod(opt + 8, &end);
			if (*end || end == opt + 8 || o->timeout < 0 ||
			    o->timeout > FS_MAX_TIMEOUT) {
				cli_error("bad mount option '%s': expected "
					  "seconds from 0 to %.0f", opt,
					  FS_MAX_TIMEOUT);
				return -1;
			}
		} else if (strncmp(opt, "threads=", 8) == 0) {
			char *end;
			unsigned long n = strtoul(opt + 8, &end, 10);

			if (*end || end == opt + 8 || n < 1 ||
			    n > FS_MAX_THREADS) {
				cli_error("bad mount option '%s': expected "
					  "a number of threads from 1 to %d",
					  opt, FS_MAX_THREADS);
				return -1;
			}
			o->threads = (int)n;
		} else if (strcmp(opt, "allow_other") == 0 ||
			   strcmp(opt, "allow_root") == 0 ||
			   strcmp(opt, "default_permissions") == 0 ||
			   strncmp(opt, "fsname=", 7) == 0) {
			if (add_fuse_opt(o, opt) < 0) {
				cli_error("bad mount options: too long");
				return -1;
			}
		} else if (strcmp(opt, "debug") == 0) {
			o->debug = 1;
		} else {
			cli_error("bad mount option '%s': unknown option", opt);
			return -1;
		}
	}
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Remove a session directory that never served (a failed new session). */
static void remove_session_dir(const struct session *s)
{
	if (s->dir)
		nftw(s->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int dir_is_empty(const char *path)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int empty = 1;

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			empty = 0;
	closedir(dir);
	return empty;
}

static int check_mountpoint(const char *arg, const char *project, char *real)
{
	struct stat st;
	int empty;

	if (!realpath(arg, real) || stat(real, &st) < 0) {
		cli_error_errno("cannot use mountpoint '%s'", arg);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_error("cannot use mountpoint '%s': not a directory", arg);
		return -1;
	}
	if (path_is_within(real, project)) {
		cli_error("cannot use mountpoint '%s': it is inside the "
			  "project '%s'", arg, project);
		cli_hint("mount the view outside the project, or use "
			 "'wardfs run' to see it at the project's own path");
		return -1;
	}
	empty = dir_is_empty(real);
	if (empty < 0) {
		cli_error_errno("cannot use mountpoint '%s'", arg);
		if (errno == ENOTCONN)
			cli_hint("a dead mount is there: 'wardfs status' "
				 "shows which session to recover");
		return -1;
	}
	if (!empty) {
		cli_error("cannot use mountpoint '%s': it is not empty", arg);
		return -1;
	}
	return 0;
}

static void log_to_stderr(int level, const char *msg, void *payload)
{
	static const char *const names[] = { "error", "warn", "info",
					     "debug" };

	(void)payload;
	fprintf(stderr, "wardfs[%ld]: %s: %s\n", (long)getpid(),
		level >= 0 && level <= FS_LOG_DEBUG ? names[level] : "?", msg);
}

static void fuse_log_to_stderr(enum fuse_log_level level, const char *fmt,
			       va_list ap)
{
	(void)level;
	fprintf(stderr, "wardfs[%ld]: fuse: ", (long)getpid());
	vfprintf(stderr, fmt, ap);
}

/* [audit] log = denied|writes|all */
static void audit_level(const char *value, const struct rule_origin *o,
			void *payload)
{
	enum fs_audit_level *level = payload;

	(void)o;
	if (strcmp(value, "denied") == 0)
		*level = FS_AUDIT_DENIED;
	else if (strcmp(value, "all") == 0)
		*level = FS_AUDIT_ALL;
	else
		*level = FS_AUDIT_WRITES;
}

/* [audit] reads = true: every open for reading too */
static void audit_reads(const char *value, const struct rule_origin *o,
			void *payload)
{
	(void)o;
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
	    strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
		*(enum fs_audit_level *)payload = FS_AUDIT_ALL;
}

static void warn_config(const char *msg, void *payload)
{
	(void)payload;
	fprintf(stderr, "wardfs: warning: %s\n", msg);
}

static void print_config_errors(const char *err)
{
	const char *line = err, *nl;

	while (*line) {
		nl = strchr(line, '\n');
		fprintf(stderr, "wardfs: %.*s\n",
			(int)(nl ? nl - line : (long)strlen(line)), line);
		if (!nl)
			break;
		line = nl + 1;
	}
}

/* Report to the waiting parent: "ok" or an error message. */
static void tell(int fd, const char *msg)
{
	size_t len = strlen(msg);

	if (fd >= 0 && write(fd, msg, len) != (ssize_t)len) {
		/* The parent is gone; nothing else to tell. */
	}
}

static void print_ready(const struct session *s)
{
	printf("session %s\nmountpoint %s\n", s->id, s->mountpoint);
	fflush(stdout);
}

/* Mount and serve (in this process).  ready_fd gets "ok" or the error. */
static int serve(struct fs *fs, const struct session *s,
		 const struct mount_opts *o, int ready_fd)
{
	char err[1024];
	char *log_path;
	int fd;

	if (fs_mount(fs, s->mountpoint, o->fuse, err, sizeof(err)) < 0) {
		if (ready_fd >= 0)
			tell(ready_fd, err);
		else
			cli_error("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (ready_fd < 0) {
		print_ready(s);
	} else {
		log_path = session_path(s, "daemon.log");
		fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND |
				     O_CLOEXEC, 0600) : -1;
		free(log_path);
		tell(ready_fd, "ok");
		close(ready_fd);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
	}
	fprintf(stderr, "wardfs[%ld]: serving session %s at %s\n",
		(long)getpid(), s->id, s->mountpoint);
	return fs_serve(fs) < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_mount(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "session", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mount_opts o = { "", FS_DEFAULT_TIMEOUT, 0, NULL, 0, 0, 0 };
	struct rules_config rc = RULES_CONFIG_INIT;
	struct fs_options fo = FS_OPTIONS_INIT;
	struct session s = { 0 };
	struct rules *rules = NULL;
	struct fs *fs = NULL;
	struct snapshot_store *store = NULL;
	const char *id = NULL, *mp_arg = NULL;
	char project[PATH_MAX], mp[PATH_MAX], err[8192];
	char *upper = NULL, *work = NULL, *lock_path = NULL, *home = NULL;
	char *content_cache = NULL;
	char *audit_path = NULL;
	const char **all = NULL;
	size_t nall = 0, i;
	int c, status = CLI_EXIT_FAIL, lock_fd = -1, is_new = 0;
	int pipefd[2] = { -1, -1 };
	struct stat st;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+s:fdo:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 's':
			id = optarg;
			break;
		case 'f':
			o.foreground = 1;
			break;
		case 'd':
			o.debug = 1;
			o.foreground = 1;
			break;
		case 'o':
			if (parse_opts(&o, optarg) < 0) {
				free(o.overrides);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			free(o.overrides);
			return cli_usage(usage, 1);
		default:
			free(o.overrides);
			return cli_usage(usage, 0);
		}
	}
	argc -= optind;
	argv += optind;
	if ((id && argc > 1) || (!id && (argc < 1 || argc > 2))) {
		free(o.overrides);
		return cli_usage(usage, 0);
	}
	if (id)
		mp_arg = argc ? argv[0] : NULL;
	else
		mp_arg = argc > 1 ? argv[1] : NULL;

	if (session_home_create() < 0)
		goto out;
	if (id) {
		enum session_state state;

		if (session_load(&s, id) < 0)
			goto out;
		state = session_state(&s);
		if (state == SESSION_LIVE) {
			cli_error("cannot mount session '%s': already mounted "
				  "at '%s'", s.id, s.mountpoint);
			goto out;
		}
		if (state == SESSION_STALE) {
			/* The daemon died: clear its dead mount first. */
			if (session_unmount(s.mountpoint, 1) < 0) {
				cli_error("cannot clear the stale mount at "
					  "'%s': it is busy",
					  s.mountpoint);
				goto out;
			}
		}
		if (!realpath(s.project, project)) {
			cli_error_errno("cannot use project '%s'", s.project);
			goto out;
		}
	} else {
		if (!realpath(argv[0], project) || stat(project, &st) < 0) {
			cli_error_errno("cannot use project '%s'", argv[0]);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			cli_error("cannot use project '%s': not a directory",
				  argv[0]);
			goto out;
		}
	}
	if (mp_arg && check_mountpoint(mp_arg, project, mp) < 0)
		goto out;

	/* A resumed session keeps the overrides it was mounted with. */
	all = calloc(s.noverrides + o.noverrides + 1, sizeof(*all));
	if (!all) {
		cli_error("cannot mount: out of memory");
		goto out;
	}
	for (i = 0; i < s.noverrides; i++)
		all[nall++] = s.overrides[i];
	for (i = 0; i < o.noverrides; i++)
		all[nall++] = o.overrides[i];
	rc.project = project;
	rc.overrides = all;
	rc.noverrides = nall;
	if (rules_load(&rules, &rc, warn_config, NULL, err, sizeof(err)) < 0) {
		print_config_errors(err);
		cli_hint("'wardfs rules list' shows the policy once it loads");
		goto out;
	}

	if (!id) {
		if (session_create(&s, project) < 0)
			goto out;
		is_new = 1;
		s.mountpoint = mp_arg ? strdup(mp) : session_path(&s, "mnt");
		if (!s.mountpoint ||
		    session_set_overrides(&s, all, nall) < 0 ||
		    session_save(&s) < 0)
			goto out;
	} else if (mp_arg || o.noverrides) {
		if (mp_arg) {
			free(s.mountpoint);
			s.mountpoint = strdup(mp);
		}
		if (!s.mountpoint ||
		    session_set_overrides(&s, all, nall) < 0 ||
		    session_save(&s) < 0)
			goto out;
	}
	if (id && !mp_arg && check_mountpoint(s.mountpoint, project, mp) < 0) {
		goto out;
	}

	lock_path = session_path(&s, "lock");
	lock_fd = lock_path ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC,
				   0600) : -1;
	if (lock_fd < 0) {
		cli_error_errno("cannot open '%s'", lock_path);
		goto out;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		cli_error("cannot mount session '%s': already mounted at '%s'",
			  s.id, s.mountpoint);
		goto out;
	}

	upper = session_path(&s, "upper");
	work = session_path(&s, "work");
	home = session_home();
	fo.lower = project;
	fo.upper = upper;
	fo.work = work;
	fo.rules = rules;
	fo.timeout = o.timeout;
	fo.threads = o.threads;
	content_cache = session_content_cache(project);
	fo.content_cache = content_cache;
	fo.debug = o.debug;
	fo.log = log_to_stderr;
	audit_path = session_path(&s, "audit.jsonl");
	fo.audit_path = audit_path;
	fo.control_dir = s.dir;
	fo.audit_level = FS_AUDIT_WRITES;
	rules_foreach_value(rules, "audit", "log", audit_level,
			    &fo.audit_level);
	rules_foreach_value(rules, "audit", "reads", audit_reads,
			    &fo.audit_level);
	if (home && stat(home, &st) == 0) {
		fo.hide_dev = st.st_dev;
		fo.hide_ino = st.st_ino;
	}
	/* The session's store records the base of every changed path. */
	if (snapshot_store_open(&store, s.dir, err, sizeof(err)) < 0 ||
	    snapshot_store_use_project(store, project, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	fo.base = snapshot_capture_base;
	fo.base_payload = store;
	if (fs_new(&fs, &fo, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	fuse_set_log_func(fuse_log_to_stderr);
	signal(SIGPIPE, SIG_IGN);

	if (o.foreground) {
		status = serve(fs, &s, &o, -1);
		is_new = 0;	/* it served (or printed why not) */
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		cli_error_errno("cannot start the daemon");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		cli_error_errno("cannot start the daemon");
		goto out;
	}
	if (pid == 0) {
		close(pipefd[0]);
		setsid();
		status = serve(fs, &s, &o, pipefd[1]);
		fs_free(fs);
		snapshot_store_free(store);
		rules_free(rules);
		_exit(status);
	} else {
		char msg[1024];
		ssize_t n;
		size_t len = 0;

		close(pipefd[1]);
		pipefd[1] = -1;
		while (len < sizeof(msg) - 1 &&
		       (n = read(pipefd[0], msg + len,
				 sizeof(msg) - 1 - len)) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			len += (size_t)n;
		}
		msg[len] = '\0';
		if (strcmp(msg, "ok") == 0) {
			print_ready(&s);
			status = CLI_EXIT_OK;
			is_new = 0;
		} else {
			cli_error("%s", len ? msg :
				  "the daemon exited before the mount was "
				  "ready");
			waitpid(pid, NULL, 0);
		}
	}
out:
	if (status != CLI_EXIT_OK && is_new) {
		if (lock_fd >= 0) {
			close(lock_fd);
			lock_fd = -1;
		}
		remove_session_dir(&s);
	}
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (lock_fd >= 0)
		close(lock_fd);
	fs_free(fs);
	snapshot_store_free(store);
	rules_free(rules);
	session_release(&s);
	free(o.overrides);
	free(upper);
	free(work);
	free(lock_path);
	free(home);
	free(content_cache);
	free(audit_path);
	free(all);
	return status;
}
