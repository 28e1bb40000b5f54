/*
 * cli_int.h - sessions as the command line sees them.
 *
 * A session lives in $WARDFS_HOME/sessions/<id>/:
 *   session.ini   id, project, mountpoint (INI)
 *   upper/        the copy-on-write layer
 *   work/         scratch space for atomic copy-up
 *   lock          flock()ed by the daemon serving the session
 *   daemon.log    the daemon's messages
 *   mnt/          the default mountpoint
 */
#ifndef WARDFS_CLI_INT_H
#define WARDFS_CLI_INT_H

#include <stddef.h>

struct session {
	char *id;
	char *dir;		/* the session directory */
	char *project;		/* absolute */
	char *mountpoint;	/* absolute */
	char **overrides;	/* -o section.key=value given at mount */
	size_t noverrides;
};

enum session_state {
	SESSION_UNMOUNTED,
	SESSION_LIVE,		/* a daemon holds the lock */
	SESSION_STALE,		/* mounted, but no daemon serves it */
};

/* The state directory ($WARDFS_HOME or the XDG default); caller frees. */
char *session_home(void);

/* Make sure $WARDFS_HOME/sessions exists; prints the error.  0 or -1. */
int session_home_create(void);
/* Where the [content] verdicts for project are kept between mounts
 * ($WARDFS_HOME/cache/content-HASH; the directory is created), or NULL. */
char *session_content_cache(const char *project);

/* Fill s from the session directory of id; prints the error.  0 or -1. */
int session_load(struct session *s, const char *id);

/* Write s->dir/session.ini.  0 or -1 (error printed). */
int session_save(const struct session *s);

/* Create a new session directory for project; prints the error. */
int session_create(struct session *s, const char *project);

/* Every session, sorted by id; *out freed with session_list_free(). */
int session_list(struct session **out, size_t *count);
void session_list_free(struct session *list, size_t count);

/*
 * Find the session an argument names: an id, a mountpoint, or (arg NULL)
 * the one session whose project or mountpoint holds the working directory.
 * Prints the error (listing candidates when ambiguous).  0 or -1.
 */
int session_resolve(struct session *out, const char *arg);

void session_release(struct session *s);

/* Replace s's overrides with copies of list[0..n).  0 or -1 (no memory). */
int session_set_overrides(struct session *s, const char *const *list,
			  size_t n);

enum session_state session_state(const struct session *s);
const char *session_state_name(enum session_state state);

/* Is path a wardfs mount (live or dead) right now? */
int session_is_mounted(const char *mountpoint);

/* Unmount mountpoint (lazily when lazy); 0 or -errno. */
int session_unmount(const char *mountpoint, int lazy);

/* Wait up to ms milliseconds for the daemon to release the lock. */
int session_wait_unlocked(const struct session *s, int ms);

/*
 * Tell a live session's daemon that these project-relative paths changed
 * in its layers ("" for all), so the view shows them as they are now.
 * A session that is not live needs nothing: returns 0.  Prints the error.
 */
int session_refresh(const struct session *s, const char *const *paths,
		    size_t n);

/* s->dir joined with name; caller frees. */
char *session_path(const struct session *s, const char *name);

/* Join two path parts with a '/'; caller frees.  NULL when out of memory. */
char *path_join(const char *a, const char *b);

/* Is path equal to dir or beneath it? (both absolute, canonical) */
int path_is_within(const char *path, const char *dir);

#endif

/* cli/sandbox.c: the isolated view of `wardfs run`. */
struct sandbox {
	const char *project;	/* the project's absolute path */
	const char *view;	/* the mounted merged view */
	const char *cwd;	/* where CMD starts (inside project) */
	const char *home;	/* $HOME, or NULL */
	const char *state;	/* $WARDFS_HOME, masked inside */
	char **masks;		/* absolute paths to hide */
	size_t nmasks;
	char **writable;	/* absolute paths left writable */
	size_t nwritable;
	int net_none;		/* loopback only */
	int weaker;		/* go on without a refused protection */
};

/*
 * Run argv in new namespaces as described by sb; returns CMD's exit
 * status (128+signal when killed), 125 when the sandbox could not be set
 * up (the reason printed), 126/127 when CMD could not be started.
 */
int sandbox_run(const struct sandbox *sb, char **argv);

/* One protection and whether this machine and user can have it. */
struct sandbox_probe {
	const char *name;
	int ok;
	char detail[256];
};

/* Fill up to max probes; returns how many. */
size_t sandbox_probe(struct sandbox_probe *out, size_t max);
