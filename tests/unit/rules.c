/*
 * rules.c - unit tests of the rules module (rules/rules.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules.h"
#include "tests/unit/tap.h"
#include "rules/banned.h"

/* ------------------------------------------------------------------ */
/* helpers */

static char tmpdir[200];
static char errbuf[16384];
static char warnings[4096];

static void collect_warning(const char *msg, void *payload)
{
	size_t len = strlen(warnings);

	(void)payload;
	snprintf(warnings + len, sizeof(warnings) - len, "%s\n", msg);
}

static const char *action_name(enum rule_action a)
{
	switch (a) {
	case RULE_ALLOW:
		return "allow";
	case RULE_HIDE:
		return "hide";
	case RULE_READONLY:
		return "readonly";
	}
	return "?";
}

/* A policy from -o overrides only (NULL-terminated), no defaults. */
static struct rules *load_opts(const char *const *ov, int defaults)
{
	struct rules_config cfg = RULES_CONFIG_INIT;
	struct rules *r = NULL;
	size_t n = 0;

	while (ov && ov[n])
		n++;
	cfg.user_file = "";
	cfg.overrides = ov;
	cfg.noverrides = n;
	cfg.no_defaults = !defaults;
	warnings[0] = '\0';
	check_pass(rules_load(&r, &cfg, collect_warning, NULL, errbuf,
			      sizeof(errbuf)), errbuf);
	return r;
}

static struct rules *load_one(const char *opt)
{
	const char *ov[] = { opt, NULL };

	return load_opts(ov, 0);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		printf("Bail out! cannot write %s: %s\n", path,
		       strerror(errno));
		exit(1);
	}
}

/* tmpdir/name, in a static buffer per call site use */
static const char *tmp_path(char *buf, size_t bufsz, const char *name)
{
	snprintf(buf, bufsz, "%s/%s", tmpdir, name);
	return buf;
}

/*
 * Load a policy from a project file (project, may be NULL) and a user
 * file (user, may be NULL: none), without defaults.  Returns rules_load's
 * status; *out as rules_load sets it.
 */
static int load_files(struct rules **out, const char *project,
		      const char *user, const char *const *ov)
{
	struct rules_config cfg = RULES_CONFIG_INIT;
	char ppath[512], upath[512];
	size_t n = 0;

	unlink(tmp_path(ppath, sizeof(ppath), ".wardfs.ini"));
	unlink(tmp_path(upath, sizeof(upath), "user.ini"));
	if (project)
		write_file(ppath, project, strlen(project));
	if (user)
		write_file(upath, user, strlen(user));
	while (ov && ov[n])
		n++;
	cfg.project = tmpdir;
	cfg.user_file = user ? upath : "";
	cfg.overrides = ov;
	cfg.noverrides = n;
	cfg.no_defaults = 1;
	warnings[0] = '\0';
	errbuf[0] = '\0';
	return rules_load(out, &cfg, collect_warning, NULL, errbuf,
			  sizeof(errbuf));
}

/* The error a project file gives must contain want. */
static void project_error(const char *ini, const char *want)
{
	struct rules *r = NULL;
	char desc[512];
	int rc;

	rc = load_files(&r, ini, NULL, NULL);
	snprintf(desc, sizeof(desc), "error: %s", want);
	if (!check(rc < 0 && !r && strstr(errbuf, want), desc))
		printf("#   err: %s\n", errbuf);
	rules_free(r);
}

/*
 * path decides want; when pattern is not NULL the deciding rule is that
 * pattern ("" for no rule).
 */
static void decides(const struct rules *r, const char *path, int is_dir,
		    enum rule_action want, const char *pattern)
{
	const struct rule_origin *why = NULL;
	enum rule_action got;
	char desc[512];
	int ok;

	got = rules_decide(r, path, is_dir, &why);
	ok = got == want;
	if (pattern && !*pattern)
		ok = ok && !why;
	else if (pattern)
		ok = ok && why && strcmp(why->pattern, pattern) == 0;
	snprintf(desc, sizeof(desc), "'%s'%s -> %s%s%s%s", path,
		 is_dir ? " (dir)" : "", action_name(want),
		 pattern ? " by '" : "", pattern ? pattern : "",
		 pattern ? "'" : "");
	if (!check(ok, desc))
		printf("#   got %s by '%s'\n", action_name(got),
		       why ? why->pattern : "(none)");
}

static void hidden(const struct rules *r, const char *path)
{
	decides(r, path, 0, RULE_HIDE, NULL);
}

static void visible(const struct rules *r, const char *path)
{
	decides(r, path, 0, RULE_ALLOW, NULL);
}

static void hidden_dir(const struct rules *r, const char *path)
{
	decides(r, path, 1, RULE_HIDE, NULL);
}

static void visible_dir(const struct rules *r, const char *path)
{
	decides(r, path, 1, RULE_ALLOW, NULL);
}

/* ------------------------------------------------------------------ */
/* glob translation */

static void test_rules__glob_basename(void)
{
	struct rules *r = load_one("hide.path=*.key");

	if (!r)
		return;
	hidden(r, "a.key");
	hidden(r, "dir/sub/b.key");
	hidden(r, ".key");
	visible(r, "a.keys");
	visible(r, "key");
	visible(r, "a.key.txt");
	/* a directory that matches hides what is beneath it */
	hidden(r, "dir.key/readme");
	hidden_dir(r, "x/dir.key");
	rules_free(r);
}

static void test_rules__glob_gitignore_examples(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=doc/frotz/", "hide.path=frotz2/",
		"hide.path=hello.*", "hide.path=/bar", "hide.path=foo/*",
		NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	/* "doc/frotz/" matches doc/frotz but not a/doc/frotz */
	hidden_dir(r, "doc/frotz");
	hidden(r, "doc/frotz/x.c");
	visible_dir(r, "a/doc/frotz");
	visible(r, "doc/frotz");	/* a file: directory-only rule */
	/* "frotz2/" matches frotz2 and a/frotz2 (no slash inside) */
	hidden_dir(r, "frotz2");
	hidden_dir(r, "a/frotz2");
	/* "hello.*" matches any name beginning with hello. */
	hidden(r, "hello.c");
	hidden(r, "x/hello.txt");
	visible(r, "hello");
	visible(r, "ahello.c");
	/* "/bar" matches bar at the root only */
	hidden(r, "bar");
	visible(r, "a/bar");
	/* "foo/" + "*": foo/test.json and foo/bar, not foo itself */
	hidden(r, "foo/test.json");
	hidden_dir(r, "foo/bar");
	decides(r, "foo/bar/hello.c", 0, RULE_HIDE, "foo/*");
	visible_dir(r, "foo");
	visible(r, "x/foo/test.json");
	rules_free(r);
}

