/*
 * copyup.c - bring lower entries into the upper layer, atomically.
 *
 * A file is copied into the work directory (same filesystem as the upper)
 * under a temporary name, given its mode, owner, xattrs and times, and only
 * then renamed into place: a crash at any point leaves either no upper entry
 * (the lower still shows) or the complete copy.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

#define COPY_CHUNK (1024 * 1024)

int upper_tmpname(struct fs *fs, char *buf, size_t size)
{
	uint64_t n = __atomic_add_fetch(&fs->tmp_counter, 1, __ATOMIC_RELAXED);

	snprintf(buf, size, "tmp.%ld.%llu", (long)getpid(),
		 (unsigned long long)n);
	return 0;
}

/* Copy [off, off+len) with the cheapest mechanism the kernel offers. */
static int copy_range(int src, int dst, off_t off, off_t len)
{
	char *buf = NULL;
	int error = 0;

	while (len > 0) {
		loff_t in = off, out = off;
		ssize_t n = copy_file_range(src, &in, dst, &out,
					    (size_t)(len > COPY_CHUNK * 64 ?
						     COPY_CHUNK * 64 : len), 0);

		if (n > 0) {
			off += n;
			len -= n;
			continue;
		}
		if (n == 0)
			break;	/* the source shrank */
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
		    errno != EOPNOTSUPP && errno != EBADF)
			return -errno;
		break;
	}
	if (len <= 0)
		return 0;

	buf = malloc(COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (len > 0) {
		ssize_t n = pread(src, buf, (size_t)(len > COPY_CHUNK ?
						    COPY_CHUNK : len), off);
		ssize_t done = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = -errno;
			goto out;
		}
		if (n == 0)
			break;
		while (done < n) {
			ssize_t w = pwrite(dst, buf + done, (size_t)(n - done),
					   off + done);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				error = -errno;
				goto out;
			}
			done += w;
		}
		off += n;
		len -= n;
	}
out:
	free(buf);
	return error;
}

/* Copy a whole file's data, keeping holes; a reflink when possible. */
static int copy_data(int src, int dst, off_t size)
{
	off_t data, hole = 0;
	int error;

	if (size == 0)
		return 0;
	if (ioctl(dst, FICLONE, src) == 0)
		return 0;
	for (;;) {
		data = lseek(src, hole, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;	/* only a hole is left */
			/* No SEEK_DATA: copy everything. */
			error = copy_range(src, dst, 0, size);
			if (error < 0)
				return error;
			break;
		}
		hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		if (hole > size)
			hole = size;
		error = copy_range(src, dst, data, hole - data);
		if (error < 0)
			return error;
		if (hole >= size)
			break;
	}
	if (ftruncate(dst, size) < 0)
		return -errno;
	return 0;
}

/* Copy extended attributes from src to dst (both real fds, or paths). */
static void copy_xattrs(const char *src, const char *dst)
{
	char *names = NULL, *value = NULL, *name;
	ssize_t len, vlen;

	len = llistxattr(src, NULL, 0);
	if (len <= 0)
		return;
	names = malloc((size_t)len);
	value = malloc(XATTR_SIZE_MAX);
	if (!names || !value)
		goto out;
	len = llistxattr(src, names, (size_t)len);
	for (name = names; len > 0 && name < names + len;
	     name += strlen(name) + 1) {
		if (strncmp(name, FS_XATTR_PREFIX,
			    strlen(FS_XATTR_PREFIX)) == 0 ||
		    strcmp(name, "security.capability") == 0)
			continue;	/* ours, or a privilege: not copied */
		vlen = lgetxattr(src, name, value, XATTR_SIZE_MAX);
		if (vlen < 0)
			continue;
		/* Best effort: security.* and trusted.* need privileges. */
		(void)lsetxattr(dst, name, value, (size_t)vlen, 0);
	}
out:
	free(names);
	free(value);
}

static void proc_path(char *buf, size_t size, int dirfd, const char *name)
{
	if (name && *name)
		snprintf(buf, size, "/proc/self/fd/%d/%s", dirfd, name);
	else
		snprintf(buf, size, "/proc/self/fd/%d/.", dirfd);
}

