/*
 * store.c - the session's private bare repository, and the bases in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

/* zlib level of the objects the store writes: captures must be cheap
 * (deflate was most of the time of a large file's copy-up). */
#define STORE_COMPRESSION 1
/* Largest base log read (a limit on outside input). */
#define STORE_MAX_BASES ((size_t)256 << 20)

static int vfail(char *err, size_t errsz, const char *suffix,
		 const char *fmt, va_list ap)
{
	int n;

	if (!err || !errsz)
		return 0;
	n = vsnprintf(err, errsz, fmt, ap);
	if (suffix && n >= 0 && (size_t)n < errsz)
		snprintf(err + n, errsz - (size_t)n, ": %s", suffix);
	return 0;
}

int snapshot_fail(char *err, size_t errsz, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, errsz, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int snapshot_fail_os(char *err, size_t errsz, int code, const char *fmt, ...)
{
	const char *why = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vfail(err, errsz, why, fmt, ap);
	va_end(ap);
	return code;
}

int snapshot_fail_git(char *err, size_t errsz, int code, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	va_list ap;

	va_start(ap, fmt);
	vfail(err, errsz, e && e->message ? e->message : "unknown libgit2 error",
	      fmt, ap);
	va_end(ap);
	return code;
}

void snapshot_notice(struct snapshot *snap, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!snap->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snap->notice(msg, snap->payload);
}

char *path_join2(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = malloc(a + b + 2);

	if (!s)
		return NULL;
	memcpy(s, dir, a);
	if (a)
		s[a++] = '/';
	memcpy(s + a, name, b + 1);
	return s;
}

int path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0)
		return 1;
	return strncmp(path, prefix, n) == 0 &&
		(path[n] == '\0' || path[n] == '/');
}

uint32_t store_git_mode(mode_t mode)
{
	if (S_ISLNK(mode))
		return GIT_FILEMODE_LINK;
	return (mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE :
		GIT_FILEMODE_BLOB;
}

int side_equal(const struct side *a, const struct side *b)
{
	if (a->present != b->present)
		return 0;
	if (!a->present)
		return 1;
	return a->mode == b->mode && git_oid_equal(&a->oid, &b->oid);
}

/* ------------------------------------------------------------------ */
/* Opening the store */

static int store_setup(struct snapshot_store *st, char *err, size_t errsz)
{
	git_odb_backend *loose = NULL;
	char *objects = NULL, *bases = NULL;
	int error = -1;

	if (git_repository_open_bare(&st->repo, st->dir) < 0) {
		git_repository_init_options o;

		git_repository_init_options_init(&o,
			GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		o.mode = GIT_REPOSITORY_INIT_SHARED_UMASK;
		if (git_repository_init_ext(&st->repo, st->dir, &o) < 0) {
			error = snapshot_fail_git(err, errsz, -1,
						  "cannot create the store "
						  "'%s'", st->dir);
			goto out;
		}
	}
	if (git_repository_odb(&st->odb, st->repo) < 0) {
		error = snapshot_fail_git(err, errsz, -1, "cannot open the "
					  "store '%s'", st->dir);
		goto out;
	}
	/* Writes go to the highest priority backend: a fast loose one. */
	objects = path_join2(st->dir, "objects");
	bases = path_join2(st->dir, SNAPSHOT_BASES);
	if (!objects || !bases) {
		errno = ENOMEM;
		error = snapshot_fail_os(err, errsz, -1, "cannot open the "
					 "store '%s'", st->dir);
		goto out;
	}
	if (git_odb_backend_loose(&loose, objects, STORE_COMPRESSION, 0, 0,
				  0) == 0) {
		if (git_odb_add_backend(st->odb, loose, 10) < 0)
			loose->free(loose);
	}
	st->bases_fd = open(bases, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			    0600);
	if (st->bases_fd < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot open '%s'",
					 bases);
		goto out;
	}
	error = 0;
out:
	free(objects);
	free(bases);
	return error;
}

int snapshot_store_open(struct snapshot_store **out, const char *dir,
			char *err, size_t errsz)
{
	struct snapshot_store *st;
	int error;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return snapshot_fail(err, errsz, -1, "out of memory");
	st->bases_fd = -1;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->qlock, NULL);
	pthread_cond_init(&st->qcond, NULL);
	st->tail = &st->head;
	git_libgit2_init();
	st->dir = path_join2(dir, SNAPSHOT_STORE_DIR);
	if (!st->dir) {
		snapshot_store_free(st);
		return snapshot_fail(err, errsz, -1, "out of memory");
	}
	error = store_setup(st, err, errsz);
	if (error < 0) {
		snapshot_store_free(st);
		return error;
	}
	*out = st;
	return 0;
}

