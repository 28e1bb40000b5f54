/*
 * snap_make.c - making the entries of an upper layer as records say.
 *
 * Every new entry is built as a temporary in <session>/work (same
 * filesystem as the upper: content, owner, mode, extended attributes,
 * times) and renamed into place, so no half-made entry is ever visible and
 * an open descriptor of a replaced file behaves as after a rename over
 * it.  An entry whose type and content already match its record stays
 * (only its metadata is set), and so do its inode and open descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

void snap_touched(struct snap_restore *r, const char *path)
{
	if (!r->quiet && r->opts->touched)
		r->opts->touched(path, r->opts->payload);
}

static void progress(struct snap_restore *r)
{
	r->done++;
	if (!r->opts->progress || r->total < 100)
		return;
	if (r->done % 50 == 0 || r->done == r->total)
		fprintf(stderr, "\rrestoring: %zu/%zu entries", r->done,
			r->total);
	if (r->done == r->total)
		fputc('\n', stderr);
}

void snap_tmp_name(struct snap_restore *r, char *buf, size_t size)
{
	snprintf(buf, size, SNAP_WORK_PREFIX "%ld.%lu", (long)getpid(),
		 r->ntmp++);
}

/* Split path into its directory (in dir[0..size)) and its last name. */
int snap_split(const char *path, char *dir, size_t size, const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;

	if (len >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, len);
	dir[len] = '\0';
	*name = slash ? slash + 1 : path;
	return 0;
}

int snap_remove_tree(int parent, const char *name)
{
	char **names = NULL;
	struct stat sb;
	size_t n = 0, i;
	int fd;

	if (fstatat(parent, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -1 :
			0;
	fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (snap_names(fd, &names, &n) == 0)
		for (i = 0; i < n; i++)
			snap_remove_tree(fd, names[i]);
	snap_names_free(names, n);
	close(fd);
	return unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ?
		-1 : 0;
}

/* ------------------------------------------------------------------ */
/* Metadata */

static int has_xattr(const struct snap_entry *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nxattrs; i++)
		if (strcmp(e->xattrs[i].name, name) == 0)
			return 1;
	return 0;
}

/* Best effort: the entry's extended attributes, and no others (but
 * security.* and system.*, which belong to the machine). */
static void set_xattrs(int dirfd, const char *name, const struct snap_entry *e)
{
	char path[PATH_MAX], *list = NULL, *n, *cur = NULL;
	ssize_t len;
	size_t i;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
	len = llistxattr(path, NULL, 0);
	if (len > 0)
		list = malloc((size_t)len);
	if (list)
		len = llistxattr(path, list, (size_t)len);
	for (n = list; list && len > 0 && n < list + len; n += strlen(n) + 1)
		if (strncmp(n, "security.", 9) != 0 &&
		    strncmp(n, "system.", 7) != 0 && !has_xattr(e, n))
			(void)lremovexattr(path, n);
	free(list);
	for (i = 0; i < e->nxattrs; i++) {
		const struct snap_xattr *x = &e->xattrs[i];

		free(cur);
		cur = malloc(x->len + 1);
		if (cur && lgetxattr(path, x->name, cur, x->len + 1) ==
		    (ssize_t)x->len && memcmp(cur, x->value, x->len) == 0)
			continue;
		(void)lsetxattr(path, x->name, x->value, x->len, 0);
	}
	free(cur);
}

/* The entry's owner (when permitted), mode and extended attributes. */
static int set_meta(int dirfd, const char *name, const struct snap_entry *e)
{
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (sb.st_uid != e->uid || sb.st_gid != e->gid) {
		/* not permitted for an ordinary user: keep our own */
		(void)fchownat(dirfd, name, e->uid, e->gid,
			       AT_SYMLINK_NOFOLLOW);
	}
	if (S_ISLNK(e->mode) || S_ISCHR(e->mode))
		return 0;
	if ((sb.st_mode & 07777) != (e->mode & 07777) &&
	    fchmodat(dirfd, name, e->mode & 07777, 0) < 0)
		return -1;
	set_xattrs(dirfd, name, e);
	return 0;
}

static int set_times(int dirfd, const char *name, const struct snap_entry *e)
{
	struct timespec t[2];

	t[0].tv_sec = 0;
	t[0].tv_nsec = UTIME_OMIT;
	t[1] = e->mtime;
	return utimensat(dirfd, name, t, AT_SYMLINK_NOFOLLOW);
}

/* ------------------------------------------------------------------ */
/* Content */

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Does the existing entry (status sb) have e's type and content? */
static int same_as(struct snap_restore *r, int dirfd, const char *name,
		   const struct stat *sb, const struct snap_entry *e)
{
	git_odb *odb = r->snap->store->odb;
	char buf[PATH_MAX];
	git_object_t type;
	size_t size;
	ssize_t len;
	git_oid oid;
	int fd, rc;

	if ((sb->st_mode & S_IFMT) != (e->mode & S_IFMT))
		return 0;
	if (S_ISCHR(e->mode))
		return snap_is_whiteout(sb);
	if (S_ISLNK(e->mode)) {
		len = readlinkat(dirfd, name, buf, sizeof(buf));
		return len >= 0 && (size_t)len < sizeof(buf) &&
			git_odb_hash(&oid, buf, (size_t)len,
				     GIT_OBJECT_BLOB) == 0 &&
			git_oid_equal(&oid, &e->oid);
	}
	if (!S_ISREG(e->mode))
		return 1;	/* a fifo or a socket */
	if (git_odb_read_header(&size, &type, odb, &e->oid) < 0 ||
	    (uint64_t)size != (uint64_t)sb->st_size)
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0)
		return 0;
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd);
	rc = git_odb_hashfile(&oid, buf, GIT_OBJECT_BLOB);
	close(fd);
	return rc == 0 && git_oid_equal(&oid, &e->oid);
}

