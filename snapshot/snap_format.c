/*
 * snap_format.c - the format of a snapshot, and the chain of them.
 *
 * Format.  Snapshot N is a commit on refs/wardfs/snapshots whose parent is
 * the snapshot before it (none for the oldest), with the user's message.
 * Its tree holds:
 *
 *   info   text lines: "wardfs-snapshot 1", "id N", "changed C" (paths
 *          changed since the snapshot before it)
 *   meta   NUL-terminated records, the entries sorted by path (so a
 *          directory comes before what it holds):
 *            "e <st_mode> <uid> <gid> <mtime> <ctime> <ino> <size> <oid>
 *             <path>"          one entry of the upper layer: st_mode in
 *                              octal, times "<sec>.<nsec>", oid the hex id
 *                              of the content ("-" for none); the root's
 *                              path is empty
 *            "x <name> <value>" an extended attribute (both in hex) of the
 *                              entry before it; user.wardfs.origin among
 *                              them keeps st_ino stable across a restore
 *            "b <oid> <mode> <path>"  the base of a path (as in the base
 *                              log), so a restore brings the review back
 *   blobs  a tree holding every blob the records name, under its hex id
 *          (keeps them reachable; the layer is not mirrored as a tree,
 *          since git refuses names an upper may hold, such as ".git")
 *
 * The st_mode of an entry gives its type: 100644 or 100755 a file (oid:
 * its content), 120777 a symlink (oid: its target), 040755 a directory,
 * 020000 a whiteout (a character device 0/0, the opaque marker
 * ".wh..wh..opq" of a directory included), 010644 a fifo, 140755 a
 * socket.  Readers skip records of a kind they do not know.  The store's
 * file wardfs-snapshot-seq holds the last number given, so that a
 * dropped snapshot's number is not given again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

/* Largest meta record list read (a limit on outside input). */
#define SNAP_MAX_META ((size_t)512 << 20)

/* ------------------------------------------------------------------ */
/* Encoding */

static void put_hex(FILE *f, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
}

static void put_time(FILE *f, const struct timespec *t)
{
	fprintf(f, "%" PRId64 ".%09ld", (int64_t)t->tv_sec, t->tv_nsec);
}

