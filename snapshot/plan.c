/*
 * plan.c - deciding what an accept does to each path, and discard.
 *
 * For each changed path, with B its base, P the project's content now and
 * S the session's:
 *
 *   P == S            nothing to write (the session still forgets it)
 *   P == B            S is applied
 *   otherwise         the project changed meanwhile: text files on both
 *                     sides are merged three-way (git_merge_file, B the
 *                     ancestor, or none when both created the path); a
 *                     clean merge applies, anything else is a conflict
 *                     (with force: the markers, or S)
 *
 * Read-only paths are skipped (reported); hidden paths are never part of a
 * change set.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

struct plan {
	struct snapshot *snap;
	const struct snapshot_accept_options *opts;
	struct accept_op *ops;
	size_t n, alloc;
	size_t conflicts;
};

static void event(struct plan *p, enum snapshot_event ev, const char *path,
		  const char *msg)
{
	if (p->opts->event)
		p->opts->event(ev, path, msg, p->opts->payload);
}

static int add_op(struct plan *p, const struct change *ch,
		  const struct side *new, mode_t perm, char *err, size_t errsz)
{
	struct accept_op *op;

	if (p->n == p->alloc) {
		size_t alloc = p->alloc ? p->alloc * 2 : 64;
		struct accept_op *grown = realloc(p->ops,
						  alloc * sizeof(*grown));

		if (!grown)
			return snapshot_fail(err, errsz, -1, "out of memory");
		p->ops = grown;
		p->alloc = alloc;
	}
	op = &p->ops[p->n];
	memset(op, 0, sizeof(*op));
	op->path = strdup(ch->path);
	if (!op->path)
		return snapshot_fail(err, errsz, -1, "out of memory");
	op->new = *new;
	op->perm = perm;
	op->up = ch->new;
	p->n++;
	return 0;
}

static int load_blob(struct snapshot *snap, const struct side *s,
		     git_merge_file_input *in, const char *path,
		     git_blob **blob)
{
	*blob = NULL;
	in->path = path;
	if (!s->present)
		return 0;
	if (git_blob_lookup(blob, snap->store->repo, &s->oid) < 0)
		return -1;
	in->ptr = git_blob_rawcontent(*blob);
	in->size = (size_t)git_blob_rawsize(*blob);
	in->mode = s->mode;
	return 0;
}

/*
 * Merge a path both sides changed.  Returns 1 and fills *out on a clean
 * merge (or, with markers set, with the conflict markers), 0 on a
 * conflict, -1 on error.
 */
