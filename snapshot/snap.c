/*
 * snap.c - snapshots: the upper layer recorded as a commit in the store.
 *
 * A snapshot records what makes the session, its upper layer (small), not
 * the merged view (the whole project): taking one never walks the project.
 *
 * The format of a snapshot is described in snap_format.c.
 *
 * Cost.  A file whose inode, size, mtime and ctime equal its record in
 * the latest snapshot (and did not change in the second that snapshot was
 * taken) keeps the recorded blob without being read; another is hashed
 * first, and written only when the store lacks the blob.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

/* Largest extended attribute list of one entry. */
#define SNAP_MAX_XATTR_LIST ((size_t)64 << 10)
/* How often a file that changes while it is read is read again. */
#define SNAP_TRIES 3

/* ------------------------------------------------------------------ */
/* States */

static void entry_clear(struct snap_entry *e)
{
	size_t i;

	for (i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	free(e->path);
}

void snap_state_clear(struct snap_state *st)
{
	size_t i;

	for (i = 0; i < st->count; i++)
		entry_clear(&st->entries[i]);
	free(st->entries);
	for (i = 0; i < st->nbases; i++)
		free(st->bases[i].path);
	free(st->bases);
	memset(st, 0, sizeof(*st));
}

struct snap_entry *snap_state_add(struct snap_state *st)
{
	if (st->count == st->alloc) {
		size_t alloc = st->alloc ? st->alloc * 2 : 64;
		struct snap_entry *grown;

		grown = realloc(st->entries, alloc * sizeof(*grown));
		if (!grown)
			return NULL;
		st->entries = grown;
		st->alloc = alloc;
	}
	memset(&st->entries[st->count], 0, sizeof(st->entries[0]));
	return &st->entries[st->count++];
}

int snap_state_add_base(struct snap_state *st, size_t *alloc,
			const char *path, const struct side *side)
{
	struct base_rec *b;

	if (st->nbases == *alloc) {
		size_t n = *alloc ? *alloc * 2 : 64;
		struct base_rec *grown = realloc(st->bases, n * sizeof(*grown));

		if (!grown)
			return -1;
		st->bases = grown;
		*alloc = n;
	}
	b = &st->bases[st->nbases];
	memset(b, 0, sizeof(*b));
	b->path = strdup(path);
	if (!b->path)
		return -1;
	b->side = *side;
	b->seq = st->nbases++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_entry *)a)->path,
		      ((const struct snap_entry *)b)->path);
}

static int base_path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct base_rec *)a)->path,
		      ((const struct base_rec *)b)->path);
}

void snap_state_sort(struct snap_state *st)
{
	if (st->count)
		qsort(st->entries, st->count, sizeof(*st->entries), entry_cmp);
	if (st->nbases)
		qsort(st->bases, st->nbases, sizeof(*st->bases),
		      base_path_cmp);
}

int snap_has_content(mode_t mode)
{
	return S_ISREG(mode) || S_ISLNK(mode);
}

const struct snap_entry *snap_find(const struct snap_state *st,
				   const char *path)
{
	struct snap_entry key;

	if (!st->count)
		return NULL;
	key.path = (char *)path;
	return bsearch(&key, st->entries, st->count, sizeof(key), entry_cmp);
}

const struct side *snap_base(const struct snap_state *st, const char *path)
{
	struct base_rec key, *found;

	if (!st->nbases)
		return NULL;
	key.path = (char *)path;
	found = bsearch(&key, st->bases, st->nbases, sizeof(key),
			base_path_cmp);
	return found ? &found->side : NULL;
}

int snap_is_marker(const char *path)
{
	const char *slash = strrchr(path, '/');

	return strcmp(slash ? slash + 1 : path, SNAPSHOT_OPAQUE) == 0;
}

/* ------------------------------------------------------------------ */
/* Directories */