void snapshot_store_free(struct snapshot_store *st)
{
	if (!st)
		return;
	/* Every queued base is recorded before the store closes. */
	pthread_mutex_lock(&st->qlock);
	st->stopping = 1;
	pthread_cond_signal(&st->qcond);
	pthread_mutex_unlock(&st->qlock);
	if (st->worker_started)
		pthread_join(st->worker, NULL);
	pthread_cond_destroy(&st->qcond);
	pthread_mutex_destroy(&st->qlock);
	if (st->bases_fd >= 0)
		close(st->bases_fd);
	git_index_free(st->index);
	free(st->index_path);
	git_odb_free(st->odb);
	git_repository_free(st->repo);
	pthread_mutex_destroy(&st->lock);
	free(st->dir);
	free(st);
	git_libgit2_shutdown();
}

/* ------------------------------------------------------------------ */
/* The project's repository */

/* Does the alternates file of the store already name objects? */
static int has_alternate(const char *file, const char *objects)
{
	char line[PATH_MAX + 2];
	size_t len = strlen(objects);
	int found = 0;
	FILE *f = fopen(file, "re");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, objects, len) == 0 &&
			(line[len] == '\n' || line[len] == '\0');
	fclose(f);
	return found;
}

int snapshot_store_use_project(struct snapshot_store *st, const char *project,
			       char *err, size_t errsz)
{
	char objects[PATH_MAX], index[PATH_MAX], file[PATH_MAX];
	struct stat sb;
	FILE *f;
	int n;

	n = snprintf(objects, sizeof(objects), "%s/.git/objects", project);
	if (n < 0 || (size_t)n >= sizeof(objects) ||
	    strchr(objects, '\n'))
		return 0;
	snprintf(index, sizeof(index), "%s/.git/index", project);
	if (stat(objects, &sb) < 0 || !S_ISDIR(sb.st_mode) ||
	    stat(index, &sb) < 0 || !S_ISREG(sb.st_mode))
		return 0;	/* no repository (or a worktree's .git file) */
	n = snprintf(file, sizeof(file), "%s/objects/info/alternates",
		     st->dir);
	if (n < 0 || (size_t)n >= sizeof(file))
		return 0;
	if (!has_alternate(file, objects)) {
		f = fopen(file, "ae");
		if (!f || fprintf(f, "%s\n", objects) < 0) {
			int e = errno;

			if (f)
				fclose(f);
			errno = e;
			return snapshot_fail_os(err, errsz, -1, "cannot write "
						"'%s'", file);
		}
		if (fclose(f) != 0)
			return snapshot_fail_os(err, errsz, -1, "cannot write "
						"'%s'", file);
		if (git_odb_add_disk_alternate(st->odb, objects) < 0)
			return snapshot_fail_git(err, errsz, -1, "cannot read "
						 "'%s'", objects);
	}
	st->index_path = strdup(index);
	return 0;
}

static int same_time(const git_index_time *t, const struct timespec *ts)
{
	return t->seconds == (int32_t)ts->tv_sec &&
		t->nanoseconds == (uint32_t)ts->tv_nsec;
}