static int merge_text(struct snapshot *snap, const struct change *ch,
		      int markers, struct side *out, char *err, size_t errsz)
{
	git_merge_file_input base, ours, theirs;
	git_merge_file_options mo;
	git_merge_file_result res;
	git_blob *bb = NULL, *ob = NULL, *tb = NULL;
	int error = -1;

	memset(&res, 0, sizeof(res));
	git_merge_file_input_init(&base, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_input_init(&ours, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_input_init(&theirs, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_options_init(&mo, GIT_MERGE_FILE_OPTIONS_VERSION);
	if (load_blob(snap, &ch->base, &base, ch->path, &bb) < 0 ||
	    load_blob(snap, &ch->cur, &ours, ch->path, &ob) < 0 ||
	    load_blob(snap, &ch->new, &theirs, ch->path, &tb) < 0)
		goto fail;
	mo.ancestor_label = "base";
	mo.our_label = "project";
	mo.their_label = "session";
	if (git_merge_file(&res, ch->base.present ? &base : NULL, &ours,
			   &theirs, &mo) < 0)
		goto fail;
	if (!res.automergeable && !markers) {
		error = 0;
		goto out;
	}
	if (store_write_buf(snap->store, res.ptr, res.len, &out->oid) < 0)
		goto fail;
	out->present = 1;
	out->mode = ch->new.mode;
	if (ch->base.present && ch->cur.mode != ch->base.mode)
		out->mode = ch->cur.mode;
	error = 1;
	goto out;
fail:
	error = snapshot_fail_git(err, errsz, -1, "cannot merge '%s'",
				  ch->path);
out:
	git_merge_file_result_free(&res);
	git_blob_free(bb);
	git_blob_free(ob);
	git_blob_free(tb);
	return error;
}

static int is_text_blob(const struct side *s)
{
	return s->present && s->mode != GIT_FILEMODE_LINK;
}

static int plan_one(struct plan *p, const struct change *ch, char *err,
		    size_t errsz)
{
	int force = p->opts->force, rc;
	const char *why = NULL;
	struct side merged;

	switch (ch->action) {
	case RULE_READONLY:
		event(p, SNAPSHOT_SKIPPED, ch->path, "read-only path");
		return 0;
	case RULE_HIDE:
		return 0;
	case RULE_ALLOW:
		break;
	}
	if (side_equal(&ch->cur, &ch->new) || side_equal(&ch->cur, &ch->base)) {
		event(p, SNAPSHOT_APPLIED, ch->path, NULL);
		return add_op(p, ch, &ch->new, ch->perm, err, errsz);
	}
	if (is_text_blob(&ch->cur) && is_text_blob(&ch->new) &&
	    (!ch->base.present || is_text_blob(&ch->base))) {
		memset(&merged, 0, sizeof(merged));
		rc = merge_text(p->snap, ch, 0, &merged, err, errsz);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			event(p, SNAPSHOT_MERGED, ch->path, NULL);
			return add_op(p, ch, &merged,
				      merged.mode == ch->new.mode ? ch->perm :
				      0, err, errsz);
		}
		why = ch->base.present ? "changed in the project and in the "
			"session" : "created in the project and in the "
			"session";
		if (force) {
			rc = merge_text(p->snap, ch, 1, &merged, err, errsz);
			if (rc < 0)
				return -1;
			event(p, SNAPSHOT_FORCED, ch->path, "conflict markers "
			      "written");
			return add_op(p, ch, &merged, ch->perm, err, errsz);
		}
	} else if (!ch->new.present) {
		why = "deleted in the session, changed in the project";
	} else if (!ch->cur.present) {
		why = "changed in the session, deleted in the project";
	} else {
		why = "changed in the project and in the session";
	}
	if (force) {
		event(p, SNAPSHOT_FORCED, ch->path, "the session's side taken");
		return add_op(p, ch, &ch->new, ch->perm, err, errsz);
	}
	p->conflicts++;
	event(p, SNAPSHOT_CONFLICT, ch->path, why);
	return 0;
}

/* --branch: the session's side of every path, on top of HEAD. */
static int plan_branch(struct plan *p, const struct snapshot_changes *c,
		       char *err, size_t errsz)
{
	size_t i;

	for (i = 0; i < c->count; i++) {
		const struct change *ch = &c->items[i];

		if (ch->action == RULE_READONLY) {
			event(p, SNAPSHOT_SKIPPED, ch->path, "read-only path");
			continue;
		}
		if (ch->action != RULE_ALLOW)
			continue;
		if (add_op(p, ch, &ch->new, ch->perm, err, errsz) < 0)
			return -1;
		event(p, SNAPSHOT_APPLIED, ch->path, NULL);
	}
	return 0;
}

int snapshot_accept(struct snapshot *snap, struct snapshot_changes *c,
		    const struct snapshot_accept_options *opts,
		    char *err, size_t errsz)
{
	struct plan p;
	git_repository *repo = NULL;
	char *prefix = NULL;
	size_t i;
	int lockfd = -1, error = 0;

	memset(&p, 0, sizeof(p));
	p.snap = snap;
	p.opts = opts;
	if (opts->commit_message || opts->branch) {
		error = commit_open(&repo, &prefix, snap->project, err, errsz);
		if (error < 0)
			return error;
	}
	if (opts->branch) {
		error = plan_branch(&p, c, err, errsz);
		if (error == 0)
			error = commit_ops(snap, repo, prefix, p.ops, p.n, NULL,
					   opts->branch, err, errsz);
		goto out;
	}
	error = accept_lock(snap, &lockfd, err, errsz);
	if (error < 0)
		goto out;
	for (i = 0; i < c->count && error == 0; i++)
		error = plan_one(&p, &c->items[i], err, errsz);
	if (error < 0)
		goto out;
	if (p.conflicts) {
		error = snapshot_fail(err, errsz, SNAPSHOT_ECONFLICT,
				      "%zu conflicting path%s: nothing applied",
				      p.conflicts, p.conflicts == 1 ? "" : "s");
		goto out;
	}
	if (p.n == 0)
		goto out;
	error = accept_journal(snap, p.ops, p.n, err, errsz);
	if (error == 0)
		error = accept_replay(snap, p.ops, p.n, opts->progress, err,
				      errsz);
	if (error == 0 && opts->commit_message)
		error = commit_ops(snap, repo, prefix, p.ops, p.n,
				   opts->commit_message, NULL, err, errsz);
out:
	if (lockfd >= 0)
		close(lockfd);
	accept_ops_free(p.ops, p.n);
	git_repository_free(repo);
	free(prefix);
	return error;
}

/* ------------------------------------------------------------------ */
/* What a live daemon must look at again */

#define REFRESH_MAX_PATHS 10000
#define REFRESH_MAX_BYTES ((size_t)512 << 10)

int snapshot_changes_paths(char ***out, size_t *n,
			   const struct snapshot_changes *c,
			   char *err, size_t errsz)
{
	char **list;
	size_t i, count = 0, bytes = 0;
	int all = 0;

	*out = NULL;
	*n = 0;
	list = calloc(c->count + 2, sizeof(*list));
	if (!list)
		return snapshot_fail(err, errsz, -1, "out of memory");
	for (i = 0; i < c->count; i++) {
		list[count] = strdup(c->items[i].path);
		if (!list[count])
			goto oom;
		bytes += strlen(list[count]) + 1;
		if (strchr(list[count], '\n'))
			all = 1;	/* the daemon reads one path a line */
		count++;
	}
	if (all || count > REFRESH_MAX_PATHS || bytes > REFRESH_MAX_BYTES) {
		for (i = 0; i < count; i++)
			free(list[i]);
		count = 0;
		list[count] = strdup("");
		if (!list[count])
			goto oom;
		count++;
	}
	list[count] = NULL;
	*out = list;
	*n = count;
	return 0;
oom:
	snapshot_paths_free(list);
	return snapshot_fail(err, errsz, -1, "out of memory");
}

/* ------------------------------------------------------------------ */
/* Discard */

static int remove_tree(int parent, const char *name)
{
	struct stat sb;
	int fd;

	if (fstatat(parent, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(parent, name, 0);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd >= 0) {
		DIR *dir = fdopendir(fd);
		struct dirent *d;

		if (!dir) {
			close(fd);
			return -1;
		}
		while ((d = readdir(dir)))
			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				remove_tree(dirfd(dir), d->d_name);
		closedir(dir);
	}
	return unlinkat(parent, name, AT_REMOVEDIR);
}

int snapshot_discard(struct snapshot *snap, const char *const *paths,
		     size_t n, char *err, size_t errsz)
{
	size_t i, j;
	int lockfd = -1, error = 0;

	for (i = 0; i < n; i++) {
		if (!*paths[i] || upper_under_opaque(snap, paths[i]))
			return snapshot_fail(err, errsz, -1, "cannot discard "
					     "'%s' alone: the session replaced "
					     "a directory above it", *paths[i] ?
					     paths[i] : ".");
	}
	error = accept_lock(snap, &lockfd, err, errsz);
	if (error < 0)
		return error;
	for (i = 0; i < n && error == 0; i++) {
		const char *name;
		char *slash = strrchr(paths[i], '/');
		int dirfd = -1;

		if (slash) {
			char *parent = strndup(paths[i],
					       (size_t)(slash - paths[i]));

			if (!parent) {
				error = snapshot_fail(err, errsz, -1,
						      "out of memory");
				break;
			}
			dirfd = openat(snap->upperfd, parent, O_PATH |
				       O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			free(parent);
			name = slash + 1;
		} else {
			dirfd = dup(snap->upperfd);
			name = paths[i];
		}
		if (dirfd >= 0) {
			if (remove_tree(dirfd, name) < 0)
				error = snapshot_fail_os(err, errsz, -1,
							 "cannot discard "
							 "'%s'", paths[i]);
			close(dirfd);
		}
		for (j = 0; j < snap->nbases && error == 0; j++)
			if (path_under(snap->bases[j].path, paths[i]) &&
			    store_bases_forget(snap, snap->bases[j].path) < 0)
				error = snapshot_fail_os(err, errsz, -1,
							 "cannot update the "
							 "base log");
	}
	close(lockfd);
	return error;
}
