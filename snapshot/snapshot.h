/*
 * snapshot.h - review and accept: the session's change as a git diff.
 *
 * Every session has a private bare git repository, the store
 * (<session dir>/store.git), driven by libgit2.  It holds:
 *
 *   - the base of every path the session changed: the content the lower
 *     entry had when the session first changed it, captured by the daemon
 *     through snapshot_capture_base() (a blob, and a record in the base
 *     log <store>/wardfs-bases);
 *   - the blobs of the session's new content and of merge results, written
 *     while computing a change set or accepting it.
 *
 * The session's change is the set of non-directory paths whose merged view
 * (upper over lower, see fs/fs.h for the upper layout) differs from their
 * base.  Paths the policy hides are never part of it.  A change set is
 * printed as a git patch, checked by the review gates (SPEC §6), and
 * applied to the project by snapshot_accept(), which journals its plan in
 * <session dir>/accept.journal first: an interrupted accept is completed
 * (rolled forward) by the next snapshot_open().
 *
 * Nothing is written into the project's own repository except by an
 * accept with a commit message or a branch name.
 *
 * Errors: functions that can fail for a reason the user must read take
 * char *err, size_t errsz last and fill one sentence there, without the
 * "wardfs: " prefix.  They return 0 on success and -1 on failure unless
 * documented otherwise.
 */
#ifndef WARDFS_SNAPSHOT_H
#define WARDFS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rules;

/* ------------------------------------------------------------------ */
/* The store and the daemon's base hook */

/* A session's object store, as the daemon uses it. */
struct snapshot_store;

/*
 * Open the store of the session directory dir (<dir>/store.git), creating
 * it when missing.  *out is owned by the caller: snapshot_store_free().
 */
int snapshot_store_open(struct snapshot_store **out, const char *dir,
			char *err, size_t errsz);

/* Close the store; snapshot_store_free(NULL) is a no-op. */
void snapshot_store_free(struct snapshot_store *st);

/*
 * The fs_options.base hook (payload: a struct snapshot_store *).  Records
 * the lower entry dirfd/name (read with AT_SYMLINK_NOFOLLOW) as the base
 * of the project-relative path: a regular file's content or a symlink's
 * target becomes a blob in the store, and "path has this blob and mode"
 * is appended to the base log.  The latest record of a path wins.  Other
 * file types (directories, fifos) are ignored.  Thread-safe.  Returns 0,
 * or -1 with errno set; the caller only logs a failure (the review then
 * falls back to the project's current content as the base).
 */
int snapshot_capture_base(const char *path, int dirfd, const char *name,
			  void *payload);

/* ------------------------------------------------------------------ */
/* A session, opened for review */

struct snapshot;

struct snapshot_options {
	const char *project;	/* the project directory, absolute */
	const char *dir;	/* the session directory: upper/, store.git */
	/* The policy; borrowed, must outlive the struct snapshot.  NULL
	 * means no path is hidden or read-only. */
	const struct rules *rules;
	/* Lower entries with this device and inode are skipped (the state
	 * directory, when it lies inside the project), as in fs_options. */
	uint64_t hide_dev, hide_ino;
	/* The session is mounted and served: the upper layer is left alone
	 * (accept, discard of paths and review refuse; an interrupted
	 * accept is completed in the project only). */
	int live;
	/* Messages about recovery and progress, one line each; NULL drops
	 * them. */
	void (*notice)(const char *msg, void *payload);
	void *payload;
};
#define SNAPSHOT_OPTIONS_INIT { NULL, NULL, NULL, 0, 0, 0, NULL, NULL }

/*
 * Open a session for review: its store (created when missing) and layers.
 * An accept journal left by an interrupted accept is completed first (every
 * journalled path is made to equal its new state, temporaries removed, the
 * journal deleted), with a notice.  The strings of opts are copied.  *out
 * is owned by the caller: snapshot_free().
 */
int snapshot_open(struct snapshot **out, const struct snapshot_options *opts,
		  char *err, size_t errsz);

/* Close; snapshot_free(NULL) is a no-op. */
void snapshot_free(struct snapshot *snap);

/*
 * Turn command-line paths into project-relative paths.  Each argv[i] is
 * taken relative to the working directory cwd when cwd lies in the
 * project or in the mountpoint (either may be NULL), else relative to the
 * project root.  *out is a NULL-terminated array of n strings, owned by
 * the caller: snapshot_paths_free().
 */
int snapshot_paths(char ***out, size_t *n, const char *project,
		   const char *mountpoint, const char *cwd, int argc,
		   char **argv, char *err, size_t errsz);
void snapshot_paths_free(char **paths);

