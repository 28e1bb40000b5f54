/*
 * accept.c - applying the change to the project, with a journal.
 *
 * An accept runs in four steps:
 *
 *   1. plan: one operation per changed path, "write blob B with mode M"
 *      or "delete"; where the project changed since the path's base, a
 *      three-way merge (git_merge_file) decides, and a conflict stops
 *      everything before the project is touched;
 *   2. journal: the plan is written to <session>/accept.journal.tmp,
 *      fsync'ed and renamed to accept.journal (then the directory is
 *      fsync'ed); every blob it names is already in the store;
 *   3. replay: deletions (deepest first, emptied directories the view no
 *      longer has are removed), then writes (a temporary
 *      ".wardfs-accept-<n>.tmp" in the target's directory, fsync, renameat
 *      into place, fsync of the directory); each operation first checks
 *      whether the path already has its new state, so a replay can be
 *      repeated;
 *   4. the session forgets the accepted paths: their upper entries and
 *      whiteouts go, their bases are forgotten; an upper entry that must
 *      stay (changed again, under an opaque directory, partly accepted,
 *      or, live, in use by the daemon) gets the accepted session content
 *      as its base instead; the journal is removed.
 *
 * Recovery rolls forward: a complete journal found by snapshot_open() is
 * replayed from step 3, so every path ends with its new content and no
 * temporary is left (while the session is live, step 4 is left out).  A
 * journal without its "end" record was torn before the project was
 * touched, and is simply removed.
 *
 * Journal records are NUL-terminated:
 *   "wardfs-accept 1"
 *   "W <git mode> <perm> <new oid> <session mode> <session oid> <path>"
 *   "D 000000 0000 <zero oid> <session mode> <session oid> <path>"
 *   "end"
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

#define JOURNAL_MAGIC "wardfs-accept 1"
#define JOURNAL_MAX ((size_t)1 << 30)

struct replay {
	struct snapshot *snap;
	long die_after;		/* WARDFS_TEST_ACCEPT_DIE_AFTER, or -1 */
	long steps;
	int progress;
	size_t done, total;
	int live;		/* a daemon serves the upper */
	int sessfd;		/* O_PATH session directory (live), or -1 */
	char **created;		/* directories made in the project (live) */
	size_t ncreated;
};

