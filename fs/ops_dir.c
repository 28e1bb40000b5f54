/*
 * ops_dir.c - directory operations: lookup, create names, remove names,
 * rename, link, readdir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

static void wrlock(struct fs *fs)
{
	pthread_rwlock_wrlock(&fs->tree);
}

static void rdlock(struct fs *fs)
{
	pthread_rwlock_rdlock(&fs->tree);
}

static void unlock(struct fs *fs)
{
	pthread_rwlock_unlock(&fs->tree);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param e;
	int error;

	fs_req_begin(req);
	rdlock(fs);
	error = node_lookup(fs, node_of(req, parent), name, &e);
	unlock(fs);
	if (error == -ENOENT) {
		/* A negative entry the kernel may cache. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->opts.timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (error < 0)
		fuse_reply_err(req, -error);
	else
		fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(fs_of(req), node_of(req, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		node_forget(fs, node_of(req, forgets[i].ino),
			    forgets[i].nlookup);
	fuse_reply_none(req);
}

static int is_whiteout_at(int dirfd, const char *name)
{
	struct stat st;

	if (dirfd < 0 || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return node_is_whiteout(&st);
}

static int lower_exists(struct node *p, const char *name)
{
	struct stat st;

	if (p->lfd < 0 || p->opaque)
		return 0;
	return fstatat(p->lfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Is there a hidden project entry under this name (of whatever type)? */
