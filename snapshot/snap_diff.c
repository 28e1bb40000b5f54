/*
 * snap_diff.c - snapshot diff: the change between two states of the view.
 *
 * A state (a snapshot, or the session now) is an upper layer over the
 * project.  Only paths that one of the two layers holds can differ between
 * the two views, so the project is read only there: the paths of the
 * upper's files and symlinks, and the project's files beneath what the
 * upper deletes (whiteouts, opaque directories, directories replaced by
 * files).  Where a layer does not hold a path, its view shows the project:
 * for a snapshot, as it was (the path's base when one was captured), for
 * the session now, as it is.  The paths whose content differs become a
 * change set of the two sides, compared by tree_build() as "wardfs diff"
 * does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

/* A path of the view that differs from the project. */
struct vpath {
	char *path;
	struct side side;	/* not present: deleted in the view */
};

struct view {
	struct vpath *items;	/* sorted by path once built */
	size_t count, alloc;
};

struct differ {
	struct snapshot *snap;
	const char *const *paths;
	size_t npaths;
	char *err;
	size_t errsz;
};

static void view_clear(struct view *v)
{
	size_t i;

	for (i = 0; i < v->count; i++)
		free(v->items[i].path);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int view_add(struct differ *d, struct view *v, const char *path,
		    const struct side *side)
{
	if (v->count == v->alloc) {
		size_t alloc = v->alloc ? v->alloc * 2 : 64;
		struct vpath *grown = realloc(v->items, alloc * sizeof(*grown));

		if (!grown)
			return snapshot_fail(d->err, d->errsz, -1,
					     "out of memory");
		v->items = grown;
		v->alloc = alloc;
	}
	v->items[v->count].path = strdup(path);
	if (!v->items[v->count].path)
		return snapshot_fail(d->err, d->errsz, -1, "out of memory");
	v->items[v->count++].side = *side;
	return 0;
}

/* By path; of two records of a path, the upper's content first. */
static int vpath_cmp(const void *a, const void *b)
{
	const struct vpath *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : y->side.present - x->side.present;
}

/* Does the path filter keep path (or, for a directory, some of it)? */
static int wanted(const struct differ *d, const char *path, int is_dir)
{
	size_t i;

	if (d->npaths == 0)
		return 1;
	for (i = 0; i < d->npaths; i++) {
		if (path_under(path, d->paths[i]))
			return 1;
		if (is_dir && path_under(d->paths[i], path))
			return 1;
	}
	return 0;
}

/* Is path, or a directory above it, hidden? */
static int hidden(const struct differ *d, const char *path, int is_dir)
{
	char buf[PATH_MAX];
	size_t i, len = strlen(path);

	if (!d->snap->rules)
		return 0;
	if (rules_decide(d->snap->rules, path, is_dir, NULL) == RULE_HIDE)
		return 1;
	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, path, len + 1);
	for (i = len; i > 0; i--) {
		if (buf[i - 1] != '/')
			continue;
		buf[i - 1] = '\0';
		if (rules_decide(d->snap->rules, buf, 1, NULL) == RULE_HIDE)
			return 1;
	}
	return 0;
}

/* The project's entry at path, without following a symlink. */
static int lower_stat(struct differ *d, const char *path, struct stat *sb)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	int fd, rc;

	if (len >= sizeof(dir))
		return -1;
	memcpy(dir, path, len);
	dir[len] = '\0';
	fd = snap_open_dir(d->snap->projectfd, dir);
	if (fd < 0)
		return -1;
	rc = fstatat(fd, slash ? slash + 1 : path, sb, AT_SYMLINK_NOFOLLOW);
	close(fd);
	if (rc == 0 && (uint64_t)sb->st_dev == d->snap->hide_dev &&
	    (uint64_t)sb->st_ino == d->snap->hide_ino)
		return -1;	/* the state directory */
	return rc;
}