int accept_lock(struct snapshot *snap, int *fd, char *err, size_t errsz)
{
	char *path = path_join2(snap->dir, SNAPSHOT_LOCK);

	*fd = -1;
	if (!path)
		return snapshot_fail(err, errsz, -1, "out of memory");
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0 || flock(*fd, LOCK_EX) < 0) {
		snapshot_fail_os(err, errsz, -1, "cannot lock '%s'", path);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* A test hook: die (as kill -9 would) after n replay steps. */
static void step(struct replay *r)
{
	r->steps++;
	if (r->die_after >= 0 && r->steps > r->die_after)
		_exit(137);
}

/* ------------------------------------------------------------------ */
/* Walking the project and the upper by components, never following a
 * symlink */

/* Note that the accept made directory path in the project (live only). */
static void note_created(struct replay *r, const char *path)
{
	char **grown;

	if (!r->live)
		return;
	grown = realloc(r->created, (r->ncreated + 1) * sizeof(*grown));
	if (!grown)
		return;		/* then it is no reason to keep entries */
	r->created = grown;
	r->created[r->ncreated] = strdup(path);
	if (r->created[r->ncreated])
		r->ncreated++;
}

/*
 * Open the directory holding path below rootfd; *name points at the last
 * component.  With create, missing directories are made (mode from the
 * upper's directory when there is one) and noted in create.  Returns the
 * fd, or -1 (errno).
 */
static int open_parent(struct snapshot *snap, int rootfd, const char *path,
		       const char **name, struct replay *create)
{
	char buf[PATH_MAX];
	char *comp, *slash;
	int fd, sub;
	size_t len = strlen(path);

	if (len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !slash)
		return fd;
	buf[slash - path] = '\0';
	for (comp = buf; comp; comp = slash) {
		slash = strchr(comp, '/');
		if (slash)
			*slash++ = '\0';
		sub = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		if (sub < 0 && errno == ENOENT && create) {
			struct stat usb;
			mode_t mode = 0777;

			/* buf up to comp is the directory's own path */
			if (fstatat(snap->upperfd, buf, &usb,
				    AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(usb.st_mode))
				mode = usb.st_mode & 07777;
			if (mkdirat(fd, comp, mode) == 0)
				note_created(create, buf);
			else if (errno != EEXIST) {
				close(fd);
				return -1;
			}
			sub = openat(fd, comp, O_PATH | O_DIRECTORY |
				     O_NOFOLLOW | O_CLOEXEC);
		}
		close(fd);
		if (sub < 0)
			return -1;
		fd = sub;
		if (slash)
			slash[-1] = '/';
	}
	return fd;
}

static int is_opaque_fd(int fd)
{
	struct stat sb;

	return fstatat(fd, SNAPSHOT_OPAQUE, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		snap_is_whiteout(&sb);
}

/*
 * Follow the directories of path (all of it with whole, else its parent)
 * in the upper.  Returns 1 when an opaque directory is met on the way.
 */
int upper_under_opaque(struct snapshot *snap, const char *path)
{
	char buf[PATH_MAX];
	char *comp, *slash;
	int fd, sub, opaque = 0;
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, path, len + 1);
	slash = strrchr(buf, '/');
	if (is_opaque_fd(snap->upperfd))
		return 1;
	if (!slash)
		return 0;
	*slash = '\0';
	fd = dup(snap->upperfd);
	for (comp = buf; comp && fd >= 0 && !opaque; comp = slash) {
		slash = strchr(comp, '/');
		if (slash)
			*slash++ = '\0';
		sub = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		close(fd);
		fd = sub;
		if (fd >= 0 && is_opaque_fd(fd))
			opaque = 1;
	}
	if (fd >= 0)
		close(fd);
	return opaque;
}

/* Does the merged view hold a directory at path (which the project has)? */
int upper_view_has_dir(struct snapshot *snap, const char *path)
{
	char buf[PATH_MAX];
	char *comp, *slash;
	int fd, sub, masked = is_opaque_fd(snap->upperfd), result = -1;
	size_t len = strlen(path);
	struct stat sb;

	if (len >= sizeof(buf))
		return 1;
	memcpy(buf, path, len + 1);
	fd = dup(snap->upperfd);
	for (comp = buf; comp && fd >= 0 && result < 0; comp = slash) {
		slash = strchr(comp, '/');
		if (slash)
			*slash++ = '\0';
		if (fstatat(fd, comp, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			result = !masked;	/* the lower shows, or not */
			break;
		}
		if (!S_ISDIR(sb.st_mode)) {
			result = 0;	/* a whiteout or a non-directory */
			break;
		}
		sub = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		close(fd);
		fd = sub;
		if (fd >= 0 && is_opaque_fd(fd))
			masked = 1;
	}
	if (fd >= 0)
		close(fd);
	return result < 0 ? 1 : result;
}

/* ------------------------------------------------------------------ */
/* Journal records */

static void tmp_name(char *buf, size_t size, size_t idx)
{
	snprintf(buf, size, ".wardfs-accept-%zu.tmp", idx);
}

static int format_op(FILE *f, const struct accept_op *op)
{
	char newhex[GIT_OID_HEXSZ + 1], uphex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(newhex, sizeof(newhex), &op->new.oid);
	git_oid_tostr(uphex, sizeof(uphex), &op->up.oid);
	if (!op->new.present)
		memset(newhex, '0', GIT_OID_HEXSZ);
	if (!op->up.present)
		memset(uphex, '0', GIT_OID_HEXSZ);
	return fprintf(f, "%c %06o %04o %s %06o %s %s%c",
		       op->new.present ? 'W' : 'D',
		       op->new.present ? (unsigned)op->new.mode : 0u,
		       (unsigned)op->perm, newhex,
		       op->up.present ? (unsigned)op->up.mode : 0u, uphex,
		       op->path, '\0') < 0 ? -1 : 0;
}

static int parse_op(const char *rec, struct accept_op *op)
{
	unsigned mode, perm, upmode;
	char kind, newhex[GIT_OID_HEXSZ + 1], uphex[GIT_OID_HEXSZ + 1];
	int off = 0;

	memset(op, 0, sizeof(*op));
	if (sscanf(rec, "%c %o %o %40s %o %40s %n", &kind, &mode, &perm,
		   newhex, &upmode, uphex, &off) != 6 || off <= 0 ||
	    !rec[off] || (kind != 'W' && kind != 'D'))
		return -1;
	if (git_oid_fromstr(&op->new.oid, newhex) < 0 ||
	    git_oid_fromstr(&op->up.oid, uphex) < 0)
		return -1;
	op->new.present = kind == 'W';
	op->new.mode = mode;
	op->perm = (mode_t)perm;
	op->up.present = upmode != 0;
	op->up.mode = upmode;
	op->path = strdup(rec + off);
	return op->path ? 0 : -1;
}

void accept_ops_free(struct accept_op *ops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ops[i].path);
	free(ops);
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), error;

	if (fd < 0)
		return -1;
	error = fsync(fd);
	close(fd);
	return error;
}

static int journal_write(struct snapshot *snap, const struct accept_op *ops,
			 size_t n, char *err, size_t errsz)
{
	char *path = path_join2(snap->dir, SNAPSHOT_JOURNAL);
	char *tmp = path_join2(snap->dir, SNAPSHOT_JOURNAL ".tmp");
	FILE *f = NULL;
	size_t i;
	int error = -1;

	if (!path || !tmp) {
		error = snapshot_fail(err, errsz, -1, "out of memory");
		goto out;
	}
	f = fopen(tmp, "we");
	if (!f)
		goto fail;
	if (fprintf(f, "%s%c", JOURNAL_MAGIC, '\0') < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (format_op(f, &ops[i]) < 0)
			goto fail;
	if (fprintf(f, "end%c", '\0') < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) < 0)
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) < 0 || fsync_dir(snap->dir) < 0)
		goto fail;
	error = 0;
	goto out;
