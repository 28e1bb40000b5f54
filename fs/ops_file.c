/*
 * ops_file.c - open files: open, create, read, write and friends.
 *
 * A file opened for reading before the session changed it reads the lower
 * file; once the name is copied up, its next read switches to the upper
 * copy, so an old descriptor never sees stale data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

/* Flags we pass to the layer's open(2). */
static int open_flags(int flags)
{
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_APPEND);
	return flags | O_CLOEXEC | O_NOFOLLOW;
}

static int wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static struct fh *fh_new(struct node *n, int fd, int on_upper, int writable)
{
	struct fh *fh = calloc(1, sizeof(*fh));

	if (!fh)
		return NULL;
	pthread_mutex_init(&fh->lock, NULL);
	fh->fd = fd;
	fh->old_fd = -1;
	fh->on_upper = on_upper;
	fh->writable = writable;
	fh->node = n;
	return fh;
}

static struct fh *fh_of(struct fuse_file_info *fi)
{
	return (struct fh *)(uintptr_t)fi->fh;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	int write = wants_write(fi->flags), fd = -1, error = 0;
	struct fh *fh;

	fs_req_begin(req);
	if (write) {
		pthread_rwlock_wrlock(&fs->tree);
		error = node_check_write(fs, "open", n);
		if (error == 0 && !n->upper)
			error = copyup(fs, n, !(fi->flags & O_TRUNC));
		if (error == 0) {
			fd = openat(n->parent->ufd, n->name,
				    open_flags(fi->flags));
			if (fd < 0)
				error = -errno;
			n->written = 1;
		}
		if (error != -EROFS)
			audit_node(fs, FS_AUDIT_CHANGE, "open", n->parent,
				   n->name, audit_result(error));
	} else {
		int dirfd;

		pthread_rwlock_rdlock(&fs->tree);
		dirfd = n->upper ? n->parent->ufd : n->parent->lfd;
		if (!n->upper && !n->lower)
			error = -ENOENT;
		else if ((fd = openat(dirfd, n->name,
				      open_flags(fi->flags))) < 0)
			error = -errno;
		if (audit_wants(fs, FS_AUDIT_READ))
			audit_node(fs, FS_AUDIT_READ, "read", n->parent,
				   n->name, audit_result(error));
	}
	pthread_rwlock_unlock(&fs->tree);
	if (error < 0) {
		fuse_reply_err(req, -error);
		return;
	}
	fh = fh_new(n, fd, write || n->upper, write);
	if (!fh) {
		close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (n->redact) {
		/* Serve the masked text; the kernel must not cache the real
		 * size's pages. */
		error = policy_redact(fs, fd, &fh->masked, &fh->masked_len);
		if (error < 0) {
			close(fd);
			free(fh);
			fuse_reply_err(req, -error);
			return;
		}
		fi->direct_io = 1;
	}
	fi->fh = (uintptr_t)fh;
	/* Pages of a file this session never wrote stay valid between
	 * opens: only the kernel (write-through) ever changes it. */
	fi->keep_cache = !n->written && !n->redact;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		close(fd);
		free(fh);
	}
}

static void op_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *parent = node_of(req, parent_ino);
	struct fuse_entry_param e;
	enum rule_action action;
	struct stat st;
	char tmp[64];
	int fd = -1, error, over_whiteout = 0;
	struct fh *fh;

	mode &= ~(mode_t)(S_ISUID | S_ISGID);
	fs_req_begin(req);
	pthread_rwlock_wrlock(&fs->tree);
	error = node_name_ok(name);
	if (error == -ENOENT)
		error = -EACCES;
	if (error < 0)
		goto fail;
	action = node_decide(fs, parent, name, 0);
	if (action != RULE_HIDE && lower_hidden(fs, parent, name))
		action = RULE_HIDE;	/* it would shadow a hidden entry */
	if (action != RULE_ALLOW) {
		fs_deny(fs, "create", parent, name, action);
		error = action == RULE_HIDE ? -EACCES : -EROFS;
		goto fail;
	}
	error = copyup_dir(fs, parent);
	if (error < 0)
		goto fail;
	over_whiteout = fstatat(parent->ufd, name, &st,
				AT_SYMLINK_NOFOLLOW) == 0 &&
		node_is_whiteout(&st);
	if (over_whiteout) {
		upper_tmpname(fs, tmp, sizeof(tmp));
		fd = openat(fs->workfd, tmp, open_flags(fi->flags) | O_CREAT |
			    O_EXCL, mode);
		if (fd < 0) {
			error = -errno;
			goto fail;
		}
		error = upper_replace(fs, tmp, parent->ufd, name);
		if (error < 0) {
			unlinkat(fs->workfd, tmp, 0);
			goto fail;
		}
	} else {
		fd = openat(parent->ufd, name, open_flags(fi->flags) |
			    O_CREAT | O_EXCL, mode);
		if (fd < 0) {
			error = -errno;
			goto fail;
		}
	}
	error = node_lookup(fs, parent, name, &e);
	if (error < 0)
		goto fail;
	node_of_ino(fs, e.ino)->written = 1;
	audit_node(fs, FS_AUDIT_CHANGE, "create", parent, name, "ok");
	pthread_rwlock_unlock(&fs->tree);

	fh = fh_new(node_of_ino(fs, e.ino), fd, 1, 1);
	if (!fh) {
		close(fd);
		node_forget(fs, node_of_ino(fs, e.ino), 1);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)fh;
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		close(fd);
		free(fh);
	}
	return;