static void test_rules__glob_double_star(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=**/foo", "hide.path=**/x/bar", "hide.path=abc/**",
		"hide.path=a/**/b", "hide.path=c/**/", "hide.path=m**n",
		NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	/* leading "**" + "/": in every directory */
	hidden(r, "foo");
	hidden(r, "p/q/foo");
	visible(r, "p/q/foox");
	hidden(r, "x/bar");
	hidden(r, "p/x/bar");
	visible(r, "p/x/y/bar");
	/* trailing "/" + "**": what is inside, not the directory itself */
	hidden(r, "abc/x");
	hidden(r, "abc/x/y/z");
	visible_dir(r, "abc");
	visible(r, "abc");
	visible(r, "p/abc/x");
	/* "/" + "**" + "/": zero or more directories */
	hidden(r, "a/b");
	hidden(r, "a/x/b");
	hidden(r, "a/x/y/b");
	visible(r, "a/xb");
	visible(r, "p/a/b");
	/* "c/" + "**" + "/": directories inside c */
	hidden_dir(r, "c/d");
	hidden(r, "c/d/e");
	visible(r, "c/e");
	/* "**" not a whole component is a plain "*" */
	hidden(r, "mxyn");
	visible(r, "mx/yn");
	rules_free(r);
}

static void test_rules__glob_escapes(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=a\\*b", "hide.path=q\\?", "hide.path=sp\\ ",
		"hide.path=trail   ", "hide.path=\\#hash", "hide.path=\\!bang",
		"hide.path=back\\\\slash", "hide.path=br\\[x]", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	hidden(r, "a*b");
	visible(r, "axb");
	hidden(r, "q?");
	visible(r, "qx");
	/* an escaped trailing space stays, unescaped ones go */
	hidden(r, "sp ");
	visible(r, "sp");
	hidden(r, "trail");
	visible(r, "trail ");
	hidden(r, "#hash");
	hidden(r, "!bang");
	hidden(r, "back\\slash");
	visible(r, "backslash");
	hidden(r, "br[x]");
	visible(r, "brx");
	rules_free(r);
}

static void test_rules__glob_classes(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=[abc].txt", "hide.path=r[0-9][0-9]",
		"hide.path=n[!a-c]x", "hide.path=m[^a]x", "hide.path=[]]z",
		"hide.path=[!]]w", "hide.path=d[[:digit:]]",
		"hide.path=/s[!b]c",
		"hide.path=/t[/]u", "hide.path=v[-]", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	hidden(r, "a.txt");
	hidden(r, "c.txt");
	visible(r, "d.txt");
	hidden(r, "r42");
	visible(r, "r4x");
	hidden(r, "ndx");
	visible(r, "nbx");
	hidden(r, "mbx");
	visible(r, "max");
	hidden(r, "]z");
	hidden(r, "qw");
	visible(r, "]w");
	hidden(r, "d7");
	visible(r, "dx");
	hidden(r, "sxc");
	/* a class never matches '/' */
	visible(r, "s/c");
	visible(r, "t/u");
	hidden(r, "v-");
	rules_free(r);
}

static void test_rules__glob_stars_and_questions(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=/x*y", "hide.path=a?c", "hide.path=k***l", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	hidden(r, "xy");
	hidden(r, "xaaay");
	visible(r, "xa/by");	/* '*' does not cross '/' */
	hidden(r, "abc");
	visible(r, "ac");
	visible(r, "abbc");
	visible(r, "a/c");	/* nor does '?' */
	hidden(r, "kzzl");
	rules_free(r);
}

static void test_rules__directory_only(void)
{
	struct rules *r = load_one("hide.path=build/");

	if (!r)
		return;
	hidden_dir(r, "build");
	visible(r, "build");
	hidden(r, "build/x.o");
	hidden(r, "a/build/x.o");
	hidden_dir(r, "a/build");
	visible(r, "a/build");
	visible(r, "builds/x");
	rules_free(r);
}

static void test_rules__anchoring(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=/top", "hide.path=a/b", "hide.path=name", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	hidden(r, "top");
	visible(r, "x/top");
	hidden(r, "a/b");
	hidden(r, "a/b/c");
	visible(r, "x/a/b");
	hidden(r, "name");
	hidden(r, "x/y/name");
	visible(r, "");		/* the root is never hidden */
	rules_free(r);
}

static void test_rules__bad_globs(void)
{
	project_error("[hide]\npath = [abc\n",
		      ".wardfs.ini:2: bad pattern '[abc': missing ']' at "
		      "offset 0");
	project_error("[hide]\npath = x[z-a]\n",
		      "bad pattern 'x[z-a]': range out of order in '[...]' "
		      "at offset 2");
	project_error("[hide]\npath = ab\\\n",
		      "bad pattern 'ab\\': trailing backslash at offset 2");
	project_error("[hide]\npath = !x\n",
		      "bad pattern '!x': '!' negation is not supported");
	project_error("[hide]\npath = /\n",
		      "bad pattern '/': pattern names the project root");
	project_error("[hide]\npath = [\xc3\xa9]\n",
		      "non-ASCII byte in '[...]'");
	project_error("[hide]\npath = [[:nope:]]\n",
		      "unknown character class at offset 1");
}

/* ------------------------------------------------------------------ */
/* re: patterns */

static void test_rules__regex_patterns(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=re:^src/.*\\.gen\\.c$", "hide.path=re:^secrets$",
		"hide.path=re:(ab)\\1x", "hide.path=re:q(*COMMIT)z",
		"hide.path=*.key", "hide.path=re:(^|/)a{1,3}b$", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	decides(r, "src/a.gen.c", 0, RULE_HIDE, "re:^src/.*\\.gen\\.c$");
	visible(r, "lib/a.gen.c");
	/* a re: rule matching a directory covers what is beneath */
	decides(r, "secrets/a/b", 0, RULE_HIDE, "re:^secrets$");
	visible(r, "secretsx");
	/* a back reference: matched on its own */
	hidden(r, "ababx");
	visible(r, "abx");
	/* (*COMMIT) must not stop the other rules */
	hidden(r, "qy.key");
	decides(r, "qz", 0, RULE_HIDE, "re:q(*COMMIT)z");
	hidden(r, "x/aab");
	visible(r, "x/aaaab/c");
	rules_free(r);

	project_error("[hide]\npath = re:sec(ret\n",
		      ".wardfs.ini:2: bad pattern 're:sec(ret': missing "
		      "closing parenthesis at offset 10");
}