static int time_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
		(a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * The base of path (stat sb) from the project's index, when the index
 * shows the file clean: 1 with *out filled, else 0.  Called with st->lock.
 */
static int index_side(struct snapshot_store *st, const char *path,
		      const struct stat *sb, struct side *out)
{
	const git_index_entry *e;
	struct stat ist;
	int link = S_ISLNK(sb->st_mode);

	/* git never tracks its own directory: no need to read the index. */
	if (!st->index_path || strncmp(path, ".git/", 5) == 0 ||
	    stat(st->index_path, &ist) < 0)
		return 0;
	if (!st->index) {
		if (git_index_open(&st->index, st->index_path) < 0) {
			/* An index libgit2 cannot read: stop trying. */
			free(st->index_path);
			st->index_path = NULL;
			return 0;
		}
	} else if (git_index_read(st->index, 0) < 0) {
		return 0;
	}
	e = git_index_get_bypath(st->index, path, 0);
	if (!e || (e->flags_extended & (GIT_INDEX_ENTRY_INTENT_TO_ADD |
					GIT_INDEX_ENTRY_SKIP_WORKTREE)))
		return 0;
	if (link ? e->mode != GIT_FILEMODE_LINK :
	    e->mode != GIT_FILEMODE_BLOB &&
	    e->mode != GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0;
	/* git's own test: same stat data, and written after the file. */
	if (!same_time(&e->mtime, &sb->st_mtim) ||
	    !same_time(&e->ctime, &sb->st_ctim) ||
	    e->file_size != (uint32_t)sb->st_size ||
	    e->ino != (uint32_t)sb->st_ino ||
	    !time_after(&ist.st_mtim, &sb->st_mtim))
		return 0;
	if (!git_odb_exists(st->odb, &e->id))
		return 0;
	memset(out, 0, sizeof(*out));
	out->present = 1;
	out->mode = store_git_mode(sb->st_mode);
	git_oid_cpy(&out->oid, &e->id);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Writing blobs */

int store_write_buf(struct snapshot_store *st, const void *buf, size_t len,
		    git_oid *out)
{
	return git_odb_write(out, st->odb, buf, len, GIT_OBJECT_BLOB);
}

static int write_fd(struct snapshot_store *st, int fd, uint64_t size,
		    git_oid *out)
{
	git_odb_stream *stream = NULL;
	char buf[65536];
	uint64_t left = size;
	ssize_t n;
	int error = -1;

	if (git_odb_open_wstream(&stream, st->odb, size, GIT_OBJECT_BLOB) < 0)
		return -1;
	while (left > 0) {
		n = read(fd, buf, left < sizeof(buf) ? (size_t)left :
			 sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				git_error_set_str(GIT_ERROR_OS, "file shrank "
						  "while read");
			else
				git_error_set_str(GIT_ERROR_OS,
						  strerror(errno));
			goto out;
		}
		if (git_odb_stream_write(stream, buf, (size_t)n) < 0)
			goto out;
		left -= (uint64_t)n;
	}
	error = git_odb_stream_finalize_write(out, stream);
out:
	git_odb_stream_free(stream);
	return error;
}

/*
 * Write the regular file or symlink dirfd/name (stat sb) as a blob.
 * Returns 0, 1 when the entry is of another type (nothing written), or -1
 * with the libgit2 error set.
 */
int store_write_entry(struct snapshot_store *st, int dirfd, const char *name,
		      const struct stat *sb, struct side *out)
{
	char target[PATH_MAX];
	ssize_t len;
	int fd, error;

	memset(out, 0, sizeof(*out));
	if (S_ISLNK(sb->st_mode)) {
		len = readlinkat(dirfd, name, target, sizeof(target));
		if (len < 0) {
			git_error_set_str(GIT_ERROR_OS, strerror(errno));
			return -1;
		}
		error = store_write_buf(st, target, (size_t)len, &out->oid);
	} else if (S_ISREG(sb->st_mode)) {
		if ((uint64_t)sb->st_size > SNAPSHOT_MAX_FILE) {
			git_error_set_str(GIT_ERROR_INVALID, "file too large");
			return -1;
		}
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			git_error_set_str(GIT_ERROR_OS, strerror(errno));
			return -1;
		}
		error = write_fd(st, fd, (uint64_t)sb->st_size, &out->oid);
		close(fd);
	} else {
		return 1;
	}
	if (error < 0)
		return -1;
	out->present = 1;
	out->mode = store_git_mode(sb->st_mode);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The base log */

static int append_record(int fd, const struct side *side, const char *path)
{
	char hex[GIT_OID_HEXSZ + 1];
	char *rec;
	size_t len = strlen(path) + GIT_OID_HEXSZ + 16;
	int n, error = 0;

	rec = malloc(len);
	if (!rec) {
		errno = ENOMEM;
		return -1;
	}
	if (side->present)
		git_oid_tostr(hex, sizeof(hex), &side->oid);
	else
		memset(hex, '0', GIT_OID_HEXSZ);
	hex[GIT_OID_HEXSZ] = '\0';
	n = snprintf(rec, len, "%s %06o %s", hex,
		     side->present ? (unsigned)side->mode : 0u, path);
	/* One write(2) of the record and its NUL: appends never interleave. */
	if (n < 0 || write(fd, rec, (size_t)n + 1) != n + 1)
		error = -1;
	free(rec);
	return error;
}

/* Files at least this large are hashed by the worker. */
#define STORE_BACKGROUND_MIN ((off_t)256 << 10)

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
		a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
		a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void pending_free(struct pending_base *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->path);
	free(p);
}

/*
 * Hash a queued file.  It must not have changed since its capture (the
 * project edited in place meanwhile): then its base is unknown and is
 * recorded as absent, so that an accept merges or reports a conflict
 * rather than overwrite the project's edit.
 */
static void pending_hash(struct snapshot_store *st, struct pending_base *p)
{
	struct stat before, after;

	memset(&p->side, 0, sizeof(p->side));
	if (fstat(p->fd, &before) == 0 && same_file(&before, &p->sb) &&
	    write_fd(st, p->fd, (uint64_t)p->sb.st_size, &p->side.oid) == 0 &&
	    fstat(p->fd, &after) == 0 && same_file(&after, &p->sb)) {
		p->side.present = 1;
		p->side.mode = store_git_mode(p->sb.st_mode);
		return;
	}
	fprintf(stderr, "wardfs: '%s' changed in the project while its base "
		"was recorded; an accept will treat it as a conflict\n",
		p->path);
}

static void *worker_main(void *arg)
{
	struct snapshot_store *st = arg;
	struct pending_base *p;

	pthread_mutex_lock(&st->qlock);
	for (;;) {
		while (!st->head && !st->stopping)
			pthread_cond_wait(&st->qcond, &st->qlock);
		p = st->head;
		if (!p)
			break;	/* stopping, and nothing is left */
		st->head = p->next;
		if (!st->head)
			st->tail = &st->head;
		st->busy = 1;
		pthread_mutex_unlock(&st->qlock);
		if (p->fd >= 0)
			pending_hash(st, p);
		pthread_mutex_lock(&st->qlock);
		if (append_record(st->bases_fd, &p->side, p->path) < 0)
			fprintf(stderr, "wardfs: cannot record the base of "
				"'%s': %s\n", p->path, strerror(errno));
		st->busy = 0;
		pending_free(p);
	}
	pthread_mutex_unlock(&st->qlock);
	return NULL;
}

/* Append a record, or queue it behind the worker's (qlock held). */
static int record_or_queue(struct snapshot_store *st, struct pending_base *p,
			   const char *path, const struct side *side)
{
	if (!p && !st->head && !st->busy)
		return append_record(st->bases_fd, side, path);
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p || !(p->path = strdup(path))) {
			free(p);
			errno = ENOMEM;
			return -1;
		}
		p->fd = -1;
		p->side = *side;
	}
	if (!st->worker_started) {
		if (pthread_create(&st->worker, NULL, worker_main, st) != 0) {
			pending_free(p);
			errno = EAGAIN;
			return -1;
		}
		st->worker_started = 1;
	}
	*st->tail = p;
	st->tail = &p->next;
	pthread_cond_signal(&st->qcond);
	return 0;
}