fail:
	error = snapshot_fail_os(err, errsz, -1, "cannot write the journal "
				 "'%s'", path ? path : SNAPSHOT_JOURNAL);
	if (f)
		fclose(f);
	if (tmp)
		unlink(tmp);
out:
	free(path);
	free(tmp);
	return error;
}

/* Read a journal: 1 with *ops filled, 0 when none (or torn), -1. */
static int journal_read(struct snapshot *snap, struct accept_op **out,
			size_t *count, char *err, size_t errsz)
{
	char *path = path_join2(snap->dir, SNAPSHOT_JOURNAL);
	char *data = NULL, *p, *end;
	struct accept_op *ops = NULL;
	size_t n = 0, alloc = 0, len = 0;
	int fd = -1, error = -1, complete = 0;
	struct stat sb;
	ssize_t got;

	*out = NULL;
	*count = 0;
	if (!path)
		return snapshot_fail(err, errsz, -1, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		error = 0;
		goto out;
	}
	if (fd < 0 || fstat(fd, &sb) < 0 || (size_t)sb.st_size > JOURNAL_MAX)
		goto fail;
	data = malloc((size_t)sb.st_size + 1);
	if (!data)
		goto fail;
	while (len < (size_t)sb.st_size) {
		got = read(fd, data + len, (size_t)sb.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	data[len] = '\0';
	p = data;
	if (len < sizeof(JOURNAL_MAGIC) || strcmp(p, JOURNAL_MAGIC) != 0) {
		error = 0;	/* torn before it was complete */
		goto out;
	}
	for (p += sizeof(JOURNAL_MAGIC); p < data + len; p = end + 1) {
		end = memchr(p, '\0', (size_t)(data + len - p));
		if (!end)
			break;
		if (strcmp(p, "end") == 0) {
			complete = 1;
			break;
		}
		if (n == alloc) {
			struct accept_op *grown;

			alloc = alloc ? alloc * 2 : 64;
			grown = realloc(ops, alloc * sizeof(*ops));
			if (!grown)
				goto fail;
			ops = grown;
		}
		if (parse_op(p, &ops[n]) < 0) {
			error = snapshot_fail(err, errsz, -1, "damaged journal "
					      "'%s'", path);
			goto out;
		}
		n++;
	}
	if (!complete) {
		error = 0;
		goto out;
	}
	*out = ops;
	*count = n;
	ops = NULL;
	n = 0;
	error = 1;
	goto out;
fail:
	error = snapshot_fail_os(err, errsz, -1, "cannot read the journal "
				 "'%s'", path);
out:
	accept_ops_free(ops, n);
	free(data);
	free(path);
	if (fd >= 0)
		close(fd);
	return error;
}

static int journal_remove(struct snapshot *snap)
{
	char *path = path_join2(snap->dir, SNAPSHOT_JOURNAL);
	char *tmp = path_join2(snap->dir, SNAPSHOT_JOURNAL ".tmp");
	int error = 0, removed = 0;

	if (!path || !tmp) {
		free(path);
		free(tmp);
		return -1;
	}
	unlink(tmp);
	if (unlink(path) == 0)
		removed = 1;
	else if (errno != ENOENT)
		error = -1;
	free(path);
	free(tmp);
	if (error == 0 && removed)
		error = fsync_dir(snap->dir);
	return error;
}

/* ------------------------------------------------------------------ */
/* Replay: the project */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make the project's path hold op's blob. */
static int apply_write(struct replay *r, const struct accept_op *op,
		       size_t idx, char *err, size_t errsz)
{
	struct snapshot *snap = r->snap;
	git_blob *blob = NULL;
	const char *name;
	char tmp[64];
	struct side now;
	struct stat sb;
	int dirfd = -1, fd = -1, error = -1;
	mode_t perm = op->perm & 0777;

	if (tree_read_side(snap, snap->projectfd, op->path, &now, NULL) == 0 &&
	    side_equal(&now, &op->new)) {
		/* already done; a temporary may be left from a crash */
		dirfd = open_parent(snap, snap->projectfd, op->path, &name,
				    NULL);
		if (dirfd >= 0) {
			tmp_name(tmp, sizeof(tmp), idx);
			unlinkat(dirfd, tmp, 0);
			close(dirfd);
		}
		return 0;
	}
	if (git_blob_lookup(&blob, snap->store->repo, &op->new.oid) < 0)
		return snapshot_fail_git(err, errsz, -1, "cannot accept '%s': "
					 "its content is not in the store",
					 op->path);
	dirfd = open_parent(snap, snap->projectfd, op->path, &name, r);
	if (dirfd < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot accept '%s'",
					 op->path);
		goto out;
	}
	tmp_name(tmp, sizeof(tmp), idx);
	unlinkat(dirfd, tmp, 0);
	if (op->new.mode == GIT_FILEMODE_LINK) {
		char target[PATH_MAX];
		size_t len = (size_t)git_blob_rawsize(blob);

		if (len >= sizeof(target)) {
			error = snapshot_fail(err, errsz, -1, "cannot accept "
					      "'%s': symlink too long",
					      op->path);
			goto out;
		}
		memcpy(target, git_blob_rawcontent(blob), len);
		target[len] = '\0';
		if (symlinkat(target, dirfd, tmp) < 0)
			goto fail;
	} else {
		if (!perm)
			perm = op->new.mode == GIT_FILEMODE_BLOB_EXECUTABLE ?
				0755 : 0644;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail;
		if (write_all(fd, git_blob_rawcontent(blob),
			      (size_t)git_blob_rawsize(blob)) < 0 ||
		    fchmod(fd, perm) < 0 || fsync(fd) < 0)
			goto fail;
		close(fd);
		fd = -1;
	}
	step(r);
	/* a directory the session replaced by this file: gone by now, or
	 * holding hidden files (then the rename fails) */
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode))
		unlinkat(dirfd, name, AT_REMOVEDIR);
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	step(r);
	error = 0;
	goto out;
