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

struct pending_base;

struct snapshot_store {
	pthread_mutex_t lock;	/* serialises captures */
	git_repository *repo;	/* protected by lock in captures */
	git_odb *odb;		/* protected by lock in captures */
	int bases_fd;		/* O_APPEND base log */
	char *dir;		/* the store's directory */
	/* The project's own git index (snapshot_store_use_project): a clean
	 * tracked file's base is the blob the index names. */
	char *index_path;	/* NULL: none, or unusable */
	git_index *index;	/* protected by lock; opened lazily */
	/* Large bases are hashed by a worker thread, outside the daemon's
	 * locks; records reach the base log in capture order. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct pending_base *head, **tail;	/* protected by qlock */
	int busy;		/* protected by qlock: worker holds one */
	int stopping;		/* protected by qlock */
	int worker_started;	/* protected by qlock */
	pthread_t worker;
};

/* One side of a path: absent, or a blob with a git file mode. */
struct side {
	int present;
	uint32_t mode;		/* GIT_FILEMODE_BLOB(_EXECUTABLE) or _LINK */
	git_oid oid;
};

/* A base to record: a large file, hashed by the store's worker. */
struct pending_base {
	struct pending_base *next;
	char *path;
	int fd;			/* the lower file, or -1: side is known */
	struct stat sb;		/* its stat data when captured */
	struct side side;
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

/* ------------------------------------------------------------------ */
/* Snapshots (snap*.c; the format in snap_format.c) */

#define SNAP_REF "refs/wardfs/snapshots"
#define SNAP_SEQ "wardfs-snapshot-seq"	/* in the store: last number */
#define SNAP_WORK_PREFIX "snap."	/* temporaries in <session>/work */

/* An extended attribute of a recorded entry. */
struct snap_xattr {
	char *name;
	unsigned char *value;
	size_t len;
};

/* One entry of an upper layer. */
struct snap_entry {
	char *path;		/* project-relative; "" for the root */
	mode_t mode;		/* type and permission bits; S_IFCHR is a
				   whiteout (a character device 0/0) */
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	/* with ino and size, the status cache of the next snapshot */
	struct timespec ctime;
	uint64_t ino, size;
	git_oid oid;		/* content of a file or symlink */
	struct snap_xattr *xattrs;
	size_t nxattrs;
};

/* An upper layer and its bases: a snapshot, or the session now. */
struct snap_state {
	unsigned long id;	/* 0: the session now */
	size_t changed;		/* paths changed since the one before */
	int64_t time;		/* when it was taken */
	struct snap_entry *entries;	/* sorted by path: parents first */
	size_t count, alloc;
	struct base_rec *bases;	/* sorted by path; present sides only */
	size_t nbases;
};

/* A snapshot's number and count of changed paths (its info blob). */
struct snap_info {
	unsigned long id;
	size_t changed;
};

/* The commits of the snapshots, newest first. */
struct snap_chain {
	git_commit **commits;
	struct snap_info *infos;
	size_t count;
};

/* snap.c */
void snap_state_clear(struct snap_state *st);
struct snap_entry *snap_state_add(struct snap_state *st);
int snap_state_add_base(struct snap_state *st, size_t *alloc,
			const char *path, const struct side *side);
void snap_state_sort(struct snap_state *st);
int snap_has_content(mode_t mode);
const struct snap_entry *snap_find(const struct snap_state *st,
				   const char *path);
const struct side *snap_base(const struct snap_state *st, const char *path);
int snap_is_marker(const char *path);
/* A whiteout (character device 0/0); shared by the module's walks. */
int snap_is_whiteout(const struct stat *sb);
int snap_read_upper(struct snap_state *out, struct snapshot *snap,
		    const struct snap_state *prev, char *err, size_t errsz);
int snap_create_locked(unsigned long *id, struct snapshot *snap,
		       const char *message, char *err, size_t errsz);
int snap_open_dir(int rootfd, const char *path);
/* The sorted entry names of directory dirfd (O_PATH is fine). */
int snap_names(int dirfd, char ***out, size_t *count);
void snap_names_free(char **names, size_t count);

/* snap_format.c */
int snap_chain_read(struct snap_chain *out, struct snapshot *snap,
		    char *err, size_t errsz);
void snap_chain_free(struct snap_chain *c);
int snap_load_commit(struct snap_state *out, struct snapshot *snap,
		     git_commit *commit, const struct snap_info *info,
		     char *err, size_t errsz);
int snap_load(struct snap_state *out, struct snapshot *snap,
	      unsigned long id, char *err, size_t errsz);
int snap_latest(struct snap_state *out, struct snapshot *snap,
		char *err, size_t errsz);
unsigned long snap_seq_read(struct snapshot *snap);
int snap_seq_write(struct snapshot *snap, unsigned long n);
int snap_write_commit(struct snapshot *snap, const struct snap_state *st,
		      const char *message, git_commit *parent,
		      char *err, size_t errsz);

/* A restore in progress (snap_restore.c, snap_make.c). */
struct snap_restore {
	struct snapshot *snap;
	const struct snap_state *to;
	const struct snapshot_restore_options *opts;
	int workfd;		/* <session>/work, O_PATH */
	int quiet;		/* building apart: nothing to report */
	unsigned long ntmp;	/* temporaries made */
	size_t done, total;
	/* bases of the project's entries copied in, recorded last */
	struct base_rec *copied;
	size_t ncopied, copied_alloc;
	char *err;
	size_t errsz;
};

/* snap_make.c */
void snap_touched(struct snap_restore *r, const char *path);
void snap_tmp_name(struct snap_restore *r, char *buf, size_t size);
int snap_split(const char *path, char *dir, size_t size, const char **name);
int snap_remove_tree(int parent, const char *name);
int snap_make(struct snap_restore *r, int dirfd, const char *name,
	      const struct snap_entry *e, int opaque);
int snap_put(struct snap_restore *r, int rootfd, const struct snap_entry *e);
void snap_dir_times(const struct snap_state *to, const char *path,
		    size_t from, size_t end, int rootfd);

/* snap_restore.c, snap_diff.c: nothing shared */


/* snapshot/diff.c: the patch printer, shared with review.c */
struct printer {
	FILE *out;
	int color;		/* git's colours */
	int header_only;	/* print only file headers */
};
void printer_hunk_header(struct printer *p, const char *s, size_t len);
void printer_line(struct printer *p, const git_diff_line *line);
/* A git_diff_line_cb; payload is a struct printer. */
int printer_cb(const git_diff_delta *delta, const git_diff_hunk *hunk,
	       const git_diff_line *line, void *payload);

#endif
