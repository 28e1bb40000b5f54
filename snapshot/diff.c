/*
 * diff.c - printing a change set: patch, stat, name-status, JSON.
 *
 * The patch is libgit2's own (git_diff_print), so modes, renames, binary
 * files, symlinks, new and deleted files come out as git prints them and
 * "git apply" takes them.
 */
#include <stdio.h>
#include <string.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

#define COLOR_META "\033[1m"
#define COLOR_FRAG "\033[36m"
#define COLOR_OLD "\033[31m"
#define COLOR_NEW "\033[32m"
#define COLOR_RESET "\033[m"

/* Print len bytes of s, colour col around it but not its newline. */
static void colored(struct printer *p, const char *col, char origin,
		    const char *s, size_t len)
{
	int nl = len && s[len - 1] == '\n';

	if (p->color && col)
		fputs(col, p->out);
	if (origin)
		fputc(origin, p->out);
	fwrite(s, 1, len - (size_t)nl, p->out);
	if (p->color && col)
		fputs(COLOR_RESET, p->out);
	if (nl)
		fputc('\n', p->out);
}

/* A file header: every line in the meta colour. */
static void print_header(struct printer *p, const char *s, size_t len)
{
	const char *end = s + len, *nl;

	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		nl = nl ? nl + 1 : end;
		colored(p, COLOR_META, 0, s, (size_t)(nl - s));
		s = nl;
	}
}

void printer_hunk_header(struct printer *p, const char *s, size_t len)
{
	const char *close = len > 2 ? memmem(s + 2, len - 2, "@@", 2) : NULL;
	size_t head;

	if (!close || !p->color) {
		colored(p, p->color ? COLOR_FRAG : NULL, 0, s, len);
		return;
	}
	head = (size_t)(close + 2 - s);
	colored(p, COLOR_FRAG, 0, s, head);
	fwrite(s + head, 1, len - head, p->out);
}

void printer_line(struct printer *p, const git_diff_line *line)
{
	switch (line->origin) {
	case GIT_DIFF_LINE_CONTEXT:
		colored(p, NULL, ' ', line->content, line->content_len);
		break;
	case GIT_DIFF_LINE_ADDITION:
		colored(p, COLOR_NEW, '+', line->content, line->content_len);
		break;
	case GIT_DIFF_LINE_DELETION:
		colored(p, COLOR_OLD, '-', line->content, line->content_len);
		break;
	case GIT_DIFF_LINE_FILE_HDR:
		print_header(p, line->content, line->content_len);
		break;
	case GIT_DIFF_LINE_HUNK_HDR:
		printer_hunk_header(p, line->content, line->content_len);
		break;
	default:
		/* "\ No newline at end of file", binary patches */
		fwrite(line->content, 1, line->content_len, p->out);
		break;
	}
}

int printer_cb(const git_diff_delta *delta, const git_diff_hunk *hunk,
	       const git_diff_line *line, void *payload)
{
	struct printer *p = payload;

	(void)delta;
	(void)hunk;
	if (!p->header_only || line->origin == GIT_DIFF_LINE_FILE_HDR)
		printer_line(p, line);
	return ferror(p->out) ? -1 : 0;
}

static const char *status_name(git_delta_t status)
{
	if (status == GIT_DELTA_ADDED)
		return "added";
	if (status == GIT_DELTA_DELETED)
		return "deleted";
	if (status == GIT_DELTA_RENAMED)
		return "renamed";
	if (status == GIT_DELTA_COPIED)
		return "copied";
	if (status == GIT_DELTA_TYPECHANGE)
		return "typechange";
	return "modified";
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else if (ch == '\t')
			fputs("\\t", out);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static int print_json(struct snapshot_changes *c, FILE *out, char *err,
		      size_t errsz)
{
	size_t i, n = git_diff_num_deltas(c->diff), adds, dels;

	fputc('[', out);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d;
		git_patch *patch = NULL;

		if (git_patch_from_diff(&patch, c->diff, i) < 0)
			return snapshot_fail_git(err, errsz, -1, "cannot "
						 "compute the diff");
		d = git_patch_get_delta(patch);
		adds = dels = 0;
		git_patch_line_stats(NULL, &adds, &dels, patch);
		fputs(i ? ",\n  {" : "\n  {", out);
		fputs("\"path\": ", out);
		json_string(out, d->status == GIT_DELTA_DELETED ?
			    d->old_file.path : d->new_file.path);
		fprintf(out, ", \"status\": \"%s\"", status_name(d->status));
		if (d->status == GIT_DELTA_RENAMED ||
		    d->status == GIT_DELTA_COPIED) {
			fputs(", \"old_path\": ", out);
			json_string(out, d->old_file.path);
		}
		fprintf(out, ", \"binary\": %s, \"additions\": %zu, "
			"\"deletions\": %zu}",
			(d->flags & GIT_DIFF_FLAG_BINARY) ? "true" : "false",
			adds, dels);
		git_patch_free(patch);
	}
	fputs(n ? "\n]\n" : "]\n", out);
	return 0;
}

static int print_name_status(struct snapshot_changes *c, FILE *out)
{
	size_t i, n = git_diff_num_deltas(c->diff);

	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(c->diff, i);
		char st = git_diff_status_char(d->status);

		if (d->status == GIT_DELTA_RENAMED ||
		    d->status == GIT_DELTA_COPIED)
			fprintf(out, "%c%03u\t%s\t%s\n", st, d->similarity,
				d->old_file.path, d->new_file.path);
		else
			fprintf(out, "%c\t%s\n", st,
				d->status == GIT_DELTA_DELETED ?
				d->old_file.path : d->new_file.path);
	}
	return 0;
}

static int print_stat(struct snapshot_changes *c, FILE *out, char *err,
		      size_t errsz)
{
	git_diff_stats *stats = NULL;
	git_buf buf = GIT_BUF_INIT;
	int error = 0;

	if (git_diff_num_deltas(c->diff) == 0)
		return 0;
	if (git_diff_get_stats(&stats, c->diff) < 0 ||
	    git_diff_stats_to_buf(&buf, stats, GIT_DIFF_STATS_FULL |
				  GIT_DIFF_STATS_INCLUDE_SUMMARY, 80) < 0)
		error = snapshot_fail_git(err, errsz, -1, "cannot compute the "
					  "diffstat");
	else
		fwrite(buf.ptr, 1, buf.size, out);
	git_buf_dispose(&buf);
	git_diff_stats_free(stats);
	return error;
}

int snapshot_print(struct snapshot_changes *c, enum snapshot_format fmt,
		   int color, FILE *out, char *err, size_t errsz)
{
	struct printer p = { out, color, 0 };
	int error = 0;

	switch (fmt) {
	case SNAPSHOT_PATCH:
		if (git_diff_print(c->diff, GIT_DIFF_FORMAT_PATCH, printer_cb,
				   &p) < 0)
			error = snapshot_fail_git(err, errsz, -1, "cannot "
						  "print the diff");
		break;
	case SNAPSHOT_STAT:
		error = print_stat(c, out, err, errsz);
		break;
	case SNAPSHOT_NAME_STATUS:
		error = print_name_status(c, out);
		break;
	case SNAPSHOT_JSON:
		error = print_json(c, out, err, errsz);
		break;
	}
	return error;
}
