/*
 * snapshot_int.h - internals of review and accept.
 *
 * Files of a session directory used here:
 *   upper/                 the copy-on-write layer (layout: fs/fs.h)
 *   store.git/             the store, a bare repository
 *   store.git/wardfs-bases the base log: NUL-terminated records
 *                          "<oid hex> <git mode octal> <path>"; a record
 *                          with mode 0 forgets the path's base
 *   accept.journal         an accept in progress (accept.c)
 *   accept.lock            flock()ed by accept, discard and recovery
 */
#ifndef WARDFS_SNAPSHOT_INT_H
#define WARDFS_SNAPSHOT_INT_H

#include <git2.h>
#include <pthread.h>
#include <sys/stat.h>

#include "rules/rules.h"
#include "snapshot/snapshot.h"

/* The upper layout's markers (fs/fs.h: FS_OPAQUE_MARKER, whiteouts). */
#define SNAPSHOT_OPAQUE ".wh..wh..opq"
#define SNAPSHOT_STORE_DIR "store.git"
#define SNAPSHOT_BASES "wardfs-bases"
#define SNAPSHOT_JOURNAL "accept.journal"
#define SNAPSHOT_LOCK "accept.lock"

/* Largest file a change set reads (a limit on outside input). */
#define SNAPSHOT_MAX_FILE ((uint64_t)4 << 30)

struct snapshot_store {
	pthread_mutex_t lock;	/* serialises captures */
	git_repository *repo;	/* protected by lock in captures */
	git_odb *odb;		/* protected by lock in captures */
	int bases_fd;		/* O_APPEND base log */
	char *dir;		/* the store's directory */
};

/* One side of a path: absent, or a blob with a git file mode. */
struct side {
	int present;
	uint32_t mode;		/* GIT_FILEMODE_BLOB(_EXECUTABLE) or _LINK */
	git_oid oid;
};

/* One changed path. */
struct change {
	char *path;
	struct side base;	/* captured base, else the project's now */
	struct side cur;	/* the project's content now */
	struct side new;	/* the merged view's content */
	mode_t perm;		/* the upper file's permission bits */
	enum rule_action action;
};

struct base_rec {
	char *path;
	struct side side;
	size_t seq;		/* position in the log: the latest wins */
};

struct snapshot {
	char *project;
	char *dir;
	char *upper;
	const struct rules *rules;
	uint64_t hide_dev, hide_ino;
	int live;
	void (*notice)(const char *msg, void *payload);
	void *payload;
	struct snapshot_store *store;
	int projectfd;		/* O_PATH directory */
	int upperfd;		/* O_PATH directory */
	struct base_rec *bases;	/* sorted by path, one per path */
	size_t nbases;
};

struct snapshot_changes {
	struct snapshot *snap;
	struct change *items;	/* sorted by path */
	size_t count, alloc;
	git_tree *old_tree, *new_tree;
	git_diff *diff;		/* with renames found */
};

/* store.c */
int snapshot_fail(char *err, size_t errsz, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int snapshot_fail_os(char *err, size_t errsz, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int snapshot_fail_git(char *err, size_t errsz, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void snapshot_notice(struct snapshot *snap, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint32_t store_git_mode(mode_t mode);
int store_write_entry(struct snapshot_store *st, int dirfd, const char *name,
		      const struct stat *sb, struct side *out);
int store_write_buf(struct snapshot_store *st, const void *buf, size_t len,
		    git_oid *out);
int store_bases_load(struct snapshot *snap, char *err, size_t errsz);
const struct side *store_base_of(const struct snapshot *snap,
				 const char *path);
int store_bases_forget(struct snapshot *snap, const char *path);
int store_bases_record(struct snapshot *snap, const char *path,
		       const struct side *side);
int side_equal(const struct side *a, const struct side *b);
char *path_join2(const char *dir, const char *name);
int path_under(const char *path, const char *prefix);

/* tree.c */
int tree_read_side(struct snapshot *snap, int rootfd, const char *path,
		   struct side *out, mode_t *perm);
int tree_build(struct snapshot_changes *c, char *err, size_t errsz);

/* gates.c: nothing shared */

/* One planned operation of an accept: make path hold new (absent:
 * delete it).  up is the session's side when planned. */
struct accept_op {
	char *path;
	struct side new;
	mode_t perm;
	struct side up;
	size_t idx;		/* position in the journal */
};

/* accept.c */
int accept_recover(struct snapshot *snap, char *err, size_t errsz);
int accept_lock(struct snapshot *snap, int *fd, char *err, size_t errsz);
int accept_journal(struct snapshot *snap, const struct accept_op *ops,
		   size_t n, char *err, size_t errsz);
int accept_replay(struct snapshot *snap, struct accept_op *ops, size_t n,
		  int show_progress, char *err, size_t errsz);
void accept_ops_free(struct accept_op *ops, size_t n);
int upper_view_has_dir(struct snapshot *snap, const char *path);
int upper_under_opaque(struct snapshot *snap, const char *path);

/* commit.c */
int commit_open(git_repository **out, char **prefix, const char *project,
		char *err, size_t errsz);
int commit_ops(struct snapshot *snap, git_repository *repo,
	       const char *prefix, const struct accept_op *ops, size_t n,
	       const char *message, const char *branch,
	       char *err, size_t errsz);

#endif
