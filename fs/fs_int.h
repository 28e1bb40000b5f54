/*
 * fs_int.h - internals of the guarded filesystem.
 *
 * A node is one name in the merged view (a parent and a name), not one
 * file: copy-up, whiteouts and renames are per name.  The kernel's node id
 * is the node's address.  Directories hold O_PATH descriptors of their
 * upper and lower directories; every other object is reached with *at()
 * calls from its parent's descriptors, never through a rebuilt path.
 *
 * Locks, in the order they are taken:
 *   fs->tree        (rwlock) the layers: every node's upper/lower/opaque
 *                   state and descriptors.  Readers (lookup, getattr,
 *                   readdir, read-only opens) share it; anything that
 *                   changes the upper holds it exclusively.
 *   fs->table_lock  (mutex) the node hash, each node's parent, name,
 *                   nlookup and child count.
 *   fs->listing_lock (mutex, a leaf) each directory node's listing
 *                   pointer; the listings themselves are counted
 *                   (dirh_put) and read without it.
 *   fh->lock        (mutex) one open file's descriptor.
 */
#ifndef WARDFS_FS_INT_H
#define WARDFS_FS_INT_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/fs.h"
#include "rules/rules.h"

/* Extended attributes wardfs keeps on upper entries; hidden from the view. */
#define FS_XATTR_PREFIX "user.wardfs."
#define FS_XATTR_ORIGIN "user.wardfs.origin"

struct node {
	struct node *parent;	/* protected by table_lock; counted in
				   parent->nchildren */
	char *name;		/* protected by table_lock */
	struct node *hnext;	/* protected by table_lock */
	uint64_t nlookup;	/* protected by table_lock */
	uint64_t nchildren;	/* protected by table_lock */
	int hashed;		/* protected by table_lock */
	/* Every live node but the root, hashed or not, for the final
	 * release; protected by table_lock. */
	struct node *all_next, *all_prev;

	uint64_t ino;		/* reported st_ino; fixed for the node's life */
	mode_t type;		/* S_IFMT bits; fixed */

	/* The layers; protected by tree (held exclusively to change). */
	int upper;		/* an upper entry exists */
	int lower;		/* the lower entry shows through */
	int opaque;		/* directory: lower contents masked */
	int ufd;		/* directory: O_PATH upper dir, or -1 */
	int lfd;		/* directory: O_PATH lower dir, or -1 */
	int written;		/* data written through this session's view */
	int redact;		/* shown with values masked; fixed */
	enum rule_action decision;	/* protected by tree */
	/* directory: the listing being read (ops_dir.c); listing_lock */
	struct dirh *listing;
};

/* A project file with more than one name (fs/policy.c). */
struct dev_ino {
	uint64_t dev, ino;
	char *path;		/* project-relative */
	int hidden;		/* the policy hides this name */
};

struct content_entry;

struct fs {
	struct fs_options opts;
	struct node root;
	int workfd;		/* O_PATH work directory */
	dev_t lower_dev, upper_dev;
	int can_whiteout_rename;	/* RENAME_WHITEOUT works */
	uint64_t tmp_counter;	/* atomic */

	pthread_rwlock_t tree;
	pthread_mutex_t table_lock;
	pthread_mutex_t listing_lock;	/* every node's listing pointer */
	int no_opendir;		/* the kernel reads directories unopened */
	struct node **table;	/* protected by table_lock */
	size_t table_size;	/* protected by table_lock */
	size_t table_count;	/* protected by table_lock */
	struct node *all;	/* protected by table_lock */

	/* fs/policy.c */
	pthread_mutex_t content_lock;	/* lock order: after tree */
	struct content_entry **content;	/* protected by content_lock */
	size_t content_size, content_count;	/* protected by content_lock */
	int content_dirty;		/* protected by content_lock */
	pthread_mutex_t links_lock;	/* lock order: after tree */
	struct dev_ino *hidden_links;	/* protected by links_lock */
	size_t nhidden_links, hidden_links_alloc;	/* links_lock */
	int links_scanned;		/* protected by links_lock */
	time_t links_scan_time;		/* protected by links_lock */
	uint64_t upper_bytes;		/* atomic: size of the upper's files */

	struct audit *audit;		/* fs/audit.c; NULL when off */

	pthread_t control;		/* fs/control.c */
	int control_fd;
	int control_running;

	struct fuse_session *se;
	char *mountpoint;
	int mounted;
};

struct fh {
	pthread_mutex_t lock;
	int fd;			/* protected by lock; changes once */
	int old_fd;		/* the lower descriptor fd replaced, or -1 */
	int on_upper;		/* atomic: fd is the upper file */
	int writable;
	struct node *node;
	char *masked;		/* redacted contents served instead of fd */
	size_t masked_len;
};

struct dir_entry {
	char *name;
	uint64_t ino;
	uint64_t off;		/* the entry's d_off: a hash of its name */
	mode_t type;
};

