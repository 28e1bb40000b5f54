/*
 * fs.h - the guarded filesystem: a FUSE overlay of a project.
 *
 * The merged view is the session's upper (copy-on-write) directory over the
 * project (lower), minus what the policy hides.  The lower is only ever
 * read; every change lands in the upper:
 *
 *   - a new or modified file, directory or symlink is an ordinary entry at
 *     the same relative path in the upper;
 *   - a deleted lower entry is a whiteout: a character device 0/0 of the
 *     same name;
 *   - a directory whose lower contents are masked (recreated over a deleted
 *     one, or moved) holds a whiteout named FS_OPAQUE_MARKER.
 *
 * Files are first built in the work directory (same filesystem as the
 * upper) and renamed into place, so no half-written copy is ever visible.
 */
#ifndef WARDFS_FS_H
#define WARDFS_FS_H

#include <stddef.h>
#include <stdint.h>

struct rules;
struct fs;

/* What the audit log records besides refusals. */
enum fs_audit_level {
	FS_AUDIT_DENIED,	/* refusals only */
	FS_AUDIT_WRITES,	/* and every change (the default) */
	FS_AUDIT_ALL,		/* and every open for reading */
};

#define FS_OPAQUE_MARKER ".wh..wh..opq"

enum fs_log_level {
	FS_LOG_ERROR,
	FS_LOG_WARN,
	FS_LOG_INFO,
	FS_LOG_DEBUG,
};

struct fs_options {
	const char *lower;	/* the project directory */
	const char *upper;	/* the session's copy-on-write directory */
	const char *work;	/* scratch directory, on the upper's fs */
	/* The policy; borrowed, must outlive the struct fs.  May be NULL. */
	const struct rules *rules;
	/*
	 * Kernel entry/attribute cache lifetime in seconds.  Every change
	 * made through the view, by accept or by a snapshot restore reaches
	 * the kernel's caches at once; only changes made to the project
	 * behind the session's back wait for this long.
	 */
	double timeout;
	/* Lower entries with this device and inode are hidden (the state
	 * directory, when it lies inside the project). */
	uint64_t hide_dev, hide_ino;
	/*
	 * Called, when not NULL, the first time the session changes a lower
	 * entry (copy-up, delete, rename), before the change: path is the
	 * project-relative path; dirfd and name reach the lower entry for
	 * reading (with *at() calls and AT_SYMLINK_NOFOLLOW).  Called with
	 * the filesystem's tree lock held: it must not touch the mount.
	 * A failure is logged; the change goes on.
	 */
	int (*base)(const char *path, int dirfd, const char *name,
		    void *payload);
	void *base_payload;
	/*
	 * The audit log: JSON Lines appended to this file (NULL: none), one
	 * object per event: time, pid, comm, op, path, result ("ok",
	 * "hidden", "denied" or an errno name).  Written by a thread of its
	 * own, so requests never wait for the disk.
	 */
	const char *audit_path;
	enum fs_audit_level audit_level;
	/*
	 * Directory (the session's) where the daemon listens on the
	 * FS_CONTROL_SOCKET for fs_control_refresh(); NULL: no control.
	 */
	const char *control_dir;
	/* Where messages go; NULL drops them.  level is an fs_log_level. */
	void (*log)(int level, const char *msg, void *payload);
	void *payload;
	/* Print every request (debug). */
	int debug;
	/*
	 * Threads serving requests; 0: one per CPU (at least 2).  More
	 * threads than CPUs only add context switches on every request.
	 */
	int threads;
	/*
	 * A file where [content] verdicts are kept between mounts of the
	 * same project (keyed by device, inode, size, mtime and ctime, and
	 * valid only for the same patterns); NULL: none.
	 */
	const char *content_cache;
};
#define FS_DEFAULT_TIMEOUT 3600.0
#define FS_MAX_TIMEOUT 86400.0
#define FS_MAX_THREADS 64
#define FS_OPTIONS_INIT { NULL, NULL, NULL, NULL, FS_DEFAULT_TIMEOUT, 0, 0, \
			  NULL, NULL, \
			  NULL, FS_AUDIT_WRITES, NULL, NULL, NULL, 0, 0, NULL }

/*
 * Open the layers and prepare a filesystem.  Returns 0, or -errno with a
 * message in err naming the layer that failed.  *out is freed by fs_free().
 */
int fs_new(struct fs **out, const struct fs_options *opts,
	   char *err, size_t errsz);

/*
 * Mount at mountpoint.  fuse_opts is a comma-separated list of extra
 * libfuse mount options (may be NULL); nosuid and nodev are always set.
 * Returns 0 or -1 with err filled.
 */
int fs_mount(struct fs *fs, const char *mountpoint, const char *fuse_opts,
	     char *err, size_t errsz);

/*
 * Serve requests until the filesystem is unmounted or SIGTERM/SIGINT/SIGHUP
 * arrives (then unmount).  Returns 0 on a clean end.
 */
int fs_serve(struct fs *fs);

/* Unmount (when mounted) and free; fs_free(NULL) is a no-op. */
void fs_free(struct fs *fs);

#define FS_CONTROL_SOCKET "control.sock"

/*
 * Tell the daemon serving the session directory dir that the layers
 * changed under these project-relative paths ("" for everything): it
 * forgets what it cached of them and drops the kernel's caches, so the
 * view shows the layers as they are now.  Returns 0 once the daemon has
 * done it, or -1 with err filled (no daemon, or it did not answer).
 */
int fs_control_refresh(const char *dir, const char *const *paths, size_t n,
		       char *err, size_t errsz);

/*
 * Count the changed paths recorded in an upper directory: files, symlinks,
 * whiteouts and directories that are new or opaque.  lower is the project
 * (to tell new directories from copied-up ones).  Returns the count or
 * -errno.
 */
long fs_count_changes(const char *upper, const char *lower);

#endif
