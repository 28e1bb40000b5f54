/*
 * prog.c - many rules, one PCRE2 program.
 *
 * The rules of a section become the alternatives of one regex
 * (rules_prog_alternatives()), each ending in (*MARK:<index>) so that
 * pcre2_get_mark() names the rule that matched.  Anchored at the start of
 * the subject, PCRE2 tries the alternatives in order, each in full, and
 * the first one that can match wins whatever its position: the order is
 * the priority.  Unanchored, the leftmost match of any alternative wins.
 * A program may also be rendered some other way (match.c's "any" filter,
 * a trie without marks).
 *
 * PCRE2 limits a compiled program to 64 KiB with its default link size,
 * and the nesting of parentheses to 250 (a trie of "x", "xx", "xxx"...
 * nests deeply); a section too large for that is split in halves until
 * every part compiles, the parts kept in order.
 *
 * A user's regex may share a program only when nothing in it depends on
 * the program around it (rules_regex_combinable()); the others are
 * matched one by one.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

pcre2_code *rules_regex_compile(const char *re, uint32_t options,
				char *msg, size_t msgsz, size_t *off)
{
	PCRE2_SIZE erroff = 0;
	pcre2_code *code;
	int errcode = 0;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, options,
			     &errcode, &erroff, NULL);
	if (!code) {
		if (pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg,
					    msgsz) < 0 && msgsz > 0)
			msg[0] = '\0';
		*off = erroff;
	}
	return code;
}

/*
 * A regex can be wrapped as "(?:" re ")(*MARK:n)" next to others when it
 * compiles alone (so its parentheses balance) and nothing in it refers to
 * the rest of the program or escapes the group: no numbered or named
 * references and recursion (the numbers shift), no backtracking verbs or
 * leading (*OPTIONS) (a (*COMMIT) would stop the other rules), no \Q
 * without \E or '#' comment that could swallow the closing parenthesis,
 * no \G (the start of the match moves).  Conservative by design: a rule
 * refused here is only slower.
 */
int rules_regex_combinable(const char *re, const pcre2_code *alone)
{
	static const char *const unsafe[] = {
		"(*", "\\Q", "#", "(?R", "(?&", "(?P>", "(?P=", "(?(",
		"\\g", "\\k", "\\G", NULL,
	};
	uint32_t backrefs = 0, names = 0;
	const char *p;
	size_t i;

	for (i = 0; unsafe[i]; i++)
		if (strstr(re, unsafe[i]))
			return 0;
	for (p = strstr(re, "(?"); p; p = strstr(p + 2, "(?"))
		if ((p[2] >= '0' && p[2] <= '9') || p[2] == '+' ||
		    p[2] == '-')
			return 0;
	if (pcre2_pattern_info(alone, PCRE2_INFO_BACKREFMAX, &backrefs) != 0 ||
	    pcre2_pattern_info(alone, PCRE2_INFO_NAMECOUNT, &names) != 0)
		return 0;
	return backrefs == 0 && names == 0;
}

void rules_prog_alternatives(struct rules_buf *b, const size_t *items,
			     size_t n,
			     void (*one)(struct rules_buf *b, size_t i,
					 void *payload),
			     void *payload, int anchored)
{
	size_t k;

	rules_buf_adds(b, anchored ? "^(?:" : "(?:");
	for (k = 0; k < n; k++) {
		if (k > 0)
			rules_buf_addc(b, '|');
		one(b, items[k], payload);
		rules_buf_addf(b, "(*MARK:%zu)", items[k]);
	}
	rules_buf_addc(b, ')');
}

struct build {
	struct rules_prog *prog;
	const size_t *items;
	void (*render)(struct rules_buf *b, const size_t *items, size_t n,
		       void *payload);
	void *payload;
	uint32_t options;
	char *msg;
	size_t msgsz;
};

static int add_code(struct rules_prog *prog, pcre2_code *code)
{
	pcre2_code **p;

	p = realloc(prog->code, (prog->n + 1) * sizeof(*p));
	if (!p)
		return -1;
	prog->code = p;
	prog->code[prog->n++] = code;
	return 0;
}

static int build_range(struct build *bd, size_t lo, size_t hi)
{
	struct rules_buf b = RULES_BUF_INIT;
	pcre2_code *code = NULL;
	PCRE2_SIZE off;
	int error = -1, errcode = 0;

	bd->render(&b, bd->items + lo, hi - lo, bd->payload);
	if (b.failed) {
		rules_fail(bd->msg, bd->msgsz, -1, "out of memory");
		goto out;
	}
	code = pcre2_compile((PCRE2_SPTR)b.ptr, b.len, bd->options, &errcode,
			     &off, NULL);
	if (!code) {
		if ((errcode == PCRE2_ERROR_PATTERN_TOO_LARGE ||
		     errcode == PCRE2_ERROR_PARENTHESES_NEST_TOO_DEEP ||
		     errcode == PCRE2_ERROR_PATTERN_TOO_COMPLICATED) &&
		    hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			error = build_range(bd, lo, mid);
			if (error < 0)
				goto out;
			error = build_range(bd, mid, hi);
			goto out;
		}
		if (pcre2_get_error_message(errcode, (PCRE2_UCHAR *)bd->msg,
					    bd->msgsz) < 0 && bd->msgsz > 0)
			bd->msg[0] = '\0';
		goto out;
	}
	/* Without JIT (not built in, no executable memory) PCRE2 interprets. */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	if (add_code(bd->prog, code) < 0) {
		rules_fail(bd->msg, bd->msgsz, -1, "out of memory");
		goto out;
	}
	code = NULL;
	error = 0;
out:
	pcre2_code_free(code);
	rules_buf_release(&b);
	return error;
}

