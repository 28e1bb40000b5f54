/*
 * rules.h - what the agent may see and change.
 *
 * A policy is loaded from the built-in defaults, the user's config file,
 * the project's .wardfs.ini and command-line overrides (SPEC §5), compiled
 * into one PCRE2 program per section, and then asked one question per path:
 * is it hidden, read-only, or neither?
 *
 * Paths handed to this module are project-relative, '/'-separated, without
 * a leading or trailing slash, and never contain "." or ".." components;
 * the project root itself is "".  rules_path_*() helpers build them.
 *
 * A struct rules is immutable once loaded: every function taking a
 * const struct rules * may be called from many threads at once.
 */
#ifndef WARDFS_RULES_H
#define WARDFS_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rules;

/* The decision for one path. */
enum rule_action {
	RULE_ALLOW,	/* visible and writable */
	RULE_HIDE,	/* invisible: ENOENT on lookup, absent from readdir */
	RULE_READONLY,	/* visible, every write refused */
};

/*
 * Where a rule came from.  Borrowed from the struct rules it belongs to,
 * valid until rules_free().  file is "<built-in>" for the defaults and
 * "<command line>" for -o overrides; line is 0 for those.
 */
struct rule_origin {
	const char *section;	/* "hide", "readonly", "allow", ... */
	const char *pattern;	/* as written by the user */
	const char *file;
	unsigned line;
};

/* Where to load a policy from. */
struct rules_config {
	/* Project root; its .wardfs.ini is read when present.  May be NULL. */
	const char *project;
	/*
	 * The user's config file.  NULL means the default location,
	 * ${XDG_CONFIG_HOME:-~/.config}/wardfs/config.ini, read when present;
	 * "" means none.  A path given explicitly must exist.
	 */
	const char *user_file;
	/* "section.key=value" strings from -o, applied last. */
	const char *const *overrides;
	size_t noverrides;
	/* Skip the built-in defaults (tests of the parser only). */
	int no_defaults;
};
#define RULES_CONFIG_INIT { NULL, NULL, NULL, 0, 0 }

/*
 * Load and compile a policy.  On success *out is owned by the caller
 * (rules_free()).  On failure returns -1 and fills err with every problem
 * found, one "file:line: what" per line; nothing is returned in *out.
 * Problems that are reported but not fatal (an [allow] in a project file)
 * are passed to warn, when not NULL, one line each.
 */
int rules_load(struct rules **out, const struct rules_config *cfg,
	       void (*warn)(const char *msg, void *payload), void *payload,
	       char *err, size_t errsz);

/* Free a policy; rules_free(NULL) is a no-op. */
void rules_free(struct rules *r);

/*
 * Decide one path.  is_dir tells whether the path names a directory
 * (trailing-slash patterns match directories only).  The path's ancestors
 * are taken into account: a file under a hidden directory is hidden.
 * When why is not NULL it receives the deciding rule, or NULL when no rule
 * matched (the default: RULE_ALLOW).  One PCRE2 match per section.
 */
enum rule_action rules_decide(const struct rules *r, const char *path,
			      int is_dir, const struct rule_origin **why);

/*
 * [content]: does a file whose first bytes are head[0..len) have to be
 * hidden?  len is at most RULES_CONTENT_HEAD.  Returns 1 and sets *why
 * (when not NULL) if so, 0 otherwise.
 */
#define RULES_CONTENT_HEAD 4096
int rules_content_hidden(const struct rules *r, const void *head, size_t len,
			 const struct rule_origin **why);

/* Whether the policy has any [content] rules at all (a fast path). */
int rules_has_content(const struct rules *r);

/*
 * A fingerprint of the [content] patterns in effect (and of how much of a
 * file they see): verdicts kept across mounts are valid only under the
 * same fingerprint.
 */
uint64_t rules_content_fingerprint(const struct rules *r);

/*
 * [redact]: whether the file at path is shown with values masked.
 */
int rules_redacts(const struct rules *r, const char *path);

/*
 * Mask the values in a redacted file's contents.  *out is allocated and
 * owned by the caller (free()).  Returns 0, or -1 on allocation failure.
 */
int rules_redact(const struct rules *r, const char *in, size_t len,
		 char **out, size_t *outlen);

/* [limits]: 0 means no limit. */
uint64_t rules_quota_bytes(const struct rules *r);
uint64_t rules_max_file_bytes(const struct rules *r);

/*
 * Print the effective policy, one rule a line with its origin, in the
 * order rules are decided.
 */
void rules_list(const struct rules *r, FILE *out);

/*
 * Every loaded value of a kept section ([audit], [run], [gates]) with the
 * given key, in load order; calls fn for each.  For the modules that act on
 * them later.
 */
void rules_foreach_value(const struct rules *r, const char *section,
			 const char *key,
			 void (*fn)(const char *value,
				    const struct rule_origin *origin,
				    void *payload),
			 void *payload);

/*
 * Additions for review gates (SPEC §6), same grammar as the sections.
 *
 * rules_gate_sensitive: does a [gates] sensitive pattern match path (or
 * an ancestor)?  Returns 1 and sets *why (when not NULL), else 0.
 *
 * rules_gate_secret: does a [gates] secret PCRE2 pattern match somewhere
 * in text[0..len)?  Returns 1 and sets *why (when not NULL), else 0.
 * Only the user's extra patterns: the built-in secret patterns belong to
 * the gates themselves.
 */
int rules_gate_sensitive(const struct rules *r, const char *path,
			 int is_dir, const struct rule_origin **why);
int rules_gate_secret(const struct rules *r, const char *text, size_t len,
		      const struct rule_origin **why);

/*
 * Paths.  rules_path_normalize() turns a relative path as a person may
 * write it ("./src//a/../b/") into this module's form ("src/b") in
 * out[0..outsz); *is_dir (when not NULL) is set when the path named a
 * directory by its spelling (a trailing '/', ".", "..", or the root "").
 * ".." is resolved by spelling alone.  Fails, filling err, on an absolute
 * path, a ".." above the root, or a result longer than outsz - 1.
 *
 * rules_path_relative() does the same for abs, an absolute path, relative
 * to root, an absolute directory (both canonical, e.g. from realpath());
 * fails when abs is not root or beneath it.
 */
int rules_path_normalize(char *out, size_t outsz, const char *in,
			 int *is_dir, char *err, size_t errsz);
int rules_path_relative(char *out, size_t outsz, const char *root,
			const char *abs, char *err, size_t errsz);

#endif
