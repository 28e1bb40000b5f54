/*
 * node.c - names in the merged view: the node table, lookup, stat.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct node *node_of_ino(struct fs *fs, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &fs->root;
	return (struct node *)(uintptr_t)ino;
}

struct node *node_of(fuse_req_t req, fuse_ino_t ino)
{
	return node_of_ino(fs_of(req), ino);
}

fuse_ino_t node_id(struct fs *fs, struct node *n)
{
	if (n == &fs->root)
		return FUSE_ROOT_ID;
	return (fuse_ino_t)(uintptr_t)n;
}

static size_t hash_of(const struct node *parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)parent;

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29));
}

int node_table_init(struct fs *fs)
{
	fs->table_size = 4096;
	fs->table = calloc(fs->table_size, sizeof(*fs->table));
	if (!fs->table)
		return -ENOMEM;
	return 0;
}

/* Called with table_lock held (or single-threaded). */
static void all_unlink(struct fs *fs, struct node *n)
{
	if (n->all_prev)
		n->all_prev->all_next = n->all_next;
	else if (fs->all == n)
		fs->all = n->all_next;
	if (n->all_next)
		n->all_next->all_prev = n->all_prev;
	n->all_next = n->all_prev = NULL;
}

static void node_free(struct node *n)
{
	if (n->ufd >= 0)
		close(n->ufd);
	if (n->lfd >= 0)
		close(n->lfd);
	dirh_put(n->listing);
	free(n->name);
	free(n);
}

void node_table_release(struct fs *fs)
{
	struct node *n, *next;

	/* Hashed or not (deleted, or dropped by a refresh while the kernel
	 * still knew them): nothing is counted any more. */
	for (n = fs->all; n; n = next) {
		next = n->all_next;
		node_free(n);
	}
	fs->all = NULL;
	free(fs->table);
	fs->table = NULL;
}

static void table_grow(struct fs *fs)
{
	size_t size = fs->table_size * 2, i;
	struct node **table = calloc(size, sizeof(*table));

	if (!table)
		return;	/* longer chains, still correct */
	for (i = 0; i < fs->table_size; i++) {
		struct node *n = fs->table[i], *next;

		for (; n; n = next) {
			size_t h = hash_of(n->parent, n->name) & (size - 1);

			next = n->hnext;
			n->hnext = table[h];
			table[h] = n;
		}
	}
	free(fs->table);
	fs->table = table;
	fs->table_size = size;
}