int rules_prog_build(struct rules_prog *prog, const size_t *items, size_t n,
		     void (*render)(struct rules_buf *b, const size_t *items,
				    size_t n, void *payload),
		     void *payload, uint32_t options, char *msg, size_t msgsz)
{
	struct build bd = { prog, items, render, payload, options, msg, msgsz };

	if (n == 0)
		return 0;
	return build_range(&bd, 0, n);
}

long rules_prog_match(const struct rules_prog *prog, const char *subject,
		      size_t len, struct rules_matcher *m)
{
	PCRE2_SPTR mark;
	size_t i;
	int rc;

	for (i = 0; i < prog->n; i++) {
		rc = pcre2_match(prog->code[i], (PCRE2_SPTR)subject, len, 0,
				 0, m->md, m->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0)
			return -2;
		mark = pcre2_get_mark(m->md);
		return mark ? strtol((const char *)mark, NULL, 10) : 0;
	}
	return -1;
}

struct enumeration {
	long best;
};

/* A rule matched: note it, then fail so that PCRE2 looks for others. */
static int on_callout(pcre2_callout_block *cb, void *data)
{
	struct enumeration *en = data;
	long i = 0;
	size_t k;

	for (k = 0; k < cb->callout_string_length; k++)
		i = i * 10 + (cb->callout_string[k] - '0');
	if (i > en->best)
		en->best = i;
	return 1;
}

long rules_prog_enumerate(const struct rules_prog *prog, const char *subject,
			  size_t len, struct rules_matcher *m)
{
	struct enumeration en = { -1 };
	size_t i;
	int rc = 0;

	pcre2_set_callout(m->mctx, on_callout, &en);
	for (i = 0; i < prog->n; i++) {
		rc = pcre2_match(prog->code[i], (PCRE2_SPTR)subject, len, 0, 0,
				 m->md, m->mctx);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
			break;
	}
	/* en dies here; a user's (?C) elsewhere must find no callback */
	pcre2_set_callout(m->mctx, NULL, NULL);
	return rc < 0 && rc != PCRE2_ERROR_NOMATCH ? -2 : en.best;
}

void rules_prog_release(struct rules_prog *prog)
{
	size_t i;

	for (i = 0; i < prog->n; i++)
		pcre2_code_free(prog->code[i]);
	free(prog->code);
	prog->code = NULL;
	prog->n = 0;
}

/*
 * Match data for one call of rules_decide() and friends, which many
 * threads run at once.  pcre2_match_data_create() would malloc; instead
 * its memory (and that of the general context it needs) comes from an
 * arena inside struct rules_matcher, on the caller's stack.  A request
 * the arena cannot serve (the interpreter's backtracking frames when JIT
 * is unavailable) falls back to malloc.
 */
static void *arena_malloc(PCRE2_SIZE size, void *data)
{
	struct rules_matcher *m = data;
	size_t align = sizeof(max_align_t);
	size_t need = (size + align - 1) / align * align;
	void *p;

	if (need <= sizeof(m->arena.bytes) - m->used) {
		p = m->arena.bytes + m->used;
		m->used += need;
		return p;
	}
	return malloc(size);
}

static void arena_free(void *p, void *data)
{
	struct rules_matcher *m = data;
	unsigned char *c = p;

	if (c >= m->arena.bytes && c < m->arena.bytes + sizeof(m->arena.bytes))
		return;
	free(p);
}

int rules_matcher_init(struct rules_matcher *m)
{
	m->used = 0;
	m->md = NULL;
	m->mctx = NULL;
	m->gctx = pcre2_general_context_create(arena_malloc, arena_free, m);
	if (!m->gctx)
		return -1;
	m->md = pcre2_match_data_create(1, m->gctx);
	m->mctx = pcre2_match_context_create(m->gctx);
	if (!m->md || !m->mctx) {
		rules_matcher_release(m);
		return -1;
	}
	pcre2_set_match_limit(m->mctx, RULES_MATCH_LIMIT);
	return 0;
}

void rules_matcher_release(struct rules_matcher *m)
{
	pcre2_match_context_free(m->mctx);
	pcre2_match_data_free(m->md);
	pcre2_general_context_free(m->gctx);
	m->mctx = NULL;
	m->md = NULL;
	m->gctx = NULL;
}
