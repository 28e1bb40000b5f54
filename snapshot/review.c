/*
 * review.c - a change set split into files and hunks, and the part of it
 * a person chose, for "wardfs review".
 *
 * A file is one delta of the change set's patch, or several when they
 * share a path (a type change is a deletion and an addition of one path;
 * a rename may take the old path of another).  A text file modified in
 * place has hunks; its chosen part is its base with the chosen hunks
 * applied line by line (the hunks come from the very diff of that base,
 * so they apply exactly, without fuzz), written into the store and
 * handed to the accept as the file's new content.  Every other file is
 * taken or left whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"


#define NO_FILE ((size_t)-1)

struct rfile {
	size_t *deltas;		/* indices in the change set's diff */
	size_t ndeltas, adeltas;
	const char *path;	/* borrowed from the diff */
	git_patch *patch;	/* a file with hunks: its patch, else NULL */
	size_t hunks;		/* the patch's hunks */
	int mode_change;	/* with hunks: choice 0 is the mode change */
	unsigned char *chosen;	/* one per choice; a whole file has one */
	size_t nchoices;
};

struct snapshot_review {
	struct snapshot_changes *c;
	struct rfile *files;
	size_t count, alloc;
	size_t *item_file;	/* per change: its file, or NO_FILE */
};

/* A growing buffer of file content. */
struct obuf {
	char *ptr;
	size_t len, alloc;
};