fail:
	error = snapshot_fail_os(err, errsz, -1, "cannot accept '%s'",
				 op->path);
	unlinkat(dirfd, tmp, 0);
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0) {
		if (error == 0) {
			int sync = openat(dirfd, ".", O_RDONLY | O_DIRECTORY |
					  O_CLOEXEC);

			if (sync >= 0) {
				fsync(sync);
				close(sync);
			}
		}
		close(dirfd);
	}
	git_blob_free(blob);
	return error;
}

/* Remove the emptied directories above path that the view no longer has
 * (never a read-only one, never one still holding hidden files). */
static void prune_dirs(struct snapshot *snap, const char *path)
{
	char buf[PATH_MAX];
	char *slash;
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return;
	memcpy(buf, path, len + 1);
	while ((slash = strrchr(buf, '/'))) {
		*slash = '\0';
		if (upper_view_has_dir(snap, buf))
			return;
		if (snap->rules && rules_decide(snap->rules, buf, 1, NULL) !=
		    RULE_ALLOW)
			return;
		if (unlinkat(snap->projectfd, buf, AT_REMOVEDIR) < 0)
			return;
	}
}

static int apply_delete(struct replay *r, const struct accept_op *op,
			char *err, size_t errsz)
{
	struct snapshot *snap = r->snap;
	const char *name;
	struct stat sb;
	int dirfd;

	dirfd = open_parent(snap, snap->projectfd, op->path, &name, NULL);
	if (dirfd < 0)
		return 0;	/* its directory is gone: so is the file */
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(sb.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
			close(dirfd);
			return snapshot_fail_os(err, errsz, -1, "cannot "
						"delete '%s'", op->path);
		}
		step(r);
	}
	close(dirfd);
	prune_dirs(snap, op->path);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Replay: the session forgets accepted paths */

