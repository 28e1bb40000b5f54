/*
 * session.c - session directories: create, load, list, find, state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "fs/fs.h"
#include "rules/banned.h"

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	if (la && a[la - 1] != '/')
		s[la++] = '/';
	memcpy(s + la, b, lb + 1);
	return s;
}

int path_is_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
					      path[n] == '/');
}

char *session_home(void)
{
	const char *home = getenv("WARDFS_HOME"), *base;
	char *state, *out;

	if (home && *home)
		return strdup(home);
	base = getenv("XDG_STATE_HOME");
	if (base && *base)
		return path_join(base, "wardfs");
	base = getenv("HOME");
	if (!base || !*base)
		base = "/";
	state = path_join(base, ".local/state");
	if (!state)
		return NULL;
	out = path_join(state, "wardfs");
	free(state);
	return out;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		buf[i] = path[i];
	}
	return 0;
}

static char *sessions_dir(void)
{
	char *home = session_home(), *dir;

	if (!home)
		return NULL;
	dir = path_join(home, "sessions");
	free(home);
	return dir;
}

int session_home_create(void)
{
	char *dir = sessions_dir();
	int error = 0;

	if (!dir) {
		cli_error("out of memory");
		return -1;
	}
	if (mkdir_p(dir, 0700) < 0 || access(dir, W_OK | X_OK) < 0) {
		cli_error_errno("cannot create the state directory '%s'", dir);
		cli_hint("set WARDFS_HOME to a writable directory");
		error = -1;
	}
	free(dir);
	return error;
}

char *session_content_cache(const char *project)
{
	char *home = session_home(), *dir = NULL, *out = NULL;
	char name[64];
	uint64_t h = 14695981039346656037ULL;
	const char *p;

	if (!home)
		return NULL;
	for (p = project; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	dir = path_join(home, "cache");
	if (dir && mkdir_p(dir, 0700) == 0) {
		snprintf(name, sizeof(name), "content-%016llx",
			 (unsigned long long)h);
		out = path_join(dir, name);
	}
	free(dir);
	free(home);
	return out;
}

char *session_path(const struct session *s, const char *name)
{
	return path_join(s->dir, name);
}

int session_set_overrides(struct session *s, const char *const *list,
			  size_t n)
{
	char **copy = NULL;
	size_t i;

	if (n) {
		copy = calloc(n, sizeof(*copy));
		if (!copy)
			return -1;
		for (i = 0; i < n; i++) {
			copy[i] = strdup(list[i]);
			if (!copy[i]) {
				while (i--)
					free(copy[i]);
				free(copy);
				return -1;
			}
		}
	}
	for (i = 0; i < s->noverrides; i++)
		free(s->overrides[i]);
	free(s->overrides);
	s->overrides = copy;
	s->noverrides = n;
	return 0;
}

void session_release(struct session *s)
{
	free(s->id);
	free(s->dir);
	free(s->project);
	free(s->mountpoint);
	session_set_overrides(s, NULL, 0);
	memset(s, 0, sizeof(*s));
}

static int read_field(void *user, const char *section, const char *name,
		       const char *value)
{
	struct session *s = user;
	char **field = NULL;

	if (strcmp(section, "session") != 0)
		return 1;
	if (strcmp(name, "override") == 0) {
		char **grown = realloc(s->overrides, (s->noverrides + 1) *
				       sizeof(*grown));

		if (!grown)
			return 0;
		s->overrides = grown;
		s->overrides[s->noverrides] = strdup(value);
		if (s->overrides[s->noverrides])
			s->noverrides++;
		return 1;
	}
	if (strcmp(name, "project") == 0)
		field = &s->project;
	else if (strcmp(name, "mountpoint") == 0)
		field = &s->mountpoint;
	if (field) {
		free(*field);
		*field = strdup(value);
	}
	return 1;
}

static int valid_id(const char *id)
{
	size_t i;

	if (!*id || strlen(id) > 64 || id[0] == '.')
		return 0;
	for (i = 0; id[i]; i++)
		if (!(id[i] == '-' || id[i] == '_' || id[i] == '.' ||
		      (id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z')))
			return 0;
	return 1;
}

static int load_quiet(struct session *s, const char *id)
{
	char *dir = sessions_dir(), *ini;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!dir || !valid_id(id)) {
		free(dir);
		errno = ENOENT;
		return -1;
	}
	s->id = strdup(id);
	s->dir = path_join(dir, id);
	free(dir);
	ini = s->dir ? session_path(s, "session.ini") : NULL;
	rc = ini ? ini_parse(ini, read_field, s) : -1;
	free(ini);
	if (rc != 0 || !s->project || !s->mountpoint) {
		session_release(s);
		errno = rc < 0 ? ENOENT : EINVAL;
		return -1;
	}
	return 0;
}

int session_load(struct session *s, const char *id)
{
	if (load_quiet(s, id) == 0)
		return 0;
	if (errno == EINVAL)
		cli_error("session '%s': its session.ini is damaged", id);
	else
		cli_error("cannot find session '%s': no such session", id);
	cli_hint("'wardfs status' lists the sessions");
	return -1;
}

int session_save(const struct session *s)
{
	char *path = session_path(s, "session.ini"), *tmp = NULL;
	time_t now = time(NULL);
	struct tm tm;
	char stamp[64];
	FILE *f = NULL;
	int error = -1;
	size_t i;

	if (!path)
		goto out;
	tmp = path_join(s->dir, "session.ini.tmp");
	if (!tmp)
		goto out;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	f = fopen(tmp, "we");
	if (!f)
		goto out;
	fprintf(f, "[session]\nid = %s\nproject = %s\nmountpoint = %s\n"
		"saved = %s\n", s->id, s->project, s->mountpoint, stamp);
	for (i = 0; i < s->noverrides; i++)
		fprintf(f, "override = %s\n", s->overrides[i]);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	if (rename(tmp, path) < 0)
		goto out;
	error = 0;
out:
	if (error < 0)
		cli_error_errno("cannot write '%s'",
				path ? path : "session.ini");
	if (f)
		fclose(f);
	if (error < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(path);
	return error;
}

int session_create(struct session *s, const char *project)
{
	static const char *const subdirs[] = { "upper", "work", "mnt" };
	char *dir = sessions_dir(), name[40], id[64];
	const char *base = strrchr(project, '/');
	unsigned char rnd[3];
	size_t i, n = 0;
	int tries;

	memset(s, 0, sizeof(*s));
	if (!dir) {
		cli_error("out of memory");
		return -1;
	}
	base = base && base[1] ? base + 1 : "root";
	for (i = 0; base[i] && n < sizeof(name) - 1 && n < 24; i++) {
		char c = base[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
			c = '-';
		name[n++] = c;
	}
	name[n] = '\0';
	if (!n || name[0] == '-')
		snprintf(name, sizeof(name), "session");

	for (tries = 0; tries < 16; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			continue;
		snprintf(id, sizeof(id), "%s-%02x%02x%02x", name, rnd[0],
			 rnd[1], rnd[2]);
		free(s->dir);
		s->dir = path_join(dir, id);
		if (!s->dir)
			break;
		if (mkdir(s->dir, 0700) == 0)
			break;
		if (errno != EEXIST) {
			cli_error_errno("cannot create session directory '%s'",
					s->dir);
			free(dir);
			session_release(s);
			return -1;
		}
	}
	free(dir);
	if (!s->dir || tries == 16) {
		cli_error("cannot create a session directory: no free name");
		session_release(s);
		return -1;
	}
	s->id = strdup(id);
	s->project = strdup(project);
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *sub = session_path(s, subdirs[i]);

		if (!sub || mkdir(sub, 0700) < 0) {
			cli_error_errno("cannot create '%s'", sub ? sub : "?");
			free(sub);
			session_release(s);
			return -1;
		}
		free(sub);
	}
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct session *)a)->id,
		      ((const struct session *)b)->id);
}

int session_list(struct session **out, size_t *count)
{
	char *dir = sessions_dir();
	struct session *list = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *d;
	DIR *stream;

	*out = NULL;
	*count = 0;
	if (!dir)
		return -1;
	stream = opendir(dir);
	free(dir);
	if (!stream)
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(stream))) {
		struct session s;

		if (d->d_name[0] == '.' || load_quiet(&s, d->d_name) < 0)
			continue;
		if (n == alloc) {
			struct session *grown;

			alloc = alloc ? alloc * 2 : 8;
			grown = realloc(list, alloc * sizeof(*list));
			if (!grown) {
				session_release(&s);
				break;
			}
			list = grown;
		}
		list[n++] = s;
	}
	closedir(stream);
	if (n)
		qsort(list, n, sizeof(*list), id_cmp);
	*out = list;
	*count = n;
	return 0;
}

void session_list_free(struct session *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		session_release(&list[i]);
	free(list);
}

static int take(struct session *out, struct session *from)
{
	*out = *from;
	memset(from, 0, sizeof(*from));
	return 0;
}

int session_resolve(struct session *out, const char *arg)
{
	struct session *list = NULL;
	char cwd[PATH_MAX], real[PATH_MAX];
	size_t n = 0, i, found = 0, which = 0;
	int error = -1;

	memset(out, 0, sizeof(*out));
	if (arg && valid_id(arg) && load_quiet(out, arg) == 0)
		return 0;
	if (session_list(&list, &n) < 0) {
		cli_error_errno("cannot list sessions");
		return -1;
	}
	if (arg) {
		if (!realpath(arg, real)) {
			cli_error("cannot find session '%s': no such session",
				  arg);
			cli_hint("'wardfs status' lists the sessions");
			goto out;
		}
		/* Several sessions may have used this mountpoint: the live
		 * one, else the first. */
		for (i = 0; i < n && error < 0; i++)
			if (strcmp(list[i].mountpoint, real) == 0 &&
			    session_state(&list[i]) == SESSION_LIVE)
				error = take(out, &list[i]);
		for (i = 0; i < n && error < 0; i++)
			if (strcmp(list[i].mountpoint, real) == 0)
				error = take(out, &list[i]);
		if (error < 0) {
			cli_error("cannot find session '%s': nothing is "
				  "mounted there", arg);
			cli_hint("'wardfs status' lists the sessions");
		}
		goto out;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		cli_error_errno("cannot get the working directory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (path_is_within(cwd, list[i].project) ||
		    path_is_within(cwd, list[i].mountpoint)) {
			found++;
			which = i;
		}
	}
	if (found == 1) {
		error = take(out, &list[which]);
		goto out;
	}
	if (found == 0) {
		cli_error("cannot find a session for '%s': none here", cwd);
		cli_hint("name one: 'wardfs status' lists the sessions");
		goto out;
	}
	cli_error("cannot choose a session for '%s': name one of:", cwd);
	for (i = 0; i < n; i++)
		if (path_is_within(cwd, list[i].project) ||
		    path_is_within(cwd, list[i].mountpoint))
			fprintf(stderr, "\t%s\t%s\n", list[i].id,
				list[i].mountpoint);