/* Move the work entry tmp to dirfd/name, replacing what is there. */
static int replace(struct snap_restore *r, const char *tmp, int dirfd,
		   const char *name)
{
	if (renameat(r->workfd, tmp, dirfd, name) == 0)
		return 0;
	if (errno != ENOTDIR && errno != EISDIR && errno != ENOTEMPTY &&
	    errno != EEXIST)
		return -1;
	if (renameat2(r->workfd, tmp, dirfd, name, RENAME_EXCHANGE) < 0)
		return -1;
	return snap_remove_tree(r->workfd, tmp);
}

/*
 * Make the work entry tmp as e says (a directory is made empty; opaque:
 * with the opaque marker).  Returns 0, or -1 with errno set (EIO: the
 * blob could not be read, the libgit2 error set).
 */
static int build(struct snap_restore *r, const char *tmp,
		 const struct snap_entry *e, int opaque)
{
	git_odb_object *obj = NULL;
	char target[PATH_MAX];
	size_t len;
	int fd = -1, sub, rc, error = -1;

	if (S_ISREG(e->mode) || S_ISLNK(e->mode)) {
		if (git_odb_read(&obj, r->snap->store->odb, &e->oid) < 0) {
			errno = EIO;
			return -1;
		}
	}
	switch (e->mode & S_IFMT) {
	case S_IFREG:
		fd = openat(r->workfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_CLOEXEC, 0600);
		if (fd < 0 || write_all(fd, git_odb_object_data(obj),
					git_odb_object_size(obj)) < 0 ||
		    fsync(fd) < 0)
			goto out;
		break;
	case S_IFLNK:
		len = git_odb_object_size(obj);
		if (len >= sizeof(target)) {
			errno = ENAMETOOLONG;
			goto out;
		}
		memcpy(target, git_odb_object_data(obj), len);
		target[len] = '\0';
		if (symlinkat(target, r->workfd, tmp) < 0)
			goto out;
		break;
	case S_IFDIR:
		if (mkdirat(r->workfd, tmp, 0700) < 0)
			goto out;
		if (opaque) {
			sub = openat(r->workfd, tmp, O_PATH | O_DIRECTORY |
				     O_CLOEXEC);
			rc = sub < 0 ? -1 : mknodat(sub, SNAPSHOT_OPAQUE,
						    S_IFCHR | 0000,
						    makedev(0, 0));
			if (sub >= 0)
				close(sub);
			if (rc < 0)
				goto out;
		}
		break;
	case S_IFCHR:
		if (mknodat(r->workfd, tmp, S_IFCHR | 0000, makedev(0, 0)) < 0)
			goto out;
		break;
	case S_IFIFO:
	case S_IFSOCK:
		if (mknodat(r->workfd, tmp, (e->mode & S_IFMT) | 0600, 0) < 0)
			goto out;
		break;
	default:
		errno = EINVAL;	/* parse_entry() keeps no other type */
		goto out;
	}
	if (set_meta(r->workfd, tmp, e) < 0 || set_times(r->workfd, tmp, e) < 0)
		goto out;
	error = 0;
out:
	if (fd >= 0)
		close(fd);
	git_odb_object_free(obj);
	return error;
}

