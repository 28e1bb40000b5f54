/*
 * tree.c - the session's change: the upper layout read into two trees.
 *
 * A parallel walk of the upper and the lower directories finds every
 * non-directory path whose merged view differs from the project's:
 *
 *   - an upper file or symlink is new or modified;
 *   - a whiteout hides the lower entry: a file is deleted, and so is every
 *     file beneath a directory;
 *   - beneath an opaque upper directory the lower's entries no longer show:
 *     those without an upper entry are deleted.
 *
 * Each path's base is its captured blob, else the project's current
 * content.  Hidden paths are skipped wherever they appear.  The bases go
 * into an "old" tree and the merged contents into a "new" tree, both in
 * the store, and git_diff_tree_to_tree() compares them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

struct walk {
	struct snapshot_changes *c;
	const char *const *paths;
	size_t npaths;
	char *err;
	size_t errsz;
};

/* The sorted entry names of directory fd (none when fd is -1). */
static int list_dir(int fd, char ***out, size_t *count)
{
	*out = NULL;
	*count = 0;
	return fd < 0 ? 0 : snap_names(fd, out, count);
}

/* Does the walk's path filter keep path (or something beneath it)? */
static int wanted(const struct walk *w, const char *path, int is_dir)
{
	size_t i;

	if (w->npaths == 0)
		return 1;
	for (i = 0; i < w->npaths; i++) {
		if (path_under(path, w->paths[i]))
			return 1;
		if (is_dir && path_under(w->paths[i], path))
			return 1;
	}
	return 0;
}

static int hidden(const struct snapshot *snap, const char *path, int is_dir)
{
	return snap->rules &&
		rules_decide(snap->rules, path, is_dir, NULL) == RULE_HIDE;
}

int tree_read_side(struct snapshot *snap, int rootfd, const char *path,
		   struct side *out, mode_t *perm)
{
	struct stat sb;
	int error;

