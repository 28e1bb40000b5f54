/*
 * policy.c - the decisions that need more than a path: [content] rules
 * (a file's first bytes), [redact] (masked contents), [limits] (the upper
 * layer's size), and lower hard links of hidden files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

#define CONTENT_CACHE_MAX (1u << 18)
#define REDACT_MAX (4u << 20)

struct content_entry {
	uint64_t dev, ino;
	int64_t mtime_ns, ctime_ns;
	int64_t size;
	int hidden;
	struct content_entry *next;
};

/*
 * The verdicts kept between mounts (fs_options.content_cache): a header,
 * then one record per file, in the machine's byte order.
 */
#define CONTENT_MAGIC "wardfs-content1"
struct content_header {
	char magic[16];
	uint64_t fingerprint;	/* rules_content_fingerprint() */
	uint64_t count;
};
struct content_record {
	uint64_t dev, ino;
	int64_t mtime_ns, ctime_ns, size;
	uint64_t hidden;
};

static size_t key_hash(uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * 0x9e3779b97f4a7c15ULL) ^ ino;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h ^ (h >> 29));
}

static void content_cache_clear(struct fs *fs)
{
	size_t i;

	for (i = 0; i < fs->content_size; i++) {
		struct content_entry *e = fs->content[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
		fs->content[i] = NULL;
	}
	fs->content_count = 0;
}

/* Called with content_lock held: keep chains short. */
static void content_cache_grow(struct fs *fs)
{
	size_t size = fs->content_size * 2, i;
	struct content_entry **table = calloc(size, sizeof(*table));

	if (!table)
		return;
	for (i = 0; i < fs->content_size; i++) {
		struct content_entry *e = fs->content[i], *next;

		for (; e; e = next) {
			size_t h = key_hash(e->dev, e->ino) & (size - 1);

			next = e->next;
			e->next = table[h];
			table[h] = e;
		}
	}
	free(fs->content);
	fs->content = table;
	fs->content_size = size;
}

static int64_t ctime_ns(const struct stat *st)
{
	return (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/* Remember a verdict (content_lock held). */
static void content_insert(struct fs *fs, const struct content_record *r)
{
	struct content_entry *e;
	size_t h;

	if (!fs->content) {
		fs->content_size = 4096;
		fs->content = calloc(fs->content_size, sizeof(*fs->content));
		if (!fs->content)
			return;
	}
	if (fs->content_count >= CONTENT_CACHE_MAX)
		content_cache_clear(fs);
	else if (fs->content_count >= fs->content_size)
		content_cache_grow(fs);
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->dev = r->dev;
	e->ino = r->ino;
	e->mtime_ns = r->mtime_ns;
	e->ctime_ns = r->ctime_ns;
	e->size = r->size;
	e->hidden = r->hidden != 0;
	h = key_hash(e->dev, e->ino) & (fs->content_size - 1);
	e->next = fs->content[h];
	fs->content[h] = e;
	fs->content_count++;
}

/* Read the verdicts an earlier mount kept; a file that does not fit the
 * rules in effect (or is damaged) is ignored. */
static void content_load(struct fs *fs)
{
	struct content_header hd;
	struct content_record recs[256];
	uint64_t left;
	int fd;

	fd = open(fs->opts.content_cache, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (read(fd, &hd, sizeof(hd)) != (ssize_t)sizeof(hd) ||
	    memcmp(hd.magic, CONTENT_MAGIC, sizeof(hd.magic)) != 0 ||
	    hd.fingerprint != rules_content_fingerprint(fs->opts.rules) ||
	    hd.count > CONTENT_CACHE_MAX) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&fs->content_lock);
	for (left = hd.count; left > 0;) {
		size_t want = left < 256 ? (size_t)left : 256, i;
		ssize_t got = read(fd, recs, want * sizeof(*recs));

		if (got != (ssize_t)(want * sizeof(*recs)))
			break;
		for (i = 0; i < want; i++)
			content_insert(fs, &recs[i]);
		left -= want;
	}
	pthread_mutex_unlock(&fs->content_lock);
	close(fd);
}

/* Keep the verdicts for the next mount: a new file renamed into place. */
static void content_save(struct fs *fs)
{
	struct content_header hd;
	struct content_record r;
	char tmp[4096];
	size_t i;
	FILE *f;
	int ok, fd;

	if (!fs->opts.content_cache || !fs->content_dirty || !fs->content)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", fs->opts.content_cache,
		     (long)getpid()) >= (int)sizeof(tmp))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return;
	}
	memset(&hd, 0, sizeof(hd));
	memcpy(hd.magic, CONTENT_MAGIC, sizeof(hd.magic));
	hd.fingerprint = rules_content_fingerprint(fs->opts.rules);
	hd.count = fs->content_count;
	ok = fwrite(&hd, sizeof(hd), 1, f) == 1;
	for (i = 0; ok && i < fs->content_size; i++) {
		struct content_entry *e;

		for (e = fs->content[i]; ok && e; e = e->next) {
			memset(&r, 0, sizeof(r));
			r.dev = e->dev;
			r.ino = e->ino;
			r.mtime_ns = e->mtime_ns;
			r.ctime_ns = e->ctime_ns;
			r.size = e->size;
			r.hidden = (uint64_t)e->hidden;
			ok = fwrite(&r, sizeof(r), 1, f) == 1;
		}
	}
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, fs->opts.content_cache) < 0) {
		unlink(tmp);
		fs_log(fs, FS_LOG_WARN, "cannot keep the content verdicts in "
		       "'%s'", fs->opts.content_cache);
	}
}