out:
	session_list_free(list, n);
	return error;
}

static int locked(const struct session *s)
{
	char *path = session_path(s, "lock");
	int fd, held = 0;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		held = errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* Undo the octal escapes of /proc/self/mounts in place. */
static void unescape(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				       (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

int session_is_mounted(const char *mountpoint)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[8192];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *src = line, *dir, *type, *end;

		dir = strchr(src, ' ');
		if (!dir)
			continue;
		*dir++ = '\0';
		type = strchr(dir, ' ');
		if (!type)
			continue;
		*type++ = '\0';
		end = strchr(type, ' ');
		if (end)
			*end = '\0';
		unescape(dir);
		if (strcmp(type, "fuse.wardfs") == 0 &&
		    strcmp(dir, mountpoint) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

enum session_state session_state(const struct session *s)
{
	if (locked(s))
		return SESSION_LIVE;
	if (session_is_mounted(s->mountpoint))
		return SESSION_STALE;
	return SESSION_UNMOUNTED;
}

const char *session_state_name(enum session_state state)
{
	switch (state) {
	case SESSION_UNMOUNTED:
		return "unmounted";
	case SESSION_LIVE:
		return "live";
	case SESSION_STALE:
		return "stale";
	}
	return "?";
}

int session_unmount(const char *mountpoint, int lazy)
{
	pid_t pid;
	int status;

	if (geteuid() == 0) {
		if (umount2(mountpoint, lazy ? MNT_DETACH : 0) == 0)
			return 0;
		if (errno != EPERM)
			return -errno;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u",
		       "--", mountpoint, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return -EBUSY;
}

int session_refresh(const struct session *s, const char *const *paths,
		    size_t n)
{
	char err[512];

	if (session_state(s) != SESSION_LIVE)
		return 0;
	if (fs_control_refresh(s->dir, paths, n, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

int session_wait_unlocked(const struct session *s, int ms)
{
	for (; ms > 0; ms -= 20) {
		if (!locked(s))
			return 0;
		usleep(20 * 1000);
	}
	return locked(s) ? -1 : 0;
}
