/*
 * control.c - a Unix socket in the session directory through which other
 * wardfs commands tell a running daemon that the layers changed beneath it
 * (accept, discard of paths, snapshot restore).  The daemon forgets what
 * it knew of those paths and tells the kernel to drop its caches.
 *
 * Protocol: the client sends project-relative paths, one a line ("" for
 * everything), closes its writing side, and reads "ok\n".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

#define CONTROL_MAX (1u << 20)

struct stale {
	fuse_ino_t parent;
	char *name;
	fuse_ino_t ino;
};

struct stale_list {
	struct stale *items;
	size_t n, alloc;
};

static void stale_add(struct stale_list *l, fuse_ino_t parent,
		      const char *name, fuse_ino_t ino)
{
	if (l->n == l->alloc) {
		size_t alloc = l->alloc ? l->alloc * 2 : 16;
		struct stale *grown = realloc(l->items, alloc * sizeof(*grown));

		if (!grown)
			return;
		l->items = grown;
		l->alloc = alloc;
	}
	l->items[l->n].name = strdup(name);
	if (!l->items[l->n].name)
		return;
	l->items[l->n].parent = parent;
	l->items[l->n].ino = ino;
	l->n++;
}

struct forget_ctx {
	struct fs *fs;
	struct stale_list *list;
};

/* Called with table_lock held (node_foreach_descendant). */
static void forget_one(struct node *n, void *payload)
{
	struct forget_ctx *ctx = payload;

	if (!n->hashed)
		return;
	stale_add(ctx->list, node_id(ctx->fs, n->parent), n->name,
		  node_id(ctx->fs, n));
}

/*
 * Find the cached node of path (tree held); *parent gets the deepest
 * cached directory on the way and *rest the first name below it that is
 * not cached (NULL when the whole path is cached).
 */
static struct node *walk(struct fs *fs, char *path, struct node **parent,
			 char **rest)
{
	struct node *n = &fs->root, *child;
	char *name, *slash;

	*rest = NULL;
	*parent = NULL;
	for (name = path; name && *name; name = slash) {
		slash = strchr(name, '/');
		if (slash)
			*slash++ = '\0';
		child = node_find(fs, n, name);
		if (!child) {
			*parent = n;
			*rest = name;
			return NULL;
		}
		node_forget(fs, child, 1);	/* node_find took a reference */
		*parent = n;
		n = child;
	}
	return n;
}

static void refresh(struct fs *fs, char *path, struct stale_list *list)
{
	struct forget_ctx ctx = { fs, list };
	struct node *n, *parent;
	char *rest;

	n = walk(fs, path, &parent, &rest);
	if (!n) {
		/* Not cached: only a negative entry may be left. */
		if (parent && rest)
			stale_add(list, node_id(fs, parent), rest, 0);
		return;
	}
	node_foreach_descendant(fs, n, forget_one, &ctx);
	if (n != &fs->root)
		stale_add(list, node_id(fs, n->parent), n->name,
			  node_id(fs, n));
}

static void unhash_stale(struct fs *fs, struct stale_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		struct node *n;

		if (!list->items[i].ino)
			continue;
		n = node_of_ino(fs, list->items[i].ino);
		node_unhash(fs, n);
	}
}

static void serve_client(struct fs *fs, int fd)
{
	struct stale_list list = { 0 };
	char *buf = NULL, *line, *nl;
	size_t len = 0, alloc = 0;
	ssize_t n;
	size_t i;

	for (;;) {
		if (len + 4096 > alloc) {
			char *grown;

			if (alloc >= CONTROL_MAX)
				goto out;
			alloc = alloc ? alloc * 2 : 8192;
			grown = realloc(buf, alloc + 1);
			if (!grown)
				goto out;
			buf = grown;
		}
		n = read(fd, buf + len, alloc - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!buf)
		goto reply;
	buf[len] = '\0';

	pthread_rwlock_wrlock(&fs->tree);
	for (line = buf; line && line < buf + len; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		refresh(fs, line, &list);
	}
	unhash_stale(fs, &list);
	pthread_rwlock_unlock(&fs->tree);

	/* Outside every lock: the kernel may call back into us. */
	for (i = 0; i < list.n; i++) {
		if (list.items[i].ino)
			fuse_lowlevel_notify_inval_inode(fs->se,
							 list.items[i].ino,
							 0, 0);
		fuse_lowlevel_notify_inval_entry(fs->se, list.items[i].parent,
						 list.items[i].name,
						 strlen(list.items[i].name));
	}
	fs_log(fs, FS_LOG_DEBUG, "control: refreshed %zu names", list.n);
reply:
	if (write(fd, "ok\n", 3) != 3) {
		/* The client went away; nothing to tell it. */
	}
out:
	for (i = 0; i < list.n; i++)
		free(list.items[i].name);
	free(list.items);
	free(buf);
}

static void *control_thread(void *payload)
{
	struct fs *fs = payload;

	for (;;) {
		int fd = accept4(fs->control_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;	/* shut down */
		}
		serve_client(fs, fd);
		close(fd);
	}
	return NULL;
}

/* "/proc/self/fd/N/name": short enough for sun_path whatever the dir. */
static int control_addr(struct sockaddr_un *addr, int dirfd,
			const char *name)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if ((size_t)snprintf(addr->sun_path, sizeof(addr->sun_path),
			     "/proc/self/fd/%d/%s", dirfd, name) >=
	    sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int control_start(struct fs *fs)
{
	struct sockaddr_un addr;
	int dirfd = -1, error;

	fs->control_fd = -1;
	if (!fs->opts.control_dir)
		return 0;
	dirfd = open(fs->opts.control_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	error = control_addr(&addr, dirfd, FS_CONTROL_SOCKET);
	if (error < 0)
		goto out;
	unlinkat(dirfd, FS_CONTROL_SOCKET, 0);
	fs->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fs->control_fd < 0 ||
	    bind(fs->control_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fs->control_fd, 16) < 0) {
		error = -errno;
		goto out;
	}
	if (pthread_create(&fs->control, NULL, control_thread, fs) != 0) {
		error = -EAGAIN;
		goto out;
	}
	fs->control_running = 1;
out:
	if (error < 0 && fs->control_fd >= 0) {
		close(fs->control_fd);
		fs->control_fd = -1;
	}
	close(dirfd);
	return error;
}

void control_stop(struct fs *fs)
{
	if (!fs->control_running)
		return;
	shutdown(fs->control_fd, SHUT_RDWR);
	pthread_join(fs->control, NULL);
	close(fs->control_fd);
	fs->control_fd = -1;
	fs->control_running = 0;
}

int fs_control_refresh(const char *dir, const char *const *paths, size_t n,
		       char *err, size_t errsz)
{
	struct sockaddr_un addr;
	char reply[16];
	int dirfd, fd = -1, error = 0;
	ssize_t got;
	size_t i;

	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		snprintf(err, errsz, "cannot open '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	if (control_addr(&addr, dirfd, FS_CONTROL_SOCKET) < 0)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr,
			      sizeof(addr)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (dprintf(fd, "%s\n", paths[i]) < 0)
			goto fail;
	}
	shutdown(fd, SHUT_WR);
	got = read(fd, reply, sizeof(reply) - 1);
	if (got != 3 || memcmp(reply, "ok\n", 3) != 0) {
		errno = EPROTO;
		goto fail;
	}
	goto out;
fail:
	snprintf(err, errsz, "cannot reach the daemon of '%s': %s", dir,
		 strerror(errno));
	error = -1;
out:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return error;
}
