/*
 * sandbox.c - namespaces for `wardfs run`: the guarded view at the
 * project's own path, home secrets masked, the rest read-only.
 *
 * Stage A (a child of wardfs run) unshares the mount, PID (and network)
 * namespaces, with a user namespace first when not root.  Stage B, PID 1 of
 * the new PID namespace, arranges the mounts, then unshares a user and
 * mount namespace once more: the mounts it made become locked, so CMD,
 * even as root in its namespace, cannot unmount the view to reach the
 * project beneath.  Stage C execs CMD.  Model: bubblewrap.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "rules/banned.h"

#define EXIT_SETUP 125

static int report_fd = -1;	/* stage B/C -> wardfs run, close-on-exec */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						     noreturn));
static void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len > 0 && report_fd >= 0 &&
	    write(report_fd, msg, (size_t)len < sizeof(msg) ? (size_t)len :
		  sizeof(msg) - 1) < 0) {
		/* Nobody is listening: the status says enough. */
	}
	_exit(EXIT_SETUP);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, (size_t)len) == len;
	close(fd);
	return ok ? 0 : -1;
}

/* Map our ids into a user namespace we just entered. */
static int map_ids(uid_t uid, gid_t gid)
{
	char map[64];

	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		return -1;
	snprintf(map, sizeof(map), "%lu %lu 1\n", (unsigned long)uid,
		 (unsigned long)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -1;
	snprintf(map, sizeof(map), "%lu %lu 1\n", (unsigned long)gid,
		 (unsigned long)gid);
	return write_file("/proc/self/gid_map", map);
}

static int set_rdonly(const char *path, int rdonly, int recursive)
{
	struct mount_attr attr;

	memset(&attr, 0, sizeof(attr));
	if (rdonly)
		attr.attr_set = MOUNT_ATTR_RDONLY;
	else
		attr.attr_clr = MOUNT_ATTR_RDONLY;
	return (int)syscall(SYS_mount_setattr, AT_FDCWD, path,
			    recursive ? AT_RECURSIVE : 0, &attr, sizeof(attr));
}

static int exists(const char *path, struct stat *st)
{
	return lstat(path, st) == 0;
}

static void mask(const char *path)
{
	struct stat st;

	if (!exists(path, &st))
		return;
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV |
			  MS_NOEXEC | MS_RDONLY, "size=4k,mode=0500") < 0)
			die("cannot mask '%s': %s", path, strerror(errno));
	} else if (!S_ISLNK(st.st_mode)) {
		if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
			die("cannot mask '%s': %s", path, strerror(errno));
	}
}

static void lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("cannot configure loopback: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0))
		die("cannot bring up loopback: %s", strerror(errno));
	close(fd);
}

static void mkdir_p(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		(void)mkdir(buf, 0755);
		buf[i] = path[i];
	}
}

static int within(const char *path, const char *dir)
{
	return dir && path_is_within(path, dir);
}

