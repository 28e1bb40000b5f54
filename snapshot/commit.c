/*
 * commit.c - accept --commit and --branch: the project's own repository.
 *
 * The only place wardfs writes into the project's .git.  The commit's tree
 * is HEAD's tree with the accepted paths replaced (built in an in-memory
 * index), never the user's index: changes the user had staged are neither
 * committed nor unstaged.  With --commit the index entries of the accepted
 * paths alone are then updated to match; with --branch neither the index
 * nor the work tree is touched.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

int commit_open(git_repository **out, char **prefix, const char *project,
		char *err, size_t errsz)
{
	git_repository *repo = NULL;
	char work[PATH_MAX], proj[PATH_MAX];
	const char *wd;
	size_t n;

	*out = NULL;
	*prefix = NULL;
	if (git_repository_open_ext(&repo, project, 0, NULL) < 0)
		return snapshot_fail(err, errsz, -1, "cannot commit: the "
				     "project '%s' is not in a git repository",
				     project);
	wd = git_repository_workdir(repo);
	if (!wd || !realpath(wd, work) || !realpath(project, proj)) {
		git_repository_free(repo);
		return snapshot_fail(err, errsz, -1, "cannot commit: the "
				     "repository of '%s' has no work tree",
				     project);
	}
	n = strlen(work);
	if (strcmp(proj, work) == 0)
		*prefix = strdup("");
	else if (strncmp(proj, work, n) == 0 && proj[n] == '/')
		*prefix = strdup(proj + n + 1);
	else
		*prefix = NULL;
	if (!*prefix) {
		git_repository_free(repo);
		return snapshot_fail(err, errsz, -1, "cannot commit: '%s' is "
				     "not inside its repository's work tree",
				     project);
	}
	*out = repo;
	return 0;
}

/* A signature from GIT_<WHO>_NAME/EMAIL, the repository's config, or a
 * fallback. */
static int signature(git_signature **out, git_repository *repo,
		     const char *who)
{
	char name_var[32], email_var[32];
	const char *name, *email;

	snprintf(name_var, sizeof(name_var), "GIT_%s_NAME", who);
	snprintf(email_var, sizeof(email_var), "GIT_%s_EMAIL", who);
	name = getenv(name_var);
	email = getenv(email_var);
	if (name && *name && email && *email)
		return git_signature_now(out, name, email);
	if (git_signature_default(out, repo) == 0)
		return 0;
	return git_signature_now(out, name && *name ? name : "wardfs",
				 email && *email ? email : "wardfs@localhost");
}