void policy_release(struct fs *fs)
{
	content_save(fs);
	if (fs->content) {
		content_cache_clear(fs);
		free(fs->content);
		fs->content = NULL;
	}
	for (size_t i = 0; i < fs->nhidden_links; i++)
		free(fs->hidden_links[i].path);
	free(fs->hidden_links);
	fs->hidden_links = NULL;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Does the file's head match a [content] rule?  Cached by inode+mtime. */
int policy_content_hidden(struct fs *fs, int dirfd, const char *name,
			  const struct stat *st)
{
	char head[RULES_CONTENT_HEAD];
	struct content_record rec;
	struct content_entry *e;
	ssize_t len;
	size_t h;
	int fd, hidden = 0;

	if (!fs->opts.rules || !S_ISREG(st->st_mode) || st->st_size == 0 ||
	    !rules_has_content(fs->opts.rules))
		return 0;
	pthread_mutex_lock(&fs->content_lock);
	h = key_hash(st->st_dev, st->st_ino) & (fs->content_size - 1);
	for (e = fs->content ? fs->content[h] : NULL; e; e = e->next) {
		if (e->dev == st->st_dev && e->ino == st->st_ino &&
		    e->mtime_ns == mtime_ns(st) &&
		    e->ctime_ns == ctime_ns(st) && e->size == st->st_size) {
			hidden = e->hidden;
			pthread_mutex_unlock(&fs->content_lock);
			return hidden;
		}
	}
	pthread_mutex_unlock(&fs->content_lock);

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == EACCES ? 0 : 1;	/* unreadable: fail closed */
	len = pread(fd, head, sizeof(head), 0);
	close(fd);
	if (len < 0)
		return 1;
	hidden = rules_content_hidden(fs->opts.rules, head, (size_t)len, NULL);

	memset(&rec, 0, sizeof(rec));
	rec.dev = st->st_dev;
	rec.ino = st->st_ino;
	rec.mtime_ns = mtime_ns(st);
	rec.ctime_ns = ctime_ns(st);
	rec.size = st->st_size;
	rec.hidden = (uint64_t)hidden;
	pthread_mutex_lock(&fs->content_lock);
	content_insert(fs, &rec);
	fs->content_dirty = 1;
	pthread_mutex_unlock(&fs->content_lock);
	return hidden;
}

/* Read a whole (small) file and mask it.  *out is freed by the caller. */
int policy_redact(struct fs *fs, int fd, char **out, size_t *outlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int error = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size > (off_t)REDACT_MAX)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		n = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);
		if (n < 0) {
			error = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (rules_redact(fs->opts.rules, buf, len, out, outlen) < 0)
		error = -ENOMEM;
out:
	free(buf);
	return error;
}