/* The meta records of st into *out (malloc'ed), *len bytes. */
static int encode_meta(const struct snap_state *st, char **out, size_t *len)
{
	char hex[GIT_OID_HEXSZ + 1];
	FILE *f;
	size_t i, j;

	*out = NULL;
	f = open_memstream(out, len);
	if (!f)
		return -1;
	for (i = 0; i < st->count; i++) {
		const struct snap_entry *e = &st->entries[i];

		if (snap_has_content(e->mode))
			git_oid_tostr(hex, sizeof(hex), &e->oid);
		else
			memcpy(hex, "-", 2);
		fprintf(f, "e %06o %u %u ", (unsigned)e->mode,
			(unsigned)e->uid, (unsigned)e->gid);
		put_time(f, &e->mtime);
		fputc(' ', f);
		put_time(f, &e->ctime);
		fprintf(f, " %" PRIu64 " %" PRIu64 " %s %s", e->ino, e->size,
			hex, e->path);
		fputc('\0', f);
		for (j = 0; j < e->nxattrs; j++) {
			fputs("x ", f);
			put_hex(f, (const unsigned char *)e->xattrs[j].name,
				strlen(e->xattrs[j].name));
			fputc(' ', f);
			put_hex(f, e->xattrs[j].value, e->xattrs[j].len);
			fputc('\0', f);
		}
	}
	for (i = 0; i < st->nbases; i++) {
		git_oid_tostr(hex, sizeof(hex), &st->bases[i].side.oid);
		fprintf(f, "b %s %06o %s", hex,
			(unsigned)st->bases[i].side.mode, st->bases[i].path);
		fputc('\0', f);
	}
	if (ferror(f)) {
		fclose(f);
		free(*out);
		*out = NULL;
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Decoding */

/* A number in base at *p, followed by sep (or the end when sep is 0). */
static int get_num(const char **p, int base, char sep, uint64_t *out)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	*out = strtoull(*p, &end, base);
	if (errno || *end != sep)
		return -1;
	*p = sep ? end + 1 : end;
	return 0;
}

static int get_time(const char **p, struct timespec *out)
{
	uint64_t sec, nsec;

	if (get_num(p, 10, '.', &sec) < 0 || get_num(p, 10, ' ', &nsec) < 0 ||
	    nsec >= 1000000000)
		return -1;
	out->tv_sec = (time_t)sec;
	out->tv_nsec = (long)nsec;
	return 0;
}

static int get_oid(const char **p, git_oid *out)
{
	if (strlen(*p) < GIT_OID_HEXSZ + 1 || (*p)[GIT_OID_HEXSZ] != ' ' ||
	    git_oid_fromstrn(out, *p, GIT_OID_HEXSZ) < 0)
		return -1;
	*p += GIT_OID_HEXSZ + 1;
	return 0;
}

static int parse_entry(struct snap_state *st, const char *p)
{
	uint64_t mode, uid, gid, ino, size;
	struct snap_entry e;

	memset(&e, 0, sizeof(e));
	if (get_num(&p, 8, ' ', &mode) < 0 || get_num(&p, 10, ' ', &uid) < 0 ||
	    get_num(&p, 10, ' ', &gid) < 0 || get_time(&p, &e.mtime) < 0 ||
	    get_time(&p, &e.ctime) < 0 || get_num(&p, 10, ' ', &ino) < 0 ||
	    get_num(&p, 10, ' ', &size) < 0)
		return -1;
	e.mode = (mode_t)mode;
	e.uid = (uid_t)uid;
	e.gid = (gid_t)gid;
	e.ino = ino;
	e.size = size;
	if (snap_has_content(e.mode)) {
		if (get_oid(&p, &e.oid) < 0)
			return -1;
	} else {
		if (p[0] != '-' || p[1] != ' ')
			return -1;
		p += 2;
	}
	if (!S_ISREG(e.mode) && !S_ISLNK(e.mode) && !S_ISDIR(e.mode) &&
	    !S_ISCHR(e.mode) && !S_ISFIFO(e.mode) && !S_ISSOCK(e.mode))
		return 0;	/* a type this version does not know */
	if (snap_state_add(st) == NULL)
		return -1;
	e.path = strdup(p);
	if (!e.path) {
		st->count--;
		return -1;
	}
	st->entries[st->count - 1] = e;
	return 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* len bytes from 2 * len hex digits at p. */
static int unhex(unsigned char *out, const char *p, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		hi = nibble(p[2 * i]);
		lo = nibble(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int parse_xattr(struct snap_state *st, const char *p)
{
	const char *space = strchr(p, ' ');
	struct snap_xattr x, *grown;
	struct snap_entry *e;
	size_t nlen, vlen;
	int error = -1;

	if (!st->count || !space || (space - p) % 2 || strlen(space + 1) % 2)
		return -1;
	e = &st->entries[st->count - 1];
	nlen = (size_t)(space - p) / 2;
	vlen = strlen(space + 1) / 2;
	x.name = calloc(1, nlen + 1);
	x.value = malloc(vlen ? vlen : 1);
	x.len = vlen;
	if (!x.name || !x.value ||
	    unhex((unsigned char *)x.name, p, nlen) < 0 ||
	    strlen(x.name) != nlen || unhex(x.value, space + 1, vlen) < 0)
		goto out;
	grown = realloc(e->xattrs, (e->nxattrs + 1) * sizeof(*grown));
	if (!grown)
		goto out;
	e->xattrs = grown;
	e->xattrs[e->nxattrs++] = x;
	x.name = NULL;
	x.value = NULL;
	error = 0;
out:
	free(x.name);
	free(x.value);
	return error;
}

static int parse_base(struct snap_state *st, size_t *alloc, const char *p)
{
	struct side side;
	uint64_t mode;

	memset(&side, 0, sizeof(side));
	if (get_oid(&p, &side.oid) < 0 || get_num(&p, 8, ' ', &mode) < 0)
		return -1;
	side.present = 1;
	side.mode = (uint32_t)mode;
	return snap_state_add_base(st, alloc, p, &side);
}

static int parse_meta(struct snap_state *st, const char *data, size_t len)
{
	const char *p, *end;
	size_t alloc = 0;
	int rc;

	for (p = data; p < data + len; p = end + 1) {
		end = memchr(p, '\0', (size_t)(data + len - p));
		if (!end)
			return -1;
		if (p[0] && p[1] != ' ')
			return -1;
		switch (p[0]) {
		case 'e':
			rc = parse_entry(st, p + 2);
			break;
		case 'x':
			rc = parse_xattr(st, p + 2);
			break;
		case 'b':
			rc = parse_base(st, &alloc, p + 2);
			break;
		default:
			rc = 0;	/* a record this version does not know */
			break;
		}
		if (rc < 0)
			return -1;
	}
	snap_state_sort(st);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The chain of commits */

static int read_blob_at(git_blob **out, git_repository *repo,
			const git_tree *tree, const char *name)
{
	const git_tree_entry *te = git_tree_entry_byname(tree, name);

	*out = NULL;
	if (!te || git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		return -1;
	return git_blob_lookup(out, repo, git_tree_entry_id(te));
}

static int read_info(git_repository *repo, git_commit *commit,
		     struct snap_info *out)
{
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	char buf[256], *line, *nl;
	size_t len;
	int error = -1, magic = 0;

	memset(out, 0, sizeof(*out));
	if (git_commit_tree(&tree, commit) < 0 ||
	    read_blob_at(&blob, repo, tree, "info") < 0)
		goto out;
	len = (size_t)git_blob_rawsize(blob);
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, git_blob_rawcontent(blob), len);
	buf[len] = '\0';
	for (line = buf; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (strcmp(line, "wardfs-snapshot 1") == 0)
			magic = 1;
		else if (strncmp(line, "id ", 3) == 0)
			out->id = strtoul(line + 3, NULL, 10);
		else if (strncmp(line, "changed ", 8) == 0)
			out->changed = (size_t)strtoull(line + 8, NULL, 10);
	}
	if (magic && out->id > 0)
		error = 0;
out:
	if (error < 0)
		git_error_set_str(GIT_ERROR_INVALID, "not a wardfs snapshot");
	git_blob_free(blob);
	git_tree_free(tree);
	return error;
}

void snap_chain_free(struct snap_chain *c)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		git_commit_free(c->commits[i]);
	free(c->commits);
	free(c->infos);
	memset(c, 0, sizeof(*c));
}

int snap_chain_read(struct snap_chain *out, struct snapshot *snap,
		    char *err, size_t errsz)
{
	git_repository *repo = snap->store->repo;
	git_commit *commit = NULL, *parent;
	size_t alloc = 0;
	git_oid oid;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = git_reference_name_to_id(&oid, repo, SNAP_REF);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0 || git_commit_lookup(&commit, repo, &oid) < 0)
		goto fail;
	while (commit) {
		if (out->count == alloc) {
			size_t n = alloc ? alloc * 2 : 16;
			git_commit **c = realloc(out->commits, n * sizeof(*c));
			struct snap_info *in;

			if (!c)
				goto oom;
			out->commits = c;
			in = realloc(out->infos, n * sizeof(*in));
			if (!in)
				goto oom;
			out->infos = in;
			alloc = n;
		}
		if (read_info(repo, commit, &out->infos[out->count]) < 0)
			goto fail;
		out->commits[out->count++] = commit;
		parent = NULL;
		if (git_commit_parentcount(commit) > 0 &&
		    git_commit_parent(&parent, commit, 0) < 0) {
			commit = NULL;
			goto fail;
		}
		commit = parent;
	}
	return 0;
oom:
	git_commit_free(commit);
	snap_chain_free(out);
	return snapshot_fail(err, errsz, -1, "out of memory");
fail:
	git_commit_free(commit);
	snap_chain_free(out);
	return snapshot_fail_git(err, errsz, -1, "cannot read the snapshots "
				 "in '%s'", snap->store->dir);
}

/* Read the state commit records into out. */
int snap_load_commit(struct snap_state *out, struct snapshot *snap,
		     git_commit *commit, const struct snap_info *info,
		     char *err, size_t errsz)
{
	git_repository *repo = snap->store->repo;
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	int error = -1;

	memset(out, 0, sizeof(*out));
	out->id = info->id;
	out->changed = info->changed;
	out->time = (int64_t)git_commit_time(commit);
	if (git_commit_tree(&tree, commit) < 0 ||
	    read_blob_at(&blob, repo, tree, "meta") < 0) {
		error = snapshot_fail_git(err, errsz, -1, "cannot read "
					  "snapshot %lu", info->id);
		goto out;
	}
	if ((size_t)git_blob_rawsize(blob) > SNAP_MAX_META) {
		error = snapshot_fail(err, errsz, -1, "cannot read snapshot "
				      "%lu: larger than %zu bytes", info->id,
				      SNAP_MAX_META);
		goto out;
	}
	if (parse_meta(out, git_blob_rawcontent(blob),
		       (size_t)git_blob_rawsize(blob)) < 0) {
		error = snapshot_fail(err, errsz, -1, "cannot read snapshot "
				      "%lu: its records are damaged", info->id);
		goto out;
	}
	error = 0;
out:
	if (error < 0)
		snap_state_clear(out);
	git_blob_free(blob);
	git_tree_free(tree);
	return error;
}

int snap_latest(struct snap_state *out, struct snapshot *snap,
		char *err, size_t errsz)
{
	struct snap_chain c;
	int error;

	memset(out, 0, sizeof(*out));
	error = snap_chain_read(&c, snap, err, errsz);
	if (error < 0 || c.count == 0)
		return error;
	error = snap_load_commit(out, snap, c.commits[0], &c.infos[0], err,
				 errsz);
	snap_chain_free(&c);
	return error;
}

int snap_load(struct snap_state *out, struct snapshot *snap,
	      unsigned long id, char *err, size_t errsz)
{
	struct snap_chain c;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	error = snap_chain_read(&c, snap, err, errsz);
	if (error < 0)
		return error;
	error = snapshot_fail(err, errsz, -1, "there is no snapshot %lu", id);
	for (i = 0; i < c.count; i++) {
		if (c.infos[i].id != id)
			continue;
		error = snap_load_commit(out, snap, c.commits[i], &c.infos[i],
					 err, errsz);
		break;
	}
	snap_chain_free(&c);
	return error;
}

/* ------------------------------------------------------------------ */
/* Numbers */

static char *seq_path(struct snapshot *snap)
{
	return path_join2(snap->store->dir, SNAP_SEQ);
}

unsigned long snap_seq_read(struct snapshot *snap)
{
	char *path = seq_path(snap), buf[32];
	unsigned long n = 0;
	FILE *f;

	f = path ? fopen(path, "re") : NULL;
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			n = strtoul(buf, NULL, 10);
		fclose(f);
	}
	free(path);
	return n;
}

/* Record n as the last number given: temporary, fsync, rename. */
int snap_seq_write(struct snapshot *snap, unsigned long n)
{
	char *path = seq_path(snap), *tmp = NULL;
	FILE *f = NULL;
	int error = -1;

	if (!path)
		return -1;
	tmp = path_join2(snap->store->dir, SNAP_SEQ ".tmp");
	if (!tmp)
		goto out;
	f = fopen(tmp, "we");
	if (!f)
		goto out;
	fprintf(f, "%lu\n", n);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	if (rename(tmp, path) < 0)
		goto out;
	error = 0;
out:
	if (f)
		fclose(f);
	if (error < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(path);
	return error;
}

static int insert(git_treebuilder *tb, const char *name, const git_oid *oid,
		  git_filemode_t mode)
{
	return git_treebuilder_insert(NULL, tb, name, oid, mode);
}

/* The tree of a snapshot: info, meta, blobs. */
static int write_tree(struct snapshot *snap, const struct snap_state *st,
		      git_oid *out)
{
	git_repository *repo = snap->store->repo;
	git_treebuilder *blobs = NULL, *root = NULL;
	char hex[GIT_OID_HEXSZ + 1], info[128], *meta = NULL;
	size_t len = 0, i;
	git_oid oid;
	int error = -1;

	if (encode_meta(st, &meta, &len) < 0) {
		git_error_set_oom();
		goto out;
	}
	if (git_treebuilder_new(&root, repo, NULL) < 0 ||
	    git_treebuilder_new(&blobs, repo, NULL) < 0)
		goto out;
	if (git_odb_write(&oid, snap->store->odb, meta, len,
			  GIT_OBJECT_BLOB) < 0 ||
	    insert(root, "meta", &oid, GIT_FILEMODE_BLOB) < 0)
		goto out;
	snprintf(info, sizeof(info), "wardfs-snapshot 1\nid %lu\n"
		 "changed %zu\n", st->id, st->changed);
	if (git_odb_write(&oid, snap->store->odb, info, strlen(info),
			  GIT_OBJECT_BLOB) < 0 ||
	    insert(root, "info", &oid, GIT_FILEMODE_BLOB) < 0)
		goto out;
	for (i = 0; i < st->count; i++) {
		if (!snap_has_content(st->entries[i].mode))
			continue;
		git_oid_tostr(hex, sizeof(hex), &st->entries[i].oid);
		if (insert(blobs, hex, &st->entries[i].oid,
			   GIT_FILEMODE_BLOB) < 0)
			goto out;
	}
	for (i = 0; i < st->nbases; i++) {
		git_oid_tostr(hex, sizeof(hex), &st->bases[i].side.oid);
		if (git_odb_exists(snap->store->odb, &st->bases[i].side.oid) &&
		    insert(blobs, hex, &st->bases[i].side.oid,
			   GIT_FILEMODE_BLOB) < 0)
			goto out;
	}
	if (git_treebuilder_entrycount(blobs) > 0 &&
	    (git_treebuilder_write(&oid, blobs) < 0 ||
	     insert(root, "blobs", &oid, GIT_FILEMODE_TREE) < 0))
		goto out;
	error = git_treebuilder_write(out, root);
out:
	git_treebuilder_free(blobs);
	git_treebuilder_free(root);
	free(meta);
	return error;
}

int snap_write_commit(struct snapshot *snap, const struct snap_state *st,
		      const char *message, git_commit *parent,
		      char *err, size_t errsz)
{
	git_repository *repo = snap->store->repo;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	const git_commit *parents[1] = { parent };
	char *msg = NULL;
	git_oid oid;
	size_t len = strlen(message);
	int error = -1;

	msg = malloc(len + 2);
	if (!msg)
		return snapshot_fail(err, errsz, -1, "out of memory");
	memcpy(msg, message, len + 1);
	if (!len || msg[len - 1] != '\n')
		memcpy(msg + len, "\n", 2);
	if (write_tree(snap, st, &oid) < 0 ||
	    git_tree_lookup(&tree, repo, &oid) < 0 ||
	    git_signature_now(&sig, "wardfs", "wardfs@localhost") < 0 ||
	    git_commit_create(&oid, repo, SNAP_REF, sig, sig, NULL, msg, tree,
			      parent ? 1 : 0, parents) < 0) {
		error = snapshot_fail_git(err, errsz, -1, "cannot write "
					  "snapshot %lu", st->id);
		goto out;
	}
	error = 0;
out:
	git_signature_free(sig);
	git_tree_free(tree);
	free(msg);
	return error;
}
