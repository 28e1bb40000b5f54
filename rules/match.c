/*
 * match.c - compiled sections, and the decision for a path.
 *
 * A path is decided level by level, from the project root down, as git
 * decides ignored files: at each level (the first component, the first
 * two, ..., the path itself) a rule matches that name itself, and
 *
 *   - a [hide] rule hides it and everything beneath, unless an [allow]
 *     rule matches the same name;
 *   - else a [readonly] rule makes it and everything beneath read-only,
 *     unless an [allow] rule matches the same name;
 *   - hide beats read-only: a name hidden at any level is hidden.
 *
 * So [allow] .env.example beats [hide] .env.* (both match the file), but
 * an [allow] cannot re-include something beneath a hidden directory, and
 * [allow] docs/ does not un-hide docs/x.key (the rule matches docs, not
 * docs/x.key; a rule for the files is "docs/" followed by "**").  Within
 * a section the last matching rule in load order is the one reported, as
 * in gitignore.
 *
 * The subject is the path with a '/' appended for a directory: a
 * directory-only rule "x/" then matches "x/" itself and every "x/..."
 * beneath in the same way, and the subject of level k is simply the
 * first bytes of the path up to and including its k-th '/'.
 *
 * Cost.  Each path section has these programs:
 *
 *   any    "does some rule match the path or an ancestor?": every glob,
 *          merged into one trie (trie.c), and the re: rules that can be
 *          asked this in one go (level_free()).  One match; a path no
 *          rule touches, nearly every path, costs one match per section
 *          whatever the number of rules.
 *   self   "which rules match exactly this name?": every glob, again
 *          one trie, each ending in a string callout (?C"<index>") that
 *          notes its rule and fails, so that one match visits every rule
 *          that matches and the last one in load order is known.
 *          Compiled without auto-possessification, which could skip a
 *          callout (pcre2callout(3), "Missing callouts").
 *   re     the same for re: rules, last rule first, with (*MARK)s; they
 *          see the path without the trailing '/'.
 *
 * Only when "any" matched are the levels looked at: the first level at
 * which "any" matches is found by halving, and from there the self
 * programs name the rule.  A re: rule that "any" cannot test is tried at
 * every level of every path (slower).
 *
 * When PCRE2 fails (a match limit), the decision fails closed: hidden.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

/*
 * One rule of a path section, translated: a glob's body (atoms separated
 * by RULES_GLOB_SEP), or for a re: rule that "any" can test, the regex
 * that does (see level_free()).
 */
struct prepared {
	struct rules_buf body;
	int is_re;
	int anchored;
	int dir_only;
	struct rules_buf seq;	/* the atoms "any" matches for a glob */
	struct rules_buf selfseq;	/* the atoms "self" matches */
};

struct pset_ctx {
	const struct rules_entry *const *entries;
	struct prepared *prep;
};

/*
 * self: every glob as one trie, anchored, each sequence matching exactly
 * this name ('/' appended for a directory) and ending in a callout that
 * names its rule (see glob_seq()).
 */
static void render_self_set(struct rules_buf *b, const size_t *items,
			    size_t n, void *payload)
{
	const struct pset_ctx *c = payload;
	struct rules_trie *t = rules_trie_new();
	size_t k;

	rules_buf_adds(b, "^(?:");
	for (k = 0; k < n; k++)
		if (!t || rules_trie_add(t, rules_buf_str(
				&c->prep[items[k]].selfseq)) < 0) {
			b->failed = 1;
			break;
		}
	if (t)
		rules_trie_render(b, t);
	rules_buf_addc(b, ')');
	rules_trie_free(t);
}

/* re: rules in priority order: each a search from the start. */
static void render_re(struct rules_buf *b, size_t i, void *payload)
{
	const struct pset_ctx *c = payload;

	rules_buf_adds(b, ".*?(?:");
	rules_buf_adds(b, c->entries[i]->value + 3);
	rules_buf_addc(b, ')');
}

static void render_re_set(struct rules_buf *b, const size_t *items,
			  size_t n, void *payload)
{
	rules_prog_alternatives(b, items, n, render_re, payload, 1);
}