fail:
	pthread_rwlock_unlock(&fs->tree);
	if (fd >= 0)
		close(fd);
	fuse_reply_err(req, -error);
}

/* The descriptor to read from, switching to the upper copy when the name
 * was copied up after this file was opened. */
static int read_fd(struct fs *fs, struct fh *fh)
{
	struct node *n = fh->node;
	int fd;

	if (__atomic_load_n(&fh->on_upper, __ATOMIC_ACQUIRE))
		return fh->fd;
	pthread_rwlock_rdlock(&fs->tree);
	pthread_mutex_lock(&fh->lock);
	if (!fh->on_upper && n->upper && n->parent->ufd >= 0) {
		fd = openat(n->parent->ufd, n->name, O_RDONLY | O_CLOEXEC |
			    O_NOFOLLOW);
		if (fd >= 0) {
			/* Readers may still use the old one: closed at
			 * release. */
			fh->old_fd = fh->fd;
			fh->fd = fd;
			__atomic_store_n(&fh->on_upper, 1, __ATOMIC_RELEASE);
		}
	}
	fd = fh->fd;
	pthread_mutex_unlock(&fh->lock);
	pthread_rwlock_unlock(&fs->tree);
	return fd;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	if (fh->masked) {
		size_t len = 0;

		if ((size_t)off < fh->masked_len)
			len = fh->masked_len - (size_t)off < size ?
				fh->masked_len - (size_t)off : size;
		fuse_reply_buf(req, len ? fh->masked + off : NULL, len);
		return;
	}
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = read_fd(fs_of(req), fh);
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

/* [limits]: may fd grow to cover [off, off+len)?  *grow gets the growth. */
static int grow_check(struct fs *fs, int fd, off_t off, size_t len,
		      int64_t *grow)
{
	struct stat st;
	uint64_t end = (uint64_t)off + len;

	*grow = 0;
	if (!fs->opts.rules)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (end > (uint64_t)st.st_size)
		*grow = (int64_t)(end - (uint64_t)st.st_size);
	return policy_may_grow(fs, (uint64_t)*grow, end);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	int64_t grow = 0;
	ssize_t n;
	int error;

	(void)ino;
	if (!fh->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	error = grow_check(fs_of(req), fh->fd, off, fuse_buf_size(in),
			   &grow);
	if (error < 0) {
		fuse_reply_err(req, -error);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = fh->fd;
	out.buf[0].pos = off;
	n = fuse_buf_copy(&out, in, 0);
	if (n < 0) {
		fuse_reply_err(req, (int)-n);
		return;
	}
	policy_grew(fs_of(req), grow);
	fuse_reply_write(req, (size_t)n);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);

	(void)ino;
	close(fh->fd);
	if (fh->old_fd >= 0)
		close(fh->old_fd);
	free(fh->masked);
	pthread_mutex_destroy(&fh->lock);
	free(fh);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);
	int rc;

	(void)ino;
	rc = datasync ? fdatasync(fh->fd) : fsync(fh->fd);
	fuse_reply_err(req, rc < 0 ? errno : 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);

	(void)ino;
	if (!fh->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE)) {
		int64_t grow;
		int error = grow_check(fs_of(req), fh->fd, offset,
				       (size_t)length, &grow);

		if (error < 0) {
			fuse_reply_err(req, -error);
			return;
		}
		policy_grew(fs_of(req), grow);
	}
	if (fallocate(fh->fd, mode, offset, length) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_err(req, 0);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
			       off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	struct fh *in = fh_of(fi_in), *out = fh_of(fi_out);
	loff_t a = off_in, b = off_out;
	ssize_t n;

	(void)ino_in;
	(void)ino_out;
	if (!out->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	n = copy_file_range(read_fd(fs_of(req), in), &a, out->fd, &b, len,
			    (unsigned int)flags);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);
	off_t res;

	(void)ino;
	res = lseek(read_fd(fs_of(req), fh), off, whence);
	if (res < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, res);
}

void ops_file_fill(struct fuse_lowlevel_ops *ops)
{
	ops->open = op_open;
	ops->create = op_create;
	ops->read = op_read;
	ops->write_buf = op_write_buf;
	/* No flush: there is nothing to do on close(2), and without the
	 * method the kernel stops sending FLUSH after the first ENOSYS. */
	ops->release = op_release;
	ops->fsync = op_fsync;
	ops->fallocate = op_fallocate;
	ops->copy_file_range = op_copy_file_range;
	ops->lseek = op_lseek;
}
