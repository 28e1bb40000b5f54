/*
 * ops_attr.c - attributes: getattr, setattr, statfs, extended attributes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	struct stat st;
	int error = 0;

	pthread_rwlock_rdlock(&fs->tree);
	error = node_stat(fs, n, &st);
	pthread_rwlock_unlock(&fs->tree);
	if (error == -ENOENT && fi && !S_ISDIR(n->type)) {
		/* An open file whose name is gone: its own descriptor. */
		struct fh *fh = (struct fh *)(uintptr_t)fi->fh;

		error = fstat(fh->fd, &st) < 0 ? -errno : 0;
		st.st_ino = n->ino;
	}
	if (error < 0)
		fuse_reply_err(req, -error);
	else
		fuse_reply_attr(req, &st, (!S_ISDIR(st.st_mode) &&
					   st.st_nlink > 1) ? 0 :
				fs->opts.timeout);
}

/* A "/proc/self/fd/N[/name]" path for the calls that have no *at() form. */
static void node_proc_path(struct node *n, char *buf, size_t size)
{
	if (S_ISDIR(n->type))
		snprintf(buf, size, "/proc/self/fd/%d/.",
			 n->upper ? n->ufd : n->lfd);
	else
		snprintf(buf, size, "/proc/self/fd/%d/%s",
			 n->upper ? n->parent->ufd : n->parent->lfd, n->name);
}

static int set_attrs(struct fs *fs, struct node *n, const struct stat *attr,
		     int valid, struct fuse_file_info *fi)
{
	char path[PATH_MAX];
	int error;

	error = node_check_write(fs, "setattr", n);
	if (error < 0)
		return error;
	if (!n->upper) {
		int truncating = (valid & FUSE_SET_ATTR_SIZE) &&
			attr->st_size == 0;

		error = copyup(fs, n, !truncating);
		if (error < 0)
			return error;
	}
	node_proc_path(n, path, sizeof(path));

	if (valid & FUSE_SET_ATTR_MODE) {
		mode_t mode = attr->st_mode & 07777;

		if (!S_ISDIR(n->type))
			mode &= ~(mode_t)(S_ISUID | S_ISGID);
		if (S_ISLNK(n->type))
			return -EOPNOTSUPP;
		if (chmod(path, mode) < 0)
			return -errno;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid :
			(uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid :
			(gid_t)-1;

		if (lchown(path, uid, gid) < 0)
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		struct fh *fh = fi ? (struct fh *)(uintptr_t)fi->fh : NULL;

		if (S_ISDIR(n->type))
			return -EISDIR;
		if (fh && fh->writable) {
			if (ftruncate(fh->fd, attr->st_size) < 0)
				return -errno;
		} else if (truncate(path, attr->st_size) < 0) {
			return -errno;
		}
		n->written = 1;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec ts[2];

		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = ts[0];
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	return 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	struct stat st;
	int error;

	fs_req_begin(req);
	pthread_rwlock_wrlock(&fs->tree);
	error = set_attrs(fs, n, attr, valid, fi);
	if (error != -EROFS)
		audit_node(fs, FS_AUDIT_CHANGE, "setattr", n->parent,
			   n == &fs->root ? NULL : n->name,
			   audit_result(error));
	if (error == 0)
		error = node_stat(fs, n, &st);
	pthread_rwlock_unlock(&fs->tree);
	if (error < 0)
		fuse_reply_err(req, -error);
	else
		fuse_reply_attr(req, &st, (!S_ISDIR(st.st_mode) &&
					   st.st_nlink > 1) ? 0 :
				fs->opts.timeout);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct statvfs sv;

	(void)ino;
	if (fstatvfs(fs->root.ufd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

static int reserved_xattr(const char *name)
{
	return strncmp(name, FS_XATTR_PREFIX, strlen(FS_XATTR_PREFIX)) == 0;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	char path[PATH_MAX], *value = NULL;
	ssize_t len;
	int error = 0;

	if (reserved_xattr(name)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (size) {
		value = malloc(size);
		if (!value) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	pthread_rwlock_rdlock(&fs->tree);
	node_proc_path(n, path, sizeof(path));
	len = lgetxattr(path, name, value, size);
	if (len < 0)
		error = errno;
	pthread_rwlock_unlock(&fs->tree);
	if (error)
		fuse_reply_err(req, error);
	else if (size)
		fuse_reply_buf(req, value, (size_t)len);
	else
		fuse_reply_xattr(req, (size_t)len);
	free(value);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	char path[PATH_MAX], *names = NULL, *out = NULL, *p;
	ssize_t len;
	size_t outlen = 0;
	int error = 0;

	pthread_rwlock_rdlock(&fs->tree);
	node_proc_path(n, path, sizeof(path));
	len = llistxattr(path, NULL, 0);
	if (len < 0) {
		error = errno;
		goto out;
	}
	names = malloc((size_t)len + 1);
	out = malloc((size_t)len + 1);
	if (!names || !out) {
		error = ENOMEM;
		goto out;
	}
	len = llistxattr(path, names, (size_t)len);
	if (len < 0) {
		error = errno;
		goto out;
	}
	for (p = names; p < names + len; p += strlen(p) + 1) {
		if (reserved_xattr(p))
			continue;
		memcpy(out + outlen, p, strlen(p) + 1);
		outlen += strlen(p) + 1;
	}
out:
	pthread_rwlock_unlock(&fs->tree);
	if (error)
		fuse_reply_err(req, error);
	else if (size == 0)
		fuse_reply_xattr(req, outlen);
	else if (size < outlen)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, out, outlen);
	free(names);
	free(out);
}

static int change_xattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags, int remove)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	char path[PATH_MAX];
	int error;

	if (reserved_xattr(name) || strcmp(name, "security.capability") == 0)
		return -EPERM;
	fs_req_begin(req);
	pthread_rwlock_wrlock(&fs->tree);
	error = node_check_write(fs, remove ? "removexattr" : "setxattr", n);
	if (error == 0)
		error = copyup(fs, n, 1);
	if (error == 0) {
		node_proc_path(n, path, sizeof(path));
		if (remove ? lremovexattr(path, name) :
		    lsetxattr(path, name, value, size, flags))
			error = -errno;
	}
	pthread_rwlock_unlock(&fs->tree);
	return error;
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	fuse_reply_err(req, -change_xattr(req, ino, name, value, size, flags,
					  0));
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, -change_xattr(req, ino, name, NULL, 0, 0, 1));
}

void ops_attr_fill(struct fuse_lowlevel_ops *ops)
{
	ops->getattr = op_getattr;
	ops->setattr = op_setattr;
	ops->statfs = op_statfs;
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->setxattr = op_setxattr;
	ops->removexattr = op_removexattr;
}