	memset(out, 0, sizeof(*out));
	if (fstatat(rootfd, path, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (perm)
		*perm = sb.st_mode & 0777;
	error = store_write_entry(snap->store, rootfd, path, &sb, out);
	return error < 0 ? -1 : 0;
}

static int newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
		(a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

static int add_change(struct walk *w, const char *path, int ufd,
		      const char *uname, const struct stat *ust, int lfd,
		      const char *lname, const struct stat *lst)
{
	struct snapshot_changes *c = w->c;
	struct snapshot *snap = c->snap;
	const struct side *captured;
	struct change ch;
	int rc;

	if (!wanted(w, path, 0))
		return 0;
	memset(&ch, 0, sizeof(ch));
	if (ust) {
		rc = store_write_entry(snap->store, ufd, uname, ust, &ch.new);
		if (rc < 0)
			return snapshot_fail_git(w->err, w->errsz, -1,
						 "cannot read '%s' in the "
						 "session", path);
		if (rc > 0)
			return 0;	/* a fifo or socket: not content */
		ch.perm = ust->st_mode & 0777;
	}
	if (lst) {
		rc = store_write_entry(snap->store, lfd, lname, lst, &ch.cur);
		if (rc < 0)
			return snapshot_fail_git(w->err, w->errsz, -1,
						 "cannot read '%s' in the "
						 "project", path);
	}
	captured = store_base_of(snap, path);
	ch.base = captured ? *captured : ch.cur;
	/* No base was captured (the session created the path, or replaced
	 * the project's file without copying it up): a project entry newer
	 * than the session's cannot be the base. */
	if (!captured && ust && lst && newer(&lst->st_mtim, &ust->st_mtim))
		memset(&ch.base, 0, sizeof(ch.base));
	if (side_equal(&ch.base, &ch.new))
		return 0;
	ch.action = snap->rules ? rules_decide(snap->rules, path, 0, NULL) :
		RULE_ALLOW;
	ch.path = strdup(path);
	if (!ch.path)
		return snapshot_fail(w->err, w->errsz, -1, "out of memory");
	if (c->count == c->alloc) {
		struct change *grown;
		size_t alloc = c->alloc ? c->alloc * 2 : 64;

		grown = realloc(c->items, alloc * sizeof(*grown));
		if (!grown) {
			free(ch.path);
			return snapshot_fail(w->err, w->errsz, -1,
					     "out of memory");
		}
		c->items = grown;
		c->alloc = alloc;
	}
	c->items[c->count++] = ch;
	return 0;
}

static int skip_lower(const struct snapshot *snap, const struct stat *sb)
{
	return (uint64_t)sb->st_dev == snap->hide_dev &&
		(uint64_t)sb->st_ino == snap->hide_ino;
}

/* Every visible lower file beneath the lower directory lfd is deleted. */
static int walk_deleted(struct walk *w, const char *rel, int lfd)
{
	struct snapshot *snap = w->c->snap;
	char **names = NULL;
	size_t n = 0, i;
	int error = 0;

	if (list_dir(lfd, &names, &n) < 0)
		return snapshot_fail_os(w->err, w->errsz, -1, "cannot read "
					"'%s' in the project", rel);
	for (i = 0; i < n && error == 0; i++) {
		struct stat sb;
		char *path = path_join2(rel, names[i]);
		int sub;

		if (!path) {
			error = snapshot_fail(w->err, w->errsz, -1,
					      "out of memory");
			break;
		}
		if (fstatat(lfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    skip_lower(snap, &sb) ||
		    hidden(snap, path, S_ISDIR(sb.st_mode)) ||
		    !wanted(w, path, S_ISDIR(sb.st_mode))) {
			free(path);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			sub = openat(lfd, names[i], O_PATH | O_DIRECTORY |
				     O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				error = snapshot_fail_os(w->err, w->errsz, -1,
							 "cannot open '%s' in "
							 "the project", path);
			} else {
				error = walk_deleted(w, path, sub);
				close(sub);
			}
		} else {
			error = add_change(w, path, -1, NULL, NULL, lfd,
					   names[i], &sb);
		}
		free(path);
	}
	snap_names_free(names, n);
	return error;
}

static int is_opaque(int ufd)
{
	struct stat sb;

	return fstatat(ufd, SNAPSHOT_OPAQUE, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		snap_is_whiteout(&sb);
}

/*
 * One directory of the merged view: ufd its upper directory, lfd the
 * project's directory at the same path (or -1), masked when the lower's
 * entries do not show through (an opaque directory).
 */
static int walk_dir(struct walk *w, const char *rel, int ufd, int lfd,
		    int masked)
{
	struct snapshot *snap = w->c->snap;
	char **un = NULL, **ln = NULL;
	size_t nu = 0, nl = 0, i = 0, j = 0;
	int error = 0;

	if (list_dir(ufd, &un, &nu) < 0 || list_dir(lfd, &ln, &nl) < 0) {
		error = snapshot_fail_os(w->err, w->errsz, -1, "cannot read "
					 "directory '%s'", *rel ? rel : ".");
		goto out;
	}
	while (error == 0 && (i < nu || j < nl)) {
		struct stat ust, lst;
		const char *name;
		int cmp, has_u = 0, has_l = 0, sub_u = -1, sub_l = -1;
		int u_dir, l_dir;
		char *path;

		if (i >= nu)
			cmp = 1;
		else if (j >= nl)
			cmp = -1;
		else
			cmp = strcmp(un[i], ln[j]);
		name = cmp <= 0 ? un[i] : ln[j];
		if (cmp <= 0) {
			has_u = fstatat(ufd, un[i], &ust,
					AT_SYMLINK_NOFOLLOW) == 0;
			i++;
		}
		if (cmp >= 0) {
			has_l = fstatat(lfd, ln[j], &lst,
					AT_SYMLINK_NOFOLLOW) == 0 &&
				!skip_lower(snap, &lst);
			j++;
		}
		if (strcmp(name, SNAPSHOT_OPAQUE) == 0)
			continue;	/* the marker: never a path of the view */
		if (!has_u && (!has_l || !masked))
			continue;	/* the lower shows through: no change */
		u_dir = has_u && S_ISDIR(ust.st_mode);
		l_dir = has_l && S_ISDIR(lst.st_mode);
		path = path_join2(rel, name);
		if (!path) {
			error = snapshot_fail(w->err, w->errsz, -1,
					      "out of memory");
			break;
		}
		if (hidden(snap, path, has_u ? u_dir : l_dir) ||
		    (has_l && hidden(snap, path, l_dir)) ||
		    !wanted(w, path, u_dir || l_dir)) {
			free(path);
			continue;
		}
		if (l_dir) {
			sub_l = openat(lfd, name, O_PATH | O_DIRECTORY |
				       O_NOFOLLOW | O_CLOEXEC);
			if (sub_l < 0)
				error = snapshot_fail_os(w->err, w->errsz, -1,
							 "cannot open '%s' in "
							 "the project", path);
		}
		if (error == 0 && u_dir) {
			sub_u = openat(ufd, name, O_PATH | O_DIRECTORY |
				       O_NOFOLLOW | O_CLOEXEC);
			if (sub_u < 0)
				error = snapshot_fail_os(w->err, w->errsz, -1,
							 "cannot open '%s' in "
							 "the session", path);
			else
				error = walk_dir(w, path, sub_u, sub_l,
						 masked || is_opaque(sub_u));
			if (error == 0 && has_l && !l_dir)
				error = add_change(w, path, -1, NULL, NULL,
						   lfd, name, &lst);
		} else if (error == 0 && has_u && !snap_is_whiteout(&ust)) {
			/* a new or modified file or symlink */
			error = add_change(w, path, ufd, name, &ust, lfd,
					   name, has_l && !l_dir ? &lst : NULL);
			if (error == 0 && l_dir)
				error = walk_deleted(w, path, sub_l);
		} else if (error == 0) {
			/* a whiteout, or a lower entry masked */
			if (l_dir)
				error = walk_deleted(w, path, sub_l);
			else if (has_l)
				error = add_change(w, path, -1, NULL, NULL,
						   lfd, name, &lst);
		}
		if (sub_u >= 0)
			close(sub_u);
		if (sub_l >= 0)
			close(sub_l);
		free(path);
	}
out:
	snap_names_free(un, nu);
	snap_names_free(ln, nl);
	return error;
}

static int change_cmp(const void *a, const void *b)
{
	return strcmp(((const struct change *)a)->path,
		      ((const struct change *)b)->path);
}

/* Write the tree of one side of every change into the store. */
static int write_side_tree(struct snapshot_changes *c, int new_side,
			   git_tree **out, char *err, size_t errsz)
{
	git_repository *repo = c->snap->store->repo;
	git_index *index = NULL;
	git_oid oid;
	size_t i;
	int error = -1;

	if (git_index_new(&index) < 0)
		goto fail;
	for (i = 0; i < c->count; i++) {
		const struct side *s = new_side ? &c->items[i].new :
			&c->items[i].base;
		git_index_entry e;

		if (!s->present)
			continue;
		memset(&e, 0, sizeof(e));
		e.path = c->items[i].path;
		e.mode = s->mode;
		e.id = s->oid;
		if (git_index_add(index, &e) < 0)
			goto fail;
	}
	if (git_index_write_tree_to(&oid, index, repo) < 0 ||
	    git_tree_lookup(out, repo, &oid) < 0)
		goto fail;
	error = 0;
	goto out;
fail:
	error = snapshot_fail_git(err, errsz, -1, "cannot write the %s tree",
				  new_side ? "session's" : "base");
out:
	git_index_free(index);
	return error;
}

int tree_build(struct snapshot_changes *c, char *err, size_t errsz)
{
	git_diff_options dopts;
	git_diff_find_options fopts;
	git_repository *repo = c->snap->store->repo;

	git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
	git_diff_find_options_init(&fopts, GIT_DIFF_FIND_OPTIONS_VERSION);
	if (c->count)
		qsort(c->items, c->count, sizeof(*c->items), change_cmp);
	if (write_side_tree(c, 0, &c->old_tree, err, errsz) < 0 ||
	    write_side_tree(c, 1, &c->new_tree, err, errsz) < 0)
		return -1;
	dopts.flags = GIT_DIFF_SHOW_BINARY;
	if (git_diff_tree_to_tree(&c->diff, repo, c->old_tree, c->new_tree,
				  &dopts) < 0)
		return snapshot_fail_git(err, errsz, -1, "cannot compare the "
					 "trees");
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_find_similar(c->diff, &fopts) < 0)
		return snapshot_fail_git(err, errsz, -1, "cannot find "
					 "renames");
	return 0;
}

int snapshot_changes(struct snapshot_changes **out, struct snapshot *snap,
		     const char *const *paths, size_t npaths,
		     char *err, size_t errsz)
{
	struct snapshot_changes *c;
	struct walk w;
	int error;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return snapshot_fail(err, errsz, -1, "out of memory");
	c->snap = snap;
	w.c = c;
	w.paths = paths;
	w.npaths = npaths;
	w.err = err;
	w.errsz = errsz;
	error = walk_dir(&w, "", snap->upperfd, snap->projectfd,
			 is_opaque(snap->upperfd));
	if (error == 0)
		error = tree_build(c, err, errsz);
	if (error < 0) {
		snapshot_changes_free(c);
		return error;
	}
	*out = c;
	return 0;
}

void snapshot_changes_free(struct snapshot_changes *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->count; i++)
		free(c->items[i].path);
	free(c->items);
	git_diff_free(c->diff);
	git_tree_free(c->old_tree);
	git_tree_free(c->new_tree);
	free(c);
}

size_t snapshot_changes_count(const struct snapshot_changes *c)
{
	return c->count;
}