int snap_open_dir(int rootfd, const char *path)
{
	char buf[PATH_MAX], *name, *slash;
	int fd, next;

	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, strlen(path) + 1);
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (name = buf; fd >= 0 && *name; name = slash) {
		slash = strchr(name, '/');
		if (slash)
			*slash++ = '\0';
		else
			slash = name + strlen(name);
		next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		fd = next;
	}
	return fd;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void snap_names_free(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int snap_names(int dirfd, char ***out, size_t *count)
{
	char **names = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *d;
	DIR *dir;
	int fd;

	*out = NULL;
	*count = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	while ((d = readdir(dir))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (n == alloc) {
			char **grown;

			alloc = alloc ? alloc * 2 : 16;
			grown = realloc(names, alloc * sizeof(*names));
			if (!grown)
				goto oom;
			names = grown;
		}
		names[n] = strdup(d->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	*count = n;
	return 0;
oom:
	closedir(dir);
	snap_names_free(names, n);
	errno = ENOMEM;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Reading the upper layer */

struct reader {
	struct snapshot *snap;
	struct snap_state *out;
	const struct snap_state *prev;	/* the latest snapshot, or NULL */
	char *err;
	size_t errsz;
};

int snap_is_whiteout(const struct stat *sb)
{
	return S_ISCHR(sb->st_mode) && sb->st_rdev == makedev(0, 0);
}

static int ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Record the extended attributes of dirfd/name (but security.* and
 * system.*, which belong to the machine). */
static int read_xattrs(struct snap_entry *e, int dirfd, const char *name)
{
	char path[PATH_MAX], *list = NULL, *n;
	ssize_t len, vlen;
	int error = -1;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
	len = llistxattr(path, NULL, 0);
	if (len <= 0)
		return 0;	/* none, or not supported here */
	if ((size_t)len > SNAP_MAX_XATTR_LIST)
		len = (ssize_t)SNAP_MAX_XATTR_LIST;
	list = malloc((size_t)len);
	if (!list)
		return -1;
	len = llistxattr(path, list, (size_t)len);
	if (len < 0) {
		free(list);
		return errno == ERANGE ? 0 : -1;
	}
	for (n = list; n < list + len; n += strlen(n) + 1) {
		struct snap_xattr *grown, *x;

		if (strncmp(n, "security.", 9) == 0 ||
		    strncmp(n, "system.", 7) == 0)
			continue;
		vlen = lgetxattr(path, n, NULL, 0);
		if (vlen < 0)
			continue;
		grown = realloc(e->xattrs, (e->nxattrs + 1) * sizeof(*grown));
		if (!grown)
			goto out;
		e->xattrs = grown;
		x = &e->xattrs[e->nxattrs];
		x->name = strdup(n);
		x->value = malloc(vlen ? (size_t)vlen : 1);
		if (!x->name || !x->value) {
			free(x->name);
			free(x->value);
			goto out;
		}
		vlen = lgetxattr(path, n, x->value, (size_t)vlen);
		if (vlen < 0) {
			free(x->name);
			free(x->value);
			continue;
		}
		x->len = (size_t)vlen;
		e->nxattrs++;
	}
	error = 0;
out:
	free(list);
	return error;
}

/* Stream size bytes of fd into a blob. */
static int stream_blob(git_odb *odb, int fd, uint64_t size, git_oid *out)
{
	git_odb_stream *stream = NULL;
	char buf[65536];
	uint64_t left = size;
	ssize_t n;
	int error = -1;

	if (git_odb_open_wstream(&stream, odb, size, GIT_OBJECT_BLOB) < 0)
		return -1;
	while (left > 0) {
		n = read(fd, buf, left < sizeof(buf) ? (size_t)left :
			 sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			git_error_set_str(GIT_ERROR_OS, n == 0 ?
					  "file shrank while read" :
					  strerror(errno));
			goto out;
		}
		if (git_odb_stream_write(stream, buf, (size_t)n) < 0)
			goto out;
		left -= (uint64_t)n;
	}
	error = git_odb_stream_finalize_write(out, stream);
out:
	git_odb_stream_free(stream);
	return error;
}

/*
 * The content of the regular file dirfd/name: hashed first, written only
 * when the store lacks it.  e gets the status the content was read with.
 * Returns 0, 1 when the file went away (or is no longer a file), 2 when
 * it keeps changing, -1 (libgit2 error set) on a failure.
 */
static int read_file(struct reader *r, int dirfd, const char *name,
		     struct snap_entry *e)
{
	git_odb *odb = r->snap->store->odb;
	struct stat a, b;
	char proc[64];
	int tries, fd, rc;

	for (tries = 0; tries < SNAP_TRIES; tries++) {
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			    O_CLOEXEC);
		if (fd < 0 && (errno == ENOENT || errno == ELOOP))
			return 1;
		if (fd < 0) {
			git_error_set_str(GIT_ERROR_OS, strerror(errno));
			return -1;
		}
		if (fstat(fd, &a) < 0 || !S_ISREG(a.st_mode)) {
			close(fd);
			return 1;
		}
		if ((uint64_t)a.st_size > SNAPSHOT_MAX_FILE) {
			close(fd);
			git_error_set_str(GIT_ERROR_INVALID, "file too large");
			return -1;
		}
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		rc = git_odb_hashfile(&e->oid, proc, GIT_OBJECT_BLOB);
		if (rc == 0 && !git_odb_exists(odb, &e->oid)) {
			if (lseek(fd, 0, SEEK_SET) < 0)
				rc = -1;
			else
				rc = stream_blob(odb, fd, (uint64_t)a.st_size,
						 &e->oid);
		}
		if (fstat(fd, &b) < 0)
			rc = -1;
		close(fd);
		if (rc == 0 && a.st_size == b.st_size &&
		    ts_equal(&a.st_mtim, &b.st_mtim) &&
		    ts_equal(&a.st_ctim, &b.st_ctim)) {
			e->mode = a.st_mode;
			e->size = (uint64_t)a.st_size;
			e->ino = a.st_ino;
			e->mtime = a.st_mtim;
			e->ctime = a.st_ctim;
			return 0;
		}
	}
	return 2;
}

/* May the recorded blob of p stand for the file with status sb? */
static int cache_ok(const struct snap_entry *p, const struct stat *sb,
		    int64_t taken)
{
	return p->mode == sb->st_mode && p->ino == (uint64_t)sb->st_ino &&
		p->size == (uint64_t)sb->st_size &&
		ts_equal(&p->mtime, &sb->st_mtim) &&
		ts_equal(&p->ctime, &sb->st_ctim) &&
		/* changed in the second the snapshot was taken: racy */
		(int64_t)sb->st_mtim.tv_sec < taken &&
		(int64_t)sb->st_ctim.tv_sec < taken;
}

static int read_entry(struct reader *r, int dirfd, const char *name,
		      const char *path, const struct stat *sb)
{
	const struct snap_entry *p;
	struct snap_entry *e;
	char target[PATH_MAX];
	ssize_t len;
	int rc;

	if ((S_ISCHR(sb->st_mode) && !snap_is_whiteout(sb)) ||
	    S_ISBLK(sb->st_mode))
		return 0;	/* never made by the filesystem */
	e = snap_state_add(r->out);
	if (e)
		e->path = strdup(path);
	if (!e || !e->path)
		return snapshot_fail(r->err, r->errsz, -1, "out of memory");
	e->mode = snap_is_whiteout(sb) ? S_IFCHR : sb->st_mode;
	e->uid = sb->st_uid;
	e->gid = sb->st_gid;
	e->mtime = sb->st_mtim;
	e->ctime = sb->st_ctim;
	e->ino = sb->st_ino;
	e->size = S_ISREG(sb->st_mode) || S_ISLNK(sb->st_mode) ?
		(uint64_t)sb->st_size : 0;
	if (S_ISREG(sb->st_mode)) {
		p = r->prev ? snap_find(r->prev, path) : NULL;
		if (p && cache_ok(p, sb, r->prev->time)) {
			e->oid = p->oid;
		} else {
			rc = read_file(r, dirfd, name, e);
			if (rc < 0)
				return snapshot_fail_git(r->err, r->errsz, -1,
							 "cannot read '%s' "
							 "in the session",
							 path);
			if (rc == 1) {
				/* gone meanwhile */
				entry_clear(&r->out->entries[--r->out->count]);
				return 0;
			}
			if (rc > 1)
				return snapshot_fail(r->err, r->errsz, -1,
						     "cannot read '%s' in the "
						     "session: it keeps "
						     "changing", path);
		}
	} else if (S_ISLNK(sb->st_mode)) {
		len = readlinkat(dirfd, name, target, sizeof(target));
		if (len < 0 || (size_t)len >= sizeof(target))
			return snapshot_fail_os(r->err, r->errsz, -1, "cannot "
						"read '%s' in the session",
						path);
		e->size = (uint64_t)len;
		if (git_odb_write(&e->oid, r->snap->store->odb, target,
				  (size_t)len, GIT_OBJECT_BLOB) < 0)
			return snapshot_fail_git(r->err, r->errsz, -1, "cannot "
						 "store '%s'", path);
	}
	if (!S_ISLNK(sb->st_mode) && read_xattrs(e, dirfd, name) < 0)
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot read "
					"the attributes of '%s'", path);
	return 0;
}

static int read_dir(struct reader *r, int dirfd, const char *rel)
{
	char **names = NULL;
	size_t n = 0, i;
	int error = 0;

	if (snap_names(dirfd, &names, &n) < 0)
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot read "
					"directory '%s' in the session",
					*rel ? rel : ".");
	for (i = 0; i < n && error == 0; i++) {
		char *path = path_join2(rel, names[i]);
		struct stat sb;
		int sub;

		if (!path) {
			error = snapshot_fail(r->err, r->errsz, -1,
					      "out of memory");
			break;
		}
		if (fstatat(dirfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)	/* else gone meanwhile */
				error = snapshot_fail_os(r->err, r->errsz, -1,
							 "cannot read '%s' in "
							 "the session", path);
			free(path);
			continue;
		}
		error = read_entry(r, dirfd, names[i], path, &sb);
		if (error == 0 && S_ISDIR(sb.st_mode)) {
			sub = openat(dirfd, names[i], O_PATH | O_DIRECTORY |
				     O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				error = snapshot_fail_os(r->err, r->errsz, -1,
							 "cannot open '%s' in "
							 "the session", path);
			} else {
				error = read_dir(r, sub, path);
				close(sub);
			}
		}
		free(path);
	}
	snap_names_free(names, n);
	return error;
}

int snap_read_upper(struct snap_state *out, struct snapshot *snap,
		    const struct snap_state *prev, char *err, size_t errsz)
{
	struct reader r = { snap, out, prev, err, errsz };
	size_t alloc = 0, i;
	struct stat sb;
	int error;

	memset(out, 0, sizeof(*out));
	out->time = (int64_t)time(NULL);
	if (fstatat(snap->upperfd, "", &sb, AT_EMPTY_PATH) < 0)
		return snapshot_fail_os(err, errsz, -1, "cannot read the "
					"session's layer '%s'", snap->upper);
	error = read_entry(&r, snap->upperfd, ".", "", &sb);
	if (error == 0)
		error = read_dir(&r, snap->upperfd, "");
	if (error == 0)
		error = store_bases_load(snap, err, errsz);
	for (i = 0; error == 0 && i < snap->nbases; i++) {
		if (!snap->bases[i].side.present)
			continue;
		if (snap_state_add_base(out, &alloc, snap->bases[i].path,
					&snap->bases[i].side) < 0)
			error = snapshot_fail(err, errsz, -1, "out of memory");
	}
	if (error < 0) {
		snap_state_clear(out);
		return error;
	}
	if (out->count)
		qsort(out->entries, out->count, sizeof(*out->entries),
		      entry_cmp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Taking a snapshot */

/* How many paths of the view differ between a and b: entries but
 * directories and opaque markers. */
static size_t count_changed(const struct snap_state *a,
			    const struct snap_state *b)
{
	size_t i = 0, j = 0, n = 0;
	int c;

	while (i < a->count || j < b->count) {
		const struct snap_entry *x = i < a->count ? &a->entries[i] :
			NULL;
		const struct snap_entry *y = j < b->count ? &b->entries[j] :
			NULL;

		if (!x)
			c = 1;
		else if (!y)
			c = -1;
		else
			c = strcmp(x->path, y->path);
		if (c < 0) {
			n += !S_ISDIR(x->mode) && !snap_is_marker(x->path);
			i++;
		} else if (c > 0) {
			n += !S_ISDIR(y->mode) && !snap_is_marker(y->path);
			j++;
		} else {
			if ((!S_ISDIR(x->mode) || !S_ISDIR(y->mode)) &&
			    !snap_is_marker(x->path))
				n += x->mode != y->mode ||
					(snap_has_content(x->mode) &&
					 !git_oid_equal(&x->oid, &y->oid));
			i++;
			j++;
		}
	}
	return n;
}

int snapshot_create(unsigned long *id, struct snapshot *snap,
		    const char *message, char *err, size_t errsz)
{
	int lockfd = -1, error;

	*id = 0;
	error = accept_lock(snap, &lockfd, err, errsz);
	if (error < 0)
		return error;
	error = snap_create_locked(id, snap, message, err, errsz);
	close(lockfd);
	return error;
}

int snap_create_locked(unsigned long *id, struct snapshot *snap,
		       const char *message, char *err, size_t errsz)
{
	struct snap_state prev, now;
	struct snap_chain c;
	unsigned long seq;
	int error;

	*id = 0;
	memset(&prev, 0, sizeof(prev));
	memset(&now, 0, sizeof(now));
	error = snap_chain_read(&c, snap, err, errsz);
	if (error == 0 && c.count)
		error = snap_load_commit(&prev, snap, c.commits[0],
					 &c.infos[0], err, errsz);
	if (error == 0)
		error = snap_read_upper(&now, snap, c.count ? &prev : NULL,
					err, errsz);
	if (error < 0)
		goto out;
	seq = snap_seq_read(snap);
	if (c.count && c.infos[0].id > seq)
		seq = c.infos[0].id;
	now.id = seq + 1;
	now.changed = count_changed(&prev, &now);
	error = snap_write_commit(snap, &now,
				  message ? message : "snapshot",
				  c.count ? c.commits[0] : NULL, err, errsz);
	if (error < 0)
		goto out;
	if (snap_seq_write(snap, now.id) < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot record the "
					 "number of snapshot %lu", now.id);
		goto out;
	}
	*id = now.id;
out:
	snap_chain_free(&c);
	snap_state_clear(&prev);
	snap_state_clear(&now);
	return error;
}

/* ------------------------------------------------------------------ */
/* Listing and dropping */

int snapshot_list(struct snapshot *snap,
		  int (*fn)(const struct snapshot_info *info, void *payload),
		  void *payload, char *err, size_t errsz)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct snapshot_info info;
	struct snap_chain c;
	size_t i;
	int error;

	error = snap_chain_read(&c, snap, err, errsz);
	if (error < 0)
		return error;
	for (i = c.count; i > 0 && error == 0; i--) {
		const char *summary = git_commit_summary(c.commits[i - 1]);

		git_oid_tostr(hex, sizeof(hex),
			      git_commit_id(c.commits[i - 1]));
		info.id = c.infos[i - 1].id;
		info.commit = hex;
		info.time = (int64_t)git_commit_time(c.commits[i - 1]);
		info.message = summary ? summary : "";
		info.changed = c.infos[i - 1].changed;
		error = fn(&info, payload);
	}
	snap_chain_free(&c);
	return error;
}

/* Commit c again on parent (NULL: none), with its tree, authors and
 * message. */
static int recommit(git_commit **out, git_repository *repo, git_commit *c,
		    git_commit *parent)
{
	const git_commit *parents[1] = { parent };
	git_tree *tree = NULL;
	git_oid oid;
	int error;

	*out = NULL;
	error = git_commit_tree(&tree, c);
	if (error == 0)
		error = git_commit_create(&oid, repo, NULL,
					  git_commit_author(c),
					  git_commit_committer(c),
					  git_commit_message_encoding(c),
					  git_commit_message(c), tree,
					  parent ? 1 : 0, parents);
	if (error == 0)
		error = git_commit_lookup(out, repo, &oid);
	git_tree_free(tree);
	return error;
}

int snapshot_drop(struct snapshot *snap, unsigned long id,
		  char *err, size_t errsz)
{
	git_repository *repo = snap->store->repo;
	git_commit *base = NULL, *next = NULL;
	git_reference *ref = NULL;
	struct snap_chain c;
	size_t i, at;
	int lockfd = -1, error;

	memset(&c, 0, sizeof(c));
	error = accept_lock(snap, &lockfd, err, errsz);
	if (error < 0)
		return error;
	error = snap_chain_read(&c, snap, err, errsz);
	if (error < 0)
		goto out;
	for (at = 0; at < c.count && c.infos[at].id != id; at++)
		;
	if (at == c.count) {
		error = snapshot_fail(err, errsz, -1, "there is no snapshot "
				      "%lu", id);
		goto out;
	}
	/* never give the newest number again */
	if (c.infos[0].id > snap_seq_read(snap) &&
	    snap_seq_write(snap, c.infos[0].id) < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot record the "
					 "snapshot numbers");
		goto out;
	}
	/* the snapshots after it, oldest first, on its parent */
	if (at + 1 < c.count) {
		base = c.commits[at + 1];
		c.commits[at + 1] = NULL;
	}
	for (i = at; i > 0; i--) {
		if (recommit(&next, repo, c.commits[i - 1], base) < 0) {
			error = snapshot_fail_git(err, errsz, -1, "cannot drop "
						  "snapshot %lu", id);
			goto out;
		}
		git_commit_free(base);
		base = next;
		next = NULL;
	}
	if (base)
		error = git_reference_create(&ref, repo, SNAP_REF,
					     git_commit_id(base), 1,
					     "wardfs: drop snapshot");
	else
		error = git_reference_remove(repo, SNAP_REF);
	if (error < 0)
		error = snapshot_fail_git(err, errsz, -1, "cannot drop "
					  "snapshot %lu", id);
out:
	git_reference_free(ref);
	git_commit_free(base);
	snap_chain_free(&c);
	close(lockfd);
	return error;
}