/* Queue a large regular file for the worker: 1 when queued. */
static int queue_large(struct snapshot_store *st, int dirfd, const char *name,
		       const char *path, const struct stat *sb)
{
	struct pending_base *p;
	int error;

	if (!S_ISREG(sb->st_mode) || sb->st_size < STORE_BACKGROUND_MIN ||
	    (uint64_t)sb->st_size > SNAPSHOT_MAX_FILE)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return 0;
	p->path = strdup(path);
	p->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (!p->path || p->fd < 0 || fstat(p->fd, &p->sb) < 0 ||
	    !S_ISREG(p->sb.st_mode)) {
		pending_free(p);
		return 0;
	}
	pthread_mutex_lock(&st->qlock);
	error = record_or_queue(st, p, path, NULL);
	pthread_mutex_unlock(&st->qlock);
	return error == 0;
}

int snapshot_capture_base(const char *path, int dirfd, const char *name,
			  void *payload)
{
	struct snapshot_store *st = payload;
	struct side side;
	struct stat sb;
	int error, known;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))
		return 0;
	pthread_mutex_lock(&st->lock);
	known = index_side(st, path, &sb, &side);
	pthread_mutex_unlock(&st->lock);
	if (!known && queue_large(st, dirfd, name, path, &sb))
		return 0;
	if (!known) {
		pthread_mutex_lock(&st->lock);
		error = store_write_entry(st, dirfd, name, &sb, &side);
		pthread_mutex_unlock(&st->lock);
		if (error != 0) {
			errno = EIO;
			return -1;
		}
	}
	pthread_mutex_lock(&st->qlock);
	error = record_or_queue(st, NULL, path, &side);
	pthread_mutex_unlock(&st->qlock);
	return error < 0 ? -1 : 0;
}