/* A directory's visible entries, sorted by off; shared, counted. */
struct dirh {
	struct dir_entry *entries;
	size_t count;
	int refs;		/* atomic */
};

/* fs/node.c */
struct fs *fs_of(fuse_req_t req);
struct node *node_of(fuse_req_t req, fuse_ino_t ino);
struct node *node_of_ino(struct fs *fs, fuse_ino_t ino);
fuse_ino_t node_id(struct fs *fs, struct node *n);
int node_table_init(struct fs *fs);
void node_table_release(struct fs *fs);
struct node *node_find(struct fs *fs, struct node *parent, const char *name);
void node_unhash(struct fs *fs, struct node *n);
void node_rehash(struct fs *fs, struct node *n, struct node *parent,
		 const char *name);
void node_forget(struct fs *fs, struct node *n, uint64_t nlookup);
char *node_path(struct fs *fs, struct node *parent, const char *name);
void node_foreach_descendant(struct fs *fs, struct node *dir,
			     void (*fn)(struct node *n, void *payload),
			     void *payload);
int node_lookup(struct fs *fs, struct node *parent, const char *name,
		struct fuse_entry_param *e);
int node_stat(struct fs *fs, struct node *n, struct stat *st);
int node_layer_fd(struct node *n, int upper);
uint64_t node_ino_of(struct fs *fs, int dirfd, const char *name,
		     const struct stat *st, int is_upper);
int node_name_ok(const char *name);
int node_is_whiteout(const struct stat *st);
int node_is_opaque_dir(int ufd);
enum rule_action node_decide(struct fs *fs, struct node *parent,
			     const char *name, int is_dir);
enum rule_action node_decide_full(struct fs *fs, struct node *parent,
				  const char *name, int is_dir, int *redact);
/* Is there a hidden project entry (of any type) under parent/name? */
int lower_hidden(struct fs *fs, struct node *p, const char *name);
/* May the agent change n?  -EROFS (logged) for a read-only path. */
int node_check_write(struct fs *fs, const char *op, struct node *n);
void node_fill_entry(struct fs *fs, struct node *n, const struct stat *st,
		     struct fuse_entry_param *e);

/* fs/ops_dir.c: drop a reference to a listing (NULL: nothing). */
void dirh_put(struct dirh *d);

/* fs/copyup.c */
void copyup_capture(struct fs *fs, int lowerdir, const char *name,
		    const char *path);
void copyup_capture_node(struct fs *fs, struct node *parent,
			 const char *name);
int copyup(struct fs *fs, struct node *n, int with_data);
int copyup_dir(struct fs *fs, struct node *dir);
int copyup_tree(struct fs *fs, struct node *dir);
int upper_tmpname(struct fs *fs, char *buf, size_t size);
int upper_whiteout(struct fs *fs, int dirfd, const char *name);
int upper_set_opaque(int dirfd);
int upper_replace(struct fs *fs, const char *tmp, int dirfd,
		  const char *name);
int upper_remove_tree(int dirfd, const char *name);

/* fs/policy.c */
void policy_init(struct fs *fs);
void policy_release(struct fs *fs);
int policy_content_hidden(struct fs *fs, int dirfd, const char *name,
			  const struct stat *st);
int policy_redact(struct fs *fs, int fd, char **out, size_t *outlen);
int policy_redacted_size(struct fs *fs, int dirfd, const char *name,
			 off_t *size);
int policy_may_grow(struct fs *fs, uint64_t grow, uint64_t end);
void policy_grew(struct fs *fs, int64_t delta);
int policy_is_hidden_link(struct fs *fs, const struct stat *st);
size_t policy_link_names(struct fs *fs, const struct stat *st,
			 char ***out);

/* fs/audit.c */
enum fs_audit_kind { FS_AUDIT_DENIAL, FS_AUDIT_CHANGE, FS_AUDIT_READ };
struct audit;
int audit_start(struct fs *fs);
void audit_stop(struct fs *fs);
void fs_req_begin(fuse_req_t req);
int audit_wants(struct fs *fs, enum fs_audit_kind kind);
void audit_event(struct fs *fs, enum fs_audit_kind kind, const char *op,
		 char *path, const char *result);
void audit_node(struct fs *fs, enum fs_audit_kind kind, const char *op,
		struct node *parent, const char *name, const char *result);
const char *audit_result(int error);

/* fs/control.c */
int control_start(struct fs *fs);
void control_stop(struct fs *fs);

/* fs/log.c */
void fs_log(struct fs *fs, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fs_deny(struct fs *fs, const char *op, struct node *parent,
	     const char *name, enum rule_action action);

/* the operation tables, by family */
void ops_dir_fill(struct fuse_lowlevel_ops *ops);
void ops_file_fill(struct fuse_lowlevel_ops *ops);
void ops_attr_fill(struct fuse_lowlevel_ops *ops);

#endif
