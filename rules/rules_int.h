/*
 * rules_int.h - internals of the rules module.
 *
 *   load.c      config sources, inih, the trust boundary, limits
 *   defaults.c  the built-in policy
 *   glob.c      gitignore-style glob -> PCRE2 regex translation
 *   prog.c      combined PCRE2 programs (one per section, JIT)
 *   trie.c      many rules merged on their common prefixes
 *   match.c     compiling a policy, rules_decide() and friends
 *   redact.c    masking the values of a redacted file
 *   list.c      rules_list(), rules_foreach_value()
 *   path.c      rules_path_*()
 *   buf.c       a growable string, error collection
 */
#ifndef WARDFS_RULES_INT_H
#define WARDFS_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>

#include "rules/rules.h"

/* Limits on what grows from outside input (STYLE §4). */
#define RULES_MAX_FILE (1024 * 1024)	/* bytes in one config file */
#define RULES_MAX_ENTRIES 10000		/* values from all sources */
#define RULES_MAX_PATTERN 1024		/* bytes in one -o value */
#define RULES_MATCH_LIMIT 1000000	/* PCRE2 steps in one match */

/* The sections of a config file, in the order rules_list() prints them. */
enum rules_section {
	SEC_ALLOW,
	SEC_HIDE,
	SEC_READONLY,
	SEC_CONTENT,
	SEC_REDACT,
	SEC_LIMITS,
	SEC_AUDIT,
	SEC_RUN,
	SEC_GATES,
};
#define RULES_NSECTIONS 9

/* What a key's value is, and so how it is checked. */
enum rules_value {
	VAL_PATTERN,	/* path glob, or re:<PCRE2> over the path */
	VAL_REGEX,	/* PCRE2 over contents */
	VAL_SIZE,	/* 512M */
	VAL_BOOL,	/* true | false */
	VAL_CHOICE,	/* one of key->choices */
	VAL_HOMEPATH,	/* /abs/path or ~/path */
	VAL_TEXT,	/* anything not empty */
};

/* What a project file may do with a key (the trust boundary, SPEC §5). */
enum rules_trust {
	TRUST_ANY,	/* a restriction: accepted from every source */
	TRUST_USER,	/* a loosening: ignored, with a warning, in a project */
	TRUST_TIGHTER,	/* a limit: a project may only lower it */
	TRUST_CHOICE,	/* a project may only set key->project_value */
};

struct rules_key {
	enum rules_section section;
	const char *name;
	enum rules_value kind;
	enum rules_trust trust;
	const char *choices;		/* VAL_CHOICE: "none|host" */
	const char *project_value;	/* TRUST_CHOICE */
	int single;			/* a later value replaces an earlier */
};

/* Section names, indexed by enum rules_section. */
extern const char *const rules_section_names[RULES_NSECTIONS];

/* The key of a section, or NULL. */
const struct rules_key *rules_key_find(enum rules_section section,
				       const char *name);
/* The section called name, or -1. */
int rules_section_find(const char *name);

/* One value loaded from some source. */
struct rules_entry {
	const struct rules_key *key;
	char *value;			/* owned */
	struct rule_origin origin;	/* pattern == value */
	int overridden;			/* a later single value replaced it */
};

/*
 * A set of regexes combined into as few PCRE2 programs as possible:
 * usually one, more only when PCRE2's compiled size limit is reached
 * (kept in order).  In a program built by rules_prog_alternatives(),
 * every alternative ends in (*MARK:<index>), index into the owning set's
 * entries, so the alternative that matched is known.
 */
struct rules_prog {
	pcre2_code **code;
	size_t n;
};

/* A rule whose regex cannot share a program (back references, verbs). */
struct rules_single {
	pcre2_code *code;
	size_t index;
};

/* The compiled path patterns of one section. */
struct rules_pset {
	const struct rules_entry **entries;	/* index = priority */
	size_t n;
	size_t nglob;		/* glob rules among them */
	size_t nre;		/* re: rules among them */
	size_t nlevel;		/* re: rules "any" cannot test */
	struct rules_prog any;	/* matches the path or an ancestor */
	struct rules_prog self;	/* globs matching the path itself, by callout */
	struct rules_prog re;	/* combinable re: rules, last rule first */
	struct rules_single *single;	/* other re: rules, last first */
	size_t nsingle;
};

/* The compiled content regexes of one key ([content], [gates] secret). */
struct rules_tset {
	const struct rules_entry **entries;
	size_t n;
	struct rules_prog prog;
	struct rules_single *single;
	size_t nsingle;
};

/* A [redact] match regex, with its capture groups. */
struct rules_masker {
	const struct rules_entry *entry;	/* NULL for the default */
	pcre2_code *code;
};

struct rules {
	struct rules_entry *entries;	/* load order */
	size_t n;
	size_t alloc;
	char **files;			/* origin.file strings */
	size_t nfiles;

	struct rules_pset hide;
	struct rules_pset readonly;
	struct rules_pset allow;
	struct rules_pset redact;
	struct rules_pset sensitive;	/* [gates] sensitive */
	struct rules_tset content;
	struct rules_tset secret;	/* [gates] secret */
	struct rules_masker *maskers;	/* [redact] match, then default */
	size_t nmaskers;

	uint64_t quota;
	uint64_t max_file;

	/* Reported when PCRE2 fails to match (a limit): fail closed. */
	struct rule_origin match_error;
};

/*
 * A growable NUL-terminated string.  An allocation failure is remembered
 * in failed; later additions are then dropped.
 */