/*
 * any: the globs as one trie, anchored at the start, each unanchored one
 * behind "(?:.*" "/)?" (so PCRE2 tries the rules at component starts
 * only), each ending where a name ends; then the level-free re: rules.
 */
static void render_any_set(struct rules_buf *b, const size_t *items,
			   size_t n, void *payload)
{
	const struct pset_ctx *c = payload;
	struct rules_trie *t = rules_trie_new();
	size_t k, nalt = 0;

	rules_buf_adds(b, "^(?:");
	for (k = 0; k < n; k++) {
		const struct prepared *p = &c->prep[items[k]];

		if (p->is_re)
			continue;
		if (!t || rules_trie_add(t, rules_buf_str(&p->seq)) < 0) {
			b->failed = 1;
			break;
		}
		nalt = 1;
	}
	if (t && nalt)
		rules_trie_render(b, t);
	for (k = 0; k < n; k++) {
		const struct prepared *p = &c->prep[items[k]];

		if (!p->is_re)
			continue;
		if (nalt++ > 0)
			rules_buf_addc(b, '|');
		rules_buf_adds(b, ".*?(?:");
		rules_buf_adds(b, rules_buf_str(&p->body));
		rules_buf_addc(b, ')');
	}
	rules_buf_addc(b, ')');
	rules_trie_free(t);
}

static void render_text(struct rules_buf *b, size_t i, void *payload)
{
	const struct rules_entry *const *e = payload;

	rules_buf_adds(b, "(?:");
	rules_buf_adds(b, e[i]->value);
	rules_buf_addc(b, ')');
}

static void render_text_set(struct rules_buf *b, const size_t *items,
			    size_t n, void *payload)
{
	rules_prog_alternatives(b, items, n, render_text, payload, 0);
}

static int add_single(struct rules_single **single, size_t *n,
		      pcre2_code *code, size_t index)
{
	struct rules_single *s;

	s = realloc(*single, (*n + 1) * sizeof(*s));
	if (!s)
		return -1;
	*single = s;
	s[*n].code = code;
	s[*n].index = index;
	(*n)++;
	return 0;
}

/* Every entry of section.key that is in effect, in load order. */
static const struct rules_entry **collect(const struct rules *r,
					  enum rules_section section,
					  const char *key, size_t *n)
{
	const struct rules_entry **out;
	size_t i;

	*n = 0;
	out = calloc(r->n ? r->n : 1, sizeof(*out));
	if (!out)
		return NULL;
	for (i = 0; i < r->n; i++)
		if (r->entries[i].key->section == section &&
		    strcmp(r->entries[i].key->name, key) == 0 &&
		    !r->entries[i].overridden)
			out[(*n)++] = &r->entries[i];
	return out;
}

/*
 * Compile a regex that was checked at load time.  Returns the code and
 * whether it may share a program, or NULL (reported).
 */
static pcre2_code *compile_checked(const struct rules_entry *e,
				   const char *re, uint32_t options,
				   int *combinable, struct rules_diag *d)
{
	pcre2_code *code;
	char msg[256];
	size_t off;

	code = rules_regex_compile(re, options, msg, sizeof(msg), &off);
	if (!code) {
		rules_diag_error(d, e->origin.file, e->origin.line,
				 "bad pattern '%s': %s at offset %zu",
				 e->value, msg, off);
		return NULL;
	}
	*combinable = rules_regex_combinable(re, code);
	return code;
}

/*
 * A re: rule matches the path or one of its ancestors, each seen alone,
 * exactly when it matches somewhere in the whole path, provided nothing
 * in it looks past the end of its match: no lookahead, \b, \B, \z, \Z,
 * and '$' only at the very end, which becomes "(?=/|\z)" (the end of a
 * name).  Such a rule joins "any"; others are tried at every level.
 * Conservative: a '$' in a class only costs speed.  Fills out and
 * returns 1 when re is level-free (and combinable), else 0.
 */