/* Give a fresh upper entry (in the work dir) the lower's metadata. */
static void copy_meta(struct fs *fs, const char *tmp, const struct stat *st,
		      int lowerdir, const char *name, uint64_t origin)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	char src[PATH_MAX], dst[PATH_MAX];

	if (fchownat(fs->workfd, tmp, st->st_uid, st->st_gid,
		     AT_SYMLINK_NOFOLLOW) < 0) {
		/* Not permitted for an ordinary user: keep our own. */
	}
	if (!S_ISLNK(st->st_mode)) {
		mode_t mode = st->st_mode & 07777;

		if (!S_ISDIR(st->st_mode))
			mode &= ~(mode_t)(S_ISUID | S_ISGID);
		(void)fchmodat(fs->workfd, tmp, mode, 0);
		proc_path(src, sizeof(src), lowerdir, name);
		proc_path(dst, sizeof(dst), fs->workfd, tmp);
		copy_xattrs(src, dst);
		if (origin)
			(void)lsetxattr(dst, FS_XATTR_ORIGIN, &origin,
					sizeof(origin), 0);
	}
	(void)utimensat(fs->workfd, tmp, times, AT_SYMLINK_NOFOLLOW);
}

/*
 * Move the work entry tmp to dirfd/name, replacing whatever is there (a
 * whiteout, or a directory holding only whiteouts).
 */
int upper_replace(struct fs *fs, const char *tmp, int dirfd,
		  const char *name)
{
	if (renameat(fs->workfd, tmp, dirfd, name) == 0)
		return 0;
	if (errno != ENOTDIR && errno != EISDIR && errno != ENOTEMPTY &&
	    errno != EEXIST)
		return -errno;
	if (renameat2(fs->workfd, tmp, dirfd, name, RENAME_EXCHANGE) < 0)
		return -errno;
	return upper_remove_tree(fs->workfd, tmp);
}