static void test_rules__shared_prefixes(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=ab", "hide.path=abc", "hide.path=abd*",
		"hide.path=a/",
		"hide.path=/a/b", "hide.path=abe/", "hide.path=x.y",
		"hide.path=x.yz/", "hide.path=x?yy", NULL,
	};

	/* rules that share their first atoms are merged in one trie */
	r = load_opts(ov, 0);
	if (!r)
		return;
	decides(r, "ab", 0, RULE_HIDE, "ab");
	decides(r, "q/abc", 0, RULE_HIDE, "abc");
	decides(r, "abdxx", 0, RULE_HIDE, "abd*");
	visible(r, "abe");
	decides(r, "abe", 1, RULE_HIDE, "abe/");
	decides(r, "a/b", 0, RULE_HIDE, "a/");
	visible(r, "a");
	decides(r, "q/a/b", 0, RULE_HIDE, "a/");
	visible(r, "abx");
	decides(r, "x.y", 0, RULE_HIDE, "x.y");
	visible(r, "x.yz");
	decides(r, "x.yz/f", 0, RULE_HIDE, "x.yz/");
	decides(r, "x.yy", 0, RULE_HIDE, "x?yy");
	visible(r, "xyz");
	rules_free(r);
}

static void test_rules__regex_levels(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=re:b/", "hide.path=re:[$]x", "hide.path=re:^k$",
		"hide.path=re:^m(?=n)", "readonly.path=re:^ro\\b", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	/* re: rules never see the trailing '/' of a directory */
	visible_dir(r, "a/b");
	decides(r, "a/b/c", 0, RULE_HIDE, "re:b/");
	/* '$' not at the end: tried level by level */
	decides(r, "$x/y", 0, RULE_HIDE, "re:[$]x");
	decides(r, "k/y/z", 0, RULE_HIDE, "re:^k$");
	visible(r, "kk/y");
	/* a lookahead sees only the name of its level */
	decides(r, "mn", 0, RULE_HIDE, "re:^m(?=n)");
	visible(r, "m/n");
	decides(r, "ro/x", 0, RULE_READONLY, "re:^ro\\b");
	decides(r, "ro-x", 0, RULE_READONLY, "re:^ro\\b");
	visible(r, "rox/y");
	rules_free(r);
}

/* ------------------------------------------------------------------ */
/* decisions */

static void test_rules__defaults(void)
{
	struct rules *r = load_opts(NULL, 1);

	if (!r)
		return;
	decides(r, ".env", 0, RULE_HIDE, ".env");
	decides(r, "app/.env.local", 0, RULE_HIDE, ".env.*");
	decides(r, ".env.example", 0, RULE_ALLOW, ".env.example");
	decides(r, "web/.env.sample", 0, RULE_ALLOW, ".env.sample");
	decides(r, ".env.template", 0, RULE_ALLOW, ".env.template");
	hidden(r, "certs/server.pem");
	hidden(r, "tls.key");
	hidden(r, "a.p12");
	hidden(r, "b.pfx");
	hidden(r, "id_rsa");
	hidden(r, "keys/id_ed25519.pub");
	hidden(r, "id_ecdsa");
	decides(r, "a/.ssh/id_rsa", 0, RULE_HIDE, ".ssh/");
	hidden(r, "home/.ssh/config");
	hidden_dir(r, ".aws");
	hidden(r, ".gnupg/pubring.kbx");
	decides(r, ".kube/config", 0, RULE_HIDE, "**/.kube/config");
	hidden(r, "home/.kube/config");
	hidden(r, "x/.docker/config.json");
	hidden(r, ".netrc");
	hidden(r, ".npmrc");
	hidden(r, ".pypirc");
	hidden(r, ".git-credentials");
	hidden(r, "gcp/credentials.json");
	decides(r, ".git", 1, RULE_READONLY, ".git/");
	decides(r, ".git", 0, RULE_READONLY, ".git");
	decides(r, ".git/config", 0, RULE_READONLY, NULL);
	decides(r, ".git/hooks/pre-commit", 0, RULE_READONLY, NULL);
	decides(r, ".github/workflows/ci.yml", 0, RULE_READONLY,
		".github/workflows/");
	decides(r, ".gitlab-ci.yml", 0, RULE_READONLY, ".gitlab-ci.yml");
	decides(r, ".wardfs.ini", 0, RULE_READONLY, "/.wardfs.ini");
	decides(r, "sub/.wardfs.ini", 0, RULE_ALLOW, "");
	decides(r, "src/main.c", 0, RULE_ALLOW, "");
	decides(r, ".envrc", 0, RULE_ALLOW, "");
	check(rules_has_content(r), "defaults have a [content] rule");
	rules_free(r);
}

