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

/*
 * Let the store use the project's own git repository, when the project
 * directory has one (<project>/.git with an index): the base of a file the
 * index shows clean (same stat data, not racily clean) is the blob the
 * index names, read through the project's object database (an alternate
 * of the store), and nothing is written.  Without a repository this does
 * nothing.  Returns 0, or -1 with err set when the store cannot record
 * the alternate.
 */
int snapshot_store_use_project(struct snapshot_store *st, const char *project,
			       char *err, size_t errsz);

/* Close the store; snapshot_store_free(NULL) is a no-op. */
void snapshot_store_free(struct snapshot_store *st);

/*
 * The fs_options.base hook (payload: a struct snapshot_store *).  Records
 * the lower entry dirfd/name (read with AT_SYMLINK_NOFOLLOW) as the base
 * of the project-relative path: a regular file's content or a symlink's
 * target becomes a blob in the store (or is the blob the project's index
 * names, when the file is clean there), and "path has this blob and mode"
 * is appended to the base log.  The latest record of a path wins.  A large
 * file is hashed by the store's worker thread after the hook returns (the
 * file is held open; should the project change it in place meanwhile, its
 * base is recorded as unknown, which accept treats as a conflict);
 * snapshot_store_free() waits for the queue.  Other file types
 * (directories, fifos) are ignored.  Thread-safe.  Returns 0, or -1 with
 * errno set; the caller only logs a failure (the review then falls back
 * to the project's current content as the base).
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
	/* The session is mounted and served: accept leaves an upper entry
	 * the daemon may still need in place (see snapshot_accept()), and
	 * an interrupted accept is completed in the project only.  After an
	 * accept or a discard the caller tells the daemon which paths
	 * changed (snapshot_changes_paths()). */
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
 * unchanged).  An upper entry that changed meanwhile, or lies in a
 * directory the session replaced, or (live) that the daemon holds open or
 * lies in a directory the accept had to create in the project, stays in
 * the session with the session's accepted content as its new base: the
 * view keeps it and the diff shows only what changed since.  A change set
 * from snapshot_review_changes() leaves the rest of each partly accepted
 * file the same way.  With a branch nothing in the project or the session
 * changes.  The review gates are the caller's business.
 */
int snapshot_accept(struct snapshot *snap, struct snapshot_changes *c,
		    const struct snapshot_accept_options *opts,
		    char *err, size_t errsz);

/*
 * Drop the session's changes of paths[0..n) (each with everything beneath
 * it): their upper entries and bases.  Never touches the project.  Refuses
 * a path inside a directory the session replaced (the directory must be
 * discarded as a whole).  While live, a descriptor the daemon holds of a
 * dropped file keeps the dropped content; the caller then refreshes the
 * view of paths[0..n).
 */
int snapshot_discard(struct snapshot *snap, const char *const *paths,
		     size_t n, char *err, size_t errsz);

/*
 * The paths whose view accepting c may change beneath a live daemon, for
 * the daemon's refresh: every path of c, or everything ("") when there
 * are too many to name.  *out is a NULL-terminated array of n
 * strings owned by the caller: snapshot_paths_free().
 */
int snapshot_changes_paths(char ***out, size_t *n,
			   const struct snapshot_changes *c,
			   char *err, size_t errsz);

/* ------------------------------------------------------------------ */
/* Review: accepting part of a change, hunk by hunk */

/*
 * A change set split for an interactive review into files (the deltas of
 * its patch; a rename is one file, and so is a path whose type changed)
 * and, for a text file modified in place, hunks: its mode change first
 * when it has one, then the hunks of its patch.  Every other file (new,
 * deleted, renamed, binary, a symlink, a type or mode-only change) is
 * chosen whole.  Nothing is chosen at first.
 */
struct snapshot_review;

/*
 * Split c (which must outlive the review).  *out is owned by the caller:
 * snapshot_review_free().
 */
int snapshot_review_new(struct snapshot_review **out,
			struct snapshot_changes *c, char *err, size_t errsz);

/* Free; snapshot_review_free(NULL) is a no-op. */
void snapshot_review_free(struct snapshot_review *r);

/* The number of files. */
size_t snapshot_review_count(const struct snapshot_review *r);

/* What one file of a review is; the strings are borrowed from r. */
struct snapshot_review_file {
	const char *path;	/* its path (the new one of a rename) */
	size_t hunks;		/* 0: chosen whole, else hunks to choose */
	int mode_change;	/* with hunks: hunk 0 is the mode change */
};

void snapshot_review_file(struct snapshot_review_file *out,
			  const struct snapshot_review *r, size_t file);

/* The file itself, instead of one of its hunks. */
#define SNAPSHOT_REVIEW_HEADER ((size_t)-1)

/*
 * Print hunk of file to out as git does, with git's colours when color is
 * set; SNAPSHOT_REVIEW_HEADER prints the file's header (and, when it has
 * no hunks, its whole patch), the mode change nothing (the header shows
 * it).
 */