static int level_free(struct rules_buf *out, const char *re)
{
	size_t len = strlen(re), i, bs = 0;
	int dollar = 0;

	while (len > bs + 1 && re[len - 2 - bs] == '\\')
		bs++;
	if (len > 0 && re[len - 1] == '$' && bs % 2 == 0) {
		dollar = 1;
		len--;
	}
	for (i = 0; i < len; i++) {
		if (re[i] == '\\') {
			if (i + 1 < len && strchr("bBzZG", re[i + 1]))
				return 0;
			i++;
			continue;
		}
		if (re[i] == '$')
			return 0;
		if (re[i] == '(' && i + 2 < len && re[i + 1] == '?' &&
		    (re[i + 2] == '=' || re[i + 2] == '!'))
			return 0;
	}
	rules_buf_add(out, re, len);
	if (dollar)
		rules_buf_adds(out, "(?=/|\\z)");
	return !out->failed;
}

/*
 * A glob's atoms for "any": the prefix, the body, the end of a name; for
 * "self": the prefix, the body, the end of the subject, a callout with
 * the rule's index.
 */
static void glob_seq(struct prepared *p, size_t index)
{
	char sep[2] = { RULES_GLOB_SEP, '\0' };

	if (!p->anchored) {
		rules_buf_adds(&p->seq, "(?:.*/)?");
		rules_buf_adds(&p->seq, sep);
		rules_buf_adds(&p->selfseq, "(?:.*/)?");
		rules_buf_adds(&p->selfseq, sep);
	}
	rules_buf_adds(&p->seq, rules_buf_str(&p->body));
	rules_buf_adds(&p->seq, p->dir_only ? "/" : "(?:/|\\z)");
	rules_buf_adds(&p->seq, sep);
	rules_buf_adds(&p->selfseq, rules_buf_str(&p->body));
	rules_buf_adds(&p->selfseq, p->dir_only ? "/\\z" : "/?\\z");
	rules_buf_addf(&p->selfseq, "%s(?C\"%zu\")%s", sep, index, sep);
}

static int pset_build(struct rules_pset *ps, const struct rules *r,
		      enum rules_section section, const char *key,
		      struct rules_diag *d)
{
	const char *sec = rules_section_names[section];
	struct prepared *prep = NULL;
	size_t *globi = NULL, *rei = NULL, *anyi = NULL;
	size_t i, k, nre = 0, nany = 0;
	struct pset_ctx ctx;
	char msg[256];
	int error = -1, comb;
	pcre2_code *code;
	const char *m;
	size_t off;

	ps->entries = collect(r, section, key, &ps->n);
	prep = calloc(ps->n + 1, sizeof(*prep));
	globi = calloc(ps->n + 1, sizeof(*globi));
	rei = calloc(ps->n + 1, sizeof(*rei));
	anyi = calloc(ps->n + 1, sizeof(*anyi));
	if (!ps->entries || !prep || !globi || !rei || !anyi) {
		rules_diag_error(d, NULL, 0, "out of memory");
		goto out;
	}
	/* priority order: the last rule first */
	for (k = ps->n; k-- > 0;) {
		const struct rules_entry *e = ps->entries[k];
		struct prepared *p = &prep[k];

		if (strncmp(e->value, "re:", 3) == 0) {
			p->is_re = 1;
			code = compile_checked(e, e->value + 3,
					       RULES_PATH_OPTIONS, &comb, d);
			if (!code)
				goto out;
			if (comb) {
				pcre2_code_free(code);
				rei[nre++] = k;
				if (level_free(&p->body, e->value + 3))
					anyi[nany++] = k;
				else
					ps->nlevel++;
				continue;
			}
			ps->nlevel++;
			pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
			if (add_single(&ps->single, &ps->nsingle, code,
				       k) < 0) {
				pcre2_code_free(code);
				rules_diag_error(d, NULL, 0, "out of memory");
				goto out;
			}
			continue;
		}
		if (rules_glob_translate(&p->body, e->value, &p->anchored,
					 &p->dir_only, &m, &off) < 0) {
			rules_diag_error(d, e->origin.file, e->origin.line,
					 "bad pattern '%s': %s at offset %zu",
					 e->value, m, off);
			goto out;
		}
		glob_seq(p, k);
		if (p->seq.failed || p->selfseq.failed) {
			rules_diag_error(d, NULL, 0, "out of memory");
			goto out;
		}
		globi[ps->nglob++] = k;
		anyi[nany++] = k;
	}
	ps->nre = nre + ps->nsingle;
	ctx.entries = ps->entries;
	ctx.prep = prep;
	if (rules_prog_build(&ps->any, anyi, nany, render_any_set, &ctx,
			     RULES_PATH_OPTIONS, msg, sizeof(msg)) < 0 ||
	    rules_prog_build(&ps->self, globi, ps->nglob, render_self_set,
			     &ctx, RULES_PATH_OPTIONS | PCRE2_NO_AUTO_POSSESS,
			     msg, sizeof(msg)) < 0 ||
	    rules_prog_build(&ps->re, rei, nre, render_re_set, &ctx,
			     RULES_PATH_OPTIONS, msg, sizeof(msg)) < 0) {
		rules_diag_error(d, NULL, 0,
				 "cannot compile the [%s] rules: %s",
				 sec, msg);
		goto out;
	}
	error = 0;
out:
	if (prep)
		for (i = 0; i < ps->n; i++) {
			rules_buf_release(&prep[i].body);
			rules_buf_release(&prep[i].seq);
			rules_buf_release(&prep[i].selfseq);
		}
	free(prep);
	free(globi);
	free(rei);
	free(anyi);
	return error;
}

