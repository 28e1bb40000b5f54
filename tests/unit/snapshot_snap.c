/*
 * snapshot_snap.c - unit tests of snapshots (snapshot/snap*.c) over a
 * hand-made upper layer (no mount): what a restore makes equals what the
 * snapshot recorded, entry by entry, apart and in place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "snapshot/snapshot.h"
#include "tests/unit/tap.h"
#include "rules/banned.h"

static char root[256], project[300], session[300], upper[320];
static char errbuf[4096];

static void path_of(char *out, size_t size, const char *dir, const char *rel)
{
	snprintf(out, size, "%s/%s", dir, rel);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	path_of(path, sizeof(path), dir, rel);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void whiteout(const char *rel)
{
	char path[1024];

	path_of(path, sizeof(path), upper, rel);
	if (mknod(path, S_IFCHR | 0000, makedev(0, 0)) < 0)
		tap_diag("mknod %s: %s", path, strerror(errno));
}

static void mkdir_in(const char *dir, const char *rel, mode_t mode)
{
	char path[1024];

	path_of(path, sizeof(path), dir, rel);
	mkdir(path, mode);
	chmod(path, mode);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per entry below dir: path, type and mode, size, mtime,
 * content (FNV-1a) or target, user xattrs. */
static void manifest_dir(FILE *out, const char *dir, const char *rel)
{
	char path[2048], child[1024], *names[256], buf[4096], list[1024];
	size_t n = 0, i;
	struct dirent *d;
	struct stat sb;
	DIR *dh;

	path_of(path, sizeof(path), dir, rel);
	dh = opendir(path);
	if (!dh)
		return;
	while ((d = readdir(dh)) && n < 256)
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			names[n++] = strdup(d->d_name);
	closedir(dh);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		uint64_t h = 1469598103934665603ULL;
		ssize_t len, got;
		char *x;
		int fd;

		snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
			 names[i]);
		path_of(path, sizeof(path), dir, child);
		lstat(path, &sb);
		fprintf(out, "%s %06o %lld %lld.%09ld", child,
			(unsigned)sb.st_mode, (long long)sb.st_size,
			(long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
		if (S_ISREG(sb.st_mode)) {
			fd = open(path, O_RDONLY);
			while (fd >= 0 && (got = read(fd, buf, sizeof(buf))) > 0)
				for (len = 0; len < got; len++)
					h = (h ^ (unsigned char)buf[len]) *
						1099511628211ULL;
			if (fd >= 0)
				close(fd);
			fprintf(out, " %016llx", (unsigned long long)h);
		} else if (S_ISLNK(sb.st_mode)) {
			len = readlink(path, buf, sizeof(buf) - 1);
			buf[len > 0 ? len : 0] = '\0';
			fprintf(out, " -> %s", buf);
		} else if (S_ISCHR(sb.st_mode)) {
			fprintf(out, " dev=%u:%u", major(sb.st_rdev),
				minor(sb.st_rdev));
		}
		len = S_ISLNK(sb.st_mode) ? 0 :
			llistxattr(path, list, sizeof(list));
		for (x = list; len > 0 && x < list + len; x += strlen(x) + 1) {
			got = lgetxattr(path, x, buf, sizeof(buf));
			if (strncmp(x, "user.", 5) == 0 && got >= 0)
				fprintf(out, " %s=%zd", x, got);
		}
		fputc('\n', out);
		if (S_ISDIR(sb.st_mode))
			manifest_dir(out, dir, child);
		free(names[i]);
	}
}

static char *manifest(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	manifest_dir(out, upper, "");
	fclose(out);
	return text;
}

static struct snapshot *open_snap(int live)
{
	struct snapshot_options o = SNAPSHOT_OPTIONS_INIT;
	struct snapshot *snap = NULL;

	o.project = project;
	o.dir = session;
	o.live = live;
	check_pass(snapshot_open(&snap, &o, errbuf, sizeof(errbuf)), errbuf);
	return snap;
}

/* Change every kind of entry the snapshot holds. */
static void mess_up(void)
{
	char p[1024], q[1024];

	put(upper, "a.txt", "other\n");
	path_of(p, sizeof(p), upper, "gone.txt");
	unlink(p);
	put(upper, "gone.txt", "back\n");
	path_of(p, sizeof(p), upper, "d/.wh..wh..opq");
	unlink(p);
	put(upper, "d/extra", "extra\n");
	path_of(p, sizeof(p), upper, "link");
	unlink(p);
	if (symlink("elsewhere", p) < 0)
		tap_diag("symlink: %s", strerror(errno));
	path_of(p, sizeof(p), upper, "tool.sh");
	chmod(p, 0644);
	path_of(p, sizeof(p), upper, "deep/er/f");
	unlink(p);
	path_of(p, sizeof(p), upper, "deep/er");
	rmdir(p);
	put(upper, "deep/er", "now a file\n");
	path_of(p, sizeof(p), upper, "new.txt");
	path_of(q, sizeof(q), upper, "renamed.txt");
	rename(p, q);
	mkdir_in(upper, "newdir", 0700);
	put(upper, "newdir/f", "f\n");
}

