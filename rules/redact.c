/*
 * redact.c - a file shown with its values masked.
 *
 * Each line is tried against the [redact] match regexes, then against
 * the default one (KEY=VALUE, KEY: VALUE, export KEY=VALUE, "key": value,
 * - key: value);
 * the first that matches names the value: its capture group 1 when it
 * has one that took part, else what follows the first '=' or ':' of the
 * line, else the whole line.  The value becomes "***" whatever its length;
 * a quoted value keeps its quotes ("***"), and a quote left open runs on
 * over the next lines, which become "***" too, so a private key pasted
 * into a .env never shows.  Line breaks are kept, so line numbers stay.
 *
 * Masking only adds: a [redact] match from any source masks more, never
 * less.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

const char rules_redact_default[] =
	"^\\s*(?:-\\s+)?(?:export\\s+)?[\"']?[A-Za-z_][A-Za-z0-9_.-]*[\"']?"
	"\\s*[=:]\\s*(.*?)\\s*$";

/* Where the value of line[0..len) is, per masker m: 1, or 0 for none. */
static int find_value(const struct rules_masker *m, const char *line,
		      size_t len, pcre2_match_data *md, size_t *vs, size_t *ve)
{
	PCRE2_SIZE *ov;
	size_t i;
	int rc;

	rc = pcre2_match(m->code, (PCRE2_SPTR)line, len, 0, 0, md, NULL);
	if (rc < 0)
		return 0;
	ov = pcre2_get_ovector_pointer(md);
	if ((rc == 0 || rc >= 2) && ov[2] != PCRE2_UNSET) {
		*vs = ov[2];
		*ve = ov[3];
		return *ve > *vs;
	}
	for (i = 0; i < len && line[i] != '=' && line[i] != ':'; i++)
		;
	i = i < len ? i + 1 : 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	*vs = i;
	*ve = len;
	while (*ve > *vs && (line[*ve - 1] == ' ' || line[*ve - 1] == '\t'))
		(*ve)--;
	return *ve > *vs;
}

/* The closing quote q in line[from..len), or len. */
static size_t closing_quote(const char *line, size_t from, size_t len,
			    char q)
{
	size_t i;

	for (i = from; i < len; i++) {
		if (line[i] == '\\' && q == '"' && i + 1 < len) {
			i++;
			continue;
		}
		if (line[i] == q)
			return i;
	}
	return len;
}

int rules_redact(const struct rules *r, const char *in, size_t len,
		 char **out, size_t *outlen)
{
	struct rules_buf b = RULES_BUF_INIT;
	pcre2_match_data *md;
	size_t pos = 0, end, next, vs = 0, ve = 0, q, k;
	char open = 0;

	*out = NULL;
	*outlen = 0;
	md = pcre2_match_data_create(2, NULL);
	if (!md)
		return -1;
	while (pos < len) {
		const char *line = in + pos, *nl;

		nl = memchr(line, '\n', len - pos);
		next = nl ? (size_t)(nl - line) + 1 : len - pos;
		end = nl ? (size_t)(nl - line) : len - pos;
		if (end > 0 && line[end - 1] == '\r')
			end--;
		if (open) {
			/* in a quoted value that began on an earlier line */
			q = closing_quote(line, 0, end, open);
			rules_buf_adds(&b, "***");
			if (q < end)
				open = 0;
			rules_buf_add(&b, line + q, next - q);
			pos += next;
			continue;
		}
		for (k = 0; k < r->nmaskers; k++)
			if (find_value(&r->maskers[k], line, end, md, &vs, &ve))
				break;
		/* no value, or one that opens a nested block: keep it */
		if (k == r->nmaskers || (ve - vs == 1 && (line[vs] == '{' ||
							  line[vs] == '['))) {
			rules_buf_add(&b, line, next);
			pos += next;
			continue;
		}
		if (line[vs] == '"' || line[vs] == '\'') {
			q = closing_quote(line, vs + 1, end, line[vs]);
			rules_buf_add(&b, line, vs + 1);
			rules_buf_adds(&b, "***");
			if (q == end)
				open = line[vs];
			rules_buf_add(&b, line + q, next - q);
		} else {
			rules_buf_add(&b, line, vs);
			rules_buf_adds(&b, "***");
			rules_buf_add(&b, line + ve, next - ve);
		}
		pos += next;
	}
	pcre2_match_data_free(md);
	if (b.failed) {
		rules_buf_release(&b);
		return -1;
	}
	if (!b.ptr)
		rules_buf_add(&b, "", 0);
	if (b.failed)
		return -1;
	*outlen = b.len;
	*out = b.ptr;
	return 0;
}