static void pset_release(struct rules_pset *ps)
{
	size_t i;

	rules_prog_release(&ps->any);
	rules_prog_release(&ps->self);
	rules_prog_release(&ps->re);
	for (i = 0; i < ps->nsingle; i++)
		pcre2_code_free(ps->single[i].code);
	free(ps->single);
	free(ps->entries);
	memset(ps, 0, sizeof(*ps));
}

static int tset_build(struct rules_tset *ts, const struct rules *r,
		      enum rules_section section, const char *key,
		      struct rules_diag *d)
{
	size_t *order = NULL, norder = 0, k;
	pcre2_code *code;
	char msg[256];
	int error = -1, comb;

	ts->entries = collect(r, section, key, &ts->n);
	order = calloc(ts->n + 1, sizeof(*order));
	if (!ts->entries || !order) {
		rules_diag_error(d, NULL, 0, "out of memory");
		goto out;
	}
	for (k = 0; k < ts->n; k++) {
		code = compile_checked(ts->entries[k], ts->entries[k]->value,
				       RULES_TEXT_OPTIONS, &comb, d);
		if (!code)
			goto out;
		if (comb) {
			pcre2_code_free(code);
			order[norder++] = k;
			continue;
		}
		pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		if (add_single(&ts->single, &ts->nsingle, code, k) < 0) {
			pcre2_code_free(code);
			rules_diag_error(d, NULL, 0, "out of memory");
			goto out;
		}
	}
	if (rules_prog_build(&ts->prog, order, norder, render_text_set,
			     ts->entries, RULES_TEXT_OPTIONS, msg,
			     sizeof(msg)) < 0) {
		rules_diag_error(d, NULL, 0,
				 "cannot compile the [%s] rules: %s",
				 rules_section_names[section], msg);
		goto out;
	}
	error = 0;
out:
	free(order);
	return error;
}

static void tset_release(struct rules_tset *ts)
{
	size_t i;

	rules_prog_release(&ts->prog);
	for (i = 0; i < ts->nsingle; i++)
		pcre2_code_free(ts->single[i].code);
	free(ts->single);
	free(ts->entries);
	memset(ts, 0, sizeof(*ts));
}

static int maskers_build(struct rules *r, struct rules_diag *d)
{
	const struct rules_entry **e;
	pcre2_code *code;
	size_t n, i, off;
	char msg[256];
	int error = -1;

	e = collect(r, SEC_REDACT, "match", &n);
	r->maskers = calloc(n + 1, sizeof(*r->maskers));
	if (!e || !r->maskers) {
		rules_diag_error(d, NULL, 0, "out of memory");
		goto out;
	}
	for (i = 0; i <= n; i++) {
		const char *re = i < n ? e[i]->value : rules_redact_default;

		code = rules_regex_compile(re, RULES_TEXT_OPTIONS, msg,
					   sizeof(msg), &off);
		if (!code) {
			rules_diag_error(d, i < n ? e[i]->origin.file : NULL,
					 i < n ? e[i]->origin.line : 0,
					 "bad pattern '%s': %s at offset %zu",
					 re, msg, off);
			goto out;
		}
		pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		r->maskers[r->nmaskers].entry = i < n ? e[i] : NULL;
		r->maskers[r->nmaskers++].code = code;
	}
	error = 0;
out:
	free(e);
	return error;
}