/* Every visible project file beneath the directory rel is deleted. */
static int lower_files(struct differ *d, struct view *v, const char *rel,
		       int fd)
{
	static const struct side deleted;
	char **names = NULL;
	size_t n = 0, i;
	int error = 0;

	if (snap_names(fd, &names, &n) < 0)
		return snapshot_fail_os(d->err, d->errsz, -1, "cannot read "
					"'%s' in the project", rel);
	for (i = 0; i < n && error == 0; i++) {
		char *path = path_join2(rel, names[i]);
		struct stat sb;
		int sub;

		if (!path) {
			error = snapshot_fail(d->err, d->errsz, -1,
					      "out of memory");
			break;
		}
		if (fstatat(fd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    ((uint64_t)sb.st_dev == d->snap->hide_dev &&
		     (uint64_t)sb.st_ino == d->snap->hide_ino) ||
		    hidden(d, path, S_ISDIR(sb.st_mode)) ||
		    !wanted(d, path, S_ISDIR(sb.st_mode))) {
			free(path);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			sub = openat(fd, names[i], O_PATH | O_DIRECTORY |
				     O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				error = snapshot_fail_os(d->err, d->errsz, -1,
							 "cannot open '%s' in "
							 "the project", path);
			} else {
				error = lower_files(d, v, path, sub);
				close(sub);
			}
		} else if (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) {
			error = view_add(d, v, path, &deleted);
		}
		free(path);
	}
	snap_names_free(names, n);
	return error;
}

/* What the upper deletes at path: the project's file, or all beneath the
 * project's directory. */
static int lower_deleted(struct differ *d, struct view *v, const char *path,
			 int files_only_below)
{
	static const struct side deleted;
	struct stat sb;
	int fd, error;

	if (lower_stat(d, path, &sb) < 0)
		return 0;
	if (S_ISDIR(sb.st_mode)) {
		fd = snap_open_dir(d->snap->projectfd, path);
		if (fd < 0)
			return 0;
		error = lower_files(d, v, path, fd);
		close(fd);
		return error;
	}
	if (files_only_below || (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)))
		return 0;
	return view_add(d, v, path, &deleted);
}

/* The paths where the view of state st differs from the project. */
static int build_view(struct differ *d, const struct snap_state *st,
		      struct view *v)
{
	size_t i, j;
	int error = 0;

	for (i = 0; i < st->count && error == 0; i++) {
		const struct snap_entry *e = &st->entries[i];
		int is_dir = S_ISDIR(e->mode);

		if (!*e->path || hidden(d, e->path, is_dir) ||
		    !wanted(d, e->path, is_dir))
			continue;
		if (S_ISREG(e->mode) || S_ISLNK(e->mode)) {
			struct side s;

			s.present = 1;
			s.mode = store_git_mode(e->mode);
			s.oid = e->oid;
			error = view_add(d, v, e->path, &s);
			if (error == 0)
				error = lower_deleted(d, v, e->path, 1);
		} else if (S_ISCHR(e->mode) && snap_is_marker(e->path)) {
			char *dir = strdup(e->path), *slash;

			if (!dir)
				return snapshot_fail(d->err, d->errsz, -1,
						     "out of memory");
			slash = strrchr(dir, '/');
			*(slash ? slash : dir) = '\0';
			error = lower_deleted(d, v, dir, 1);
			free(dir);
		} else if (S_ISCHR(e->mode)) {
			error = lower_deleted(d, v, e->path, 0);
		} else if (is_dir) {
			struct stat sb;

			if (lower_stat(d, e->path, &sb) == 0 &&
			    !S_ISDIR(sb.st_mode))
				error = lower_deleted(d, v, e->path, 0);
		}
		/* a fifo or a socket is not content */
	}
	if (error < 0)
		return error;
	if (v->count)
		qsort(v->items, v->count, sizeof(*v->items), vpath_cmp);
	for (i = 0, j = 0; i < v->count; i++) {
		if (j && strcmp(v->items[i].path, v->items[j - 1].path) == 0) {
			free(v->items[i].path);
			continue;
		}
		v->items[j++] = v->items[i];
	}
	v->count = j;
	return 0;
}

/*
 * The view of a state that does not hold path: the project's entry, as it
 * was for a snapshot (its base, that of the other state, the session's),
 * as it is now for the session now.
 */
