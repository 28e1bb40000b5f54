/*
 * snapshot.c - unit tests of the snapshot module (snapshot/snapshot.h),
 * over a hand-made upper layer (no mount).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rules/rules.h"
#include "snapshot/snapshot.h"
#include "tests/unit/tap.h"
#include "rules/banned.h"

static char root[256], project[300], session[300], upper[320];
static char errbuf[4096];

static void put(const char *dir, const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *slurp(const char *dir, const char *rel)
{
	static char buf[4096];
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void sub(char *out, size_t size, const char *dir, const char *rel)
{
	snprintf(out, size, "%s/%s", dir, rel);
}

static struct snapshot *open_snap(const struct rules *r)
{
	struct snapshot_options o = SNAPSHOT_OPTIONS_INIT;
	struct snapshot *snap = NULL;

	o.project = project;
	o.dir = session;
	o.rules = r;
	check_pass(snapshot_open(&snap, &o, errbuf, sizeof(errbuf)), errbuf);
	return snap;
}

static void print_finding(const struct snapshot_finding *f, void *payload)
{
	FILE *out = payload;

	fprintf(out, "%s:%u: %s\n", f->path, f->line, f->gate);
}

static void test_snapshot__capture_and_diff(struct rules *r)
{
	struct snapshot_store *st = NULL;
	struct snapshot_changes *c = NULL;
	struct snapshot *snap;
	char p[1024], *out = NULL;
	size_t len = 0;
	FILE *mem;
	int dirfd;

	check_pass(snapshot_store_open(&st, session, errbuf, sizeof(errbuf)),
		   errbuf);
	/* the daemon captures a.txt before its first change */
	dirfd = open(project, O_PATH | O_DIRECTORY);
	check_int(snapshot_capture_base("a.txt", dirfd, "a.txt", st), 0,
		  "capture the base of a.txt");
	close(dirfd);
	snapshot_store_free(st);
	put(project, "a.txt", "changed in the project meanwhile\n");

	/* the session: a.txt modified, gone.txt deleted, new.txt added,
	 * d/ replaced by an opaque directory, secret .env never shown */
	put(upper, "a.txt", "one\ntwo\nthree\nsession\n");
	sub(p, sizeof(p), upper, "gone.txt");
	check_int(mknod(p, S_IFCHR | 0000, makedev(0, 0)), 0, "whiteout");
	put(upper, "new.txt", "password = \"hunter22hunter\"\n");
	sub(p, sizeof(p), upper, "d");
	mkdir(p, 0755);
	sub(p, sizeof(p), upper, "d/.wh..wh..opq");
	check_int(mknod(p, S_IFCHR | 0000, makedev(0, 0)), 0, "opaque");
	put(upper, "d/fresh", "fresh\n");

	snap = open_snap(r);
	check_pass(snapshot_changes(&c, snap, NULL, 0, errbuf, sizeof(errbuf)),
		   errbuf);
	mem = open_memstream(&out, &len);
	check_pass(snapshot_print(c, SNAPSHOT_NAME_STATUS, 0, mem, errbuf,
				  sizeof(errbuf)), errbuf);
	fclose(mem);
	check_str(out, "M\ta.txt\nA\td/fresh\nD\td/old\nD\tgone.txt\n"
		  "A\tnew.txt\n", "name-status of the session");
	free(out);
	out = NULL;

	mem = open_memstream(&out, &len);
	check_pass(snapshot_print(c, SNAPSHOT_PATCH, 0, mem, errbuf,
				  sizeof(errbuf)), errbuf);
	fclose(mem);
	check(out && strstr(out, "@@ -1,3 +1,4 @@\n one\n two\n three\n"
			    "+session\n"), "the base is the captured content");
	check(out && !strstr(out, "SECRET"), "hidden files never shown");
	free(out);
	out = NULL;

	mem = open_memstream(&out, &len);
	check_int(snapshot_check(c, print_finding, mem, errbuf,
				 sizeof(errbuf)), 1, "one finding");
	fclose(mem);
	check_str(out, "new.txt:1: secret\n", "the secret gate");
	free(out);
	snapshot_changes_free(c);
	snapshot_free(snap);
}

static void event(enum snapshot_event ev, const char *path, const char *msg,
		  void *payload)
{
	int *conflicts = payload;

	(void)path;
	(void)msg;
	if (ev == SNAPSHOT_CONFLICT)
		(*conflicts)++;
}