static void test_rules__decision_order(void)
{
	struct rules *r;
	const char *ov[] = {
		"hide.path=*.secret", "readonly.path=vendor/",
		"hide.path=vendor/*.pem", "allow.path=vendor/LICENSE",
		"allow.path=ok.secret", "hide.path=private/",
		"allow.path=private/README", "allow.path=docs/",
		"hide.path=docs/*.key", "readonly.path=ro/",
		"allow.path=ro/**", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	/* allow beats hide at the same name */
	decides(r, "ok.secret", 0, RULE_ALLOW, "ok.secret");
	decides(r, "no.secret", 0, RULE_HIDE, "*.secret");
	/* hide beats readonly */
	decides(r, "vendor/k.pem", 0, RULE_HIDE, "vendor/*.pem");
	decides(r, "vendor/lib.c", 0, RULE_READONLY, "vendor/");
	/* allow beats readonly only at the same name */
	decides(r, "vendor/LICENSE", 0, RULE_READONLY, "vendor/");
	/* nothing re-includes beneath a hidden directory */
	decides(r, "private/README", 0, RULE_HIDE, "private/");
	/* an allowed directory does not allow what is in it */
	decides(r, "docs/a.key", 0, RULE_HIDE, "docs/*.key");
	decides(r, "docs/a.md", 0, RULE_ALLOW, "");
	/* allow for each name beneath a read-only directory: not enough */
	decides(r, "ro/x", 0, RULE_READONLY, "ro/");
	rules_free(r);
}

static void test_rules__reported_rule(void)
{
	struct rules *r;
	const char *ov1[] = { "hide.path=*.c", "hide.path=src/*.c", NULL };
	const char *ov2[] = { "hide.path=src/*.c", "hide.path=*.c", NULL };
	const char *ov3[] = { "hide.path=secrets/", "hide.path=*.key", NULL };

	/* within a section the last matching rule is reported */
	r = load_opts(ov1, 0);
	if (r)
		decides(r, "src/a.c", 0, RULE_HIDE, "src/*.c");
	rules_free(r);
	r = load_opts(ov2, 0);
	if (r)
		decides(r, "src/a.c", 0, RULE_HIDE, "*.c");
	rules_free(r);
	/* the shallowest hidden name decides */
	r = load_opts(ov3, 0);
	if (r)
		decides(r, "secrets/a.key", 0, RULE_HIDE, "secrets/");
	rules_free(r);
}

static void test_rules__origins(void)
{
	const struct rule_origin *why = NULL;
	struct rules *r = NULL;
	const char *ov[] = { "hide.path=cli.txt", NULL };
	char upath[512];

	if (!check_pass(load_files(&r, "; comment\n\n[hide]\npath = p.txt\n",
				   "[hide]\npath = u.txt\n", ov), errbuf))
		return;
	rules_decide(r, "p.txt", 0, &why);
	check(why && why->line == 4 && strstr(why->file, "/.wardfs.ini") &&
	      strcmp(why->section, "hide") == 0, "project rule origin");
	rules_decide(r, "u.txt", 0, &why);
	tmp_path(upath, sizeof(upath), "user.ini");
	check(why && why->line == 2 && strcmp(why->file, upath) == 0,
	      "user rule origin");
	rules_decide(r, "cli.txt", 0, &why);
	check(why && why->line == 0 && strcmp(why->file, "<command line>") == 0,
	      "command-line rule origin");
	rules_free(r);
}

/* ------------------------------------------------------------------ */
/* trust boundary, limits, kept sections */

static void count_value(const char *value, const struct rule_origin *o,
			void *payload)
{
	char *last = payload;

	(void)o;
	snprintf(last, 64, "%s", value);
}

static void test_rules__trust_boundary(void)
{
	struct rules *r = NULL;
	const char *user =
		"[allow]\npath = local.key\n"
		"[limits]\nquota = 1G\nmax_file = 100M\n"
		"[run]\nnetwork = host\n";
	const char *project =
		"[hide]\npath = *.key\n"
		"[allow]\npath = other.key\n"
		"[limits]\nquota = 2G\nmax_file = 10M\n"
		"[run]\nwritable = ~/.cache\nnetwork = host\nmask = ~/.x\n"
		"[audit]\nlog = denied\n";
	char last[64];

	if (!check_pass(load_files(&r, project, user, NULL), errbuf))
		return;
	decides(r, "local.key", 0, RULE_ALLOW, "local.key");
	decides(r, "other.key", 0, RULE_HIDE, "*.key");
	check(strstr(warnings, ".wardfs.ini:3: [allow] in a project file "
		      "is ignored\n") != NULL, "[allow] in a project: warning");
	check(strstr(warnings, ".wardfs.ini:6: looser limit 'quota = 2G' in "
		      "a project file is ignored (the limit is 1G)\n") != NULL,
	      "looser quota: warning");
	check_int(rules_quota_bytes(r), 1ull << 30, "looser quota ignored");
	check_int(rules_max_file_bytes(r), 10ull << 20,
		  "tighter max_file taken");
	check(strstr(warnings, ".wardfs.ini:9: [run] writable in a project "
		      "file is ignored\n") != NULL, "writable: warning");
	check(strstr(warnings, ".wardfs.ini:10: [run] network = host in a "
		      "project file is ignored\n") != NULL, "network: warning");
	check(strstr(warnings, ".wardfs.ini:12: [audit] in a project file "
		      "is ignored\n") != NULL, "[audit]: warning");
	last[0] = '\0';
	rules_foreach_value(r, "run", "writable", count_value, last);
	check_str(last, "", "project writable not kept");
	rules_foreach_value(r, "run", "mask", count_value, last);
	check_str(last, "~/.x", "project mask kept");
	last[0] = '\0';
	rules_foreach_value(r, "audit", "log", count_value, last);
	check_str(last, "", "project [audit] not kept");
	rules_free(r);

	/* a project may always tighten a limit nobody set */
	if (check_pass(load_files(&r, "[limits]\nquota = 5G\n", NULL, NULL),
		       errbuf))
		check_int(rules_quota_bytes(r), 5ull << 30, "first quota");
	rules_free(r);
	/* the command line may loosen */
	{
		const char *ov[] = { "limits.quota=0", "allow.path=x.key",
				     NULL };

		if (check_pass(load_files(&r, "[limits]\nquota = 5G\n"
					  "[hide]\npath = *.key\n", NULL, ov),
			       errbuf)) {
			check_int(rules_quota_bytes(r), 0, "-o loosens quota");
			decides(r, "x.key", 0, RULE_ALLOW, "x.key");
		}
		rules_free(r);
	}
}

static void test_rules__limits_parsing(void)
{
	static const struct {
		const char *text;
		uint64_t want;
	} good[] = {
		{ "0", 0 }, { "512", 512 }, { "1K", 1024 }, { "2M", 2 << 20 },
		{ "3G", 3ull << 30 }, { "1T", 1ull << 40 }, { "10KiB", 10240 },
		{ "5MB", 5 << 20 }, { "7k", 7168 }, { "100B", 100 },
	};
	static const char *const bad[] = {
		"2X", "-1", "1.5G", "G", "99999999999T", "18446744073709551616",
		"1KK",
	};
	char opt[64], desc[96];
	struct rules *r = NULL;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *ov[] = { opt, NULL };

		snprintf(opt, sizeof(opt), "limits.max_file=%s", good[i].text);
		r = load_opts(ov, 0);
		snprintf(desc, sizeof(desc), "max_file = %s", good[i].text);
		if (r)
			check_int(rules_max_file_bytes(r), good[i].want, desc);
		rules_free(r);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char ini[128], want[160];

		snprintf(ini, sizeof(ini), "[limits]\nquota = %s\n", bad[i]);
		snprintf(want, sizeof(want), ".wardfs.ini:2: bad size '%s' for "
			 "'quota' (expected a number with an optional K, M, G "
			 "or T)", bad[i]);
		project_error(ini, want);
	}
}