/* Make e at dirfd/name through a temporary in the work directory. */
int snap_make(struct snap_restore *r, int dirfd, const char *name,
	      const struct snap_entry *e, int opaque)
{
	char tmp[64];
	int saved;

	snap_tmp_name(r, tmp, sizeof(tmp));
	if (build(r, tmp, e, opaque) < 0) {
		saved = errno;
		snap_remove_tree(r->workfd, tmp);
		if (saved == EIO)
			return snapshot_fail_git(r->err, r->errsz, -1, "cannot "
						 "restore '%s'", e->path);
		errno = saved;
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot restore "
					"'%s'", e->path);
	}
	if (replace(r, tmp, dirfd, name) < 0) {
		saved = errno;
		snap_remove_tree(r->workfd, tmp);
		errno = saved;
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot restore "
					"'%s'", e->path);
	}
	snap_touched(r, e->path);
	return 0;
}

/* Make the layer below rootfd hold e (its parent exists). */
int snap_put(struct snap_restore *r, int rootfd, const struct snap_entry *e)
{
	char dir[PATH_MAX];
	const char *name;
	struct stat sb;
	int dirfd, have, error = 0;

	progress(r);
	if (!*e->path) {
		if (set_meta(rootfd, ".", e) < 0)
			return snapshot_fail_os(r->err, r->errsz, -1, "cannot "
						"restore the session's root");
		return 0;
	}
	dirfd = snap_split(e->path, dir, sizeof(dir), &name) < 0 ? -1 :
		snap_open_dir(rootfd, dir);
	if (dirfd < 0)
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot restore "
					"'%s'", e->path);
	have = fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	if (!have && errno != ENOENT) {
		error = snapshot_fail_os(r->err, r->errsz, -1, "cannot read "
					 "'%s' in the session", e->path);
	} else if (have && ((S_ISDIR(sb.st_mode) && S_ISDIR(e->mode)) ||
			    same_as(r, dirfd, name, &sb, e))) {
		if (set_meta(dirfd, name, e) < 0 ||
		    (!S_ISDIR(e->mode) && set_times(dirfd, name, e) < 0))
			error = snapshot_fail_os(r->err, r->errsz, -1, "cannot "
						 "restore '%s'", e->path);
	} else {
		error = snap_make(r, dirfd, name, e, 0);
	}
	close(dirfd);
	return error;
}

/* Directory times last, deepest first: making entries changed them. */
void snap_dir_times(const struct snap_state *to, const char *path,
		    size_t from, size_t end, int rootfd)
{
	char dir[PATH_MAX];
	const char *name;
	size_t i;
	int dirfd;

	for (i = end; i > from; i--) {
		const struct snap_entry *e = &to->entries[i - 1];

		if (!S_ISDIR(e->mode) || !path_under(e->path, path))
			continue;
		if (!*e->path) {
			(void)set_times(rootfd, ".", e);
			continue;
		}
		if (snap_split(e->path, dir, sizeof(dir), &name) < 0)
			continue;
		dirfd = snap_open_dir(rootfd, dir);
		if (dirfd < 0)
			continue;
		(void)set_times(dirfd, name, e);
		close(dirfd);
	}
}