/* The size a redacted file shows: the length of its masked contents. */
int policy_redacted_size(struct fs *fs, int dirfd, const char *name,
			 off_t *size)
{
	char *masked = NULL;
	size_t len = 0;
	int fd, error;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	error = policy_redact(fs, fd, &masked, &len);
	close(fd);
	free(masked);
	if (error == 0)
		*size = (off_t)len;
	return error;
}

/* Quota: may a write grow the upper by grow bytes, to a file of end? */
int policy_may_grow(struct fs *fs, uint64_t grow, uint64_t end)
{
	uint64_t quota, max_file, used;

	if (!fs->opts.rules)
		return 0;
	max_file = rules_max_file_bytes(fs->opts.rules);
	if (max_file && end > max_file)
		return -EFBIG;
	quota = rules_quota_bytes(fs->opts.rules);
	if (!quota || grow == 0)
		return 0;
	used = __atomic_load_n(&fs->upper_bytes, __ATOMIC_RELAXED);
	if (used + grow > quota)
		return -EDQUOT;
	return 0;
}

void policy_grew(struct fs *fs, int64_t delta)
{
	if (delta > 0)
		__atomic_add_fetch(&fs->upper_bytes, (uint64_t)delta,
				   __ATOMIC_RELAXED);
	else if (delta < 0) {
		uint64_t d = (uint64_t)-delta, old;

		old = __atomic_load_n(&fs->upper_bytes, __ATOMIC_RELAXED);
		__atomic_store_n(&fs->upper_bytes, old > d ? old - d : 0,
				 __ATOMIC_RELAXED);
	}
}

static uint64_t du(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *d;
	uint64_t total = 0;
	DIR *dir;

	if (fd < 0)
		return 0;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return 0;
	}
	while ((d = readdir(dir))) {
		struct stat st;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(fd, d->d_name, O_PATH | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				total += du(sub);
				close(sub);
			}
		}
	}
	closedir(dir);
	return total;
}

/* How much the upper holds already (at mount, when a quota is set). */
void policy_init(struct fs *fs)
{
	pthread_mutex_init(&fs->content_lock, NULL);
	pthread_mutex_init(&fs->links_lock, NULL);
	if (fs->opts.rules && fs->opts.content_cache &&
	    rules_has_content(fs->opts.rules))
		content_load(fs);
	if (fs->opts.rules && rules_quota_bytes(fs->opts.rules))
		fs->upper_bytes = du(fs->root.ufd);
}

static int add_link(struct fs *fs, const struct stat *st, const char *path,
		    int hidden)
{
	struct dev_ino *e;

	if (fs->nhidden_links == fs->hidden_links_alloc) {
		size_t n = fs->hidden_links_alloc ? fs->hidden_links_alloc * 2 :
			16;
		struct dev_ino *grown = realloc(fs->hidden_links,
						n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		fs->hidden_links = grown;
		fs->hidden_links_alloc = n;
	}
	e = &fs->hidden_links[fs->nhidden_links];
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->hidden = hidden;
	fs->nhidden_links++;
	return 0;
}

static int link_cmp(const void *a, const void *b)
{
	const struct dev_ino *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* Walk the lower; note every file that has more than one name. */
static void scan(struct fs *fs, int dirfd, const char *rel, int hidden)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *d;
	DIR *dir;

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((d = readdir(dir))) {
		struct stat st;
		size_t a = strlen(rel), b = strlen(d->d_name);
		char *path;
		int h;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode) && !(S_ISREG(st.st_mode) &&
					      st.st_nlink > 1))
			continue;
		if ((uint64_t)st.st_dev == fs->opts.hide_dev &&
		    (uint64_t)st.st_ino == fs->opts.hide_ino)
			continue;
		path = malloc(a + b + 2);
		if (!path)
			break;
		memcpy(path, rel, a);
		if (a)
			path[a++] = '/';
		memcpy(path + a, d->d_name, b + 1);
		h = hidden || (fs->opts.rules &&
			       rules_decide(fs->opts.rules, path,
					    S_ISDIR(st.st_mode), NULL) ==
			       RULE_HIDE);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(fd, d->d_name, O_PATH | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				scan(fs, sub, path, h);
				close(sub);
			}
		} else {
			add_link(fs, &st, path, h);
		}
		free(path);
	}
	closedir(dir);
}