static void test_rules__kept_sections(void)
{
	struct rules *r = NULL;
	char last[64];
	const char *user =
		"[audit]\nreads = yes\nlog = writes\nlog = all\n"
		"[run]\nmask = ~/.config/gcloud\nwritable = /tmp/x\n"
		"network = none\nenv_drop = AWS_*\n"
		"[gates]\nsecret = sk-[a-z]{20}\nsensitive = deploy/\n";

	if (!check_pass(load_files(&r, NULL, user, NULL), errbuf))
		return;
	rules_foreach_value(r, "audit", "log", count_value, last);
	check_str(last, "all", "last [audit] log wins");
	rules_foreach_value(r, "audit", "reads", count_value, last);
	check_str(last, "yes", "[audit] reads");
	rules_foreach_value(r, "run", "env_drop", count_value, last);
	check_str(last, "AWS_*", "[run] env_drop");
	rules_foreach_value(r, "run", "network", count_value, last);
	check_str(last, "none", "[run] network");
	check(rules_gate_sensitive(r, "deploy/prod.tf", 0, NULL),
	      "[gates] sensitive matches beneath");
	check(!rules_gate_sensitive(r, "src/deploy.c", 0, NULL),
	      "[gates] sensitive no match");
	check(rules_gate_secret(r, "token = sk-abcdefghijklmnopqrst\n", 31,
				NULL), "[gates] secret matches");
	check(!rules_gate_secret(r, "token = sk-short\n", 17, NULL),
	      "[gates] secret no match");
	rules_free(r);
}

/* ------------------------------------------------------------------ */
/* config errors */

static void test_rules__config_errors(void)
{
	char line[400], ini[512];
	struct rules *r = NULL;
	int rc;

	project_error("[hidden]\npath = x\n",
		      ".wardfs.ini:1: unknown section 'hidden'");
	project_error("[hide]\nglob = x\n",
		      ".wardfs.ini:2: unknown key 'glob' in [hide]");
	project_error("path = x\n",
		      ".wardfs.ini:1: 'path' outside of any section");
	project_error("[hide]\nsecrets.txt\n",
		      ".wardfs.ini:2: expected 'path = PATTERN'");
	project_error("[limits]\nquota\n",
		      ".wardfs.ini:2: expected 'key = value' or '[section]'");
	project_error("[hide\n",
		      ".wardfs.ini:1: missing ']' in section header");
	project_error("[hide] junk\n",
		      ".wardfs.ini:1: unexpected text after section header");
	project_error("[hide]\npath =\n",
		      ".wardfs.ini:2: empty value for 'path' in [hide]");
	project_error("[content]\npattern = sec(ret\n",
		      ".wardfs.ini:2: bad pattern 'sec(ret': missing closing "
		      "parenthesis at offset 7");
	project_error("[run]\nnetwork = wifi\n",
		      ".wardfs.ini:2: bad value 'wifi' for 'network' "
		      "(expected none or host)");
	project_error("[run]\nmask = .ssh\n",
		      ".wardfs.ini:2: bad path '.ssh' for 'mask' (expected an "
		      "absolute path or one under ~/)");

	/* bad values of the kept sections (the user file may set them) */
	rc = load_files(&r, NULL, "[audit]\nreads = maybe\nlog = some\n",
			NULL);
	check(rc < 0 && strstr(errbuf, "user.ini:2: bad value 'maybe' for "
			       "'reads' (expected true or false)") &&
	      strstr(errbuf, "user.ini:3: bad value 'some' for 'log' "
		     "(expected denied, writes or all)"), "bad [audit] values");
	rules_free(r);
	r = NULL;

	/* a NUL byte */
	{
		static const char nul[] = "[hide]\npath = a\0b\n";
		struct rules_config cfg = RULES_CONFIG_INIT;
		char p[512];

		write_file(tmp_path(p, sizeof(p), ".wardfs.ini"), nul,
			   sizeof(nul) - 1);
		cfg.project = tmpdir;
		cfg.user_file = "";
		cfg.no_defaults = 1;
		rc = rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf));
		check(rc < 0 && strstr(errbuf, ".wardfs.ini:2: NUL byte"),
		      "NUL byte");
		rules_free(r);
		r = NULL;
	}

	/* a line of 198 bytes is fine, 199 is not */
	memset(line, 'x', sizeof(line));
	memcpy(line, "path = ", 7);
	line[198] = '\0';
	snprintf(ini, sizeof(ini), "[hide]\n%s\n", line);
	rc = load_files(&r, ini, NULL, NULL);
	check_pass(rc, errbuf);
	rules_free(r);
	r = NULL;
	line[198] = 'x';
	line[199] = '\0';
	snprintf(ini, sizeof(ini), "[hide]\n%s\n", line);
	project_error(ini, ".wardfs.ini:2: line too long (max 198 bytes)");
	/* ... and is not split into a second line */
	check(!strstr(errbuf, ":3:"), "long line not split");

	/* every error, not only the first */
	rc = load_files(&r, "[nope]\n[hide]\nfoo = 1\npath = [\n[limits]\n"
			"quota = big\n", NULL, NULL);
	check(rc < 0 && strstr(errbuf, ":1: unknown section 'nope'") &&
	      strstr(errbuf, ":3: unknown key 'foo' in [hide]") &&
	      strstr(errbuf, ":4: bad pattern '['") &&
	      strstr(errbuf, ":6: bad size 'big'"), "all errors reported");
	check(strchr(errbuf, '\n') != NULL, "one error a line");
	rules_free(r);
	r = NULL;
}