/* Called with table_lock held. */
static struct node *table_find(struct fs *fs, struct node *parent,
			       const char *name)
{
	struct node *n = fs->table[hash_of(parent, name) &
				   (fs->table_size - 1)];

	for (; n; n = n->hnext)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

/* Called with table_lock held. */
static void table_insert(struct fs *fs, struct node *n)
{
	size_t h;

	if (fs->table_count >= fs->table_size)
		table_grow(fs);
	h = hash_of(n->parent, n->name) & (fs->table_size - 1);
	n->hnext = fs->table[h];
	fs->table[h] = n;
	n->hashed = 1;
	fs->table_count++;
}

/* Called with table_lock held. */
static void table_remove(struct fs *fs, struct node *n)
{
	struct node **p;

	if (!n->hashed)
		return;
	p = &fs->table[hash_of(n->parent, n->name) & (fs->table_size - 1)];
	for (; *p; p = &(*p)->hnext) {
		if (*p == n) {
			*p = n->hnext;
			break;
		}
	}
	n->hashed = 0;
	n->hnext = NULL;
	fs->table_count--;
}

struct node *node_find(struct fs *fs, struct node *parent, const char *name)
{
	struct node *n;

	pthread_mutex_lock(&fs->table_lock);
	n = table_find(fs, parent, name);
	if (n)
		n->nlookup++;
	pthread_mutex_unlock(&fs->table_lock);
	return n;
}

void node_unhash(struct fs *fs, struct node *n)
{
	pthread_mutex_lock(&fs->table_lock);
	table_remove(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

/* Called with table_lock held: free n and every parent it kept alive. */
static void release_chain(struct fs *fs, struct node *n)
{
	while (n && n != &fs->root && n->nlookup == 0 && n->nchildren == 0) {
		struct node *parent = n->parent;

		table_remove(fs, n);
		all_unlink(fs, n);
		node_free(n);
		if (!parent)
			break;
		parent->nchildren--;
		n = parent;
	}
}

void node_rehash(struct fs *fs, struct node *n, struct node *parent,
		 const char *name)
{
	char *copy = strdup(name);
	struct node *old;

	pthread_mutex_lock(&fs->table_lock);
	table_remove(fs, n);
	old = n->parent;
	if (copy) {
		free(n->name);
		n->name = copy;
	}
	if (old != parent) {
		parent->nchildren++;
		n->parent = parent;
		old->nchildren--;
		release_chain(fs, old);
	}
	table_insert(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

void node_forget(struct fs *fs, struct node *n, uint64_t nlookup)
{
	if (n == &fs->root)
		return;
	pthread_mutex_lock(&fs->table_lock);
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	release_chain(fs, n);
	pthread_mutex_unlock(&fs->table_lock);
}

char *node_path(struct fs *fs, struct node *parent, const char *name)
{
	size_t len = 0, pos, l;
	struct node *n;
	char *buf;

	pthread_mutex_lock(&fs->table_lock);
	for (n = parent; n && n != &fs->root; n = n->parent)
		len += strlen(n->name) + 1;
	if (name)
		len += strlen(name) + 1;
	buf = malloc(len + 1);
	if (!buf)
		goto out;
	/* Fill from the end; each component is preceded by a '/'. */
	pos = len;
	buf[pos] = '\0';
	if (name) {
		l = strlen(name);
		pos -= l;
		memcpy(buf + pos, name, l);
		buf[--pos] = '/';
	}
	for (n = parent; n && n != &fs->root; n = n->parent) {
		l = strlen(n->name);
		pos -= l;
		memcpy(buf + pos, n->name, l);
		buf[--pos] = '/';
	}
out:
	pthread_mutex_unlock(&fs->table_lock);
	if (buf && len > 0)
		memmove(buf, buf + 1, len);
	return buf;
}

/*
 * Call fn for every cached node below dir, parents before children, with
 * no lock of the table held (fn may build paths); each node is kept alive
 * meanwhile.
 */
void node_foreach_descendant(struct fs *fs, struct node *dir,
			     void (*fn)(struct node *n, void *payload),
			     void *payload)
{
	struct node **list = NULL, **grown;
	size_t n = 0, alloc = 0, i, depth, max_depth = 0;

	pthread_mutex_lock(&fs->table_lock);
	for (i = 0; i < fs->table_size; i++) {
		struct node *node = fs->table[i];

		for (; node; node = node->hnext) {
			struct node *p;

			for (p = node->parent; p && p != dir; p = p->parent)
				;
			if (p != dir)
				continue;
			if (n == alloc) {
				alloc = alloc ? alloc * 2 : 64;
				grown = realloc(list, alloc * sizeof(*list));
				if (!grown)
					break;
				list = grown;
			}
			node->nlookup++;
			list[n++] = node;
		}
	}
	pthread_mutex_unlock(&fs->table_lock);

	/* Parents first: by depth below dir. */
	for (i = 0; i < n; i++) {
		struct node *p;

		for (depth = 0, p = list[i]; p != dir; p = p->parent)
			depth++;
		if (depth > max_depth)
			max_depth = depth;
	}
	for (depth = 1; depth <= max_depth; depth++) {
		for (i = 0; i < n; i++) {
			struct node *p;
			size_t d = 0;

			for (p = list[i]; p != dir; p = p->parent)
				d++;
			if (d == depth)
				fn(list[i], payload);
		}
	}
	for (i = 0; i < n; i++)
		node_forget(fs, list[i], 1);
	free(list);
}

int node_name_ok(const char *name)
{
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	if (strcmp(name, FS_OPAQUE_MARKER) == 0)
		return -ENOENT;
	return 0;
}

int node_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

int node_is_opaque_dir(int ufd)
{
	struct stat st;

	if (fstatat(ufd, FS_OPAQUE_MARKER, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return node_is_whiteout(&st);
}

enum rule_action node_decide_full(struct fs *fs, struct node *parent,
				  const char *name, int is_dir, int *redact)
{
	enum rule_action action;
	char *path;

	if (redact)
		*redact = 0;
	if (!fs->opts.rules)
		return RULE_ALLOW;
	path = node_path(fs, parent, name);
	if (!path)
		return RULE_HIDE;	/* fail closed */
	action = rules_decide(fs->opts.rules, path, is_dir, NULL);
	if (redact && action != RULE_HIDE && !is_dir)
		*redact = rules_redacts(fs->opts.rules, path);
	free(path);
	return action;
}

enum rule_action node_decide(struct fs *fs, struct node *parent,
			     const char *name, int is_dir)
{
	return node_decide_full(fs, parent, name, is_dir, NULL);
}

/*
 * The st_ino reported for an entry.  Lower entries keep their own; an
 * upper entry copied up from the lower carries its origin in an xattr, so
 * the number survives copy-up, renames and remounts.  Upper-only entries
 * report their own, marked when the layers' devices differ.
 */
uint64_t node_ino_of(struct fs *fs, int dirfd, const char *name,
		     const struct stat *st, int is_upper)
{
	uint64_t origin;

	if (!is_upper)
		return st->st_ino;
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW |
				O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

		if (fd >= 0) {
			ssize_t len = fgetxattr(fd, FS_XATTR_ORIGIN, &origin,
						sizeof(origin));

			close(fd);
			if (len == (ssize_t)sizeof(origin))
				return origin;
		}
	}
	if (fs->upper_dev != fs->lower_dev)
		return st->st_ino | (1ULL << 63);
	return st->st_ino;
}

int node_layer_fd(struct node *n, int upper)
{
	return upper ? n->ufd : n->lfd;
}

/*
 * The link count of a merged directory: the lower's, plus directories the
 * upper adds, minus lower directories it deletes or replaces.  (Hidden
 * subdirectories still count: a count too high only costs find(1) its
 * leaf optimisation, one too low would make it skip directories.)
 */
static nlink_t merged_nlink(struct node *n, nlink_t lower_nlink)
{
	int fd = openat(n->ufd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long nlink = (long)lower_nlink;
	struct dirent *d;
	DIR *dir;

	if (fd < 0)
		return lower_nlink;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return lower_nlink;
	}
	while ((d = readdir(dir))) {
		struct stat ust, lst;
		int up_dir, low_dir;

		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0 ||
		    strcmp(d->d_name, FS_OPAQUE_MARKER) == 0)
			continue;
		if (fstatat(fd, d->d_name, &ust, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		up_dir = S_ISDIR(ust.st_mode);
		low_dir = fstatat(n->lfd, d->d_name, &lst,
				  AT_SYMLINK_NOFOLLOW) == 0 &&
			S_ISDIR(lst.st_mode);
		if (up_dir && !low_dir)
			nlink++;
		else if (!up_dir && low_dir)
			nlink--;	/* a whiteout or a file replaced it */
	}
	closedir(dir);
	return nlink < 2 ? 2 : (nlink_t)nlink;
}

int node_stat(struct fs *fs, struct node *n, struct stat *st)
{
	int error;

	if (S_ISDIR(n->type)) {
		int fd = n->upper ? n->ufd : n->lfd;
		struct stat lst;

		if (fd < 0)
			return -ENOENT;
		error = fstatat(fd, "", st, AT_EMPTY_PATH);
		if (error == 0 && n->upper && n->lfd >= 0 && !n->opaque &&
		    fstatat(n->lfd, "", &lst, AT_EMPTY_PATH) == 0)
			st->st_nlink = merged_nlink(n, lst.st_nlink);
	} else {
		struct node *p = n->parent;
		int fd;

		if (!n->upper && !n->lower)
			return -ENOENT;
		fd = n->upper ? p->ufd : p->lfd;
		if (fd < 0)
			return -ENOENT;
		error = fstatat(fd, n->name, st, AT_SYMLINK_NOFOLLOW);
		if (error == 0 && n->redact &&
		    policy_redacted_size(fs, fd, n->name, &st->st_size) < 0)
			return -EIO;
	}
	if (error < 0)
		return -errno;
	st->st_ino = n->ino;
	return 0;
}

void node_fill_entry(struct fs *fs, struct node *n, const struct stat *st,
		     struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = node_id(fs, n);
	e->attr = *st;
	e->attr.st_ino = n->ino;
	e->entry_timeout = fs->opts.timeout;
	/* Another name of the same file may change it behind our back. */
	e->attr_timeout = (!S_ISDIR(st->st_mode) && st->st_nlink > 1) ?
		0 : fs->opts.timeout;
}

/*
 * Look a name up in both layers and return a referenced node (nlookup
 * incremented) with its entry filled.  Called with tree held (shared or
 * exclusive).
 */
int node_lookup(struct fs *fs, struct node *parent, const char *name,
		struct fuse_entry_param *e)
{
	struct stat ust, lst, st;
	int has_u = 0, has_l = 0, opaque = 0, ufd = -1, lfd = -1, redact = 0;
	enum rule_action decision;
	struct node *n, *other;
	int error;

	error = node_name_ok(name);
	if (error < 0)
		return error;
	if (!S_ISDIR(parent->type))
		return -ENOTDIR;

	n = node_find(fs, parent, name);
	if (n) {
		error = node_stat(fs, n, &st);
		if (error < 0) {
			node_forget(fs, n, 1);
			return error;
		}
		node_fill_entry(fs, n, &st, e);
		return 0;
	}

	if (parent->ufd >= 0) {
		if (fstatat(parent->ufd, name, &ust,
			    AT_SYMLINK_NOFOLLOW) == 0) {
			if (node_is_whiteout(&ust))
				return -ENOENT;
			has_u = 1;
		} else if (errno != ENOENT) {
			return -errno;
		}
	}
	if (parent->lfd >= 0 && !parent->opaque) {
		if (fstatat(parent->lfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0)
			has_l = 1;
		else if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
	}
	if (!has_u && !has_l)
		return -ENOENT;
	if (has_l && (uint64_t)lst.st_dev == fs->opts.hide_dev &&
	    (uint64_t)lst.st_ino == fs->opts.hide_ino)
		return -ENOENT;
	st = has_u ? ust : lst;
	decision = node_decide_full(fs, parent, name, S_ISDIR(st.st_mode),
				    &redact);
	/* [content] judges project files; an upper file is the session's
	 * own (a hidden project file can be neither read nor copied up). */
	if (decision == RULE_HIDE ||
	    (S_ISREG(st.st_mode) && !has_u &&
	     (policy_is_hidden_link(fs, &lst) ||
	      policy_content_hidden(fs, parent->lfd, name, &st)))) {
		audit_node(fs, FS_AUDIT_DENIAL, "lookup", parent, name,
			   "hidden");
		return -ENOENT;
	}
	if (S_ISREG(st.st_mode)) {
		if (redact && decision == RULE_ALLOW)
			decision = RULE_READONLY;	/* masked: no writes */
	} else {
		redact = 0;
	}

	if (S_ISDIR(st.st_mode)) {
		if (has_u) {
			ufd = openat(parent->ufd, name, O_PATH | O_NOFOLLOW |
				     O_DIRECTORY | O_CLOEXEC);
			if (ufd < 0)
				return -errno;
			opaque = node_is_opaque_dir(ufd);
		}
		if (has_l && S_ISDIR(lst.st_mode) && !opaque) {
			lfd = openat(parent->lfd, name, O_PATH | O_NOFOLLOW |
				     O_DIRECTORY | O_CLOEXEC);
			if (lfd < 0) {
				error = -errno;
				if (ufd >= 0)
					close(ufd);
				return error;
			}
		}
	}

	n = calloc(1, sizeof(*n));
	if (n)
		n->name = strdup(name);
	if (!n || !n->name) {
		free(n);
		if (ufd >= 0)
			close(ufd);
		if (lfd >= 0)
			close(lfd);
		return -ENOMEM;
	}
	n->type = st.st_mode & S_IFMT;
	n->upper = has_u;
	n->lower = has_l;
	n->opaque = opaque;
	n->ufd = ufd;
	n->lfd = lfd;
	n->decision = decision;
	n->redact = redact;
	if (has_u && S_ISDIR(ust.st_mode) && has_l && S_ISDIR(lst.st_mode))
		n->ino = lst.st_ino;
	else
		n->ino = node_ino_of(fs, has_u ? parent->ufd : parent->lfd,
				     name, &st, has_u);
	n->nlookup = 1;
	n->parent = parent;

	pthread_mutex_lock(&fs->table_lock);
	other = table_find(fs, parent, name);
	if (other) {
		other->nlookup++;
	} else {
		parent->nchildren++;
		table_insert(fs, n);
		n->all_next = fs->all;
		if (fs->all)
			fs->all->all_prev = n;
		fs->all = n;
	}
	pthread_mutex_unlock(&fs->table_lock);
	if (other) {
		node_free(n);
		n = other;
	}
	if (n->redact &&
	    policy_redacted_size(fs, has_u ? parent->ufd : parent->lfd, name,
				 &st.st_size) < 0) {
		node_forget(fs, n, 1);
		return -EIO;
	}
	if (S_ISDIR(n->type) && n->upper && n->lfd >= 0 && !n->opaque)
		st.st_nlink = merged_nlink(n, lst.st_nlink);
	st.st_ino = n->ino;
	node_fill_entry(fs, n, &st, e);
	return 0;
}