int snapshot_review_print(struct snapshot_review *r, size_t file,
			  size_t hunk, int color, FILE *out,
			  char *err, size_t errsz);

/* Choose (accept set) or leave hunk of file (SNAPSHOT_REVIEW_HEADER: the
 * whole file: every hunk of it). */
void snapshot_review_choose(struct snapshot_review *r, size_t file,
			    size_t hunk, int accept);

/*
 * The chosen part of the change as a change set, for snapshot_check(),
 * snapshot_changes_paths() and snapshot_accept(): a partly chosen file
 * becomes its base with the chosen hunks applied.  Accepting it leaves
 * the rest of such a file in the session (its base becomes what was
 * accepted, so the diff shows only the hunks left), and takes whole
 * files out of the session as accept does.  *out is owned by the caller:
 * snapshot_changes_free(); count 0 when nothing was chosen.
 */
int snapshot_review_changes(struct snapshot_changes **out,
			    struct snapshot_review *r,
			    char *err, size_t errsz);

/* ------------------------------------------------------------------ */
/* Snapshots: checkpoints of the session (snap*.c)
 *
 * A snapshot records the upper layer itself (every file, symlink,
 * directory, whiteout and opaque marker, with modes, owners, times and
 * extended attributes) and the session's bases, as a commit on
 * refs/wardfs/snapshots in the store; the commits form a chain, newest
 * first.  Snapshots are numbered 1, 2, 3... in the session, and a number
 * is never given twice.  The format is described in snap_format.c.
 */

/* One snapshot as snapshot_list() reports it; borrowed for the callback. */
struct snapshot_info {
	unsigned long id;	/* the snapshot's number */
	const char *commit;	/* the commit's id in the store, hex */
	int64_t time;		/* when it was taken (seconds, the epoch) */
	const char *message;	/* its message, first line */
	size_t changed;		/* paths changed since the one before */
};

/*
 * Take a snapshot of the session with message (NULL: "snapshot") and set
 * *id to its number.  Only the upper layer is read, and a file whose
 * status (inode, size, times) equals its record in the latest snapshot is
 * not read again; blobs already in the store are not written again.
 * Works while the session is live.
 */
int snapshot_create(unsigned long *id, struct snapshot *snap,
		    const char *message, char *err, size_t errsz);

/*
 * Call fn for every snapshot of the session, oldest first; a non-zero
 * return from fn stops the walk and is returned.
 */
int snapshot_list(struct snapshot *snap,
		  int (*fn)(const struct snapshot_info *info, void *payload),
		  void *payload, char *err, size_t errsz);

/*
 * The change from snapshot a to snapshot b (b 0: the session as it is
 * now) as a change set of the merged views, limited to paths[0..npaths)
 * (each with everything beneath it) when npaths is not 0; print it with
 * snapshot_print().  Paths the policy hides are left out.  *out is owned
 * by the caller: snapshot_changes_free(); it borrows snap.
 */
int snapshot_diff(struct snapshot_changes **out, struct snapshot *snap,
		  unsigned long a, unsigned long b,
		  const char *const *paths, size_t npaths,
		  char *err, size_t errsz);

struct snapshot_restore_options {
	/* Restore only these project-relative paths, each with everything
	 * beneath it; npaths 0: the whole session. */
	const char *const *paths;
	size_t npaths;
	/* When not NULL: first take a snapshot of the session as it is
	 * ("before restoring snapshot N"), once the restore is known to be
	 * possible, and set *saved to its number (0: none taken). */
	unsigned long *saved;
	/* Show a progress line on stderr. */
	int progress;
	/* Called for every path the restore created, replaced or removed in
	 * the upper layer (to refresh a live view); NULL: not called. */
	void (*touched)(const char *path, void *payload);
	void *payload;
};
#define SNAPSHOT_RESTORE_OPTIONS_INIT { NULL, 0, NULL, 0, NULL, NULL }

/*
 * Return the upper layer (or the paths of opts) and the bases to their
 * state in snapshot id.  Entries whose content and type already match are
 * kept (open descriptors of them stay valid); others are written to a
 * temporary in <session>/work and renamed into place, so an open
 * descriptor of a replaced file behaves as after a rename over it.  A
 * whole restore of a session that is not live builds the new upper apart
 * and exchanges it with the old one in one renameat2(); a live session is
 * restored in place (its daemon holds descriptors of the upper's
 * directories) and the caller then tells the daemon to drop its caches.
 * Refuses a path whose parent is a file in the session now.
 */
int snapshot_restore(struct snapshot *snap, unsigned long id,
		     const struct snapshot_restore_options *opts,
		     char *err, size_t errsz);

/* Forget snapshot id (the ones after it keep their numbers). */
int snapshot_drop(struct snapshot *snap, unsigned long id,
		  char *err, size_t errsz);

#endif