static void test_rules__config_error_sources(void)
{
	struct rules_config cfg = RULES_CONFIG_INIT;
	struct rules *r = NULL;
	char path[512], big[256];
	const char *bad_ov[] = { "hide=x", "nope.path=x", "hide.glob=x",
				 "limits.quota=lots", NULL };
	FILE *f;
	int rc, i;

	/* an explicit user file must exist */
	cfg.user_file = tmp_path(path, sizeof(path), "missing.ini");
	cfg.no_defaults = 1;
	rc = rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf));
	check(rc < 0 && strstr(errbuf, "cannot open '") &&
	      strstr(errbuf, "missing.ini': No such file or directory"),
	      "missing explicit user file");
	rules_free(r);
	r = NULL;

	/* a missing project file is fine */
	cfg.user_file = "";
	cfg.project = tmp_path(path, sizeof(path), "no-such-dir");
	check_pass(rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf)),
		   errbuf);
	rules_free(r);
	r = NULL;

	/* -o errors */
	cfg.project = NULL;
	cfg.overrides = bad_ov;
	cfg.noverrides = 4;
	rc = rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf));
	check(rc < 0 && strstr(errbuf, "<command line>: bad option 'hide=x' "
			       "(expected section.key=value)") &&
	      strstr(errbuf, "<command line>: unknown section 'nope'") &&
	      strstr(errbuf, "<command line>: unknown key 'glob' in [hide]") &&
	      strstr(errbuf, "<command line>: bad size 'lots'"),
	      "-o errors");
	rules_free(r);
	r = NULL;

	/* a file over 1 MiB */
	f = fopen(tmp_path(path, sizeof(path), ".wardfs.ini"), "w");
	if (f) {
		memset(big, ';', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\n';
		for (i = 0; i < 4200; i++)
			fwrite(big, 1, sizeof(big), f);
		fclose(f);
	}
	cfg.overrides = NULL;
	cfg.noverrides = 0;
	cfg.project = tmpdir;
	rc = rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf));
	check(rc < 0 && strstr(errbuf, ".wardfs.ini: file too large (max "
			       "1048576 bytes)"), "file too large");
	rules_free(r);
	r = NULL;

	/* a symlinked project file is not followed */
	unlink(path);
	write_file(tmp_path(big, sizeof(big), "target.ini"), "[hide]\n", 7);
	if (symlink("target.ini", path) == 0) {
		rc = rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf));
		check(rc < 0 && strstr(errbuf, "a symbolic link"),
		      "symlinked project file refused");
		rules_free(r);
		r = NULL;
	}
	unlink(path);
	unlink(big);

	/* a directory where the project file should be */
	if (mkdir(path, 0700) == 0) {
		rc = rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf));
		check(rc < 0 && strstr(errbuf, ".wardfs.ini': not a regular "
				       "file"), "project file not a regular file");
		rules_free(r);
		r = NULL;
		rmdir(path);
	}

	/* a -o value over RULES_MAX_PATTERN bytes */
	{
		static char opt[1100];
		const char *ov[] = { opt, NULL };

		memset(opt, 'x', sizeof(opt) - 1);
		memcpy(opt, "hide.path=", 10);
		cfg.project = NULL;
		cfg.overrides = ov;
		cfg.noverrides = 1;
		rc = rules_load(&r, &cfg, NULL, NULL, errbuf, sizeof(errbuf));
		check(rc < 0 && strcmp(errbuf, "<command line>: value of "
				       "'hide.path' too long (max 1024 bytes)")
		      == 0, "-o value too long");
		rules_free(r);
		r = NULL;
	}

	/* a tiny err buffer is filled safely */
	cfg.overrides = bad_ov;
	cfg.noverrides = 4;
	cfg.project = NULL;
	memset(big, 'Z', sizeof(big));
	rc = rules_load(&r, &cfg, NULL, NULL, big, 20);
	check(rc < 0 && strlen(big) == 19 && big[20] == 'Z',
	      "error truncated to the buffer");
}

static void test_rules__too_many_rules(void)
{
	struct rules *r = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int i, rc;

	f = open_memstream(&text, &len);
	if (!f)
		return;
	fprintf(f, "[hide]\n");
	for (i = 0; i < 10001; i++)
		fprintf(f, "path = f%d\n", i);
	fclose(f);
	rc = load_files(&r, text, NULL, NULL);
	check(rc < 0 && strstr(errbuf, ".wardfs.ini:10002: too many rules "
			       "(max 10000)"), "too many rules");
	check(!strstr(errbuf, ":10003:"), "too many rules: reported once");
	rules_free(r);
	free(text);
}

static void test_rules__many_rules_split(void)
{
	char *ini = NULL, want[64];
	struct rules *r = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	/* more than one 64 KiB PCRE2 program */
	f = open_memstream(&ini, &len);
	if (!f)
		return;
	fprintf(f, "[hide]\n");
	for (i = 0; i < 3000; i++)
		fprintf(f, "path = dir%d/**/file-[a-z][0-9]*-%d.txt\n", i, i);
	fclose(f);
	if (check_pass(load_files(&r, ini, NULL, NULL), errbuf)) {
		decides(r, "dir0/x/file-a1-0.txt", 0, RULE_HIDE,
			"dir0/**/file-[a-z][0-9]*-0.txt");
		snprintf(want, sizeof(want), "dir2999/**/file-[a-z][0-9]*-"
			 "2999.txt");
		decides(r, "dir2999/file-b2zz-2999.txt", 0, RULE_HIDE, want);
		decides(r, "dir1500/y/z/file-c3-1500.txt", 0, RULE_HIDE, NULL);
		visible(r, "dir1500/file-c3-1501.txt");
	}
	rules_free(r);
	free(ini);
}

static void test_rules__deep_trie(void)
{
	static char opts[300][320];
	const char *ov[301];
	struct rules *r;
	char name[320];
	size_t i;

	/*
	 * "b", "bb", "bbb"...: merged, they nest deeper than the 250
	 * parentheses PCRE2 allows, and are split
	 */
	for (i = 0; i < 300; i++) {
		snprintf(opts[i], sizeof(opts[i]), "hide.path=%s",
			 i % 2 ? "" : "/");
		memset(opts[i] + strlen(opts[i]), 'b', i + 1);
		ov[i] = opts[i];
	}
	ov[300] = NULL;
	r = load_opts(ov, 0);
	if (!r)
		return;
	memset(name, 'b', sizeof(name));
	name[300] = '\0';
	decides(r, name, 0, RULE_HIDE, opts[299] + 10);
	name[299] = '\0';
	hidden(r, name);
	name[299] = 'b';
	name[300] = 'b';
	name[301] = '\0';
	visible(r, name);
	name[1] = '\0';
	decides(r, name, 0, RULE_HIDE, "/b");
	rules_free(r);
}