struct rules_buf {
	char *ptr;
	size_t len;
	size_t alloc;
	int failed;
};
#define RULES_BUF_INIT { NULL, 0, 0, 0 }

void rules_buf_add(struct rules_buf *b, const void *data, size_t len);
void rules_buf_adds(struct rules_buf *b, const char *s);
void rules_buf_addc(struct rules_buf *b, char c);
void rules_buf_addf(struct rules_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The string so far ("" when empty); borrowed. */
const char *rules_buf_str(const struct rules_buf *b);
void rules_buf_release(struct rules_buf *b);

/*
 * Collected problems: errors fill err ("file:line: what" a line, safely
 * truncated), warnings go to the callback.
 */
struct rules_diag {
	char *err;
	size_t errsz;
	size_t used;
	unsigned nerrors;
	void (*warn)(const char *msg, void *payload);
	void *payload;
};

/* file may be NULL (no location); line 0 prints "file: what". */
void rules_diag_error(struct rules_diag *d, const char *file, unsigned line,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rules_diag_warn(struct rules_diag *d, const char *file, unsigned line,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fill err with one sentence and return rc. */
int rules_fail(char *err, size_t errsz, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* defaults.c: the built-in policy, in load order. */
struct rules_default {
	enum rules_section section;
	const char *key;
	const char *value;
};
const struct rules_default *rules_defaults(size_t *n);

/*
 * glob.c: translate a gitignore-style glob into the body of a regex over
 * a project-relative path, each atom followed by RULES_GLOB_SEP (to be
 * dropped, or used to split the body into atoms).  *anchored: the body
 * matches from the project root (else from the start of any component);
 * *dir_only: the pattern had a trailing '/'.  Returns 0, or -1 with *msg
 * (static) and *off (a byte offset into pat).
 */
#define RULES_GLOB_SEP '\x01'
int rules_glob_translate(struct rules_buf *out, const char *pat,
			 int *anchored, int *dir_only,
			 const char **msg, size_t *off);

/* PCRE2 options of every program over paths, and over contents. */
#define RULES_PATH_OPTIONS (PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY)
#define RULES_TEXT_OPTIONS 0u

/*
 * prog.c: compile one user regex alone (the check of a config value, and
 * the program of a rule that cannot share one).  On error fills msg and
 * *off (offset into re) and returns NULL.
 */
pcre2_code *rules_regex_compile(const char *re, uint32_t options,
				char *msg, size_t msgsz, size_t *off);

/* May re be put in a combined program (see prog.c)? */
int rules_regex_combinable(const char *re, const pcre2_code *alone);

/*
 * Build prog for the rules items[0..n): render(b, items, n, payload)
 * appends the regex of a subset (called again on halves when PCRE2 finds
 * it too large).  Returns 0, or -1 with msg filled.
 */
int rules_prog_build(struct rules_prog *prog, const size_t *items, size_t n,
		     void (*render)(struct rules_buf *b, const size_t *items,
				    size_t n, void *payload),
		     void *payload, uint32_t options, char *msg, size_t msgsz);

/*
 * Render items as "(?:" alternatives "(*MARK:<item>)" ")", one(b, item,
 * payload) appending each; with anchored, a '^' in front.
 */
void rules_prog_alternatives(struct rules_buf *b, const size_t *items,
			     size_t n,
			     void (*one)(struct rules_buf *b, size_t i,
					 void *payload),
			     void *payload, int anchored);

/*
 * trie.c: regex atom sequences (RULES_GLOB_SEP after each atom) merged on
 * their common prefixes, so that an alternation of many rules costs a
 * few comparisons per position instead of one per rule.
 */
struct rules_trie;
/* The empty trie; NULL when out of memory. */
struct rules_trie *rules_trie_new(void);
/* Add seq (borrowed: it must outlive the trie).  0, or -1 (memory). */
int rules_trie_add(struct rules_trie *t, const char *seq);
/* Append a regex matching what any added sequence matches. */
void rules_trie_render(struct rules_buf *b, const struct rules_trie *t);
void rules_trie_free(struct rules_trie *t);

/*
 * Match subject[0..len) against prog with m's match data.  Returns the
 * marked index of the first program that matched (0 for a program
 * without marks), -1 when none did, -2 when PCRE2 failed (a match or JIT
 * stack limit).
 */
struct rules_matcher;
long rules_prog_match(const struct rules_prog *prog, const char *subject,
		      size_t len, struct rules_matcher *m);
void rules_prog_release(struct rules_prog *prog);

/*
 * Every rule of prog matching subject[0..len), each found by the string
 * callout (?C"<index>") that ends its alternative: the highest index,
 * -1 for none, -2 when PCRE2 failed.
 */
long rules_prog_enumerate(const struct rules_prog *prog, const char *subject,
			  size_t len, struct rules_matcher *m);

/* Per-call match data without malloc (see prog.c). */
struct rules_matcher {
	union {
		max_align_t align;
		unsigned char bytes[1024];
	} arena;
	size_t used;
	pcre2_general_context *gctx;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};
/* Returns 0, or -1 when out of memory. */
int rules_matcher_init(struct rules_matcher *m);
void rules_matcher_release(struct rules_matcher *m);

/* match.c: compile every section of a loaded policy. */
int rules_compile(struct rules *r, struct rules_diag *d);
void rules_compiled_release(struct rules *r);

/* redact.c: the default masker ("KEY=VALUE", "KEY: VALUE"). */
extern const char rules_redact_default[];

#endif