/*
 * While the session is live, its daemon may be using an upper entry the
 * accept is about to remove, and the agent may replace it at any moment.
 * So an entry is only removed when it is still the one checked: it is
 * renamed aside into the session directory, compared there (same inode),
 * and unlinked, or put back where it was.  A regular file is first opened
 * and write-leased: the lease is refused while anyone else (the daemon,
 * for an agent's open file) holds a descriptor of it, and an open that
 * comes while it is held waits, and shows as the lease's break; the file
 * then stays.  A lease break is signalled with SIGURG, which is ignored
 * unless handled, instead of the deadly SIGIO.
 *
 * Entries beneath a directory the accept had to make in the project stay
 * too: the daemon's node of that directory (the agent's working
 * directory, say) knows it only in the upper, and would no longer show
 * them.
 */
#define ASIDE_NAME "accept.aside"

/* Put the entry moved aside back at dirfd/name; returns 1 (it stays). */
static int put_back(struct replay *r, int dirfd, const char *name)
{
	if (renameat2(r->sessfd, ASIDE_NAME, dirfd, name,
		      RENAME_NOREPLACE) < 0)
		unlinkat(r->sessfd, ASIDE_NAME, 0);	/* a newer entry took
							   the name */
	return 1;
}

/*
 * Remove dirfd/name when it is still the entry sb describes (and, with
 * leasefd, nobody opened it meanwhile).  Returns 0 when it went, 1 when
 * it stays.
 */
static int drop_aside(struct replay *r, int dirfd, const char *name,
		      const struct stat *sb, int leasefd)
{
	struct stat moved;

	unlinkat(r->sessfd, ASIDE_NAME, 0);	/* left by a crash */
	if (renameat(dirfd, name, r->sessfd, ASIDE_NAME) < 0)
		return errno == ENOENT ? 0 : 1;
	if (fstatat(r->sessfd, ASIDE_NAME, &moved, AT_SYMLINK_NOFOLLOW) < 0 ||
	    moved.st_dev != sb->st_dev || moved.st_ino != sb->st_ino ||
	    (leasefd >= 0 && fcntl(leasefd, F_GETLEASE) != F_WRLCK))
		return put_back(r, dirfd, name);
	unlinkat(r->sessfd, ASIDE_NAME, 0);
	return 0;
}

/* The blob id of the regular file fd (stat sb). */
static int hash_fd(int fd, const struct stat *sb, git_oid *out)
{
	size_t len = (size_t)sb->st_size;
	void *map;
	int error;

	if ((uint64_t)sb->st_size > SNAPSHOT_MAX_FILE)
		return -1;
	if (len == 0)
		return git_odb_hash(out, "", 0, GIT_OBJECT_BLOB);
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	error = git_odb_hash(out, map, len, GIT_OBJECT_BLOB);
	munmap(map, len);
	return error;
}

/* Live: remove the upper entry dirfd/name when it still holds want and
 * nobody uses it.  Returns 1 when it stays. */