int rules_compile(struct rules *r, struct rules_diag *d)
{
	if (pset_build(&r->hide, r, SEC_HIDE, "path", d) < 0 ||
	    pset_build(&r->readonly, r, SEC_READONLY, "path", d) < 0 ||
	    pset_build(&r->allow, r, SEC_ALLOW, "path", d) < 0 ||
	    pset_build(&r->redact, r, SEC_REDACT, "path", d) < 0 ||
	    pset_build(&r->sensitive, r, SEC_GATES, "sensitive", d) < 0 ||
	    tset_build(&r->content, r, SEC_CONTENT, "pattern", d) < 0 ||
	    tset_build(&r->secret, r, SEC_GATES, "secret", d) < 0 ||
	    maskers_build(r, d) < 0)
		return -1;
	return 0;
}

void rules_compiled_release(struct rules *r)
{
	size_t i;

	pset_release(&r->hide);
	pset_release(&r->readonly);
	pset_release(&r->allow);
	pset_release(&r->redact);
	pset_release(&r->sensitive);
	tset_release(&r->content);
	tset_release(&r->secret);
	for (i = 0; i < r->nmaskers; i++)
		pcre2_code_free(r->maskers[i].code);
	free(r->maskers);
	r->maskers = NULL;
	r->nmaskers = 0;
}

/* ------------------------------------------------------------------ */

struct subject {
	const char *s;		/* the path, '/' appended for a directory */
	size_t plen;		/* the path's length */
	size_t slen;		/* the subject's length */
	struct rules_matcher *m;
};

/*
 * The rule of ps that matches the name ending at e (the position of a '/'
 * in the path, or plen) itself: its index, -1 for none, -2 when PCRE2
 * failed.
 */
static long level_match(const struct rules_pset *ps,
			const struct subject *sub, size_t e)
{
	size_t glen = e < sub->plen ? e + 1 : sub->slen;
	long best = -1, i;
	size_t k;
	int rc;

	if (ps->nglob) {
		best = rules_prog_enumerate(&ps->self, sub->s, glen, sub->m);
		if (best == -2)
			return -2;
	}
	if (!ps->nre)
		return best;
	i = rules_prog_match(&ps->re, sub->s, e, sub->m);
	if (i == -2)
		return -2;
	if (i > best)
		best = i;
	/* singles were added last rule first */
	for (k = 0; k < ps->nsingle; k++) {
		if ((long)ps->single[k].index <= best)
			break;
		rc = pcre2_match(ps->single[k].code, (PCRE2_SPTR)sub->s, e, 0,
				 0, sub->m->md, sub->m->mctx);
		if (rc >= 0)
			return (long)ps->single[k].index;
		if (rc != PCRE2_ERROR_NOMATCH)
			return -2;
	}
	return best;
}

/*
 * Could a rule of ps match the path or an ancestor?  One match, unless
 * some re: rule can only be tried level by level.
 */
static int may_match(const struct rules_pset *ps, const struct subject *sub)
{
	if (ps->nlevel)
		return 1;
	if (!ps->any.n)
		return 0;
	return rules_prog_match(&ps->any, sub->s, sub->slen, sub->m) != -1;
}

/* The end of the next level after the one ending at e. */
static size_t next_level(const struct subject *sub, size_t e)
{
	const char *slash;

	if (e >= sub->plen)
		return sub->plen;
	slash = memchr(sub->s + e + 1, '/', sub->plen - e - 1);
	return slash ? (size_t)(slash - sub->s) : sub->plen;
}

static size_t first_level(const struct subject *sub)
{
	const char *slash = memchr(sub->s, '/', sub->plen);

	return slash ? (size_t)(slash - sub->s) : sub->plen;
}