/* Called with links_lock held: forget the last scan. */
static void links_clear(struct fs *fs)
{
	size_t i;

	for (i = 0; i < fs->nhidden_links; i++)
		free(fs->hidden_links[i].path);
	fs->nhidden_links = 0;
	fs->links_scanned = 0;
}

/* Called with links_lock held: scan the project once. */
static void links_scan(struct fs *fs)
{
	if (fs->links_scanned)
		return;
	fs->links_scan_time = time(NULL);
	scan(fs, fs->root.lfd, "", 0);
	if (fs->nhidden_links)
		qsort(fs->hidden_links, fs->nhidden_links,
		      sizeof(*fs->hidden_links), link_cmp);
	fs->links_scanned = 1;
}

/* Called with links_lock held: the first entry of st's inode, or NULL. */
static struct dev_ino *links_find(struct fs *fs, const struct stat *st)
{
	struct dev_ino key = { st->st_dev, st->st_ino, NULL, 0 }, *e;

	if (!fs->nhidden_links)
		return NULL;
	e = bsearch(&key, fs->hidden_links, fs->nhidden_links,
		    sizeof(*fs->hidden_links), link_cmp);
	while (e && e > fs->hidden_links && link_cmp(e - 1, &key) == 0)
		e--;
	return e;
}

/*
 * Is this lower file another name of a hidden file?  Only files with more
 * than one link are asked; the first such question scans the project once.
 */
int policy_is_hidden_link(struct fs *fs, const struct stat *st)
{
	struct dev_ino *e, *end;
	int found = 0;

	if (!fs->opts.rules || !S_ISREG(st->st_mode) || st->st_nlink < 2)
		return 0;
	pthread_mutex_lock(&fs->links_lock);
	links_scan(fs);
	/* A link made in the project since the last scan: look again
	 * (at most once a second). */
	if (!links_find(fs, st) && time(NULL) != fs->links_scan_time) {
		links_clear(fs);
		links_scan(fs);
	}
	end = fs->hidden_links + fs->nhidden_links;
	for (e = links_find(fs, st); e && e < end &&
	     e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino;
	     e++)
		found |= e->hidden;
	pthread_mutex_unlock(&fs->links_lock);
	return found;
}

/*
 * The visible project paths of st's inode; *out (and each path) is freed
 * by the caller.  Returns how many.
 */
size_t policy_link_names(struct fs *fs, const struct stat *st, char ***out)
{
	struct dev_ino *e, *end;
	char **names = NULL, **grown;
	size_t n = 0;

	*out = NULL;
	if (!S_ISREG(st->st_mode) || st->st_nlink < 2)
		return 0;
	pthread_mutex_lock(&fs->links_lock);
	links_scan(fs);
	end = fs->hidden_links + fs->nhidden_links;
	for (e = links_find(fs, st); e && e < end &&
	     e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino;
	     e++) {
		if (e->hidden)
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[n] = strdup(e->path);
		if (names[n])
			n++;
	}
	pthread_mutex_unlock(&fs->links_lock);
	*out = names;
	return n;
}
