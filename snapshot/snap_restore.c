/*
 * snap_restore.c - snapshot restore: the upper layer back to a snapshot.
 *
 * The entries are made by snap_make.c: through temporaries renamed into
 * place, keeping those that already match.
 *
 * A session that is not live, restored whole, gets a new upper built apart
 * and exchanged with the old one in one renameat2(RENAME_EXCHANGE).  A
 * live session is restored in place, since its daemon holds descriptors of
 * the upper's directories: entries the snapshot lacks are removed, then the
 * snapshot's entries are made, parents first, then directory times are
 * set, deepest first.  The caller then tells the daemon (touched paths).
 *
 * Restoring some paths only restores those entries and what is beneath
 * them; a missing parent directory is made (from the snapshot, else from
 * the project, as a copy-up would), a deleted one becomes an opaque
 * directory (what else it held stays deleted).  Where the snapshot showed
 * the project beneath such a path but the upper now hides it from above
 * (an opaque or deleted parent), the project's entries are copied in as a
 * copy-up makes them (user.wardfs.origin keeps their st_ino).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

/* ------------------------------------------------------------------ */
/* In place */

static int prune(struct snap_restore *r, int dirfd, const char *name,
		 const char *path);

/* Remove what the snapshot lacks beneath the directory dirfd/name. */
static int prune_dir(struct snap_restore *r, int dirfd, const char *name,
		     const char *path)
{
	char **names = NULL;
	size_t n = 0, i;
	int fd, error = 0;

	fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0 || snap_names(fd, &names, &n) < 0) {
		error = snapshot_fail_os(r->err, r->errsz, -1, "cannot read "
					 "directory '%s' in the session",
					 *path ? path : ".");
		goto out;
	}
	for (i = 0; i < n && error == 0; i++) {
		char *child = path_join2(path, names[i]);

		if (!child) {
			error = snapshot_fail(r->err, r->errsz, -1,
					      "out of memory");
			break;
		}
		error = prune(r, fd, names[i], child);
		free(child);
	}
out:
	snap_names_free(names, n);
	if (fd >= 0)
		close(fd);
	return error;
}

/* Remove dirfd/name (path) and what is beneath it where the snapshot
 * lacks them.  Entries of another type are replaced by put(). */
static int prune(struct snap_restore *r, int dirfd, const char *name,
		 const char *path)
{
	const struct snap_entry *t;
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot read "
					"'%s' in the session", path);
	}
	t = snap_find(r->to, path);
	if (t && S_ISDIR(t->mode) && S_ISDIR(sb.st_mode))
		return prune_dir(r, dirfd, name, path);
	if (t)
		return 0;
	if (snap_remove_tree(dirfd, name) < 0)
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot remove "
					"'%s' from the session", path);
	snap_touched(r, path);
	return 0;
}

/* The index of the first entry at or beneath path, and one past the last
 * (entries beneath "a" are "a/..."; "a-b" sorts between them and "a"). */
