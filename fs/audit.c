/*
 * audit.c - the session's audit log: one JSON line per access worth
 * recording.  Request threads only queue an event (a short critical
 * section); a writer thread resolves the process name, formats and writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

#define AUDIT_QUEUE_MAX 65536

struct audit_event {
	struct timespec when;
	pid_t pid;
	const char *op;		/* static string */
	const char *result;	/* static string */
	char comm[32];
	char *path;
	struct audit_event *next;
};

struct audit {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct audit_event *head, *tail;	/* protected by lock */
	size_t queued;				/* protected by lock */
	unsigned long dropped;			/* protected by lock */
	int stop;				/* protected by lock */
	pthread_t thread;
	FILE *out;		/* writer thread only */
	enum fs_audit_level level;
};

static __thread pid_t req_pid;

void fs_req_begin(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	req_pid = ctx ? ctx->pid : 0;
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	while (*s) {
		size_t run = 0;

		/* The common case: a run that needs no escaping. */
		while (s[run] && s[run] != '"' && s[run] != '\\' &&
		       (unsigned char)s[run] >= 0x20)
			run++;
		if (run) {
			fwrite(s, 1, run, out);
			s += run;
			continue;
		}
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else
			fprintf(out, "\\u%04x", (unsigned char)*s);
		s++;
	}
	fputc('"', out);
}

/*
 * The name of process pid, read now (it may be gone by the time the event
 * is written).  Each thread keeps /proc/PID/comm of the last process it
 * served open: one pread(2) per event while the same process works.
 */
static __thread pid_t comm_pid;
static __thread int comm_fd = -1;

static void comm_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n = -1;

	snprintf(buf, size, "?");
	if (comm_fd >= 0 && comm_pid == pid)
		n = pread(comm_fd, buf, size - 1, 0);
	if (n <= 0) {
		/* Another process, or this one is gone: open afresh. */
		if (comm_fd >= 0)
			close(comm_fd);
		snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
		comm_fd = open(path, O_RDONLY | O_CLOEXEC);
		comm_pid = pid;
		if (comm_fd < 0)
			return;
		n = pread(comm_fd, buf, size - 1, 0);
	}
	if (n <= 0) {
		snprintf(buf, size, "?");
		return;
	}
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

static void write_event(struct audit *a, const struct audit_event *e)
{
	char stamp[64], comm[64];
	struct tm tm;

	gmtime_r(&e->when.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(comm, sizeof(comm), "%s", e->comm);
	fprintf(a->out, "{\"time\":\"%s.%03ldZ\",\"pid\":%ld,\"comm\":", stamp,
		e->when.tv_nsec / 1000000, (long)e->pid);
	json_string(a->out, comm);
	fprintf(a->out, ",\"op\":\"%s\",\"path\":", e->op);
	json_string(a->out, e->path);
	fprintf(a->out, ",\"result\":\"%s\"}\n", e->result);
}

static void *writer(void *payload)
{
	struct audit *a = payload;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct audit_event *batch;
		unsigned long dropped;

		while (!a->head && !a->stop)
			pthread_cond_wait(&a->cond, &a->lock);
		if (!a->head && a->stop)
			break;
		batch = a->head;
		a->head = a->tail = NULL;
		a->queued = 0;
		dropped = a->dropped;
		a->dropped = 0;
		pthread_mutex_unlock(&a->lock);

		while (batch) {
			struct audit_event *next = batch->next;

			write_event(a, batch);
			free(batch->path);
			free(batch);
			batch = next;
		}
		if (dropped)
			fprintf(a->out, "{\"op\":\"audit\",\"path\":\"\","
				"\"result\":\"dropped %lu events\"}\n",
				dropped);
		fflush(a->out);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int audit_start(struct fs *fs)
{
	struct audit *a;
	int fd;

	if (!fs->opts.audit_path)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	fd = open(fs->opts.audit_path, O_WRONLY | O_CREAT | O_APPEND |
		  O_CLOEXEC, 0600);
	if (fd < 0 || !(a->out = fdopen(fd, "a"))) {
		int error = -errno;

		if (fd >= 0)
			close(fd);
		free(a);
		return error;
	}
	a->level = fs->opts.audit_level;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	if (pthread_create(&a->thread, NULL, writer, a) != 0) {
		fclose(a->out);
		free(a);
		return -EAGAIN;
	}
	fs->audit = a;
	return 0;
}

void audit_stop(struct fs *fs)
{
	struct audit *a = fs->audit;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	fclose(a->out);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
	fs->audit = NULL;
}

int audit_wants(struct fs *fs, enum fs_audit_kind kind)
{
	struct audit *a = fs->audit;

	if (!a)
		return 0;
	switch (kind) {
	case FS_AUDIT_DENIAL:
		return 1;
	case FS_AUDIT_CHANGE:
		return a->level >= FS_AUDIT_WRITES;
	case FS_AUDIT_READ:
		return a->level >= FS_AUDIT_ALL;
	}
	return 0;
}

/* Queue one event; path is taken over (freed here). */
void audit_event(struct fs *fs, enum fs_audit_kind kind, const char *op,
		 char *path, const char *result)
{
	struct audit *a = fs->audit;
	struct audit_event *e;

	if (!audit_wants(fs, kind) || !path) {
		free(path);
		return;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		free(path);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &e->when);
	e->pid = req_pid;
	/* Named now (not by the writer thread): a short-lived process may
	 * be gone by then, or have exec'ed something else. */
	comm_of(req_pid, e->comm, sizeof(e->comm));
	e->op = op;
	e->result = result;
	e->path = path;
	e->next = NULL;
	pthread_mutex_lock(&a->lock);
	if (a->queued >= AUDIT_QUEUE_MAX) {
		a->dropped++;
		pthread_mutex_unlock(&a->lock);
		free(path);
		free(e);
		return;
	}
	if (a->tail)
		a->tail->next = e;
	else
		a->head = e;
	a->tail = e;
	if (a->queued++ == 0)
		pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void audit_node(struct fs *fs, enum fs_audit_kind kind, const char *op,
		struct node *parent, const char *name, const char *result)
{
	if (!audit_wants(fs, kind))
		return;
	audit_event(fs, kind, op, node_path(fs, parent, name), result);
}

const char *audit_result(int error)
{
	switch (-error) {
	case 0: return "ok";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EDQUOT: return "EDQUOT";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	default: return "error";
	}
}