static int forget_live(struct replay *r, int dirfd, const char *name,
		       const struct side *want)
{
	char target[PATH_MAX];
	struct stat sb;
	git_oid oid;
	ssize_t len;
	int fd = -1, kept = 1;

	if (want->mode == GIT_FILEMODE_LINK) {
		/* a symlink never changes: its inode is enough */
		if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : 1;
		len = readlinkat(dirfd, name, target, sizeof(target));
		if (!S_ISLNK(sb.st_mode) || len < 0 ||
		    git_odb_hash(&oid, target, (size_t)len,
				 GIT_OBJECT_BLOB) < 0 ||
		    !git_oid_equal(&oid, &want->oid))
			return 1;
		return drop_aside(r, dirfd, name, &sb, -1);
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : 1;
	if (fcntl(fd, F_SETSIG, SIGURG) < 0 ||
	    fcntl(fd, F_SETLEASE, F_WRLCK) < 0)
		goto out;	/* open elsewhere, or no leases here */
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    store_git_mode(sb.st_mode) != want->mode ||
	    hash_fd(fd, &sb, &oid) < 0 || !git_oid_equal(&oid, &want->oid))
		goto out;	/* changed again meanwhile */
	kept = drop_aside(r, dirfd, name, &sb, fd);
out:
	close(fd);		/* and the lease with it */
	return kept;
}

/* Returns 1 when the upper entry stays (its base is then the session's
 * accepted content), 0 when it went. */
static int forget_write(struct replay *r, const struct accept_op *op)
{
	struct snapshot *snap = r->snap;
	struct side up;
	const char *name;
	size_t i;
	int dirfd, kept = 0;

	if (upper_under_opaque(snap, op->path))
		return 1;	/* the upper entry masks the lower: keep */
	for (i = 0; r->live && i < r->ncreated; i++)
		if (path_under(op->path, r->created[i]))
			return 1;	/* see forget_live() */
	if (!r->live &&
	    (tree_read_side(snap, snap->upperfd, op->path, &up, NULL) < 0 ||
	     !side_equal(&up, &op->up)))
		return 1;	/* changed again meanwhile */
	dirfd = open_parent(snap, snap->upperfd, op->path, &name, NULL);
	if (dirfd < 0)
		return 0;
	if (r->live)
		kept = forget_live(r, dirfd, name, &op->up);
	else
		unlinkat(dirfd, name, 0);
	close(dirfd);
	return kept;
}

/* Remove the whiteout covering path when the project no longer has the
 * entry it hid. */