static int build_tree(struct snapshot *snap, git_repository *repo,
		      const char *prefix, const git_tree *head,
		      const struct accept_op *ops, size_t n, git_tree **out)
{
	git_index *index = NULL;
	git_oid oid;
	size_t i;
	int error = -1;

	if (git_index_new(&index) < 0)
		return -1;
	if (head && git_index_read_tree(index, head) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		char *path = path_join2(prefix, ops[i].path);

		if (!path)
			goto out;
		if (!ops[i].new.present) {
			(void)git_index_remove(index, path, 0);
			(void)git_index_remove_directory(index, path, 0);
		}
		free(path);
	}
	for (i = 0; i < n; i++) {
		git_index_entry e;
		git_blob *blob = NULL;
		char *path;
		int rc;

		if (!ops[i].new.present)
			continue;
		if (git_blob_lookup(&blob, snap->store->repo,
				    &ops[i].new.oid) < 0)
			goto out;
		memset(&e, 0, sizeof(e));
		rc = git_blob_create_from_buffer(&e.id, repo,
						 git_blob_rawcontent(blob),
						 (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		if (rc < 0)
			goto out;
		path = path_join2(prefix, ops[i].path);
		if (!path)
			goto out;
		e.path = path;
		e.mode = ops[i].new.mode;
		(void)git_index_remove_directory(index, path, 0);
		rc = git_index_add(index, &e);
		free(path);
		if (rc < 0)
			goto out;
	}
	if (git_index_write_tree_to(&oid, index, repo) < 0 ||
	    git_tree_lookup(out, repo, &oid) < 0)
		goto out;
	error = 0;
out:
	git_index_free(index);
	return error;
}

/* The accepted paths' entries of the user's index follow the commit. */
static int update_index(git_repository *repo, const char *prefix,
			const struct accept_op *ops, size_t n)
{
	git_index *index = NULL;
	size_t i;
	int error = -1;

	if (git_repository_index(&index, repo) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char *path = path_join2(prefix, ops[i].path);
		int rc;

		if (!path)
			goto out;
		if (ops[i].new.present)
			rc = git_index_add_bypath(index, path);
		else
			rc = git_index_remove_bypath(index, path);
		free(path);
		if (rc < 0)
			goto out;
	}
	error = git_index_write(index);
out:
	git_index_free(index);
	return error;
}

int commit_ops(struct snapshot *snap, git_repository *repo,
	       const char *prefix, const struct accept_op *ops, size_t n,
	       const char *message, const char *branch,
	       char *err, size_t errsz)
{
	git_reference *head = NULL, *ref = NULL;
	git_commit *parent = NULL, *commit = NULL;
	git_tree *head_tree = NULL, *tree = NULL;
	git_signature *author = NULL, *committer = NULL;
	const git_commit *parents[1];
	char *msg = NULL;
	git_oid oid;
	size_t len;
	int error = -1, rc;

	rc = git_repository_head(&head, repo);
	if (rc == 0) {
		if (git_reference_peel((git_object **)&parent, head,
				       GIT_OBJECT_COMMIT) < 0 ||
		    git_commit_tree(&head_tree, parent) < 0)
			goto fail;
	} else if (rc != GIT_EUNBORNBRANCH && rc != GIT_ENOTFOUND) {
		goto fail;
	}
	if (build_tree(snap, repo, prefix, head_tree, ops, n, &tree) < 0)
		goto fail;
	if (head_tree && git_oid_equal(git_tree_id(tree),
				       git_tree_id(head_tree))) {
		snapshot_notice(snap, "nothing to commit: HEAD already has "
				"the change");
		error = 0;
		goto out;
	}
	if (!message)
		message = "wardfs: accept session changes";
	len = strlen(message);
	msg = malloc(len + 2);
	if (!msg)
		goto fail;
	memcpy(msg, message, len + 1);
	if (!len || msg[len - 1] != '\n')
		memcpy(msg + len, "\n", 2);
	if (signature(&author, repo, "AUTHOR") < 0 ||
	    signature(&committer, repo, "COMMITTER") < 0)
		goto fail;
	parents[0] = parent;
	if (git_commit_create(&oid, repo, branch ? NULL : "HEAD", author,
			      committer, NULL, msg, tree, parent ? 1 : 0,
			      parents) < 0)
		goto fail;
	if (branch) {
		if (git_commit_lookup(&commit, repo, &oid) < 0)
			goto fail;
		if (git_branch_create(&ref, repo, branch, commit, 0) < 0) {
			error = snapshot_fail_git(err, errsz, -1, "cannot "
						  "create branch '%s'", branch);
			goto out;
		}
		snapshot_notice(snap, "branch '%s' created", branch);
	} else {
		if (update_index(repo, prefix, ops, n) < 0)
			goto fail;
	}
	error = 0;
	goto out;
fail:
	error = snapshot_fail_git(err, errsz, -1, "cannot %s in '%s'",
				  branch ? "create the branch" : "commit",
				  git_repository_workdir(repo));
out:
	free(msg);
	git_signature_free(author);
	git_signature_free(committer);
	git_reference_free(ref);
	git_reference_free(head);
	git_commit_free(commit);
	git_commit_free(parent);
	git_tree_free(head_tree);
	git_tree_free(tree);
	return error;
}
