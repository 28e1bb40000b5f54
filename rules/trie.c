/*
 * trie.c - many regexes sharing their prefixes.
 *
 * A backtracking engine tries the branches of an alternation one by one:
 * 200 rules cost 200 attempts at every position.  Merged on common
 * atoms, "\.env(?:/|\z)", "\.env\.[^/]+(?:/|\z)" and "\.ssh/" become
 * "\.(?:env(?:(?:/|\z)|\.[^/]+(?:/|\z))|ssh/)", and a position costs one
 * attempt per distinct first atom.  Used where only "does any rule
 * match?" is asked: the alternatives lose their order and marks.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

struct rules_trie {
	const char *atom;	/* borrowed; NULL at the root */
	size_t len;
	struct rules_trie **kids;
	size_t nkids;
	int end;		/* a sequence ends here */
};

struct rules_trie *rules_trie_new(void)
{
	return calloc(1, sizeof(struct rules_trie));
}

static struct rules_trie *kid(struct rules_trie *t, const char *atom,
			      size_t len)
{
	struct rules_trie **kids, *k;
	size_t i;

	for (i = 0; i < t->nkids; i++)
		if (t->kids[i]->len == len &&
		    memcmp(t->kids[i]->atom, atom, len) == 0)
			return t->kids[i];
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	kids = realloc(t->kids, (t->nkids + 1) * sizeof(*kids));
	if (!kids) {
		free(k);
		return NULL;
	}
	k->atom = atom;
	k->len = len;
	t->kids = kids;
	t->kids[t->nkids++] = k;
	return k;
}

int rules_trie_add(struct rules_trie *t, const char *seq)
{
	const char *sep;

	while (*seq) {
		sep = strchr(seq, RULES_GLOB_SEP);
		if (!sep)
			sep = seq + strlen(seq);
		if (sep > seq) {
			t = kid(t, seq, (size_t)(sep - seq));
			if (!t)
				return -1;
		}
		seq = *sep ? sep + 1 : sep;
	}
	t->end = 1;
	return 0;
}

/* What follows t's atom. */
static void render_rest(struct rules_buf *b, const struct rules_trie *t)
{
	size_t i;

	while (t->nkids == 1 && !t->end) {
		t = t->kids[0];
		rules_buf_add(b, t->atom, t->len);
	}
	if (t->nkids == 0)
		return;
	rules_buf_adds(b, "(?:");
	for (i = 0; i < t->nkids; i++) {
		if (i > 0)
			rules_buf_addc(b, '|');
		rules_buf_add(b, t->kids[i]->atom, t->kids[i]->len);
		render_rest(b, t->kids[i]);
	}
	/* a sequence that ends here: the empty branch, tried last */
	if (t->end)
		rules_buf_addc(b, '|');
	rules_buf_addc(b, ')');
}

void rules_trie_render(struct rules_buf *b, const struct rules_trie *t)
{
	render_rest(b, t);
}

void rules_trie_free(struct rules_trie *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nkids; i++)
		rules_trie_free(t->kids[i]);
	free(t->kids);
	free(t);
}