/*
 * Where to start looking level by level: when "any" tests every rule of
 * ps, the first level at which it matches (it matches "this name or an
 * ancestor", so from some level on it always does: halving finds it);
 * else the first level.
 */
static size_t start_level(const struct rules_pset *ps,
			  const struct subject *sub)
{
	size_t ends[64], n = 0, lo, hi, mid, glen;
	const char *p = sub->s, *slash;

	if (ps->nlevel)
		return first_level(sub);
	while ((slash = memchr(p, '/', sub->plen - (size_t)(p - sub->s)))) {
		if (n == sizeof(ends) / sizeof(ends[0]) - 1)
			return first_level(sub);
		ends[n++] = (size_t)(slash - sub->s);
		p = slash + 1;
	}
	ends[n++] = sub->plen;
	/* may_match() found a match at the last level */
	lo = 0;
	hi = n - 1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		glen = ends[mid] < sub->plen ? ends[mid] + 1 : sub->slen;
		if (rules_prog_match(&ps->any, sub->s, glen, sub->m) != -1)
			hi = mid;
		else
			lo = mid + 1;
	}
	return ends[lo];
}

/*
 * The rule of ps that decides the path, the shallowest level first, an
 * [allow] rule matching the same name overriding it (*allowed is then
 * set).  Index, -1 for none, -2 when PCRE2 failed.
 */
static long decide_section(const struct rules_pset *ps,
			   const struct rules_pset *allow,
			   const struct subject *sub,
			   const struct rules_entry **allowed)
{
	size_t e;
	long h, a;

	if (!may_match(ps, sub))
		return -1;
	for (e = start_level(ps, sub);; e = next_level(sub, e)) {
		h = level_match(ps, sub, e);
		if (h == -2)
			return -2;
		if (h >= 0) {
			a = allow->n ? level_match(allow, sub, e) : -1;
			if (a < 0)
				return h;
			*allowed = allow->entries[a];
		}
		if (e == sub->plen)
			return -1;
	}
}

/* The first rule of ps matching the path or an ancestor. */
static long find_any(const struct rules_pset *ps, const struct subject *sub)
{
	size_t e;
	long i;

	if (!may_match(ps, sub))
		return -1;
	for (e = start_level(ps, sub);; e = next_level(sub, e)) {
		i = level_match(ps, sub, e);
		if (i != -1 || e == sub->plen)
			return i;
	}
}

/*
 * Set up sub for path; buf (bufsz bytes) is used when large enough, else
 * *heap is allocated.  Returns 0, or -1 when out of memory.
 */
static int subject_init(struct subject *sub, const char *path, int is_dir,
			char *buf, size_t bufsz, char **heap)
{
	size_t plen = strlen(path);
	char *s = buf;

	*heap = NULL;
	if (plen + 2 > bufsz) {
		s = malloc(plen + 2);
		if (!s)
			return -1;
		*heap = s;
	}
	memcpy(s, path, plen);
	sub->plen = plen;
	sub->slen = plen;
	if (is_dir && plen > 0)
		s[sub->slen++] = '/';
	s[sub->slen] = '\0';
	sub->s = s;
	return 0;
}

enum rule_action rules_decide(const struct rules *r, const char *path,
			      int is_dir, const struct rule_origin **why)
{
	const struct rules_entry *allowed = NULL;
	enum rule_action action = RULE_HIDE;
	const struct rule_origin *origin = &r->match_error;
	struct rules_matcher m;
	struct subject sub;
	char buf[512], *heap = NULL;
	long i;

	if (!*path) {
		if (why)
			*why = NULL;
		return RULE_ALLOW;
	}
	/* out of memory: fail closed */
	if (subject_init(&sub, path, is_dir, buf, sizeof(buf), &heap) < 0)
		goto out;
	if (rules_matcher_init(&m) < 0)
		goto out;
	sub.m = &m;
	i = decide_section(&r->hide, &r->allow, &sub, &allowed);
	if (i >= 0)
		origin = &r->hide.entries[i]->origin;
	if (i != -1)
		goto done;
	i = decide_section(&r->readonly, &r->allow, &sub, &allowed);
	if (i >= 0) {
		action = RULE_READONLY;
		origin = &r->readonly.entries[i]->origin;
	}
	if (i != -1)
		goto done;
	action = RULE_ALLOW;
	origin = allowed ? &allowed->origin : NULL;
done:
	rules_matcher_release(&m);
out:
	free(heap);
	if (why)
		*why = origin;
	return action;
}