static void test_snapshot__accept(struct rules *r)
{
	struct snapshot_accept_options ao = SNAPSHOT_ACCEPT_OPTIONS_INIT;
	struct snapshot_changes *c = NULL;
	struct snapshot *snap = open_snap(r);
	const char *only[] = { "a.txt" };
	int conflicts = 0;
	struct stat sb;
	char p[1024];

	ao.event = event;
	ao.payload = &conflicts;
	check_pass(snapshot_changes(&c, snap, only, 1, errbuf,
				    sizeof(errbuf)), errbuf);
	check_int(snapshot_accept(snap, c, &ao, errbuf, sizeof(errbuf)),
		  SNAPSHOT_ECONFLICT, "a.txt conflicts with the project");
	check_int(conflicts, 1, "one conflict reported");
	check_str(slurp(project, "a.txt"), "changed in the project "
		  "meanwhile\n", "nothing applied");
	snapshot_changes_free(c);
	c = NULL;

	put(project, "a.txt", "one\ntwo\nthree\n");
	check_pass(snapshot_changes(&c, snap, NULL, 0, errbuf, sizeof(errbuf)),
		   errbuf);
	check_pass(snapshot_accept(snap, c, &ao, errbuf, sizeof(errbuf)),
		   errbuf);
	check_str(slurp(project, "a.txt"), "one\ntwo\nthree\nsession\n",
		  "a.txt accepted");
	check_str(slurp(project, "d/fresh"), "fresh\n", "d/fresh accepted");
	check(!slurp(project, "d/old"), "d/old deleted");
	check(!slurp(project, "gone.txt"), "gone.txt deleted");
	check_str(slurp(project, "d/.env"), "SECRET=1\n", "hidden file kept");
	sub(p, sizeof(p), upper, "a.txt");
	check(lstat(p, &sb) < 0, "a.txt left the session");
	sub(p, sizeof(p), session, "accept.journal");
	check(lstat(p, &sb) < 0, "no journal left");
	snapshot_changes_free(c);
	snapshot_free(snap);
}

static void test_snapshot__journal_rolls_forward(struct rules *r)
{
	struct snapshot_store *st = NULL;
	struct snapshot *snap;
	char p[1024];
	FILE *f;
	struct stat sb;
	int dirfd;

	/* the blob "hello\n" in the store, as an accept would have left it */
	put(root, "hello", "hello\n");
	check_pass(snapshot_store_open(&st, session, errbuf, sizeof(errbuf)),
		   errbuf);
	dirfd = open(root, O_PATH | O_DIRECTORY);
	check_int(snapshot_capture_base("x", dirfd, "hello", st), 0,
		  "store a blob");
	close(dirfd);
	snapshot_store_free(st);
	/* an interrupted accept: the journal, and a temporary left */
	sub(p, sizeof(p), session, "accept.journal");
	f = fopen(p, "w");
	if (!f)
		return;
	fprintf(f, "wardfs-accept 1%cW 100644 0644 "
		"ce013625030ba8dba906f756967f9e9ca394464a 000000 "
		"0000000000000000000000000000000000000000 sub/rolled.txt%c"
		"D 000000 0000 0000000000000000000000000000000000000000 000000 "
		"0000000000000000000000000000000000000000 a.txt%cend%c",
		'\0', '\0', '\0', '\0');
	fclose(f);
	sub(p, sizeof(p), project, "sub");
	mkdir(p, 0755);
	put(project, "sub/.wardfs-accept-0.tmp", "hel");
	snap = open_snap(r);
	check_str(slurp(project, "sub/rolled.txt"), "hello\n",
		  "the write rolled forward");
	check(!slurp(project, "a.txt"), "the deletion rolled forward");
	check(!slurp(project, "sub/.wardfs-accept-0.tmp"),
	      "no temporary left");
	sub(p, sizeof(p), session, "accept.journal");
	check(lstat(p, &sb) < 0, "journal removed");
	snapshot_free(snap);
}

int main(void)
{
	struct rules_config cfg = RULES_CONFIG_INIT;
	struct rules *r = NULL;
	char p[1024];

	snprintf(root, sizeof(root), "/tmp/wardfs-snapshot-unit.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	sub(project, sizeof(project), root, "project");
	sub(session, sizeof(session), root, "session");
	sub(upper, sizeof(upper), session, "upper");
	mkdir(project, 0755);
	mkdir(session, 0700);
	mkdir(upper, 0700);
	sub(p, sizeof(p), project, "d");
	mkdir(p, 0755);
	put(project, "a.txt", "one\ntwo\nthree\n");
	put(project, "gone.txt", "bye\n");
	put(project, "d/old", "old\n");
	put(project, "d/.env", "SECRET=1\n");
	cfg.project = project;
	cfg.user_file = "";
	check_pass(rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf)),
		   errbuf);

	test_snapshot__capture_and_diff(r);
	test_snapshot__accept(r);
	test_snapshot__journal_rolls_forward(r);

	rules_free(r);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	if (system(p) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return tap_done();
}