static void test_rules__file_syntax(void)
{
	struct rules *r = NULL;
	const char *ini =
		"\xef\xbb\xbf; a comment\n"
		"# another\n"
		"[ hide ]\r\n"
		"   path = indented.txt\n"
		"   path = second.txt\n"
		"path = sp\\ \n"
		"path = semi.txt ; inline comment\n"
		"path : colon.txt\n";

	if (!check_pass(load_files(&r, ini, NULL, NULL), errbuf))
		return;
	decides(r, "indented.txt", 0, RULE_HIDE, "indented.txt");
	/* no continuation line: leading blanks are ignored */
	decides(r, "second.txt", 0, RULE_HIDE, "second.txt");
	decides(r, "sp ", 0, RULE_HIDE, "sp\\ ");
	visible(r, "sp");
	decides(r, "semi.txt", 0, RULE_HIDE, "semi.txt");
	hidden(r, "colon.txt");
	rules_free(r);
}

/* ------------------------------------------------------------------ */
/* content, redact */

static void test_rules__content(void)
{
	static const char key[] = "junk\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
				  "b3BlbnNzaC1rZXktdjEAAAAA\n";
	static const char pgp[] = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n";
	static const char pub[] = "-----BEGIN PUBLIC KEY-----\n";
	const struct rule_origin *why = NULL;
	struct rules *r = load_opts(NULL, 1);
	const char *ov[] = { "content.pattern=(?i)^password\\s*=",
			     "content.pattern=(x)\\1y", NULL };
	char head[RULES_CONTENT_HEAD + 64];

	if (!r)
		return;
	check(rules_content_hidden(r, key, sizeof(key) - 1, &why) == 1 &&
	      why && strcmp(why->section, "content") == 0,
	      "private key header hidden");
	check(rules_content_hidden(r, pgp, sizeof(pgp) - 1, NULL) == 1,
	      "PGP private key block hidden");
	check(rules_content_hidden(r, pub, sizeof(pub) - 1, &why) == 0 &&
	      !why, "public key visible");
	/* only the first 4 KiB count */
	memset(head, 'a', sizeof(head));
	memcpy(head + RULES_CONTENT_HEAD + 2, pgp, 20);
	check(rules_content_hidden(r, head, sizeof(head), NULL) == 0,
	      "beyond 4 KiB not looked at");
	rules_free(r);

	r = load_opts(ov, 0);
	if (!r)
		return;
	check(rules_has_content(r), "has content rules");
	check(rules_content_hidden(r, "PassWord = x", 12, &why) == 1 && why &&
	      strcmp(why->pattern, "(?i)^password\\s*=") == 0,
	      "custom content rule");
	check(rules_content_hidden(r, "..xxy", 5, &why) == 1 && why &&
	      strcmp(why->pattern, "(x)\\1y") == 0,
	      "content rule with a back reference");
	check(rules_content_hidden(r, "user = x", 8, NULL) == 0,
	      "content no match");
	rules_free(r);
	r = load_opts(NULL, 0);
	if (r)
		check(!rules_has_content(r), "no content rules");
	rules_free(r);
}

static void redacts_to(const struct rules *r, const char *in,
		       const char *want, const char *desc)
{
	char *out = NULL;
	size_t len = 0;

	if (!check_pass(rules_redact(r, in, strlen(in), &out, &len), ""))
		return;
	check_str(out, want, desc);
	check_int(len, strlen(want), "redacted length");
	free(out);
}

static void test_rules__redact(void)
{
	struct rules *r;
	const char *ov[] = {
		"redact.path=.env.local", "redact.path=config/",
		"redact.path=re:\\.secrets\\.ya?ml$",
		"redact.match=^\\s*token\\s+(\\S+)", NULL,
	};

	r = load_opts(ov, 0);
	if (!r)
		return;
	check(rules_redacts(r, ".env.local"), "redacts .env.local");
	check(rules_redacts(r, "a/.env.local"), "redacts at any depth");
	check(rules_redacts(r, "config/db.yml"), "redacts beneath config/");
	check(rules_redacts(r, "x/app.secrets.yaml"), "redacts by re:");
	check(!rules_redacts(r, "src/main.c"), "does not redact others");
	redacts_to(r, "A=1\nB = two words \n", "A=***\nB = *** \n",
		   "KEY=VALUE masked");
	redacts_to(r, "export TOKEN=\"abc def\"\n# KEY=x\n\nplain text\n",
		   "export TOKEN=\"***\"\n# KEY=x\n\nplain text\n",
		   "quoted, comments and text kept");
	redacts_to(r, "db:\n  password: hunter2\n  host: x\n",
		   "db:\n  password: ***\n  host: ***\n", "YAML masked");
	redacts_to(r, "{\"key\": \"v\",\n", "{\"key\": \"v\",\n",
		   "JSON object line not a KEY line");
	redacts_to(r, "  \"key\": \"v\",\n", "  \"key\": \"***\",\n",
		   "JSON member masked");
	redacts_to(r, "K=\"-----BEGIN\nsecret line\n-----END\"\nX=1",
		   "K=\"***\n***\n***\"\nX=***",
		   "a quote left open masks the lines after it");
	redacts_to(r, "A=1\r\nB=2\r\n", "A=***\r\nB=***\r\n", "CRLF kept");
	redacts_to(r, "token abc123 trailing\n", "token *** trailing\n",
		   "[redact] match masks its group 1");
	redacts_to(r, "- password: x\nobj: {\n  arr: [\n", "- password: ***\n"
		   "obj: {\n  arr: [\n", "YAML list item masked, blocks kept");
	redacts_to(r, "", "", "empty file");
	rules_free(r);
}

/* ------------------------------------------------------------------ */
/* list, paths, threads */

static void test_rules__list(void)
{
	struct rules *r = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	const char *ov[] = { "readonly.path=ro/", NULL };

	if (!check_pass(load_files(&r,
				   "[hide]\npath = h1\n[audit]\nlog = all\n",
				   "[audit]\nlog = denied\nlog = writes\n"
				   "[allow]\npath = a1\n", ov), errbuf))
		return;
	f = open_memstream(&text, &len);
	if (!f)
		return;
	rules_list(r, f);
	fclose(f);
	check(strstr(text, "user.ini:5\t[allow] path = a1\n") ==
	      strchr(text, '\n') - strlen("user.ini:5\t[allow] path = a1"),
	      "allow listed first, with file:line");
	check(strstr(text, ".wardfs.ini:2\t[hide] path = h1\n") != NULL,
	      "hide listed");
	check(strstr(text, "<command line>:0\t[readonly] path = ro/\n") !=
	      NULL, "-o listed");
	check(strstr(text, "log = writes") && !strstr(text, "log = denied") &&
	      !strstr(text, "log = all"), "only the effective single value");
	free(text);
	rules_free(r);
}