/* ------------------------------------------------------------------ */
/* Change sets */

struct snapshot_changes;

/*
 * Compute the session's change, limited to the paths (each with
 * everything beneath it) in paths[0..npaths) when npaths is not 0.  The
 * content of every changed path is written into the store.  *out is owned
 * by the caller: snapshot_changes_free(); it borrows snap, which must
 * outlive it.
 */
int snapshot_changes(struct snapshot_changes **out, struct snapshot *snap,
		     const char *const *paths, size_t npaths,
		     char *err, size_t errsz);

void snapshot_changes_free(struct snapshot_changes *c);

/* How many paths changed (a rename counts as two). */
size_t snapshot_changes_count(const struct snapshot_changes *c);

enum snapshot_format {
	SNAPSHOT_PATCH,		/* git patch, "a/" "b/" prefixes */
	SNAPSHOT_STAT,		/* diffstat and summary */
	SNAPSHOT_NAME_STATUS,	/* "M\tpath", "R087\told\tnew" */
	SNAPSHOT_JSON,		/* stable array of objects */
};

/*
 * Print the change in format fmt to out, with git's colours when color is
 * set.  SNAPSHOT_JSON prints one array of
 *   {"path", "status", "old_path" (renames only), "binary", "additions",
 *    "deletions"}
 * status being "added", "modified", "deleted", "renamed" or "typechange".
 */
int snapshot_print(struct snapshot_changes *c, enum snapshot_format fmt,
		   int color, FILE *out, char *err, size_t errsz);

/* ------------------------------------------------------------------ */
/* Review gates */

/* One finding.  The strings are borrowed for the callback's duration. */
struct snapshot_finding {
	const char *path;
	unsigned line;		/* 1-based line in the new file; 0: the file */
	const char *gate;	/* "secret", "env-file", "exec-config", ... */
	const char *reason;
};

/*
 * Run the review gates (SPEC §6) over the change, calling fn for each
 * finding in path order.  Returns the number of findings, or -1 with err
 * filled when the gates could not run.
 */
int snapshot_check(struct snapshot_changes *c,
		   void (*fn)(const struct snapshot_finding *f, void *payload),
		   void *payload, char *err, size_t errsz);

/* ------------------------------------------------------------------ */
/* Accept and discard */

enum snapshot_event {
	SNAPSHOT_APPLIED,	/* path now has the session's content */
	SNAPSHOT_MERGED,	/* path merged with the project's change */
	SNAPSHOT_CONFLICT,	/* path conflicts; msg says how */
	SNAPSHOT_FORCED,	/* conflict overridden by force */
	SNAPSHOT_SKIPPED,	/* read-only path, left alone */
};

struct snapshot_accept_options {
	/* Apply conflicting paths anyway: conflict markers for text, the
	 * session's side otherwise. */
	int force;
	/* Also commit the accepted paths in the project's repository on
	 * HEAD (only those paths: other staged changes stay staged). */
	const char *commit_message;
	/* Instead of touching the project, commit HEAD's tree plus the
	 * change on a new branch of the project's repository; the session
	 * is left as it is. */
	const char *branch;
	/* Show a progress line on stderr. */
	int progress;
	/* Called for every path (msg may be NULL). */
	void (*event)(enum snapshot_event ev, const char *path,
		      const char *msg, void *payload);
	void *payload;
};
#define SNAPSHOT_ACCEPT_OPTIONS_INIT { 0, NULL, NULL, 0, NULL, NULL }

/* snapshot_accept() found conflicts and applied nothing. */
#define SNAPSHOT_ECONFLICT (-2)

/*
 * Apply the change to the project: three-way against each path's base when
 * the project changed meanwhile; SNAPSHOT_ECONFLICT (nothing applied) on a
 * conflict without force.  The plan is journalled and fsync'ed before the
 * project is touched; every file is written to a temporary in its
 * directory, fsync'ed and renamed into place.  Accepted paths then leave
 * the session (their upper entries and bases are dropped, so the view is
 * unchanged).  Refuses with -1 while the session is live, except with a
 * branch (which never touches the project or the session).  The review
 * gates are the caller's business.
 */
int snapshot_accept(struct snapshot *snap, struct snapshot_changes *c,
		    const struct snapshot_accept_options *opts,
		    char *err, size_t errsz);

/*
 * Drop the session's changes of paths[0..n) (each with everything beneath
 * it): their upper entries and bases.  Never touches the project.  Refuses
 * while the session is live, and for a path inside a directory the session
 * replaced (the directory must be discarded as a whole).
 */
int snapshot_discard(struct snapshot *snap, const char *const *paths,
		     size_t n, char *err, size_t errsz);

#endif