static void forget_delete(struct replay *r, const char *path)
{
	struct snapshot *snap = r->snap;
	char buf[PATH_MAX];
	char *comp, *slash;
	int fd;
	size_t len = strlen(path);
	struct stat sb, lsb;

	if (len >= sizeof(buf) || is_opaque_fd(snap->upperfd))
		return;
	memcpy(buf, path, len + 1);
	fd = dup(snap->upperfd);
	for (comp = buf; comp && fd >= 0; comp = slash) {
		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (fstatat(fd, comp, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			break;
		if (snap_is_whiteout(&sb)) {
			if (fstatat(snap->projectfd, buf, &lsb,
				    AT_SYMLINK_NOFOLLOW) == 0 ||
			    errno != ENOENT)
				break;
			if (r->live)
				drop_aside(r, fd, comp, &sb, -1);
			else
				unlinkat(fd, comp, 0);
			break;
		}
		if (!S_ISDIR(sb.st_mode))
			break;
		{
			int sub = openat(fd, comp, O_PATH | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC);

			close(fd);
			fd = sub;
		}
		if (fd >= 0 && is_opaque_fd(fd))
			break;
		if (slash)
			*slash++ = '/';
	}
	if (fd >= 0)
		close(fd);
}

static int forget_all(struct replay *r, const struct accept_op *ops,
		      size_t n, char *err, size_t errsz)
{
	struct snapshot *snap = r->snap;
	size_t i;
	int kept, rc;

	if (r->live) {
		r->sessfd = open(snap->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (r->sessfd < 0)
			return snapshot_fail_os(err, errsz, -1, "cannot open "
						"'%s'", snap->dir);
	}
	for (i = 0; i < n; i++) {
		kept = 0;
		if (ops[i].new.present)
			kept = forget_write(r, &ops[i]);
		else
			forget_delete(r, ops[i].path);
		/* A path that stays in the session is based on what was
		 * accepted of it: the diff shows only what it adds since. */
		if (kept)
			rc = store_bases_record(snap, ops[i].path, &ops[i].up);
		else
			rc = store_bases_forget(snap, ops[i].path);
		if (rc < 0)
			return snapshot_fail_os(err, errsz, -1, "cannot update "
						"the base log");
	}
	return 0;
}

static int op_cmp_desc(const void *a, const void *b)
{
	return strcmp(((const struct accept_op *)b)->path,
		      ((const struct accept_op *)a)->path);
}

static void progress(struct replay *r)
{
	r->done++;
	if (r->progress && (r->done % 50 == 0 || r->done == r->total))
		fprintf(stderr, "\raccepting: %zu/%zu paths", r->done,
			r->total);
	if (r->progress && r->done == r->total)
		fputc('\n', stderr);
}

/* Step 3: make the project match ops. */
static int replay_project(struct replay *r, struct accept_op *ops, size_t n,
			  char *err, size_t errsz)
{
	const char *die = getenv("WARDFS_TEST_ACCEPT_DIE_AFTER");
	size_t i;
	int error = 0;

	r->die_after = die && *die ? strtol(die, NULL, 10) : -1;
	r->total = n;
	/* deletions deepest first, then writes in path order; each op keeps
	 * its journal index (for its temporary's name) */
	for (i = 0; i < n; i++)
		ops[i].idx = i;
	qsort(ops, n, sizeof(*ops), op_cmp_desc);
	for (i = 0; i < n && error == 0; i++) {
		if (ops[i].new.present)
			continue;
		error = apply_delete(r, &ops[i], err, errsz);
		progress(r);
	}
	for (i = n; i > 0 && error == 0; i--) {
		if (!ops[i - 1].new.present)
			continue;
		error = apply_write(r, &ops[i - 1], ops[i - 1].idx, err,
				    errsz);
		progress(r);
	}
	return error;
}

static void replay_init(struct replay *r, struct snapshot *snap)
{
	memset(r, 0, sizeof(*r));
	r->snap = snap;
	r->live = snap->live;
	r->sessfd = -1;
}

static void replay_release(struct replay *r)
{
	size_t i;

	for (i = 0; i < r->ncreated; i++)
		free(r->created[i]);
	free(r->created);
	if (r->sessfd >= 0)
		close(r->sessfd);
}

/* Steps 3 and 4: make the project match ops, then drop them from the
 * session, then remove the journal. */
int accept_replay(struct snapshot *snap, struct accept_op *ops, size_t n,
		  int show_progress, char *err, size_t errsz)
{
	struct replay r;
	int error;

	replay_init(&r, snap);
	r.progress = show_progress && n >= 100;
	error = replay_project(&r, ops, n, err, errsz);
	if (error == 0)
		error = forget_all(&r, ops, n, err, errsz);
	if (error == 0 && journal_remove(snap) < 0)
		error = snapshot_fail_os(err, errsz, -1, "cannot remove the "
					 "journal");
	replay_release(&r);
	return error;
}

/* Recovery completes the project; while live the session's layer is left
 * alone (nobody would tell the daemon), so its paths stay in the session
 * until the next accept, which finds nothing to write. */
int accept_recover(struct snapshot *snap, char *err, size_t errsz)
{
	struct accept_op *ops = NULL;
	struct replay r;
	size_t n = 0;
	int lockfd = -1, error;

	error = accept_lock(snap, &lockfd, err, errsz);
	if (error < 0)
		return error;
	error = journal_read(snap, &ops, &n, err, errsz);
	if (error == 0) {
		/* none, or torn before the project was touched */
		if (journal_remove(snap) < 0)
			error = snapshot_fail_os(err, errsz, -1, "cannot "
						 "remove the journal");
		goto out;
	}
	if (error < 0)
		goto out;
	snapshot_notice(snap, "completing an interrupted accept of %zu "
			"path%s", n, n == 1 ? "" : "s");
	error = store_bases_load(snap, err, errsz);
	if (error < 0)
		goto out;
	replay_init(&r, snap);
	error = replay_project(&r, ops, n, err, errsz);
	if (error == 0 && !snap->live)
		error = forget_all(&r, ops, n, err, errsz);
	if (error == 0 && journal_remove(snap) < 0)
		error = snapshot_fail_os(err, errsz, -1, "cannot remove the "
					 "journal");
	replay_release(&r);
out:
	accept_ops_free(ops, n);
	close(lockfd);
	return error;
}

int accept_journal(struct snapshot *snap, const struct accept_op *ops,
		   size_t n, char *err, size_t errsz)
{
	return journal_write(snap, ops, n, err, errsz);
}