/* The first rule of ts matching text: index, -1 for none, -2 failure. */
static long tset_match(const struct rules_tset *ts, const void *text,
		       size_t len, struct rules_matcher *m)
{
	long i;
	size_t k;
	int rc;

	i = rules_prog_match(&ts->prog, text, len, m);
	if (i != -1)
		return i;
	for (k = 0; k < ts->nsingle; k++) {
		rc = pcre2_match(ts->single[k].code, text, len, 0, 0, m->md,
				 m->mctx);
		if (rc >= 0)
			return (long)ts->single[k].index;
		if (rc != PCRE2_ERROR_NOMATCH)
			return -2;
	}
	return -1;
}

/* Match text against ts: 1 with *why, or 0.  Failures count as a match. */
static int tset_hit(const struct rules *r, const struct rules_tset *ts,
		    const void *text, size_t len,
		    const struct rule_origin **why)
{
	const struct rule_origin *origin = &r->match_error;
	struct rules_matcher m;
	long i = -2;

	if (ts->n == 0) {
		if (why)
			*why = NULL;
		return 0;
	}
	if (rules_matcher_init(&m) == 0) {
		i = tset_match(ts, text, len, &m);
		rules_matcher_release(&m);
	}
	if (i == -1) {
		if (why)
			*why = NULL;
		return 0;
	}
	if (i >= 0)
		origin = &ts->entries[i]->origin;
	if (why)
		*why = origin;
	return 1;
}

int rules_content_hidden(const struct rules *r, const void *head, size_t len,
			 const struct rule_origin **why)
{
	if (len > RULES_CONTENT_HEAD)
		len = RULES_CONTENT_HEAD;
	return tset_hit(r, &r->content, head, len, why);
}

uint64_t rules_content_fingerprint(const struct rules *r)
{
	uint64_t h = 14695981039346656037ULL ^ RULES_CONTENT_HEAD;
	const char *v;
	size_t k;

	for (k = 0; k < r->content.n; k++) {
		for (v = r->content.entries[k]->value; ; v++) {
			h ^= (unsigned char)*v;
			h *= 1099511628211ULL;
			if (!*v)
				break;
		}
	}
	return h;
}

int rules_has_content(const struct rules *r)
{
	return r->content.n > 0;
}

int rules_gate_secret(const struct rules *r, const char *text, size_t len,
		      const struct rule_origin **why)
{
	return tset_hit(r, &r->secret, text, len, why);
}

/* A path rule of ps matching path or an ancestor: 1 (and *why), or 0. */
static int pset_hit(const struct rules *r, const struct rules_pset *ps,
		    const char *path, int is_dir,
		    const struct rule_origin **why)
{
	const struct rule_origin *origin = &r->match_error;
	struct rules_matcher m;
	struct subject sub;
	char buf[512], *heap = NULL;
	long i = -2;

	if (ps->n == 0 || !*path) {
		if (why)
			*why = NULL;
		return 0;
	}
	if (subject_init(&sub, path, is_dir, buf, sizeof(buf), &heap) == 0 &&
	    rules_matcher_init(&m) == 0) {
		sub.m = &m;
		i = find_any(ps, &sub);
		rules_matcher_release(&m);
	}
	free(heap);
	if (i == -1) {
		if (why)
			*why = NULL;
		return 0;
	}
	if (i >= 0)
		origin = &ps->entries[i]->origin;
	if (why)
		*why = origin;
	return 1;
}

int rules_redacts(const struct rules *r, const char *path)
{
	return pset_hit(r, &r->redact, path, 0, NULL);
}

int rules_gate_sensitive(const struct rules *r, const char *path,
			 int is_dir, const struct rule_origin **why)
{
	return pset_hit(r, &r->sensitive, path, is_dir, why);
}