int lower_hidden(struct fs *fs, struct node *p, const char *name)
{
	struct stat st;

	if (p->lfd < 0 || p->opaque ||
	    fstatat(p->lfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (is_whiteout_at(p->ufd, name))
		return 0;	/* deleted in the session: nothing to shadow */
	return node_decide(fs, p, name, S_ISDIR(st.st_mode)) == RULE_HIDE;
}

/* May the agent create name in parent?  Logs a refusal. */
static int check_new_name(struct fs *fs, const char *op, struct node *parent,
			  const char *name, int is_dir)
{
	enum rule_action action;
	int error;

	error = node_name_ok(name);
	if (error == -ENOENT)
		return -EACCES;	/* a reserved name */
	if (error < 0)
		return error;
	action = node_decide(fs, parent, name, is_dir);
	if (action != RULE_HIDE && lower_hidden(fs, parent, name))
		action = RULE_HIDE;	/* it would shadow a hidden entry */
	switch (action) {
	case RULE_HIDE:
		fs_deny(fs, op, parent, name, action);
		return -EACCES;
	case RULE_READONLY:
		fs_deny(fs, op, parent, name, action);
		return -EROFS;
	case RULE_ALLOW:
		break;
	}
	return 0;
}

int node_check_write(struct fs *fs, const char *op, struct node *n)
{
	if (n->decision == RULE_READONLY) {
		fs_deny(fs, op, n->parent, n == &fs->root ? NULL : n->name,
			n->decision);
		return -EROFS;
	}
	return 0;
}

enum make_kind { MAKE_DIR, MAKE_NODE, MAKE_SYMLINK, MAKE_LINK };

struct make_args {
	enum make_kind kind;
	mode_t mode;
	dev_t rdev;
	const char *target;	/* symlink */
	int srcdir;		/* link */
	const char *srcname;	/* link */
};

static int make_at(const struct make_args *a, int dirfd, const char *name)
{
	int rc = -1;

	switch (a->kind) {
	case MAKE_DIR:
		rc = mkdirat(dirfd, name, a->mode);
		break;
	case MAKE_NODE:
		rc = mknodat(dirfd, name, a->mode, a->rdev);
		break;
	case MAKE_SYMLINK:
		rc = symlinkat(a->target, dirfd, name);
		break;
	case MAKE_LINK:
		rc = linkat(a->srcdir, a->srcname, dirfd, name, 0);
		break;
	}
	return rc < 0 ? -errno : 0;
}

/*
 * Create a new upper entry parent/name.  Over a whiteout, build it in the
 * work directory and swap it in, so the deleted lower entry never shows
 * again; a directory made over one is opaque.
 */
static int make_entry(struct fs *fs, struct node *parent, const char *name,
		      const struct make_args *a)
{
	char tmp[64];
	int error;

	error = copyup_dir(fs, parent);
	if (error < 0)
		return error;
	if (!is_whiteout_at(parent->ufd, name))
		return make_at(a, parent->ufd, name);
	upper_tmpname(fs, tmp, sizeof(tmp));
	error = make_at(a, fs->workfd, tmp);
	if (error < 0)
		return error;
	if (a->kind == MAKE_DIR) {
		int fd = openat(fs->workfd, tmp, O_PATH | O_DIRECTORY |
				O_CLOEXEC);

		if (fd < 0)
			error = -errno;
		else
			error = upper_set_opaque(fd);
		if (fd >= 0)
			close(fd);
	}
	if (error == 0)
		error = upper_replace(fs, tmp, parent->ufd, name);
	if (error < 0)
		upper_remove_tree(fs->workfd, tmp);
	return error;
}

static void reply_new_entry(fuse_req_t req, struct fs *fs,
			    struct node *parent, const char *name)
{
	struct fuse_entry_param e;
	int error;

	error = node_lookup(fs, parent, name, &e);
	unlock(fs);
	if (error < 0)
		fuse_reply_err(req, -error);
	else
		fuse_reply_entry(req, &e);
}

static void do_make(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
		    const char *op, const struct make_args *a)
{
	struct fs *fs = fs_of(req);
	struct node *parent = node_of(req, parent_ino);
	int error;

	fs_req_begin(req);
	wrlock(fs);
	error = check_new_name(fs, op, parent, name, a->kind == MAKE_DIR);
	if (error == 0)
		error = make_entry(fs, parent, name, a);
	if (error != -EACCES && error != -EROFS)
		audit_node(fs, FS_AUDIT_CHANGE, op, parent, name,
			   audit_result(error));
	if (error < 0) {
		unlock(fs);
		fuse_reply_err(req, -error);
		return;
	}
	reply_new_entry(req, fs, parent, name);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct make_args a = { MAKE_DIR, mode & 07777, 0, NULL, -1, NULL };

	do_make(req, parent, name, "mkdir", &a);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct make_args a = { MAKE_NODE, mode & ~(mode_t)(S_ISUID | S_ISGID),
			       0, NULL, -1, NULL };

	/* No device nodes: the agent gets fifos, sockets and files. */
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	(void)rdev;
	do_make(req, parent, name, "mknod", &a);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct make_args a = { MAKE_SYMLINK, 0, 0, link, -1, NULL };

	do_make(req, parent, name, "symlink", &a);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_ino,
		    const char *newname)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	struct node *newparent = node_of(req, newparent_ino);
	struct make_args a = { MAKE_LINK, 0, 0, NULL, -1, NULL };
	int error;

	if (S_ISDIR(n->type)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	fs_req_begin(req);
	wrlock(fs);
	error = n->decision == RULE_READONLY ? -EPERM : 0;
	if (error == 0 && !n->upper && !n->lower)
		error = -ENOENT;
	if (error == 0)
		error = check_new_name(fs, "link", newparent, newname, 0);
	if (error == 0)
		error = copyup(fs, n, 1);
	if (error == 0) {
		a.srcdir = n->parent->ufd;
		a.srcname = n->name;
		error = make_entry(fs, newparent, newname, &a);
		audit_node(fs, FS_AUDIT_CHANGE, "link", newparent, newname,
			   audit_result(error));
	}
	if (error < 0) {
		unlock(fs);
		fuse_reply_err(req, -error);
		return;
	}
	reply_new_entry(req, fs, newparent, newname);
	/* The other name's cached link count is stale now. */
	fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
}

/* The visible entries of a directory node, for readdir and rmdir. */
struct name_set {
	char **names;
	size_t count, alloc;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int set_add(struct name_set *s, const char *name)
{
	if (s->count == s->alloc) {
		size_t alloc = s->alloc ? s->alloc * 2 : 32;
		char **names = realloc(s->names, alloc * sizeof(*names));

		if (!names)
			return -ENOMEM;
		s->names = names;
		s->alloc = alloc;
	}
	s->names[s->count] = strdup(name);
	if (!s->names[s->count])
		return -ENOMEM;
	s->count++;
	return 0;
}

static int set_has(const struct name_set *s, const char *name)
{
	return s->count && bsearch(&name, s->names, s->count,
				   sizeof(*s->names), name_cmp) != NULL;
}

static void set_clear(struct name_set *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		free(s->names[i]);
	free(s->names);
	memset(s, 0, sizeof(*s));
}

static void dirh_clear(struct dirh *d)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		free(d->entries[i].name);
	free(d->entries);
	d->entries = NULL;
	d->count = 0;
}

void dirh_put(struct dirh *d)
{
	if (d && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		dirh_clear(d);
		free(d);
	}
}

static int dirh_add(struct dirh *d, size_t *alloc, const char *name,
		    uint64_t ino, mode_t type)
{
	if (d->count == *alloc) {
		size_t n = *alloc ? *alloc * 2 : 64;
		struct dir_entry *e = realloc(d->entries, n * sizeof(*e));

		if (!e)
			return -ENOMEM;
		d->entries = e;
		*alloc = n;
	}
	d->entries[d->count].name = strdup(name);
	if (!d->entries[d->count].name)
		return -ENOMEM;
	d->entries[d->count].ino = ino;
	d->entries[d->count].type = type;
	d->count++;
	return 0;
}

static mode_t dtype_mode(unsigned char t)
{
	switch (t) {
	case DT_DIR: return S_IFDIR;
	case DT_LNK: return S_IFLNK;
	case DT_FIFO: return S_IFIFO;
	case DT_SOCK: return S_IFSOCK;
	case DT_CHR: return S_IFCHR;
	case DT_BLK: return S_IFBLK;
	default: return S_IFREG;
	}
}

static int open_dir_stream(int pathfd, DIR **out)
{
	int fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*out = fdopendir(fd);
	if (!*out) {
		int error = -errno;

		close(fd);
		return error;
	}
	return 0;
}

static uint64_t cached_ino(struct fs *fs, struct node *dir, const char *name,
			   int *found)
{
	struct node *n;
	uint64_t ino = 0;

	n = node_find(fs, dir, name);
	*found = n != NULL;
	if (n) {
		ino = n->ino;
		node_forget(fs, n, 1);
	}
	return ino;
}

/*
 * Collect the visible entries of dir (tree held).  When limit is 1 stop at
 * the first one (emptiness test).
 */
static int collect(struct fs *fs, struct node *dir, struct dirh *out,
		   int limit)
{
	struct name_set seen = { 0 };
	size_t alloc = 0;
	struct dirent *d;
	DIR *stream = NULL;
	int error = 0;

	if (dir->ufd >= 0) {
		error = open_dir_stream(dir->ufd, &stream);
		if (error < 0)
			goto out;
		while ((d = readdir(stream))) {
			struct stat st;
			mode_t type = dtype_mode(d->d_type);
			uint64_t ino;
			int found;

			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0 ||
			    strcmp(d->d_name, FS_OPAQUE_MARKER) == 0)
				continue;
			error = set_add(&seen, d->d_name);
			if (error < 0)
				goto out;
			if (d->d_type == DT_CHR || d->d_type == DT_UNKNOWN) {
				if (fstatat(dir->ufd, d->d_name, &st,
					    AT_SYMLINK_NOFOLLOW) < 0 ||
				    node_is_whiteout(&st))
					continue;
				type = st.st_mode & S_IFMT;
			}
			/* [content] hides project files, not what the session
			 * wrote (it could only write what it could see). */
			if (node_decide(fs, dir, d->d_name, S_ISDIR(type)) ==
			    RULE_HIDE)
				continue;
			if (limit) {
				error = dirh_add(out, &alloc, d->d_name, 0,
						 type);
				goto out;
			}
			ino = cached_ino(fs, dir, d->d_name, &found);
			if (!found) {
				struct stat lst;

				if (fstatat(dir->ufd, d->d_name, &st,
					    AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				if (S_ISDIR(st.st_mode) && dir->lfd >= 0 &&
				    !dir->opaque &&
				    fstatat(dir->lfd, d->d_name, &lst,
					    AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISDIR(lst.st_mode))
					ino = lst.st_ino;
				else
					ino = node_ino_of(fs, dir->ufd,
							  d->d_name, &st, 1);
			}
			error = dirh_add(out, &alloc, d->d_name, ino, type);
			if (error < 0)
				goto out;
		}
		closedir(stream);
		stream = NULL;
		if (seen.count)
			qsort(seen.names, seen.count, sizeof(*seen.names),
			      name_cmp);
	}
	if (dir->lfd >= 0 && !dir->opaque) {
		error = open_dir_stream(dir->lfd, &stream);
		if (error < 0)
			goto out;
		while ((d = readdir(stream))) {
			mode_t type = dtype_mode(d->d_type);
			struct stat st;

			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0 ||
			    set_has(&seen, d->d_name))
				continue;
			if (d->d_type == DT_UNKNOWN || d->d_type == DT_DIR ||
			    (d->d_type == DT_REG && fs->opts.rules)) {
				if (fstatat(dir->lfd, d->d_name, &st,
					    AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				type = st.st_mode & S_IFMT;
				if ((uint64_t)st.st_dev == fs->opts.hide_dev &&
				    (uint64_t)st.st_ino == fs->opts.hide_ino)
					continue;
			}
			if (node_decide(fs, dir, d->d_name, S_ISDIR(type)) ==
			    RULE_HIDE)
				continue;
			if (S_ISREG(type) && fs->opts.rules &&
			    (policy_is_hidden_link(fs, &st) ||
			     policy_content_hidden(fs, dir->lfd, d->d_name,
						   &st)))
				continue;
			error = dirh_add(out, &alloc, d->d_name, d->d_ino,
					 type);
			if (error < 0 || limit)
				goto out;
		}
	}
out:
	if (stream)
		closedir(stream);
	set_clear(&seen);
	return error;
}

static int dir_is_empty(struct fs *fs, struct node *dir)
{
	struct dirh d = { 0 };
	int error = collect(fs, dir, &d, 1);

	if (error == 0 && d.count)
		error = -ENOTEMPTY;
	dirh_clear(&d);
	return error;
}

/* Take a reference on parent/name, looking it up when not cached. */
static int get_node(struct fs *fs, struct node *parent, const char *name,
		    struct node **out)
{
	struct fuse_entry_param e;
	int error = node_lookup(fs, parent, name, &e);

	if (error < 0)
		return error;
	*out = node_of_ino(fs, e.ino);
	return 0;
}

static nlink_t lower_nlink(struct node *p, const char *name)
{
	struct stat st;

	if (p->lfd < 0 || fstatat(p->lfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return st.st_nlink;
}

/* Remove name from the view: the upper entry goes, a whiteout covers the
 * lower one. */
static int remove_entry(struct fs *fs, struct node *parent, struct node *n)
{
	int error;

	if (n->upper) {
		if (n->lower)
			return upper_whiteout(fs, parent->ufd, n->name);
		if (S_ISDIR(n->type))
			return upper_remove_tree(parent->ufd, n->name);
		if (unlinkat(parent->ufd, n->name, 0) < 0)
			return -errno;
		return 0;
	}
	if (S_ISREG(n->type) && lower_nlink(parent, n->name) > 1) {
		/* Its other names must see one link fewer: make them one
		 * upper file first, then drop this name. */
		error = copyup(fs, n, 1);
		if (error < 0)
			return error;
		return upper_whiteout(fs, parent->ufd, n->name);
	}
	error = copyup_dir(fs, parent);
	if (error < 0)
		return error;
	if (!S_ISDIR(n->type))
		copyup_capture_node(fs, parent, n->name);
	return upper_whiteout(fs, parent->ufd, n->name);
}

static void gone(struct fs *fs, struct node *n)
{
	node_unhash(fs, n);
	n->upper = 0;
	n->lower = 0;
}

static void do_remove(fuse_req_t req, fuse_ino_t parent_ino,
		      const char *name, int is_dir)
{
	struct fs *fs = fs_of(req);
	struct node *parent = node_of(req, parent_ino), *n = NULL;
	int error;

	fs_req_begin(req);
	wrlock(fs);
	error = get_node(fs, parent, name, &n);
	if (error < 0)
		goto out;
	if (is_dir && !S_ISDIR(n->type))
		error = -ENOTDIR;
	else if (!is_dir && S_ISDIR(n->type))
		error = -EISDIR;
	if (error == 0)
		error = node_check_write(fs, is_dir ? "rmdir" : "unlink", n);
	if (error == 0 && is_dir)
		error = dir_is_empty(fs, n);
	if (error == 0) {
		error = remove_entry(fs, parent, n);
		audit_node(fs, FS_AUDIT_CHANGE, is_dir ? "rmdir" : "unlink",
			   parent, name, audit_result(error));
	}
	if (error == 0)
		gone(fs, n);
out:
	unlock(fs);
	if (n)
		node_forget(fs, n, 1);
	fuse_reply_err(req, -error);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_remove(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_remove(req, parent, name, 1);
}

/* Bring a rename's subject wholly into the upper. */
static int rename_copyup(struct fs *fs, struct node *n)
{
	if (S_ISDIR(n->type))
		return copyup_tree(fs, n);
	return copyup(fs, n, 1);
}

static void redecide(struct node *n, void *payload)
{
	struct fs *fs = payload;

	if (n->hashed)
		n->decision = node_decide(fs, n->parent, n->name,
					  S_ISDIR(n->type));
}

static int do_rename(struct fs *fs, struct node *parent, const char *name,
		     struct node *newparent, const char *newname,
		     unsigned int flags)
{
	struct node *s = NULL, *t = NULL;
	int error, t_lower, s_lower;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	error = get_node(fs, parent, name, &s);
	if (error < 0)
		return error;
	error = node_check_write(fs, "rename", s);
	if (error < 0)
		goto out;
	error = check_new_name(fs, "rename", newparent, newname,
			       S_ISDIR(s->type));
	if (error < 0)
		goto out;
	error = get_node(fs, newparent, newname, &t);
	if (error == -ENOENT) {
		t = NULL;
		error = 0;
	}
	if (error < 0)
		goto out;
	if (t == s)
		goto out;	/* same name: nothing to do */
	if (t && (flags & RENAME_NOREPLACE)) {
		error = -EEXIST;
		goto out;
	}
	if (flags & RENAME_EXCHANGE) {
		if (!t) {
			error = -ENOENT;
			goto out;
		}
		error = node_check_write(fs, "rename", t);
		if (error == 0)
			error = check_new_name(fs, "rename", parent, name,
					       S_ISDIR(t->type));
		if (error == 0)
			error = rename_copyup(fs, s);
		if (error == 0)
			error = rename_copyup(fs, t);
		if (error == 0)
			error = copyup_dir(fs, newparent);
		if (error < 0)
			goto out;
		if (renameat2(parent->ufd, name, newparent->ufd, newname,
			      RENAME_EXCHANGE) < 0) {
			error = -errno;
			goto out;
		}
		s_lower = s->lower;
		s->lower = t->lower;
		t->lower = s_lower;
		node_unhash(fs, t);
		node_rehash(fs, s, newparent, newname);
		node_rehash(fs, t, parent, name);
		node_foreach_descendant(fs, s, redecide, fs);
		node_foreach_descendant(fs, t, redecide, fs);
		s->decision = node_decide(fs, newparent, newname,
					  S_ISDIR(s->type));
		t->decision = node_decide(fs, parent, name, S_ISDIR(t->type));
		goto out;
	}
	if (t) {
		if (S_ISDIR(s->type) && !S_ISDIR(t->type)) {
			error = -ENOTDIR;
			goto out;
		}
		if (!S_ISDIR(s->type) && S_ISDIR(t->type)) {
			error = -EISDIR;
			goto out;
		}
		error = node_check_write(fs, "rename", t);
		if (error == 0 && S_ISDIR(t->type))
			error = dir_is_empty(fs, t);
		if (error < 0)
			goto out;
	}
	error = rename_copyup(fs, s);
	if (error == 0)
		error = copyup_dir(fs, newparent);
	if (error < 0)
		goto out;
	t_lower = t ? t->lower : lower_exists(newparent, newname);
	s_lower = s->lower;
	/* The project file about to be replaced: its first change. */
	if (t && !t->upper && t->lower && !S_ISDIR(t->type))
		copyup_capture_node(fs, newparent, newname);

	/* Clear the way: an upper directory of whiteouts, or a whiteout a
	 * directory cannot be renamed over. */
	if (t && t->upper && S_ISDIR(t->type)) {
		error = upper_remove_tree(newparent->ufd, newname);
	} else if (S_ISDIR(s->type) && is_whiteout_at(newparent->ufd,
						       newname)) {
		if (unlinkat(newparent->ufd, newname, 0) < 0)
			error = -errno;
	}
	if (error < 0)
		goto out;
	if (S_ISDIR(s->type)) {
		/* Its lower (if any) was copied; mask a lower dir below the
		 * new name too. */
		error = upper_set_opaque(s->ufd);
		if (error < 0)
			goto out;
		s->opaque = 1;
	}
	if (s_lower && fs->can_whiteout_rename &&
	    renameat2(parent->ufd, name, newparent->ufd, newname,
		      RENAME_WHITEOUT) == 0) {
		s_lower = 0;
	} else if (renameat(parent->ufd, name, newparent->ufd, newname) < 0) {
		error = -errno;
		goto out;
	}
	if (s_lower) {
		error = upper_whiteout(fs, parent->ufd, name);
		if (error < 0)
			goto out;
	}
	if (t)
		gone(fs, t);
	s->lower = t_lower;
	node_rehash(fs, s, newparent, newname);
	s->decision = node_decide(fs, newparent, newname, S_ISDIR(s->type));
	node_foreach_descendant(fs, s, redecide, fs);
out:
	if (t)
		node_forget(fs, t, 1);
	if (s)
		node_forget(fs, s, 1);
	return error;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct fs *fs = fs_of(req);
	int error;

	fs_req_begin(req);
	wrlock(fs);
	error = do_rename(fs, node_of(req, parent), name,
			  node_of(req, newparent), newname, flags);
	if (error != -EACCES && error != -EROFS &&
	    audit_wants(fs, FS_AUDIT_CHANGE)) {
		char *from = node_path(fs, node_of(req, parent), name);
		char *to = node_path(fs, node_of(req, newparent), newname);
		size_t len = (from ? strlen(from) : 0) +
			(to ? strlen(to) : 0) + 5;
		char *both = from && to ? malloc(len) : NULL;

		if (both)
			snprintf(both, len, "%s -> %s", from, to);
		audit_event(fs, FS_AUDIT_CHANGE, "rename", both,
			    audit_result(error));
		free(from);
		free(to);
	}
	unlock(fs);
	fuse_reply_err(req, -error);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	char buf[PATH_MAX + 1];
	ssize_t len = -1;
	int fd;

	rdlock(fs);
	fd = n->upper ? n->parent->ufd : n->parent->lfd;
	if (fd >= 0)
		len = readlinkat(fd, n->name, buf, sizeof(buf) - 1);
	else
		errno = ENOENT;
	unlock(fs);
	if (len < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);

	(void)ino;
	if (fs->no_opendir) {
		/* The kernel stops sending OPENDIR and RELEASEDIR, and keeps
		 * listings cached (FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE). */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->fh = 0;
	/* Listings stay cached: every change of a directory goes through
	 * the kernel (which drops them), or through the control socket. */
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/*
 * An entry's d_off is a hash of its name, and a listing is sorted by it:
 * reading on from an offset never skips or repeats an entry that stayed,
 * whatever was created or removed in between (POSIX leaves those open).
 * 1 and 2 are "." and "..".
 */
static uint64_t name_off(const char *name)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	h >>= 1;	/* off_t is signed */
	return h < 3 ? h + 3 : h;
}

static int off_cmp(const void *a, const void *b)
{
	const struct dir_entry *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The listing to read dir from off (tree held shared), with a reference:
 * made afresh when a reading starts (off 0), else the one the node keeps
 * while it is read.
 */
static struct dirh *listing_get(struct fs *fs, struct node *dir, off_t off,
				int *error)
{
	struct dirh *d, *old;
	size_t i;

	pthread_mutex_lock(&fs->listing_lock);
	d = dir->listing;
	if (d && off != 0) {
		__atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
		pthread_mutex_unlock(&fs->listing_lock);
		return d;
	}
	pthread_mutex_unlock(&fs->listing_lock);

	d = calloc(1, sizeof(*d));
	if (!d) {
		*error = -ENOMEM;
		return NULL;
	}
	d->refs = 2;	/* ours and the node's */
	*error = collect(fs, dir, d, 0);
	if (*error < 0) {
		dirh_clear(d);
		free(d);
		return NULL;
	}
	for (i = 0; i < d->count; i++)
		d->entries[i].off = name_off(d->entries[i].name);
	if (d->count)
		qsort(d->entries, d->count, sizeof(*d->entries), off_cmp);
	pthread_mutex_lock(&fs->listing_lock);
	old = dir->listing;
	dir->listing = d;
	pthread_mutex_unlock(&fs->listing_lock);
	dirh_put(old);
	return d;
}

/* A reading reached the end: the node need not keep d any longer. */
static void listing_done(struct fs *fs, struct node *dir, struct dirh *d)
{
	int drop = 0;

	pthread_mutex_lock(&fs->listing_lock);
	if (dir->listing == d) {
		dir->listing = NULL;
		drop = 1;
	}
	pthread_mutex_unlock(&fs->listing_lock);
	if (drop)
		dirh_put(d);
}

/* The first entry of d after offset off. */
static size_t listing_seek(const struct dirh *d, off_t off)
{
	size_t lo = 0, hi = d->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->entries[mid].off <= (uint64_t)off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, int plus)
{
	struct fs *fs = fs_of(req);
	struct node *dir = node_of(req, ino);
	struct dirh *d = NULL;
	char *buf = NULL;
	size_t pos = 0, i;
	int error = 0, full = 0;

	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rdlock(fs);
	d = listing_get(fs, dir, off, &error);
	if (!d)
		goto out;
	i = off < 2 ? 0 : listing_seek(d, off);
	for (;;) {
		struct fuse_entry_param e;
		const char *name;
		uint64_t next;
		size_t len;

		memset(&e, 0, sizeof(e));
		if (off == 0) {
			name = ".";
			next = 1;
			e.attr.st_ino = dir->ino;
			e.attr.st_mode = S_IFDIR;
		} else if (off == 1) {
			name = "..";
			next = 2;
			e.attr.st_ino = dir->parent ? dir->parent->ino :
				dir->ino;
			e.attr.st_mode = S_IFDIR;
		} else if (i < d->count) {
			struct dir_entry *ent = &d->entries[i];

			name = ent->name;
			next = ent->off;
			e.attr.st_ino = ent->ino;
			e.attr.st_mode = ent->type;
			if (plus && node_lookup(fs, dir, name, &e) < 0) {
				i++;
				continue;	/* gone since listed */
			}
		} else {
			break;
		}
		if (plus)
			len = fuse_add_direntry_plus(req, buf + pos,
						     size - pos, name, &e,
						     (off_t)next);
		else
			len = fuse_add_direntry(req, buf + pos, size - pos,
						name, &e.attr, (off_t)next);
		if (len > size - pos) {
			if (plus && e.ino)
				node_forget(fs, node_of_ino(fs, e.ino), 1);
			full = 1;
			break;
		}
		pos += len;
		if (off >= 2)
			i++;
		off = (off_t)next;
	}
	/* The reply that ends the reading (an empty one) drops the listing;
	 * the kernel asks once more after the last entries. */
	if (!full && pos == 0)
		listing_done(fs, dir, d);
out:
	unlock(fs);
	dirh_put(d);
	if (error < 0)
		fuse_reply_err(req, -error);
	else
		fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(req, ino);
	int fd = -1, error = 0;

	(void)fi;
	rdlock(fs);
	if (n->ufd >= 0)
		fd = openat(n->ufd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unlock(fs);
	if (fd >= 0) {
		if ((datasync ? fdatasync(fd) : fsync(fd)) < 0)
			error = errno;
		close(fd);
	}
	fuse_reply_err(req, error);
}

void ops_dir_fill(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = op_lookup;
	ops->forget = op_forget;
	ops->forget_multi = op_forget_multi;
	ops->mkdir = op_mkdir;
	ops->mknod = op_mknod;
	ops->symlink = op_symlink;
	ops->link = op_link;
	ops->unlink = op_unlink;
	ops->rmdir = op_rmdir;
	ops->rename = op_rename;
	ops->readlink = op_readlink;
	ops->opendir = op_opendir;
	ops->readdir = op_readdir;
	ops->readdirplus = op_readdirplus;
	/* No releasedir: opendir keeps nothing (libfuse answers it). */
	ops->fsyncdir = op_fsyncdir;
}