static int lower_side(struct differ *d, const char *path,
		      const struct snap_state *own,
		      const struct snap_state *other, struct side *out)
{
	const struct side *b = NULL;

	if (own->id) {
		b = snap_base(own, path);
		if (!b)
			b = snap_base(other, path);
		if (!b)
			b = store_base_of(d->snap, path);
	}
	if (b) {
		*out = *b;
		return 0;
	}
	if (tree_read_side(d->snap, d->snap->projectfd, path, out, NULL) < 0)
		return snapshot_fail_git(d->err, d->errsz, -1, "cannot read "
					 "'%s' in the project", path);
	return 0;
}

static int add_change(struct differ *d, struct snapshot_changes *c,
		      const char *path, const struct side *old,
		      const struct side *new)
{
	struct change ch;

	if (side_equal(old, new))
		return 0;
	if (c->count == c->alloc) {
		size_t alloc = c->alloc ? c->alloc * 2 : 64;
		struct change *grown;

		grown = realloc(c->items, alloc * sizeof(*grown));

		if (!grown)
			return snapshot_fail(d->err, d->errsz, -1,
					     "out of memory");
		c->items = grown;
		c->alloc = alloc;
	}
	memset(&ch, 0, sizeof(ch));
	ch.path = strdup(path);
	if (!ch.path)
		return snapshot_fail(d->err, d->errsz, -1, "out of memory");
	ch.base = *old;
	ch.new = *new;
	ch.action = d->snap->rules ? rules_decide(d->snap->rules, path, 0,
						  NULL) : RULE_ALLOW;
	c->items[c->count++] = ch;
	return 0;
}

/* The change from the view of a to that of b, path by path. */
static int compare(struct differ *d, struct snapshot_changes *c,
		   const struct snap_state *a, const struct snap_state *b)
{
	struct view va, vb;
	struct side sa, sb;
	size_t i = 0, j = 0;
	int cmp, error;

	memset(&va, 0, sizeof(va));
	memset(&vb, 0, sizeof(vb));
	error = build_view(d, a, &va);
	if (error == 0)
		error = build_view(d, b, &vb);
	while (error == 0 && (i < va.count || j < vb.count)) {
		const char *path;

		if (i >= va.count)
			cmp = 1;
		else if (j >= vb.count)
			cmp = -1;
		else
			cmp = strcmp(va.items[i].path, vb.items[j].path);
		path = cmp <= 0 ? va.items[i].path : vb.items[j].path;
		if (cmp <= 0)
			sa = va.items[i++].side;
		else
			error = lower_side(d, path, a, b, &sa);
		if (error == 0 && cmp >= 0)
			sb = vb.items[j++].side;
		else if (error == 0)
			error = lower_side(d, path, b, a, &sb);
		if (error == 0)
			error = add_change(d, c, path, &sa, &sb);
	}
	view_clear(&va);
	view_clear(&vb);
	return error;
}

int snapshot_diff(struct snapshot_changes **out, struct snapshot *snap,
		  unsigned long a, unsigned long b,
		  const char *const *paths, size_t npaths,
		  char *err, size_t errsz)
{
	struct differ d = { snap, paths, npaths, err, errsz };
	struct snap_state sa, sb, latest;
	struct snapshot_changes *c = NULL;
	int error;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	memset(&latest, 0, sizeof(latest));
	error = snap_load(&sa, snap, a, err, errsz);
	if (error == 0 && b)
		error = snap_load(&sb, snap, b, err, errsz);
	if (error == 0 && !b)
		error = snap_latest(&latest, snap, err, errsz);
	if (error == 0 && !b)
		error = snap_read_upper(&sb, snap, latest.id ? &latest : NULL,
					err, errsz);
	if (error < 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (!c) {
		error = snapshot_fail(err, errsz, -1, "out of memory");
		goto out;
	}
	c->snap = snap;
	error = compare(&d, c, &sa, &sb);
	if (error == 0)
		error = tree_build(c, err, errsz);
	if (error == 0) {
		*out = c;
		c = NULL;
	}
out:
	snapshot_changes_free(c);
	snap_state_clear(&sa);
	snap_state_clear(&sb);
	snap_state_clear(&latest);
	return error;
}