static void test_snapshot_snap__restore_apart_and_in_place(void)
{
	struct snapshot_restore_options ro = SNAPSHOT_RESTORE_OPTIONS_INIT;
	struct snapshot *snap;
	unsigned long id = 0, id2 = 0;
	char *before, *after, p[1024];
	uint64_t origin = 4242;
	struct stat sb, sb2;

	put(upper, "a.txt", "one\ntwo\nsession\n");
	whiteout("gone.txt");
	mkdir_in(upper, "d", 0755);
	whiteout("d/.wh..wh..opq");
	put(upper, "d/fresh", "fresh\n");
	put(upper, "new.txt", "new\n");
	put(upper, "bin.dat", "\001\002\003");
	put(upper, "tool.sh", "#!/bin/sh\n");
	path_of(p, sizeof(p), upper, "tool.sh");
	chmod(p, 0755);
	path_of(p, sizeof(p), upper, "link");
	check_int(symlink("a.txt", p), 0, "a symlink");
	mkdir_in(upper, "deep", 0750);
	mkdir_in(upper, "deep/er", 0755);
	put(upper, "deep/er/f", "f\n");
	path_of(p, sizeof(p), upper, "a.txt");
	if (lsetxattr(p, "user.wardfs.origin", &origin, sizeof(origin),
		      0) < 0)
		tap_diag("no user xattrs here: %s", strerror(errno));
	before = manifest();

	snap = open_snap(0);
	check_pass(snapshot_create(&id, snap, "first", errbuf,
				   sizeof(errbuf)), errbuf);
	check_int((long long)id, 1, "the first snapshot is 1");

	mess_up();
	ro.saved = &id2;
	check_pass(snapshot_restore(snap, 1, &ro, errbuf, sizeof(errbuf)),
		   errbuf);
	check_int((long long)id2, 2, "the state before is snapshot 2");
	after = manifest();
	check_str(after, before, "restored apart: the upper as recorded");
	free(after);
	snapshot_free(snap);

	/* in place, as for a live session: unchanged files keep inodes */
	path_of(p, sizeof(p), upper, "bin.dat");
	stat(p, &sb);
	mess_up();
	snap = open_snap(1);
	ro.saved = NULL;
	check_pass(snapshot_restore(snap, 1, &ro, errbuf, sizeof(errbuf)),
		   errbuf);
	after = manifest();
	check_str(after, before, "restored in place: the upper as recorded");
	free(after);
	stat(p, &sb2);
	check(sb.st_ino == sb2.st_ino, "an unchanged file keeps its inode");
	snapshot_free(snap);
	free(before);
}

static void test_snapshot_snap__restore_paths(void)
{
	struct snapshot_restore_options ro = SNAPSHOT_RESTORE_OPTIONS_INIT;
	const char *paths[] = { "a.txt", "d" };
	struct snapshot *snap = open_snap(1);
	char p[1024], buf[64];
	ssize_t n;
	int fd;

	mess_up();
	ro.paths = paths;
	ro.npaths = 2;
	check_pass(snapshot_restore(snap, 1, &ro, errbuf, sizeof(errbuf)),
		   errbuf);
	path_of(p, sizeof(p), upper, "a.txt");
	fd = open(p, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	check_str(buf, "one\ntwo\nsession\n", "a.txt is restored");
	path_of(p, sizeof(p), upper, "d/.wh..wh..opq");
	check(access(p, F_OK) == 0, "d is opaque again");
	path_of(p, sizeof(p), upper, "d/extra");
	check(access(p, F_OK) < 0, "d/extra is gone");
	path_of(p, sizeof(p), upper, "gone.txt");
	fd = open(p, O_RDONLY);
	check(fd >= 0, "gone.txt, not restored, keeps its new content");
	if (fd >= 0)
		close(fd);
	path_of(p, sizeof(p), upper, "newdir/f");
	check(access(p, F_OK) == 0, "newdir, not restored, stays");
	snapshot_free(snap);
}

static int count_one(const struct snapshot_info *info, void *payload)
{
	(void)info;
	(*(int *)payload)++;
	return 0;
}

static void test_snapshot_snap__list_diff_drop(void)
{
	struct snapshot_changes *c = NULL;
	struct snapshot *snap = open_snap(0);
	unsigned long id = 0;
	char *out = NULL;
	size_t len = 0;
	FILE *mem;
	int n = 0;

	check_pass(snapshot_list(snap, count_one, &n, errbuf, sizeof(errbuf)),
		   errbuf);
	check_int(n, 2, "two snapshots");
	check_pass(snapshot_diff(&c, snap, 1, 2, NULL, 0, errbuf,
				 sizeof(errbuf)), errbuf);
	mem = open_memstream(&out, &len);
	check_pass(snapshot_print(c, SNAPSHOT_NAME_STATUS, 0, mem, errbuf,
				  sizeof(errbuf)), errbuf);
	fclose(mem);
	check(out && strstr(out, "M\ta.txt\n") && strstr(out, "A\td/extra\n"),
	      "the diff from 1 to 2");
	free(out);
	snapshot_changes_free(c);
	check_pass(snapshot_drop(snap, 2, errbuf, sizeof(errbuf)), errbuf);
	check(snapshot_drop(snap, 2, errbuf, sizeof(errbuf)) < 0,
	      "a dropped snapshot is gone");
	check_str(errbuf, "there is no snapshot 2", "and says so");
	check_pass(snapshot_create(&id, snap, NULL, errbuf, sizeof(errbuf)),
		   errbuf);
	check_int((long long)id, 3, "numbers are not given again");
	snapshot_free(snap);
}

int main(void)
{
	char p[1024];

	snprintf(root, sizeof(root), "/tmp/wardfs-snap-unit.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	path_of(project, sizeof(project), root, "project");
	path_of(session, sizeof(session), root, "session");
	path_of(upper, sizeof(upper), session, "upper");
	mkdir(project, 0755);
	mkdir(session, 0700);
	mkdir(upper, 0700);
	mkdir_in(project, "d", 0755);
	put(project, "a.txt", "one\ntwo\n");
	put(project, "gone.txt", "bye\n");
	put(project, "d/old", "old\n");

	test_snapshot_snap__restore_apart_and_in_place();
	test_snapshot_snap__restore_paths();
	test_snapshot_snap__list_diff_drop();

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	if (system(p) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return tap_done();
}