static int obuf_add(struct obuf *b, const char *p, size_t len)
{
	if (len == 0)
		return 0;
	if (len > b->alloc - b->len) {
		size_t alloc = b->alloc ? b->alloc : 4096;
		char *grown;

		while (len > alloc - b->len) {
			if (alloc > SNAPSHOT_MAX_FILE)
				return -1;
			alloc *= 2;
		}
		grown = realloc(b->ptr, alloc);
		if (!grown)
			return -1;
		b->ptr = grown;
		b->alloc = alloc;
	}
	memcpy(b->ptr + b->len, p, len);
	b->len += len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Splitting */

static size_t item_index(const struct snapshot_changes *c, const char *path)
{
	size_t lo = 0, hi = c->count, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(path, c->items[mid].path);
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NO_FILE;
}

static int add_delta(struct rfile *f, size_t delta)
{
	if (f->ndeltas == f->adeltas) {
		size_t alloc = f->adeltas ? f->adeltas * 2 : 2;
		size_t *grown = realloc(f->deltas, alloc * sizeof(*grown));

		if (!grown)
			return -1;
		f->deltas = grown;
		f->adeltas = alloc;
	}
	f->deltas[f->ndeltas++] = delta;
	return 0;
}

static size_t new_file(struct snapshot_review *r)
{
	if (r->count == r->alloc) {
		size_t alloc = r->alloc ? r->alloc * 2 : 16;
		struct rfile *grown = realloc(r->files,
					      alloc * sizeof(*grown));

		if (!grown)
			return NO_FILE;
		r->files = grown;
		r->alloc = alloc;
	}
	memset(&r->files[r->count], 0, sizeof(r->files[r->count]));
	return r->count++;
}

/* Fold file from into file into (both hold a path of one delta). */
static int merge_files(struct snapshot_review *r, size_t into, size_t from)
{
	struct rfile *src = &r->files[from];
	size_t i;

	for (i = 0; i < src->ndeltas; i++)
		if (add_delta(&r->files[into], src->deltas[i]) < 0)
			return -1;
	src->ndeltas = 0;
	for (i = 0; i < r->c->count; i++)
		if (r->item_file[i] == from)
			r->item_file[i] = into;
	return 0;
}

/* Drop the files emptied by merges; the others keep their order. */
static void compact(struct snapshot_review *r)
{
	size_t i, j = 0, *map;

	map = malloc(r->count * sizeof(*map));
	if (!map)
		return;		/* empty files then stay: they hold nothing */
	for (i = 0; i < r->count; i++) {
		if (r->files[i].ndeltas == 0) {
			free(r->files[i].deltas);
			map[i] = NO_FILE;
			continue;
		}
		map[i] = j;
		r->files[j++] = r->files[i];
	}
	r->count = j;
	for (i = 0; i < r->c->count; i++)
		if (r->item_file[i] != NO_FILE)
			r->item_file[i] = map[r->item_file[i]];
	free(map);
}

static int is_regular(uint32_t mode)
{
	return mode == GIT_FILEMODE_BLOB ||
		mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

/* Give f its hunks when it is one text file modified in place. */
static int split_hunks(struct snapshot_review *r, struct rfile *f)
{
	const git_diff_delta *d;
	git_patch *patch = NULL;
	size_t item;

	if (f->ndeltas != 1)
		return 0;
	d = git_diff_get_delta(r->c->diff, f->deltas[0]);
	if (d->status != GIT_DELTA_MODIFIED ||
	    !is_regular(d->old_file.mode) || !is_regular(d->new_file.mode))
		return 0;
	item = item_index(r->c, d->new_file.path);
	if (item == NO_FILE || !r->c->items[item].base.present)
		return 0;
	if (git_patch_from_diff(&patch, r->c->diff, f->deltas[0]) < 0)
		return -1;
	d = git_patch_get_delta(patch);
	if ((d->flags & GIT_DIFF_FLAG_BINARY) ||
	    git_patch_num_hunks(patch) == 0) {
		git_patch_free(patch);
		return 0;
	}
	f->patch = patch;
	f->hunks = git_patch_num_hunks(patch);
	f->mode_change = d->old_file.mode != d->new_file.mode;
	return 0;
}

static int split(struct snapshot_review *r, char *err, size_t errsz)
{
	struct snapshot_changes *c = r->c;
	size_t d, nd = git_diff_num_deltas(c->diff), i;

	for (d = 0; d < nd; d++) {
		const git_diff_delta *delta = git_diff_get_delta(c->diff, d);
		size_t a = item_index(c, delta->old_file.path);
		size_t b = item_index(c, delta->new_file.path);
		size_t fa, fb, f;

		if (a == NO_FILE)
			a = b;
		if (b == NO_FILE)
			b = a;
		if (a == NO_FILE)
			return snapshot_fail(err, errsz, -1, "cannot review "
					     "'%s': not in the change",
					     delta->new_file.path);
		fa = r->item_file[a];
		fb = r->item_file[b];
		f = fa != NO_FILE ? fa : fb;
		if (f == NO_FILE) {
			f = new_file(r);
			if (f == NO_FILE)
				goto oom;
			r->files[f].path = delta->status == GIT_DELTA_DELETED ?
				delta->old_file.path : delta->new_file.path;
		} else if (fa != NO_FILE && fb != NO_FILE && fa != fb &&
			   merge_files(r, fa, fb) < 0) {
			goto oom;
		}
		if (add_delta(&r->files[f], d) < 0)
			goto oom;
		r->item_file[a] = f;
		r->item_file[b] = f;
	}
	compact(r);
	for (i = 0; i < r->count; i++) {
		struct rfile *f = &r->files[i];

		if (split_hunks(r, f) < 0)
			return snapshot_fail_git(err, errsz, -1, "cannot "
						 "compute the diff of '%s'",
						 f->path);
		f->nchoices = f->patch ? f->hunks + (size_t)f->mode_change :
			1;
		f->chosen = calloc(f->nchoices, 1);
		if (!f->chosen)
			goto oom;
	}
	return 0;
oom:
	return snapshot_fail(err, errsz, -1, "out of memory");
}

int snapshot_review_new(struct snapshot_review **out,
			struct snapshot_changes *c, char *err, size_t errsz)
{
	struct snapshot_review *r;
	size_t i;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return snapshot_fail(err, errsz, -1, "out of memory");
	r->c = c;
	r->item_file = malloc((c->count ? c->count : 1) *
			      sizeof(*r->item_file));
	if (!r->item_file) {
		free(r);
		return snapshot_fail(err, errsz, -1, "out of memory");
	}
	for (i = 0; i < c->count; i++)
		r->item_file[i] = NO_FILE;
	if (split(r, err, errsz) < 0) {
		snapshot_review_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void snapshot_review_free(struct snapshot_review *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++) {
		free(r->files[i].deltas);
		free(r->files[i].chosen);
		git_patch_free(r->files[i].patch);
	}
	free(r->files);
	free(r->item_file);
	free(r);
}

size_t snapshot_review_count(const struct snapshot_review *r)
{
	return r->count;
}

void snapshot_review_file(struct snapshot_review_file *out,
			  const struct snapshot_review *r, size_t file)
{
	const struct rfile *f = &r->files[file];

	out->path = f->path;
	out->hunks = f->patch ? f->nchoices : 0;
	out->mode_change = f->patch ? f->mode_change : 0;
}

void snapshot_review_choose(struct snapshot_review *r, size_t file,
			    size_t hunk, int accept)
{
	struct rfile *f = &r->files[file];

	if (hunk == SNAPSHOT_REVIEW_HEADER) {
		memset(f->chosen, accept ? 1 : 0, f->nchoices);
		return;
	}
	if (hunk < f->nchoices)
		f->chosen[hunk] = accept ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Printing: the printer of diff.c */

static int print_hunk(struct printer *p, git_patch *patch, size_t h)
{
	const git_diff_hunk *hunk;
	const git_diff_line *line;
	size_t n, i;

	if (git_patch_get_hunk(&hunk, &n, patch, h) < 0)
		return -1;
	printer_hunk_header(p, hunk->header, hunk->header_len);
	for (i = 0; i < n; i++) {
		if (git_patch_get_line_in_hunk(&line, patch, h, i) < 0)
			return -1;
		printer_line(p, line);
	}
	return ferror(p->out) ? -1 : 0;
}

int snapshot_review_print(struct snapshot_review *r, size_t file,
			  size_t hunk, int color, FILE *out,
			  char *err, size_t errsz)
{
	struct rfile *f = &r->files[file];
	struct printer p = { out, color, 0 };
	git_patch *patch = NULL;
	size_t i;
	int error = 0;

	if (f->patch && hunk == SNAPSHOT_REVIEW_HEADER) {
		p.header_only = 1;
		error = git_patch_print(f->patch, printer_cb, &p);
	} else if (f->patch) {
		if (hunk >= (size_t)f->mode_change)
			error = print_hunk(&p, f->patch,
					   hunk - (size_t)f->mode_change);
	} else if (hunk == SNAPSHOT_REVIEW_HEADER) {
		for (i = 0; i < f->ndeltas && error == 0; i++) {
			error = git_patch_from_diff(&patch, r->c->diff,
						    f->deltas[i]);
			if (error == 0)
				error = git_patch_print(patch, printer_cb, &p);
			git_patch_free(patch);
			patch = NULL;
		}
	}
	if (error < 0)
		return snapshot_fail_git(err, errsz, -1, "cannot print the "
					 "diff of '%s'", f->path);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The chosen part */

/* The base of f with its chosen hunks applied, into the store. */
static int apply_chosen(struct snapshot_review *r, struct rfile *f,
			const struct change *ch, git_oid *out,
			char *err, size_t errsz)
{
	struct obuf buf = { NULL, 0, 0 };
	const git_diff_hunk *hunk;
	const git_diff_line *line;
	const char *base, *p, *end;
	git_blob *blob = NULL;
	size_t *lines = NULL, nlines = 0, pos = 0, start, n, h, i;
	size_t len;
	int error = -1;

	if (git_blob_lookup(&blob, r->c->snap->store->repo,
			    &ch->base.oid) < 0) {
		error = snapshot_fail_git(err, errsz, -1, "cannot read the "
					  "base of '%s'", f->path);
		goto out;
	}
	base = git_blob_rawcontent(blob);
	len = (size_t)git_blob_rawsize(blob);
	/* lines[i]: where line i starts; lines[nlines]: the end */
	for (p = base, end = base + len; p < end; nlines++) {
		p = memchr(p, '\n', (size_t)(end - p));
		p = p ? p + 1 : end;
	}
	lines = malloc((nlines + 1) * sizeof(*lines));
	if (!lines)
		goto oom;
	for (i = 0, p = base; i < nlines; i++) {
		lines[i] = (size_t)(p - base);
		p = memchr(p, '\n', (size_t)(end - p));
		p = p ? p + 1 : end;
	}
	lines[nlines] = len;
	for (h = 0; h < f->hunks; h++) {
		if (git_patch_get_hunk(&hunk, &n, f->patch, h) < 0) {
			error = snapshot_fail_git(err, errsz, -1, "cannot "
						  "read the diff of '%s'",
						  f->path);
			goto out;
		}
		/* "-0,0" inserts after line 0; "-5,2" replaces lines 5-6 */
		if (hunk->old_start < 0 || hunk->old_lines < 0 ||
		    (hunk->old_lines && hunk->old_start == 0))
			start = NO_FILE;
		else if (hunk->old_lines)
			start = (size_t)hunk->old_start - 1;
		else
			start = (size_t)hunk->old_start;
		if (start == NO_FILE || start < pos || start > nlines ||
		    (size_t)hunk->old_lines > nlines - start) {
			error = snapshot_fail(err, errsz, -1, "cannot split "
					      "the change of '%s': a hunk "
					      "does not match its base",
					      f->path);
			goto out;
		}
		if (obuf_add(&buf, base + lines[pos], lines[start] -
			     lines[pos]) < 0)
			goto oom;
		pos = start + (size_t)hunk->old_lines;
		if (!f->chosen[h + (size_t)f->mode_change]) {
			if (obuf_add(&buf, base + lines[start], lines[pos] -
				     lines[start]) < 0)
				goto oom;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (git_patch_get_line_in_hunk(&line, f->patch, h,
						       i) < 0) {
				error = snapshot_fail_git(err, errsz, -1,
							  "cannot read the "
							  "diff of '%s'",
							  f->path);
				goto out;
			}
			if ((line->origin == GIT_DIFF_LINE_CONTEXT ||
			     line->origin == GIT_DIFF_LINE_ADDITION) &&
			    obuf_add(&buf, line->content,
				     line->content_len) < 0)
				goto oom;
		}
	}
	if (obuf_add(&buf, base + lines[pos], len - lines[pos]) < 0)
		goto oom;
	if (store_write_buf(r->c->snap->store, buf.len ? buf.ptr : "",
			    buf.len, out) < 0) {
		error = snapshot_fail_git(err, errsz, -1, "cannot store the "
					  "accepted part of '%s'", f->path);
		goto out;
	}
	error = 0;
	goto out;
oom:
	error = snapshot_fail(err, errsz, -1, "out of memory");
out:
	free(buf.ptr);
	free(lines);
	git_blob_free(blob);
	return error;
}

/* Make ch (a copy of f's change) hold only what was chosen of f. */
static int choose_part(struct snapshot_review *r, struct rfile *f,
		       struct change *ch, char *err, size_t errsz)
{
	size_t h;
	int all = 1;
	uint32_t mode = ch->base.mode;

	if (f->mode_change && f->chosen[0])
		mode = ch->new.mode;
	for (h = 0; h < f->hunks; h++)
		if (!f->chosen[h + (size_t)f->mode_change])
			all = 0;
	if (!all && apply_chosen(r, f, ch, &ch->new.oid, err, errsz) < 0)
		return -1;
	/* the permission bits follow the mode chosen */
	if (mode != ch->new.mode && mode == GIT_FILEMODE_BLOB_EXECUTABLE)
		ch->perm |= (ch->perm & 0444) >> 2;
	else if (mode != ch->new.mode)
		ch->perm &= ~(mode_t)0111;
	ch->new.mode = mode;
	return 0;
}

int snapshot_review_changes(struct snapshot_changes **out,
			    struct snapshot_review *r,
			    char *err, size_t errsz)
{
	struct snapshot_changes *c = r->c, *part;
	size_t i, k, chosen;
	int error = 0;

	*out = NULL;
	part = calloc(1, sizeof(*part));
	if (!part)
		return snapshot_fail(err, errsz, -1, "out of memory");
	part->snap = c->snap;
	part->items = calloc(c->count ? c->count : 1, sizeof(*part->items));
	if (!part->items) {
		free(part);
		return snapshot_fail(err, errsz, -1, "out of memory");
	}
	part->alloc = c->count;
	for (i = 0; i < c->count && error == 0; i++) {
		struct rfile *f;
		struct change ch;

		if (r->item_file[i] == NO_FILE)
			continue;
		f = &r->files[r->item_file[i]];
		for (k = 0, chosen = 0; k < f->nchoices; k++)
			chosen += f->chosen[k];
		if (chosen == 0)
			continue;
		ch = c->items[i];
		ch.path = strdup(ch.path);
		if (!ch.path) {
			error = snapshot_fail(err, errsz, -1, "out of memory");
			break;
		}
		part->items[part->count++] = ch;
		/* a review takes its time: the project may have changed
		 * meanwhile, and the accept must merge with what it has now */
		if (tree_read_side(c->snap, c->snap->projectfd, ch.path,
				   &part->items[part->count - 1].cur,
				   NULL) < 0)
			error = snapshot_fail_git(err, errsz, -1, "cannot read "
						  "'%s' in the project",
						  ch.path);
		else if (f->patch && chosen < f->nchoices)
			error = choose_part(r, f, &part->items[part->count - 1],
					    err, errsz);
	}
	if (error == 0)
		error = tree_build(part, err, errsz);
	if (error < 0) {
		snapshot_changes_free(part);
		return error;
	}
	*out = part;
	return 0;
}