static void scope(const struct snap_state *to, const char *path, size_t *from,
		  size_t *end, size_t *count)
{
	size_t lo = 0, hi = to->count, mid, len = strlen(path);

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(to->entries[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*from = lo;
	*count = 0;
	for (hi = lo; hi < to->count &&
	     strncmp(to->entries[hi].path, path, len) == 0; hi++)
		*count += path_under(to->entries[hi].path, path);
	*end = hi;
}

/* A directory entry for a parent the session lacks: the project's
 * directory, as a copy-up makes it, else a plain one. */
static void lower_dir(struct snap_restore *r, const char *path,
		      struct snap_entry *out)
{
	char dir[PATH_MAX];
	const char *name;
	struct stat sb;
	int fd = -1;

	memset(out, 0, sizeof(*out));
	out->path = (char *)path;
	out->mode = S_IFDIR | 0755;
	out->uid = getuid();
	out->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &out->mtime);
	if (snap_split(path, dir, sizeof(dir), &name) == 0)
		fd = snap_open_dir(r->snap->projectfd, dir);
	if (fd >= 0 && fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		out->mode = sb.st_mode;
		out->uid = sb.st_uid;
		out->gid = sb.st_gid;
		out->mtime = sb.st_mtim;
	}
	if (fd >= 0)
		close(fd);
}

/*
 * The parents of path in the upper must be directories: the missing ones
 * are made, a deleted one becomes an opaque directory.  With check set,
 * nothing is made: fails when a parent is something else.
 */
static int parents(struct snap_restore *r, const char *path, int check)
{
	char buf[PATH_MAX], *slash;
	const struct snap_entry *t;
	struct snap_entry made;
	struct stat sb;
	const char *name;
	int fd, next, error = 0;

	if (strlen(path) >= sizeof(buf))
		return snapshot_fail(r->err, r->errsz, -1, "path '%s' is too "
				     "long", path);
	memcpy(buf, path, strlen(path) + 1);
	fd = openat(r->snap->upperfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return snapshot_fail_os(r->err, r->errsz, -1, "cannot open the "
					"session's layer '%s'", r->snap->upper);
	for (slash = strchr(buf, '/'); fd >= 0 && slash && error == 0;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		name = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
		if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) {
				error = snapshot_fail_os(r->err, r->errsz, -1,
							 "cannot read '%s' in "
							 "the session", buf);
				break;
			}
			sb.st_mode = 0;
		}
		if (!S_ISDIR(sb.st_mode) && sb.st_mode &&
		    !snap_is_whiteout(&sb)) {
			error = snapshot_fail(r->err, r->errsz, -1, "cannot "
					      "restore '%s' alone: '%s' is "
					      "not a directory in the session "
					      "now; restore '%s'", path, buf,
					      buf);
			break;
		}
		if (check && !S_ISDIR(sb.st_mode))
			break;	/* what is beneath is made, not read */
		if (!S_ISDIR(sb.st_mode)) {
			t = snap_find(r->to, buf);
			if (t && S_ISDIR(t->mode))
				made = *t;
			else
				lower_dir(r, buf, &made);
			error = snap_make(r, fd, name, &made, sb.st_mode != 0);
		}
		next = error ? -1 : openat(fd, name, O_PATH | O_DIRECTORY |
					    O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		if (fd < 0 && error == 0)
			error = snapshot_fail_os(r->err, r->errsz, -1, "cannot "
						 "open '%s' in the session",
						 buf);
		*slash = '/';
	}
	if (fd >= 0)
		close(fd);
	return error;
}

/* ------------------------------------------------------------------ */
/* The project beneath a restored path */

/* fs/fs_int.h: the project's inode number of a copied-up entry. */
#define SNAP_XATTR_ORIGIN "user.wardfs.origin"

static int hidden(const struct snap_restore *r, const char *path, int is_dir)
{
	return r->snap->rules &&
		rules_decide(r->snap->rules, path, is_dir, NULL) == RULE_HIDE;
}

/* The project's entry at path (not the state directory), or -1. */
static int lower_stat(struct snap_restore *r, const char *path, struct stat *sb,
		      int *dirfd)
{
	char dir[PATH_MAX];
	const char *name;
	int fd;

	if (snap_split(path, dir, sizeof(dir), &name) < 0)
		return -1;
	fd = snap_open_dir(r->snap->projectfd, dir);
	if (fd < 0)
		return -1;
	if (fstatat(fd, name, sb, AT_SYMLINK_NOFOLLOW) < 0 ||
	    ((uint64_t)sb->st_dev == r->snap->hide_dev &&
	     (uint64_t)sb->st_ino == r->snap->hide_ino)) {
		close(fd);
		return -1;
	}
	if (dirfd)
		*dirfd = fd;
	else
		close(fd);
	return 0;
}

/* Does an entry of the state above path hide the project beneath it (a
 * whiteout, a file, an opaque directory)? */
static int masked_in(const struct snap_state *st, const char *path)
{
	char buf[PATH_MAX];
	const struct snap_entry *e;
	size_t i, len = strlen(path);

	if (len + sizeof(SNAPSHOT_OPAQUE) + 1 >= sizeof(buf))
		return 0;
	for (i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = '\0';
		e = snap_find(st, buf);
		if (!e)
			return 0;
		if (!S_ISDIR(e->mode))
			return 1;
		snprintf(buf + i, sizeof(buf) - i, "/%s", SNAPSHOT_OPAQUE);
		e = snap_find(st, buf);
		if (e && S_ISCHR(e->mode))
			return 1;
	}
	return 0;
}

/* The same, in the upper as it is now. */
static int masked_now(struct snap_restore *r, const char *path)
{
	char buf[PATH_MAX], *name, *slash;
	struct stat sb;
	int fd, next, masked = 0;

	if (strlen(path) >= sizeof(buf))
		return 0;
	memcpy(buf, path, strlen(path) + 1);
	fd = openat(r->snap->upperfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (name = buf; fd >= 0 && (slash = strchr(name, '/'));
	     name = slash + 1) {
		*slash = '\0';
		if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			break;	/* the project shows through */
		if (!S_ISDIR(sb.st_mode)) {
			masked = 1;
			break;
		}
		next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		fd = next;
		if (fd >= 0 && fstatat(fd, SNAPSHOT_OPAQUE, &sb,
				       AT_SYMLINK_NOFOLLOW) == 0 &&
		    snap_is_whiteout(&sb)) {
			masked = 1;
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	return masked;
}

/* Did the snapshot's view show the project at path, which the upper now
 * hides from above? */
static int needs_lower(struct snap_restore *r, const char *path)
{
	struct stat sb;

	return *path && !masked_in(r->to, path) && masked_now(r, path) &&
		lower_stat(r, path, &sb, NULL) == 0;
}

static int defer_base(struct snap_restore *r, const char *path,
		      const struct side *side)
{
	struct base_rec *b;

	if (r->ncopied == r->copied_alloc) {
		size_t n = r->copied_alloc ? r->copied_alloc * 2 : 16;

		b = realloc(r->copied, n * sizeof(*b));
		if (!b)
			return -1;
		r->copied = b;
		r->copied_alloc = n;
	}
	b = &r->copied[r->ncopied];
	memset(b, 0, sizeof(*b));
	b->path = strdup(path);
	if (!b->path)
		return -1;
	b->side = *side;
	r->ncopied++;
	return 0;
}

/*
 * Copy the project's entry at path, and what is beneath it, into the
 * upper where the snapshot showed it: not where the snapshot's upper has
 * an entry of its own (restored already), nor beneath its whiteouts and
 * opaque directories.
 */
static int copy_lower(struct snap_restore *r, const char *path)
{
	const struct snap_entry *t = snap_find(r->to, path);
	struct snap_xattr origin;
	struct snap_entry made;
	struct stat sb, ub;
	char dir[PATH_MAX], **names = NULL;
	const char *name;
	struct side side;
	size_t n = 0, i;
	uint64_t ino;
	int lfd = -1, ufd = -1, sub, error = 0;

	if (t && !S_ISDIR(t->mode))
		return 0;
	if (t) {	/* an opaque directory shows nothing beneath */
		char *marker = path_join2(path, SNAPSHOT_OPAQUE);
		const struct snap_entry *m = marker ? snap_find(r->to, marker) :
			NULL;

		free(marker);
		if (m && S_ISCHR(m->mode))
			return 0;
	}
	if (snap_split(path, dir, sizeof(dir), &name) < 0 ||
	    lower_stat(r, path, &sb, &lfd) < 0 ||
	    hidden(r, path, S_ISDIR(sb.st_mode)))
		goto out;
	ufd = snap_open_dir(r->snap->upperfd, dir);
	if (ufd < 0)
		goto out;
	if (!t && fstatat(ufd, name, &ub, AT_SYMLINK_NOFOLLOW) == 0)
		goto out;	/* the upper has something there */
	memset(&made, 0, sizeof(made));
	made.path = (char *)path;
	made.mode = sb.st_mode;
	made.uid = sb.st_uid;
	made.gid = sb.st_gid;
	made.mtime = sb.st_mtim;
	if (S_ISDIR(sb.st_mode)) {
		if (!t)
			error = snap_make(r, ufd, name, &made, 0);
		sub = error ? -1 : snap_open_dir(r->snap->projectfd, path);
		if (sub >= 0 && snap_names(sub, &names, &n) == 0) {
			for (i = 0; i < n && error == 0; i++) {
				char *child = path_join2(path, names[i]);

				error = child ? copy_lower(r, child) :
					snapshot_fail(r->err, r->errsz, -1,
						      "out of memory");
				free(child);
			}
		}
		if (sub >= 0)
			close(sub);
	} else if (!t && (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode))) {
		if (store_write_entry(r->snap->store, lfd, name, &sb,
				      &side) != 0) {
			error = snapshot_fail_git(r->err, r->errsz, -1,
						  "cannot read '%s' in the "
						  "project", path);
			goto out;
		}
		made.oid = side.oid;
		ino = sb.st_ino;
		origin.name = (char *)SNAP_XATTR_ORIGIN;
		origin.value = (unsigned char *)&ino;
		origin.len = sizeof(ino);
		if (S_ISREG(sb.st_mode)) {
			made.xattrs = &origin;
			made.nxattrs = 1;
		}
		error = snap_make(r, ufd, name, &made, 0);
		if (error == 0 && defer_base(r, path, &side) < 0)
			error = snapshot_fail(r->err, r->errsz, -1,
					      "out of memory");
	}
out:
	snap_names_free(names, n);
	if (lfd >= 0)
		close(lfd);
	if (ufd >= 0)
		close(ufd);
	return error;
}

/* ------------------------------------------------------------------ */
/* In place, a path */

/* Restore path (and what is beneath it) in place. */
static int restore_path(struct snap_restore *r, const char *path)
{
	size_t from, end, count, i;
	char dir[PATH_MAX];
	const char *name;
	int dirfd, lower, error = 0;

	scope(r->to, path, &from, &end, &count);
	lower = needs_lower(r, path);
	r->total += count;
	if (!*path) {
		error = prune_dir(r, r->snap->upperfd, ".", "");
	} else {
		if (snap_split(path, dir, sizeof(dir), &name) < 0)
			return snapshot_fail_os(r->err, r->errsz, -1, "cannot "
						"restore '%s'", path);
		dirfd = snap_open_dir(r->snap->upperfd, dir);
		if (dirfd >= 0) {
			error = prune(r, dirfd, name, path);
			close(dirfd);
		}
		if (error == 0 && (count || lower))
			error = parents(r, path, 0);
	}
	for (i = from; i < end && error == 0; i++)
		if (path_under(r->to->entries[i].path, path))
			error = snap_put(r, r->snap->upperfd,
					 &r->to->entries[i]);
	if (error == 0 && lower)
		error = copy_lower(r, path);
	if (error == 0)
		snap_dir_times(r->to, path, from, end, r->snap->upperfd);
	return error;
}

/* ------------------------------------------------------------------ */
/* Apart */

static int restore_apart(struct snap_restore *r)
{
	char tmp[64];
	size_t i;
	int rootfd = -1, dirfd = -1, error = 0;

	r->quiet = 1;
	r->total = r->to->count;
	snap_tmp_name(r, tmp, sizeof(tmp));
	if (mkdirat(r->workfd, tmp, 0700) == 0)
		rootfd = openat(r->workfd, tmp, O_PATH | O_DIRECTORY |
				O_CLOEXEC);
	if (rootfd < 0) {
		error = snapshot_fail_os(r->err, r->errsz, -1, "cannot make a "
					 "new layer in '%s/work'",
					 r->snap->dir);
		goto out;
	}
	for (i = 0; i < r->to->count && error == 0; i++)
		error = snap_put(r, rootfd, &r->to->entries[i]);
	if (error < 0)
		goto out;
	snap_dir_times(r->to, "", 0, r->to->count, rootfd);
	dirfd = open(r->snap->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || renameat2(dirfd, "upper", r->workfd, tmp,
				   RENAME_EXCHANGE) < 0) {
		error = snapshot_fail_os(r->err, r->errsz, -1, "cannot put the "
					 "restored layer in place in '%s'",
					 r->snap->dir);
		goto out;
	}
	/* tmp is the old layer now */
	close(r->snap->upperfd);
	r->snap->upperfd = openat(dirfd, "upper", O_PATH | O_DIRECTORY |
				  O_CLOEXEC);
	if (r->snap->upperfd < 0)
		error = snapshot_fail_os(r->err, r->errsz, -1, "cannot open "
					 "the session's layer '%s'",
					 r->snap->upper);
	r->quiet = 0;
	snap_touched(r, "");
out:
	if (snap_remove_tree(r->workfd, tmp) < 0 && error == 0)
		snapshot_notice(r->snap, "cannot remove '%s/work/%s'",
				r->snap->dir, tmp);
	if (rootfd >= 0)
		close(rootfd);
	if (dirfd >= 0)
		close(dirfd);
	return error;
}

/* ------------------------------------------------------------------ */
/* Bases and the whole */

static int in_scopes(const char *path, char *const *scopes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (path_under(path, scopes[i]))
			return 1;
	return 0;
}

/* The base log says for every path in scope what the snapshot's did. */
static int restore_bases(struct snap_restore *r, char *const *scopes, size_t n)
{
	struct snapshot *snap = r->snap;
	const struct side *have;
	size_t i;

	for (i = 0; i < r->to->nbases; i++) {
		const struct base_rec *b = &r->to->bases[i];

		if (!in_scopes(b->path, scopes, n))
			continue;
		have = store_base_of(snap, b->path);
		if ((!have || !side_equal(have, &b->side)) &&
		    store_bases_record(snap, b->path, &b->side) < 0)
			return -1;
	}
	for (i = 0; i < snap->nbases; i++) {
		const char *path = snap->bases[i].path;

		if (!snap->bases[i].side.present ||
		    !in_scopes(path, scopes, n) || snap_base(r->to, path))
			continue;
		if (store_bases_forget(snap, path) < 0)
			return -1;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths to restore, sorted, none beneath another; "" for all. */
static int scopes_of(char ***out, size_t *n,
		     const struct snapshot_restore_options *opts)
{
	char **s;
	size_t i, j;

	*n = opts->npaths ? opts->npaths : 1;
	s = calloc(*n + 1, sizeof(*s));
	if (!s)
		return -1;
	for (i = 0; i < *n; i++) {
		s[i] = strdup(opts->npaths ? opts->paths[i] : "");
		if (!s[i]) {
			snapshot_paths_free(s);
			return -1;
		}
	}
	qsort(s, *n, sizeof(*s), str_cmp);
	for (i = 0, j = 0; i < *n; i++) {
		if (j && path_under(s[i], s[j - 1])) {
			free(s[i]);
			continue;
		}
		s[j++] = s[i];
	}
	s[j] = NULL;
	*n = j;
	*out = s;
	return 0;
}

static void clean_work(int workfd)
{
	char **names = NULL;
	size_t n = 0, i;

	if (snap_names(workfd, &names, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		if (strncmp(names[i], SNAP_WORK_PREFIX,
			    strlen(SNAP_WORK_PREFIX)) == 0)
			snap_remove_tree(workfd, names[i]);
	snap_names_free(names, n);
}

int snapshot_restore(struct snapshot *snap, unsigned long id,
		     const struct snapshot_restore_options *opts,
		     char *err, size_t errsz)
{
	struct snap_state to;
	struct snap_restore r;
	char **scopes = NULL, *work = NULL;
	size_t nscopes = 0, i;
	int lockfd = -1, error;

	memset(&to, 0, sizeof(to));
	memset(&r, 0, sizeof(r));
	if (opts->saved)
		*opts->saved = 0;
	r.snap = snap;
	r.to = &to;
	r.opts = opts;
	r.workfd = -1;
	r.err = err;
	r.errsz = errsz;
	error = accept_lock(snap, &lockfd, err, errsz);
	if (error < 0)
		return error;
	if (scopes_of(&scopes, &nscopes, opts) < 0) {
		error = snapshot_fail(err, errsz, -1, "out of memory");
		goto out;
	}
	error = snap_load(&to, snap, id, err, errsz);
	if (error == 0)
		error = store_bases_load(snap, err, errsz);
	if (error < 0)
		goto out;
	work = path_join2(snap->dir, "work");
	if (work && (mkdir(work, 0700) == 0 || errno == EEXIST))
		r.workfd = open(work, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r.workfd < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot open "
					 "'%s/work'", snap->dir);
		goto out;
	}
	clean_work(r.workfd);
	/* refuse before changing anything */
	for (i = 0; i < nscopes && error == 0; i++) {
		size_t from, end, count;

		scope(&to, scopes[i], &from, &end, &count);
		if (*scopes[i] && (count || needs_lower(&r, scopes[i])))
			error = parents(&r, scopes[i], 1);
	}
	if (error == 0 && opts->saved) {
		char msg[64];

		snprintf(msg, sizeof(msg), "before restoring snapshot %lu", id);
		error = snap_create_locked(opts->saved, snap, msg, err, errsz);
	}
	if (error < 0)
		goto out;
	if (!opts->npaths && !snap->live)
		error = restore_apart(&r);
	for (i = 0; i < nscopes && error == 0 && (opts->npaths || snap->live);
	     i++)
		error = restore_path(&r, scopes[i]);
	if (error == 0 && restore_bases(&r, scopes, nscopes) < 0)
		error = snapshot_fail_os(err, errsz, -1, "cannot update the "
					 "base log");
	for (i = 0; i < r.ncopied && error == 0; i++)
		if (store_bases_record(snap, r.copied[i].path,
				       &r.copied[i].side) < 0)
			error = snapshot_fail_os(err, errsz, -1, "cannot "
						 "update the base log");
	if (error == 0)
		error = store_bases_load(snap, err, errsz);
out:
	if (r.workfd >= 0)
		close(r.workfd);
	free(work);
	for (i = 0; i < r.ncopied; i++)
		free(r.copied[i].path);
	free(r.copied);
	snapshot_paths_free(scopes);
	snap_state_clear(&to);
	close(lockfd);
	return error;
}