/* Stage B: PID 1 of the new namespaces. */
static void arrange(const struct sandbox *sb, uid_t uid, gid_t gid)
{
	size_t i;
	int tree;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("cannot make mounts private: %s", strerror(errno));

	/* Writable paths become mounts of their own, made writable again
	 * after everything turns read-only. */
	for (i = 0; i < sb->nwritable; i++) {
		if (access(sb->writable[i], F_OK) < 0)
			continue;	/* nothing there to keep writable */
		if (mount(sb->writable[i], sb->writable[i], NULL,
			  MS_BIND | MS_REC, NULL) < 0)
			die("cannot keep '%s' writable: %s", sb->writable[i],
			    strerror(errno));
	}

	/* Take the view (this namespace's copy of its mount) aside before a
	 * private /tmp may cover it, then put it over the project. */
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, sb->view,
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		die("cannot take the view '%s': %s", sb->view,
		    strerror(errno));
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=1777") < 0)
		die("cannot mount a private /tmp: %s", strerror(errno));
	if (within(sb->project, "/tmp"))
		mkdir_p(sb->project);
	/* Shared memory too is private (python's multiprocessing needs it). */
	if (access("/dev/shm", F_OK) == 0 &&
	    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=1777") < 0)
		die("cannot mount a private /dev/shm: %s", strerror(errno));
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, sb->project,
		    MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die("cannot put the view over '%s': %s", sb->project,
		    strerror(errno));
	close(tree);

	for (i = 0; i < sb->nmasks; i++)
		if (!within(sb->masks[i], sb->project))
			mask(sb->masks[i]);
	if (sb->state && !within(sb->state, sb->project))
		mask(sb->state);

	if (set_rdonly("/", 1, 1) < 0)
		die("cannot make the filesystem read-only: %s",
		    strerror(errno));
	if (access("/dev/shm", F_OK) == 0)
		(void)set_rdonly("/dev/shm", 0, 0);
	if (set_rdonly("/tmp", 0, 0) < 0 || set_rdonly(sb->project, 0, 0) < 0)
		die("cannot make the view writable: %s", strerror(errno));
	for (i = 0; i < sb->nwritable; i++)
		if (!within(sb->writable[i], "/tmp") &&
		    access(sb->writable[i], F_OK) == 0 &&
		    set_rdonly(sb->writable[i], 0, 1) < 0)
			die("cannot keep '%s' writable: %s", sb->writable[i],
			    strerror(errno));
	(void)set_rdonly("/dev/pts", 0, 0);

	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0) {
		if (!sb->weaker)
			die("cannot mount a fresh /proc (protection: other "
			    "processes hidden): %s", strerror(errno));
	}
	if (sb->net_none)
		lo_up();

	/* Lock it all: a new user namespace cannot undo these mounts. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		if (!sb->weaker)
			die("cannot lock the mounts in a user namespace: %s",
			    strerror(errno));
	} else if (map_ids(uid, gid) < 0) {
		die("cannot map ids in the user namespace: %s",
		    strerror(errno));
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static int wait_status(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return EXIT_SETUP;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_SETUP;
}

/* Stage B continues as init: start CMD, reap everything, pass its status. */
static void init_and_exec(const struct sandbox *sb, char **argv)
{
	pid_t cmd, pid;
	int status, result = EXIT_SETUP;

	cmd = fork();
	if (cmd < 0)
		die("cannot fork: %s", strerror(errno));
	if (cmd == 0) {
		if (chdir(sb->cwd) < 0 && chdir(sb->project) < 0)
			die("cannot enter '%s': %s", sb->cwd, strerror(errno));
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		status = errno;
		if (report_fd >= 0)
			dprintf(report_fd, "cannot run '%s': %s", argv[0],
				strerror(status));
		_exit(status == ENOENT ? 127 : 126);
	}
	close(report_fd);
	report_fd = -1;
	for (;;) {
		pid = wait(&status);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pid != cmd)
			continue;
		if (WIFEXITED(status))
			result = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			result = 128 + WTERMSIG(status);
		/* CMD is done: its leftovers die with this namespace. */
		break;
	}
	_exit(result);
}