static int base_cmp(const void *a, const void *b)
{
	const struct base_rec *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int parse_record(const char *rec, struct base_rec *out)
{
	char *end;
	unsigned long mode;

	if (strlen(rec) < GIT_OID_HEXSZ + 9 || rec[GIT_OID_HEXSZ] != ' ')
		return -1;
	if (git_oid_fromstrn(&out->side.oid, rec, GIT_OID_HEXSZ) < 0)
		return -1;
	mode = strtoul(rec + GIT_OID_HEXSZ + 1, &end, 8);
	if (*end != ' ' || !end[1])
		return -1;
	out->side.present = mode != 0;
	out->side.mode = (uint32_t)mode;
	out->path = strdup(end + 1);
	return out->path ? 0 : -1;
}

static void bases_clear(struct snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->nbases; i++)
		free(snap->bases[i].path);
	free(snap->bases);
	snap->bases = NULL;
	snap->nbases = 0;
}

int store_bases_load(struct snapshot *snap, char *err, size_t errsz)
{
	char *path = path_join2(snap->store->dir, SNAPSHOT_BASES);
	char *data = NULL, *p, *end;
	struct base_rec *recs = NULL;
	size_t n = 0, alloc = 0, len = 0, i, j;
	struct stat sb;
	int fd = -1, error = -1;
	ssize_t got;

	bases_clear(snap);
	if (!path)
		return snapshot_fail(err, errsz, -1, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot read '%s'",
					 path);
		goto out;
	}
	if ((size_t)sb.st_size > STORE_MAX_BASES) {
		error = snapshot_fail(err, errsz, -1, "cannot read '%s': "
				      "larger than %zu bytes", path,
				      STORE_MAX_BASES);
		goto out;
	}
	data = malloc((size_t)sb.st_size + 1);
	if (!data) {
		error = snapshot_fail(err, errsz, -1, "out of memory");
		goto out;
	}
	while (len < (size_t)sb.st_size) {
		got = read(fd, data + len, (size_t)sb.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	/* A record without its NUL (a torn last append) is ignored. */
	for (p = data; p < data + len; p = end + 1) {
		end = memchr(p, '\0', (size_t)(data + len - p));
		if (!end)
			break;
		if (n == alloc) {
			struct base_rec *grown;

			alloc = alloc ? alloc * 2 : 64;
			grown = realloc(recs, alloc * sizeof(*recs));
			if (!grown) {
				error = snapshot_fail(err, errsz, -1,
						      "out of memory");
				goto out;
			}
			recs = grown;
		}
		if (parse_record(p, &recs[n]) < 0)
			continue;
		recs[n].seq = n;
		n++;
	}
	if (n)
		qsort(recs, n, sizeof(*recs), base_cmp);
	/* Keep the latest record of each path. */
	for (i = 0, j = 0; i < n; i++) {
		if (i + 1 < n && strcmp(recs[i].path, recs[i + 1].path) == 0) {
			free(recs[i].path);
			continue;
		}
		recs[j++] = recs[i];
	}
	snap->bases = recs;
	snap->nbases = j;
	recs = NULL;
	n = 0;
	error = 0;
out:
	for (i = 0; i < n; i++)
		free(recs[i].path);
	free(recs);
	free(data);
	free(path);
	if (fd >= 0)
		close(fd);
	return error;
}

const struct side *store_base_of(const struct snapshot *snap,
				 const char *path)
{
	size_t lo = 0, hi = snap->nbases, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(path, snap->bases[mid].path);
		if (c == 0)
			return snap->bases[mid].side.present ?
				&snap->bases[mid].side : NULL;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int store_bases_record(struct snapshot *snap, const char *path,
		       const struct side *side)
{
	return append_record(snap->store->bases_fd, side, path);
}

int store_bases_forget(struct snapshot *snap, const char *path)
{
	struct side none = { 0 };
	const struct side *had = store_base_of(snap, path);

	if (!had)
		return 0;
	return append_record(snap->store->bases_fd, &none, path);
}

/* ------------------------------------------------------------------ */
/* Opening a session */

int snapshot_open(struct snapshot **out, const struct snapshot_options *opts,
		  char *err, size_t errsz)
{
	struct snapshot *snap;
	int error = -1;

	*out = NULL;
	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return snapshot_fail(err, errsz, -1, "out of memory");
	snap->projectfd = -1;
	snap->upperfd = -1;
	snap->project = strdup(opts->project);
	snap->dir = strdup(opts->dir);
	snap->upper = path_join2(opts->dir, "upper");
	snap->rules = opts->rules;
	snap->hide_dev = opts->hide_dev;
	snap->hide_ino = opts->hide_ino;
	snap->live = opts->live;
	snap->notice = opts->notice;
	snap->payload = opts->payload;
	if (!snap->project || !snap->dir || !snap->upper) {
		error = snapshot_fail(err, errsz, -1, "out of memory");
		goto out;
	}
	snap->projectfd = open(snap->project, O_PATH | O_DIRECTORY |
			       O_CLOEXEC);
	if (snap->projectfd < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot open the "
					 "project '%s'", snap->project);
		goto out;
	}
	snap->upperfd = open(snap->upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (snap->upperfd < 0) {
		error = snapshot_fail_os(err, errsz, -1, "cannot open the "
					 "session's layer '%s'", snap->upper);
		goto out;
	}
	error = snapshot_store_open(&snap->store, snap->dir, err, errsz);
	if (error < 0)
		goto out;
	error = accept_recover(snap, err, errsz);
	if (error < 0)
		goto out;
	error = store_bases_load(snap, err, errsz);
out:
	if (error < 0) {
		snapshot_free(snap);
		return error;
	}
	*out = snap;
	return 0;
}

void snapshot_free(struct snapshot *snap)
{
	if (!snap)
		return;
	bases_clear(snap);
	snapshot_store_free(snap->store);
	if (snap->projectfd >= 0)
		close(snap->projectfd);
	if (snap->upperfd >= 0)
		close(snap->upperfd);
	free(snap->project);
	free(snap->dir);
	free(snap->upper);
	free(snap);
}

/* ------------------------------------------------------------------ */
/* Command-line paths */

void snapshot_paths_free(char **paths)
{
	size_t i;

	if (!paths)
		return;
	for (i = 0; paths[i]; i++)
		free(paths[i]);
	free(paths);
}

/* The working directory's position in root, or NULL when outside. */
static const char *inside(const char *cwd, const char *root)
{
	size_t n;

	if (!cwd || !root)
		return NULL;
	n = strlen(root);
	if (strncmp(cwd, root, n) != 0)
		return NULL;
	if (cwd[n] == '\0')
		return "";
	if (cwd[n] != '/')
		return NULL;
	return cwd + n + 1;
}

int snapshot_paths(char ***out, size_t *n, const char *project,
		   const char *mountpoint, const char *cwd, int argc,
		   char **argv, char *err, size_t errsz)
{
	const char *prefix = inside(cwd, project);
	char **paths;
	char buf[PATH_MAX];
	int i, error = 0;

	*out = NULL;
	*n = 0;
	if (!prefix)
		prefix = inside(cwd, mountpoint);
	if (!prefix)
		prefix = "";
	paths = calloc((size_t)argc + 1, sizeof(*paths));
	if (!paths)
		return snapshot_fail(err, errsz, -1, "out of memory");
	for (i = 0; i < argc; i++) {
		char *joined = path_join2(prefix, argv[i]);
		const char *rel = argv[i];

		if (!joined) {
			error = snapshot_fail(err, errsz, -1, "out of memory");
			break;
		}
		if (argv[i][0] == '/') {
			rel = inside(argv[i], project);
			if (!rel)
				rel = inside(argv[i], mountpoint);
			if (!rel) {
				free(joined);
				error = snapshot_fail(err, errsz, -1, "path "
						      "'%s' is outside the "
						      "project", argv[i]);
				break;
			}
		} else {
			rel = joined;
		}
		error = rules_path_normalize(buf, sizeof(buf), rel, NULL,
					     err, errsz);
		free(joined);
		if (error < 0)
			break;
		paths[i] = strdup(buf);
		if (!paths[i]) {
			error = snapshot_fail(err, errsz, -1, "out of memory");
			break;
		}
	}
	if (error < 0) {
		snapshot_paths_free(paths);
		return -1;
	}
	*out = paths;
	*n = (size_t)argc;
	return 0;
}