int upper_whiteout(struct fs *fs, int dirfd, const char *name)
{
	char tmp[64];
	int error;

	if (mknodat(dirfd, name, S_IFCHR | 0000, makedev(0, 0)) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	upper_tmpname(fs, tmp, sizeof(tmp));
	if (mknodat(fs->workfd, tmp, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return -errno;
	error = upper_replace(fs, tmp, dirfd, name);
	if (error < 0)
		unlinkat(fs->workfd, tmp, 0);
	return error;
}

int upper_set_opaque(int dirfd)
{
	if (mknodat(dirfd, FS_OPAQUE_MARKER, S_IFCHR | 0000,
		    makedev(0, 0)) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int upper_remove_tree(int dirfd, const char *name)
{
	struct dirent *d;
	DIR *dir;
	int fd, error = 0;

	if (unlinkat(dirfd, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return errno == ENOENT ? 0 : -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		error = -errno;
		close(fd);
		return error;
	}
	while ((d = readdir(dir))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		error = upper_remove_tree(fd, d->d_name);
		if (error < 0)
			break;
	}
	closedir(dir);
	if (error == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		error = -errno;
	return error;
}

/* Create the upper directory of a merged directory, and its parents. */
int copyup_dir(struct fs *fs, struct node *dir)
{
	struct node *p = dir->parent;
	struct stat st;
	char tmp[64];
	int error;

	if (dir->upper && dir->ufd >= 0)
		return 0;
	if (!S_ISDIR(dir->type) || !p)
		return -ENOTDIR;
	error = copyup_dir(fs, p);
	if (error < 0)
		return error;
	if (dir->lfd < 0 || fstatat(dir->lfd, "", &st, AT_EMPTY_PATH) < 0)
		return -ENOENT;

	upper_tmpname(fs, tmp, sizeof(tmp));
	if (mkdirat(fs->workfd, tmp, 0700) < 0)
		return -errno;
	copy_meta(fs, tmp, &st, dir->lfd, "", 0);
	error = upper_replace(fs, tmp, p->ufd, dir->name);
	if (error < 0 && error != -EEXIST) {
		unlinkat(fs->workfd, tmp, AT_REMOVEDIR);
		return error;
	}
	dir->ufd = openat(p->ufd, dir->name, O_PATH | O_NOFOLLOW |
			  O_DIRECTORY | O_CLOEXEC);
	if (dir->ufd < 0)
		return -errno;
	dir->upper = 1;
	return 0;
}

/* Hand the lower entry to the base hook before its first change. */
void copyup_capture(struct fs *fs, int lowerdir, const char *name,
		    const char *path)
{
	if (!fs->opts.base || !path)
		return;
	if (fs->opts.base(path, lowerdir, name, fs->opts.base_payload) < 0)
		fs_log(fs, FS_LOG_WARN, "cannot record the base of '%s'",
		       path);
}

void copyup_capture_node(struct fs *fs, struct node *parent,
			 const char *name)
{
	char *path;

	if (!fs->opts.base)
		return;
	path = node_path(fs, parent, name);
	copyup_capture(fs, parent->lfd, name, path);
	free(path);
}

/* Copy one lower non-directory lowerdir/name to updir/name. */
static int copy_entry(struct fs *fs, int lowerdir, int updir,
		      const char *name, const struct stat *st, int with_data)
{
	char tmp[64], target[PATH_MAX];
	int src = -1, dst = -1, error = 0;
	ssize_t len;

	upper_tmpname(fs, tmp, sizeof(tmp));
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		src = openat(lowerdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (src < 0)
			return -errno;
		dst = openat(fs->workfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			     O_CLOEXEC, 0600);
		if (dst < 0) {
			error = -errno;
			goto out;
		}
		if (with_data) {
			error = policy_may_grow(fs, (uint64_t)st->st_size,
						(uint64_t)st->st_size);
			if (error == 0)
				error = copy_data(src, dst, st->st_size);
			if (error < 0)
				goto out;
			policy_grew(fs, st->st_size);
		}
		break;
	case S_IFLNK:
		len = readlinkat(lowerdir, name, target, sizeof(target) - 1);
		if (len < 0)
			return -errno;
		target[len] = '\0';
		if (symlinkat(target, fs->workfd, tmp) < 0)
			return -errno;
		break;
	case S_IFIFO:
	case S_IFSOCK:
		if (mknodat(fs->workfd, tmp, st->st_mode & S_IFMT, 0) < 0)
			return -errno;
		break;
	case S_IFCHR:
	case S_IFBLK:
	case S_IFDIR:
	default:
		return -EPERM;
	}
	copy_meta(fs, tmp, st, lowerdir, name, st->st_ino);
	if (dst >= 0) {
		close(dst);
		dst = -1;
	}
	/* Never over an entry the upper already has. */
	if (renameat2(fs->workfd, tmp, updir, name, RENAME_NOREPLACE) < 0 &&
	    (errno != EINVAL || renameat(fs->workfd, tmp, updir, name) < 0))
		error = -errno;
out:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	if (error < 0)
		unlinkat(fs->workfd, tmp, 0);
	return error;
}

/*
 * Look a project-relative path up node by node (tree held exclusively).
 * Returns the node with one reference, or NULL (hidden, gone); the
 * references taken on the way are dropped.
 */
static struct node *resolve(struct fs *fs, const char *path)
{
	struct node *cur = &fs->root, *next;
	struct fuse_entry_param e;
	char *copy = strdup(path), *name, *slash;

	if (!copy)
		return NULL;
	for (name = copy; name && *name; name = slash) {
		slash = strchr(name, '/');
		if (slash)
			*slash++ = '\0';
		if (node_lookup(fs, cur, name, &e) < 0) {
			next = NULL;
		} else {
			next = node_of_ino(fs, e.ino);
		}
		if (cur != &fs->root)
			node_forget(fs, cur, 1);
		cur = next;
		if (!cur)
			break;
	}
	free(copy);
	return cur == &fs->root ? NULL : cur;
}

/*
 * n (a project file with other names) was just copied up: give its other
 * visible names the same upper file, so links in the view stay links and
 * every name's link count stays right.
 */
static void link_group(struct fs *fs, struct node *n, const struct stat *st)
{
	char **names = NULL, *self;
	size_t count, i;

	count = policy_link_names(fs, st, &names);
	self = count ? node_path(fs, n->parent, n->name) : NULL;
	for (i = 0; i < count; i++) {
		struct node *q;

		if (self && strcmp(names[i], self) != 0 &&
		    (q = resolve(fs, names[i]))) {
			if (!q->upper && q->lower && S_ISREG(q->type) &&
			    q->decision == RULE_ALLOW &&
			    copyup_dir(fs, q->parent) == 0) {
				copyup_capture_node(fs, q->parent, q->name);
				if (linkat(n->parent->ufd, n->name,
					   q->parent->ufd, q->name, 0) == 0)
					q->upper = 1;
			}
			node_forget(fs, q, 1);
		}
		free(names[i]);
	}
	free(names);
	free(self);
}

int copyup(struct fs *fs, struct node *n, int with_data)
{
	struct node *p = n->parent;
	struct stat st;
	int error;

	if (n->upper)
		return 0;
	/* A name that is gone (replaced or removed while a descriptor of it
	 * stays open): its lower file must not land on whatever holds the
	 * name now. */
	if (!n->lower)
		return -ENOENT;
	if (S_ISDIR(n->type))
		return copyup_dir(fs, n);
	error = copyup_dir(fs, p);
	if (error < 0)
		return error;
	if (fstatat(p->lfd, n->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	copyup_capture_node(fs, p, n->name);
	error = copy_entry(fs, p->lfd, p->ufd, n->name, &st, with_data);
	if (error < 0)
		return error;
	n->upper = 1;
	if (S_ISREG(st.st_mode) && st.st_nlink > 1 && with_data)
		link_group(fs, n, &st);
	return 0;
}

/* Path of name below a relative directory path, for rule decisions. */
static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = malloc(a + b + 2);

	if (!s)
		return NULL;
	memcpy(s, dir, a);
	if (a)
		s[a++] = '/';
	memcpy(s + a, name, b + 1);
	return s;
}

/*
 * Copy everything visible under lowerfd into updir (which exists), then
 * mark updir opaque.  rel is the directory's project-relative path.
 */
static int copy_merged(struct fs *fs, int lowerfd, int updir, const char *rel)
{
	struct dirent *d;
	DIR *dir = NULL;
	int fd, error = 0;

	fd = openat(lowerfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		error = -errno;
		close(fd);
		return error;
	}
	while ((d = readdir(dir))) {
		struct stat lst, ust;
		char *path = NULL;
		int sublow = -1, subup = -1;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (fstatat(fd, d->d_name, &lst, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((uint64_t)lst.st_dev == fs->opts.hide_dev &&
		    (uint64_t)lst.st_ino == fs->opts.hide_ino)
			continue;
		path = join(rel, d->d_name);
		if (!path) {
			error = -ENOMEM;
			break;
		}
		if (fs->opts.rules &&
		    rules_decide(fs->opts.rules, path, S_ISDIR(lst.st_mode),
				 NULL) == RULE_READONLY) {
			/* Moved, it would lose its protection. */
			free(path);
			error = -EROFS;
			break;
		}
		if (fs->opts.rules &&
		    (rules_decide(fs->opts.rules, path, S_ISDIR(lst.st_mode),
				  NULL) == RULE_HIDE ||
		     policy_is_hidden_link(fs, &lst) ||
		     policy_content_hidden(fs, fd, d->d_name, &lst))) {
			free(path);
			continue;
		}
		if (fstatat(updir, d->d_name, &ust, AT_SYMLINK_NOFOLLOW) == 0) {
			/* Whiteouts stay; an upper non-directory wins. */
			if (S_ISDIR(ust.st_mode) && S_ISDIR(lst.st_mode)) {
				subup = openat(updir, d->d_name, O_PATH |
					       O_DIRECTORY | O_NOFOLLOW |
					       O_CLOEXEC);
				if (subup >= 0 && !node_is_opaque_dir(subup)) {
					sublow = openat(fd, d->d_name, O_PATH |
							O_DIRECTORY |
							O_NOFOLLOW | O_CLOEXEC);
					if (sublow >= 0)
						error = copy_merged(fs, sublow,
							subup, path);
				}
			}
		} else if (S_ISDIR(lst.st_mode)) {
			char tmp[64];

			upper_tmpname(fs, tmp, sizeof(tmp));
			if (mkdirat(fs->workfd, tmp, 0700) < 0) {
				error = -errno;
			} else {
				copy_meta(fs, tmp, &lst, fd, d->d_name, 0);
				sublow = openat(fd, d->d_name, O_PATH |
						O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
				subup = openat(fs->workfd, tmp, O_PATH |
					       O_DIRECTORY | O_NOFOLLOW |
					       O_CLOEXEC);
				if (sublow < 0 || subup < 0)
					error = -errno;
				else
					error = copy_merged(fs, sublow, subup,
							    path);
				if (error == 0 &&
				    renameat(fs->workfd, tmp, updir,
					     d->d_name) < 0)
					error = -errno;
				if (error < 0)
					upper_remove_tree(fs->workfd, tmp);
			}
		} else {
			copyup_capture(fs, fd, d->d_name, path);
			error = copy_entry(fs, fd, updir, d->d_name, &lst, 1);
		}
		if (sublow >= 0)
			close(sublow);
		if (subup >= 0)
			close(subup);
		free(path);
		if (error < 0)
			break;
	}
	closedir(dir);
	if (error == 0)
		error = upper_set_opaque(updir);
	return error;
}

struct tree_fix {
	struct fs *fs;
	struct node *top;
};

/* After copyup_tree: cached descendants live wholly in the upper now. */
static void fix_descendant(struct node *n, void *payload)
{
	struct tree_fix *fix = payload;

	(void)fix;
	if (!n->hashed)
		return;
	n->upper = 1;
	if (S_ISDIR(n->type)) {
		n->opaque = 1;
		if (n->lfd >= 0) {
			close(n->lfd);
			n->lfd = -1;
		}
	}
}

/* Open the upper directories of cached descendants, parents first. */
static int open_upper_dirs(struct fs *fs, struct node *n)
{
	int error;

	if (n->ufd >= 0)
		return 0;
	error = open_upper_dirs(fs, n->parent);
	if (error < 0)
		return error;
	n->ufd = openat(n->parent->ufd, n->name, O_PATH | O_DIRECTORY |
			O_NOFOLLOW | O_CLOEXEC);
	return n->ufd < 0 ? -errno : 0;
}

static void open_descendant(struct node *n, void *payload)
{
	struct tree_fix *fix = payload;

	if (n->hashed && S_ISDIR(n->type))
		(void)open_upper_dirs(fix->fs, n);
}

/*
 * Copy a merged directory and everything visible beneath it into the upper
 * and make it opaque, so it no longer depends on its lower path (needed
 * before it is renamed).  Hidden entries are left behind in the lower.
 */
int copyup_tree(struct fs *fs, struct node *dir)
{
	struct tree_fix fix = { fs, dir };
	char *rel;
	int error;

	error = copyup_dir(fs, dir);
	if (error < 0)
		return error;
	if (dir->lfd >= 0 && !dir->opaque) {
		rel = node_path(fs, dir, NULL);
		if (!rel)
			return -ENOMEM;
		error = copy_merged(fs, dir->lfd, dir->ufd, rel);
		free(rel);
		if (error < 0)
			return error;
	} else {
		error = upper_set_opaque(dir->ufd);
		if (error < 0)
			return error;
	}
	dir->opaque = 1;
	if (dir->lfd >= 0) {
		close(dir->lfd);
		dir->lfd = -1;
	}
	node_foreach_descendant(fs, dir, fix_descendant, &fix);
	node_foreach_descendant(fs, dir, open_descendant, &fix);
	return 0;
}
