/*
 * fs.c - set up, mount and serve the guarded filesystem.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return code;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	/* O_TRUNC arrives with open: copy-up can skip the data. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
		conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/*
	 * The kernel checks and caches POSIX ACLs itself: `ls -l` asks for
	 * system.posix_acl_access once per file, not on every call.  The
	 * kernel still applies the umask (no DONT_MASK).
	 */
	if (conn->capable & FUSE_CAP_POSIX_ACL)
		conn->want |= FUSE_CAP_POSIX_ACL;
	/* Directories are read without OPENDIR/RELEASEDIR round trips (and
	 * their listings stay cached): opendir answers ENOSYS once. */
	if (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT)
		fs->no_opendir = 1;
	/*
	 * No writeback cache: a write(2) that returned must be in the upper
	 * even when the daemon is killed a moment later.
	 */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* Locks stay local to this mount (the kernel keeps them). */
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	fs_log(fs, FS_LOG_DEBUG, "init: kernel protocol %u.%u",
	       conn->proto_major, conn->proto_minor);
}

/* Does renameat2(RENAME_WHITEOUT) work on the upper filesystem? */
static int probe_whiteout_rename(struct fs *fs)
{
	char a[64], b[64];
	int ok = 0, fd;

	upper_tmpname(fs, a, sizeof(a));
	upper_tmpname(fs, b, sizeof(b));
	fd = openat(fs->workfd, a, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return 0;
	close(fd);
	if (renameat2(fs->workfd, a, fs->workfd, b, RENAME_WHITEOUT) == 0) {
		struct stat st;

		ok = fstatat(fs->workfd, a, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			node_is_whiteout(&st);
		unlinkat(fs->workfd, b, 0);
	}
	unlinkat(fs->workfd, a, 0);
	return ok;
}

static int probe_whiteout(struct fs *fs)
{
	char a[64];

	upper_tmpname(fs, a, sizeof(a));
	if (mknodat(fs->workfd, a, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return -errno;
	unlinkat(fs->workfd, a, 0);
	return 0;
}

/*
 * A fresh upper root takes the project root's mode, owner and times (the
 * view's root is the project's); marked so an agent's later chmod stays.
 */
static void adopt_root(struct fs *fs, const struct stat *lower)
{
	struct timespec times[2] = { lower->st_atim, lower->st_mtim };
	uint64_t origin = lower->st_ino;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d/.", fs->root.ufd);
	if (lgetxattr(path, FS_XATTR_ORIGIN, NULL, 0) >= 0)
		return;
	(void)chown(path, lower->st_uid, lower->st_gid);
	(void)chmod(path, lower->st_mode & 07777);
	(void)utimensat(AT_FDCWD, path, times, 0);
	(void)lsetxattr(path, FS_XATTR_ORIGIN, &origin, sizeof(origin), 0);
}

/* Clean what an interrupted copy-up left in the work directory. */
static void clean_work(struct fs *fs)
{
	int fd = openat(fs->workfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *d;
	DIR *dir;

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((d = readdir(dir)))
		if (strncmp(d->d_name, "tmp.", 4) == 0)
			upper_remove_tree(fs->workfd, d->d_name);
	closedir(dir);
}

int fs_new(struct fs **out, const struct fs_options *opts, char *err,
	   size_t errsz)
{
	struct stat lst, ust;
	struct rlimit rl;
	struct fs *fs;
	int error;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return fail(err, errsz, -ENOMEM, "out of memory");
	fs->opts = *opts;
	fs->root.ufd = fs->root.lfd = fs->workfd = -1;
	pthread_rwlock_init(&fs->tree, NULL);
	pthread_mutex_init(&fs->table_lock, NULL);
	pthread_mutex_init(&fs->listing_lock, NULL);

	fs->root.lfd = open(opts->lower, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root.lfd < 0) {
		error = fail(err, errsz, -errno, "cannot open project '%s': %s",
			     opts->lower, strerror(errno));
		goto fail;
	}
	fs->root.ufd = open(opts->upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
	fs->workfd = open(opts->work, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root.ufd < 0 || fs->workfd < 0) {
		error = fail(err, errsz, -errno,
			     "cannot open session layer '%s': %s",
			     fs->root.ufd < 0 ? opts->upper : opts->work,
			     strerror(errno));
		goto fail;
	}
	if (fstat(fs->root.lfd, &lst) < 0 || fstat(fs->root.ufd, &ust) < 0) {
		error = fail(err, errsz, -errno, "cannot stat layers: %s",
			     strerror(errno));
		goto fail;
	}
	fs->lower_dev = lst.st_dev;
	fs->upper_dev = ust.st_dev;
	fs->root.type = S_IFDIR;
	fs->root.ino = lst.st_ino;
	fs->root.upper = 1;
	fs->root.lower = 1;
	fs->root.name = NULL;
	fs->root.decision = RULE_ALLOW;
	policy_init(fs);
	error = node_table_init(fs);
	if (error < 0) {
		fail(err, errsz, error, "out of memory");
		goto fail;
	}
	error = probe_whiteout(fs);
	if (error < 0) {
		fail(err, errsz, error,
		     "cannot create whiteouts in '%s': %s (the kernel must "
		     "allow character device 0/0, Linux 5.8 or later)",
		     opts->work, strerror(-error));
		goto fail;
	}
	fs->can_whiteout_rename = probe_whiteout_rename(fs);
	adopt_root(fs, &lst);
	clean_work(fs);

	/* Directory nodes hold descriptors: allow as many as we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	*out = fs;
	return 0;
fail:
	fs_free(fs);
	return error;
}

int fs_mount(struct fs *fs, const char *mountpoint, const char *fuse_opts,
	     char *err, size_t errsz)
{
	struct fuse_lowlevel_ops ops;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char optbuf[4096];
	int n;

	memset(&ops, 0, sizeof(ops));
	ops.init = op_init;
	ops_dir_fill(&ops);
	ops_file_fill(&ops);
	ops_attr_fill(&ops);

	n = snprintf(optbuf, sizeof(optbuf),
		     "nosuid,nodev,default_permissions,fsname=wardfs,"
		     "subtype=wardfs%s%s",
		     fuse_opts && *fuse_opts ? "," : "",
		     fuse_opts ? fuse_opts : "");
	if (n < 0 || (size_t)n >= sizeof(optbuf))
		return fail(err, errsz, -1, "mount options too long");
	if (fuse_opt_add_arg(&args, "wardfs") ||
	    fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, optbuf) ||
	    (fs->opts.debug && fuse_opt_add_arg(&args, "-d")))
		return fail(err, errsz, -1, "out of memory");

	fs->se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	fuse_opt_free_args(&args);
	if (!fs->se)
		return fail(err, errsz, -1,
			    "cannot start the filesystem (bad mount option "
			    "in '%s'?)", optbuf);
	if (fuse_session_mount(fs->se, mountpoint) != 0) {
		fuse_session_destroy(fs->se);
		fs->se = NULL;
		return fail(err, errsz, -1, "cannot mount on '%s'",
			    mountpoint);
	}
	fs->mountpoint = strdup(mountpoint);
	fs->mounted = 1;
	/* Nobody else may reach the project through our /proc entries. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(0);
	return 0;
}

int fs_serve(struct fs *fs)
{
	struct fuse_loop_config *cfg;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int error, threads;

	if (fuse_set_signal_handlers(fs->se) != 0)
		return -1;
	if (audit_start(fs) < 0)
		fs_log(fs, FS_LOG_WARN, "cannot open the audit log '%s'",
		       fs->opts.audit_path);
	if (control_start(fs) < 0)
		fs_log(fs, FS_LOG_WARN, "cannot listen in '%s'",
		       fs->opts.control_dir);
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		fuse_remove_signal_handlers(fs->se);
		return -1;
	}
	threads = fs->opts.threads > 0 ? fs->opts.threads :
		cpus > 2 ? (int)cpus : 2;
	fuse_loop_cfg_set_max_threads(cfg, (unsigned)threads);
	/* Keep every worker: libfuse would otherwise end and start threads
	 * on the request path all the time. */
	fuse_loop_cfg_set_idle_threads(cfg, (unsigned)threads);
	error = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	fuse_remove_signal_handlers(fs->se);
	control_stop(fs);
	fuse_session_unmount(fs->se);
	fs->mounted = 0;
	audit_stop(fs);
	return error < 0 ? -1 : 0;
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	if (fs->se) {
		if (fs->mounted)
			fuse_session_unmount(fs->se);
		fuse_session_destroy(fs->se);
	}
	node_table_release(fs);
	dirh_put(fs->root.listing);
	policy_release(fs);
	if (fs->root.ufd >= 0)
		close(fs->root.ufd);
	if (fs->root.lfd >= 0)
		close(fs->root.lfd);
	if (fs->workfd >= 0)
		close(fs->workfd);
	pthread_rwlock_destroy(&fs->tree);
	pthread_mutex_destroy(&fs->table_lock);
	pthread_mutex_destroy(&fs->listing_lock);
	free(fs->mountpoint);
	free(fs);
}

static long count_dir(int updir, int lowdir)
{
	struct dirent *d;
	long count = 0;
	DIR *dir;
	int fd;

	fd = openat(updir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -ENOMEM;
	}
	while ((d = readdir(dir))) {
		struct stat st, lst;
		int sub, sublow = -1;
		long n;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (strcmp(d->d_name, FS_OPAQUE_MARKER) == 0)
			continue;
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			count++;
			continue;
		}
		if (lowdir < 0 || fstatat(lowdir, d->d_name, &lst,
					  AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(lst.st_mode))
			count++;	/* a new directory */
		else
			sublow = openat(lowdir, d->d_name, O_PATH |
					O_DIRECTORY | O_CLOEXEC);
		sub = openat(fd, d->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0) {
			n = count_dir(sub, sublow);
			if (n > 0)
				count += n;
			close(sub);
		}
		if (sublow >= 0)
			close(sublow);
	}
	closedir(dir);
	return count;
}

long fs_count_changes(const char *upper, const char *lower)
{
	int up = open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int low = lower ? open(lower, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	long n;

	if (up < 0)
		return -errno;
	n = count_dir(up, low);
	close(up);
	if (low >= 0)
		close(low);
	return n;
}