int sandbox_run(const struct sandbox *sb, char **argv)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int pipefd[2], view_fd, status, flags;
	char msg[1024];
	ssize_t n;
	size_t len = 0;
	pid_t a;

	/* Fail early, with a clear message, when the view is not there. */
	view_fd = open(sb->view, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (view_fd < 0) {
		cli_error_errno("cannot open the view '%s'", sb->view);
		return EXIT_SETUP;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		cli_error_errno("cannot start the sandbox");
		close(view_fd);
		return EXIT_SETUP;
	}
	fflush(stdout);
	fflush(stderr);
	a = fork();
	if (a < 0) {
		cli_error_errno("cannot start the sandbox");
		return EXIT_SETUP;
	}
	if (a == 0) {
		pid_t b;

		close(pipefd[0]);
		report_fd = pipefd[1];
		flags = CLONE_NEWNS | CLONE_NEWPID |
			(sb->net_none ? CLONE_NEWNET : 0);
		if (uid != 0)
			flags |= CLONE_NEWUSER;
		if (unshare(flags) < 0) {
			if (errno == EPERM || errno == EINVAL ||
			    errno == ENOSPC)
				die("the kernel refuses new namespaces "
				    "(%s%s): %s", uid ? "user, " : "",
				    "mount, pid", strerror(errno));
			die("cannot create namespaces: %s", strerror(errno));
		}
		if (uid != 0 && map_ids(uid, gid) < 0)
			die("cannot map ids in the user namespace: %s",
			    strerror(errno));
		b = fork();
		if (b < 0)
			die("cannot fork: %s", strerror(errno));
		if (b == 0) {
			arrange(sb, uid, gid);
			init_and_exec(sb, argv);
		}
		close(report_fd);
		_exit(wait_status(b));
	}
	close(pipefd[1]);
	close(view_fd);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (len < sizeof(msg) - 1 &&
	       (n = read(pipefd[0], msg + len, sizeof(msg) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	msg[len] = '\0';
	close(pipefd[0]);
	status = wait_status(a);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (len)
		cli_error("%s", msg);
	return status;
}

/* Try a namespace in a throwaway child. */
static int try_unshare(int flags, char *detail, size_t size)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		snprintf(detail, size, "fork: %s", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		if (unshare(flags) < 0)
			_exit(errno & 0xff);
		if ((flags & CLONE_NEWUSER) && map_ids(uid, gid) < 0)
			_exit(errno & 0xff);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) {
		snprintf(detail, size, "the probe died");
		return 0;
	}
	if (WEXITSTATUS(status) == 0) {
		snprintf(detail, size, "available");
		return 1;
	}
	snprintf(detail, size, "refused: %s", strerror(WEXITSTATUS(status)));
	return 0;
}

size_t sandbox_probe(struct sandbox_probe *out, size_t max)
{
	int root = geteuid() == 0, userns = root ? 0 : CLONE_NEWUSER;
	struct utsname u;
	size_t n = 0;
	int fd;

	if (n < max) {
		out[n].name = "fuse device";
		fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
		out[n].ok = fd >= 0;
		snprintf(out[n].detail, sizeof(out[n].detail), "%s",
			 fd >= 0 ? "/dev/fuse opens" : strerror(errno));
		if (fd >= 0)
			close(fd);
		n++;
	}
	if (n < max && !root) {
		out[n].name = "fusermount3";
		out[n].ok = access("/usr/bin/fusermount3", X_OK) == 0 ||
			access("/bin/fusermount3", X_OK) == 0;
		snprintf(out[n].detail, sizeof(out[n].detail), "%s",
			 out[n].ok ? "installed" :
			 "missing: apt-get install fuse3");
		n++;
	}
	if (n < max) {
		int ok = uname(&u) == 0;
		unsigned major = 0, minor = 0;

		if (ok)
			ok = sscanf(u.release, "%u.%u", &major, &minor) == 2;
		out[n].name = "whiteouts (Linux 5.8+)";
		out[n].ok = ok && (major > 5 || (major == 5 && minor >= 8));
		snprintf(out[n].detail, sizeof(out[n].detail), "kernel %s",
			 ok ? u.release : "unknown");
		n++;
	}
	if (n < max && !root) {
		out[n].name = "user namespace";
		out[n].ok = try_unshare(CLONE_NEWUSER, out[n].detail,
					sizeof(out[n].detail));
		n++;
	}
	if (n < max) {
		out[n].name = "mount namespace (view at project path)";
		out[n].ok = try_unshare(userns | CLONE_NEWNS, out[n].detail,
					sizeof(out[n].detail));
		n++;
	}
	if (n < max) {
		out[n].name = "pid namespace (daemon invisible)";
		out[n].ok = try_unshare(userns | CLONE_NEWPID, out[n].detail,
					sizeof(out[n].detail));
		n++;
	}
	if (n < max) {
		out[n].name = "network namespace (--net=none)";
		out[n].ok = try_unshare(userns | CLONE_NEWNET, out[n].detail,
					sizeof(out[n].detail));
		n++;
	}
	if (n < max) {
		out[n].name = "locked mounts (nested user namespace)";
		out[n].ok = try_unshare(CLONE_NEWUSER | CLONE_NEWNS,
					out[n].detail, sizeof(out[n].detail));
		n++;
	}
	return n;
}