static void test_rules__paths(void)
{
	char out[64], err[256];
	int is_dir = -1;

	check_pass(rules_path_normalize(out, sizeof(out), "./a//b/./c/",
					&is_dir, err, sizeof(err)), err);
	check_str(out, "a/b/c", "normalize");
	check_int(is_dir, 1, "trailing slash is a directory");
	check_pass(rules_path_normalize(out, sizeof(out), "a/../b/x", &is_dir,
					err, sizeof(err)), err);
	check_str(out, "b/x", "normalize ..");
	check_int(is_dir, 0, "file");
	check_pass(rules_path_normalize(out, sizeof(out), ".", &is_dir, err,
					sizeof(err)), err);
	check_str(out, "", "the root");
	check(rules_path_normalize(out, sizeof(out), "a/../../x", NULL, err,
				   sizeof(err)) < 0 &&
	      strcmp(err, "'a/../../x' is outside the project") == 0,
	      "above the root refused");
	check(rules_path_normalize(out, sizeof(out), "/etc", NULL, err,
				   sizeof(err)) < 0 &&
	      strcmp(err, "'/etc' is an absolute path") == 0,
	      "absolute refused");
	check(rules_path_normalize(out, 8, "abcdefgh", NULL, err,
				   sizeof(err)) < 0 && strstr(err, "too long"),
	      "too long refused");
	check_pass(rules_path_relative(out, sizeof(out), "/p/q", "/p/q/r/s",
				       err, sizeof(err)), err);
	check_str(out, "r/s", "relative");
	check_pass(rules_path_relative(out, sizeof(out), "/p/q/", "/p/q", err,
				       sizeof(err)), err);
	check_str(out, "", "relative root");
	check_pass(rules_path_relative(out, sizeof(out), "/", "/x/y", err,
				       sizeof(err)), err);
	check_str(out, "x/y", "relative to /");
	check(rules_path_relative(out, sizeof(out), "/p/q", "/p/qr", err,
				  sizeof(err)) < 0 &&
	      strcmp(err, "'/p/qr' is outside the project '/p/q'") == 0,
	      "sibling is outside");
}

struct thread_arg {
	const struct rules *r;
	int wrong;
};

static void *decide_many(void *p)
{
	struct thread_arg *a = p;
	const struct rule_origin *why;
	char path[64];
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(path, sizeof(path), "d%d/f%d.key", i % 7, i);
		if (rules_decide(a->r, path, 0, &why) != RULE_HIDE || !why ||
		    strcmp(why->pattern, "*.key") != 0)
			a->wrong++;
		snprintf(path, sizeof(path), "d%d/.env.example", i % 7);
		if (rules_decide(a->r, path, 0, &why) != RULE_ALLOW)
			a->wrong++;
		snprintf(path, sizeof(path), "src/f%d.c", i);
		if (rules_decide(a->r, path, 0, &why) != RULE_ALLOW || why)
			a->wrong++;
	}
	return NULL;
}

static void test_rules__threads(void)
{
	struct thread_arg args[4];
	pthread_t t[4];
	struct rules *r = load_opts(NULL, 1);
	int i, started = 0, wrong = 0;

	if (!r)
		return;
	for (i = 0; i < 4; i++) {
		args[i].r = r;
		args[i].wrong = 0;
		if (pthread_create(&t[i], NULL, decide_many, &args[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		wrong += args[i].wrong;
	}
	check(started == 4 && wrong == 0, "decisions from 4 threads at once");
	rules_free(r);
}

static void test_rules__long_path(void)
{
	struct rules *r = load_one("hide.path=deep.key");
	char *path;
	size_t i, n = 8000;

	if (!r)
		return;
	path = malloc(n + 16);
	if (path) {
		for (i = 0; i < n; i += 2)
			memcpy(path + i, "a/", 2);
		memcpy(path + n, "deep.key", 9);
		hidden(r, path);
		memcpy(path + n, "deep.txt", 9);
		visible(r, path);
	}
	free(path);
	rules_free(r);
}

/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "glob_basename", test_rules__glob_basename },
	{ "glob_gitignore_examples", test_rules__glob_gitignore_examples },
	{ "glob_double_star", test_rules__glob_double_star },
	{ "glob_escapes", test_rules__glob_escapes },
	{ "glob_classes", test_rules__glob_classes },
	{ "glob_stars_and_questions", test_rules__glob_stars_and_questions },
	{ "directory_only", test_rules__directory_only },
	{ "anchoring", test_rules__anchoring },
	{ "bad_globs", test_rules__bad_globs },
	{ "regex_patterns", test_rules__regex_patterns },
	{ "shared_prefixes", test_rules__shared_prefixes },
	{ "regex_levels", test_rules__regex_levels },
	{ "defaults", test_rules__defaults },
	{ "decision_order", test_rules__decision_order },
	{ "reported_rule", test_rules__reported_rule },
	{ "origins", test_rules__origins },
	{ "trust_boundary", test_rules__trust_boundary },
	{ "limits_parsing", test_rules__limits_parsing },
	{ "kept_sections", test_rules__kept_sections },
	{ "config_errors", test_rules__config_errors },
	{ "config_error_sources", test_rules__config_error_sources },
	{ "too_many_rules", test_rules__too_many_rules },
	{ "many_rules_split", test_rules__many_rules_split },
	{ "deep_trie", test_rules__deep_trie },
	{ "file_syntax", test_rules__file_syntax },
	{ "content", test_rules__content },
	{ "redact", test_rules__redact },
	{ "list", test_rules__list },
	{ "paths", test_rules__paths },
	{ "threads", test_rules__threads },
	{ "long_path", test_rules__long_path },
};

int main(void)
{
	const char *base = getenv("TMPDIR");
	char cmd[512];
	size_t i;

	snprintf(tmpdir, sizeof(tmpdir), "%s/wardfs-unit-rules-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! cannot create a temporary directory\n");
		return 1;
	}
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		printf("# %s\n", tests[i].name);
		tests[i].fn();
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", tmpdir);
	return tap_done();
}
