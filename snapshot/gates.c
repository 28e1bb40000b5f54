/*
 * gates.c - the review gates (SPEC §6): what a person must look at before
 * a change reaches the project.
 *
 *   secret        an added line matches a built-in secret pattern (cloud
 *                 keys, private key blocks, password = "...", tokens) or a
 *                 [gates] secret pattern
 *   env-file      a new or modified .env-like file
 *   exec-config   a file that makes code run or steers an agent: CI, git
 *                 hooks and config, .envrc, editor tasks, agent settings
 *                 and instructions, shell rc files (any change, deletions
 *                 too)
 *   executable    a new executable file, or a file made executable
 *   symlink       a symlink pointing outside the project, or at a hidden
 *                 path
 *   mass-deletion more than 50 files deleted, or more than half of the
 *                 project's files (5 or more)
 *   sensitive     a [gates] sensitive pattern matches the path
 *
 * A finding never quotes the secret itself.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/snapshot_int.h"
#include "rules/banned.h"

#define MASS_DELETIONS 50
#define MASS_MIN 5
#define COUNT_LIMIT 1000000

static const struct {
	const char *pattern;
	const char *reason;
} secret_patterns[] = {
	{ "\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b", "an AWS access key id" },
	{ "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", "a private key block" },
	{ "(?i)(?:password|passwd|secret|token|api_?key)[\"']?\\s*[:=]\\s*"
	  "[\"'][^\"']{6,}", "a password or token assignment" },
	{ "\\bgh[pousr]_[A-Za-z0-9]{36,}", "a GitHub token" },
	{ "\\bgithub_pat_[A-Za-z0-9_]{40,}", "a GitHub token" },
	{ "\\bxox[abprs]-[A-Za-z0-9-]{10,}", "a Slack token" },
	{ "\\bAIza[0-9A-Za-z_-]{35}\\b", "a Google API key" },
	{ "\\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}", "an API secret key" },
};
#define NSECRETS (sizeof(secret_patterns) / sizeof(secret_patterns[0]))

struct gates {
	struct snapshot_changes *c;
	pcre2_code *re[NSECRETS];
	pcre2_match_data *md;
	void (*fn)(const struct snapshot_finding *f, void *payload);
	void *payload;
	int count;
};

static void found(struct gates *g, const char *path, unsigned line,
		  const char *gate, const char *reason)
{
	struct snapshot_finding f = { path, line, gate, reason };

	g->count++;
	if (g->fn)
		g->fn(&f, g->payload);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static int env_like(const char *path)
{
	static const char *const templates[] = {
		".env.example", ".env.sample", ".env.template", ".env.dist",
		NULL,
	};
	const char *b = base_name(path);
	size_t n = strlen(b);

	if (one_of(b, templates))
		return 0;
	return strcmp(b, ".env") == 0 || strncmp(b, ".env.", 5) == 0 ||
		(n > 4 && strcmp(b + n - 4, ".env") == 0);
}

/* Why a change of path may make code run or steer an agent, or NULL. */
static const char *exec_config(const char *path)
{
	static const char *const ci_dirs[] = {
		".github/workflows", ".github/actions", ".circleci",
		".buildkite", ".gitlab", NULL,
	};
	static const char *const ci_files[] = {
		".gitlab-ci.yml", ".travis.yml", "Jenkinsfile",
		"azure-pipelines.yml", "bitbucket-pipelines.yml", NULL,
	};
	static const char *const agent_dirs[] = {
		".claude", ".cursor", ".codex", ".gemini", ".continue", NULL,
	};
	static const char *const agent_files[] = {
		"AGENTS.md", "CLAUDE.md", "GEMINI.md", ".cursorrules",
		".windsurfrules", "copilot-instructions.md", ".mcp.json",
		NULL,
	};
	static const char *const rc_files[] = {
		".bashrc", ".bash_profile", ".bash_login", ".bash_logout",
		".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin",
		".kshrc", ".cshrc", ".tcshrc", ".inputrc", NULL,
	};
	const char *b = base_name(path);
	size_t i;

	for (i = 0; ci_dirs[i]; i++)
		if (path_under(path, ci_dirs[i]))
			return "a CI/CD pipeline runs it";
	if (one_of(path, ci_files))
		return "a CI/CD pipeline runs it";
	if (path_under(path, ".git/hooks"))
		return "git runs hooks";
	if (path_under(path, ".git/config") || strcmp(path, ".gitmodules") == 0)
		return "git configuration can run commands";
	if (path_under(path, ".husky") ||
	    strcmp(path, ".pre-commit-config.yaml") == 0)
		return "a git hook manager runs it";
	if (strcmp(b, ".envrc") == 0)
		return "direnv runs it on cd";
	if (path_under(path, ".vscode") || path_under(path, ".devcontainer"))
		return "editor tasks and settings can run commands";
	for (i = 0; agent_dirs[i]; i++)
		if (path_under(path, agent_dirs[i]))
			return "it configures a coding agent";
	if (one_of(b, agent_files))
		return "it steers a coding agent";
	if (one_of(b, rc_files))
		return "a shell runs it at startup";
	return NULL;
}

static int compile(struct gates *g, char *err, size_t errsz)
{
	size_t i, off;
	int code;

	for (i = 0; i < NSECRETS; i++) {
		g->re[i] = pcre2_compile((PCRE2_SPTR)secret_patterns[i].pattern,
					 PCRE2_ZERO_TERMINATED, 0, &code, &off,
					 NULL);
		if (!g->re[i])
			return snapshot_fail(err, errsz, -1, "bad built-in "
					     "secret pattern %zu", i);
		(void)pcre2_jit_compile(g->re[i], PCRE2_JIT_COMPLETE);
	}
	g->md = pcre2_match_data_create(4, NULL);
	return g->md ? 0 : snapshot_fail(err, errsz, -1, "out of memory");
}

static void scan_line(struct gates *g, const char *path, unsigned lineno,
		      const char *text, size_t len)
{
	const struct snapshot *snap = g->c->snap;
	const struct rule_origin *why = NULL;
	char reason[512];
	size_t i;

	for (i = 0; i < NSECRETS; i++) {
		if (pcre2_match(g->re[i], (PCRE2_SPTR)text, len, 0, 0, g->md,
				NULL) >= 0) {
			snprintf(reason, sizeof(reason), "added line holds %s",
				 secret_patterns[i].reason);
			found(g, path, lineno, "secret", reason);
			return;
		}
	}
	if (snap->rules && rules_gate_secret(snap->rules, text, len, &why)) {
		snprintf(reason, sizeof(reason), "added line matches the "
			 "[gates] secret pattern '%s' (%s:%u)",
			 why ? why->pattern : "?", why ? why->file : "?",
			 why ? why->line : 0);
		found(g, path, lineno, "secret", reason);
	}
}

static int scan_patch(struct gates *g, git_patch *patch, const char *path)
{
	size_t h, l, nh = git_patch_num_hunks(patch);

	for (h = 0; h < nh; h++) {
		int nl = git_patch_num_lines_in_hunk(patch, h);

		for (l = 0; nl > 0 && l < (size_t)nl; l++) {
			const git_diff_line *line;

			if (git_patch_get_line_in_hunk(&line, patch, h, l) < 0)
				return -1;
			if (line->origin != GIT_DIFF_LINE_ADDITION)
				continue;
			scan_line(g, path, line->new_lineno > 0 ?
				  (unsigned)line->new_lineno : 0,
				  line->content, line->content_len);
		}
	}
	return 0;
}

static void check_symlink(struct gates *g, const git_diff_delta *d)
{
	struct snapshot *snap = g->c->snap;
	git_blob *blob = NULL;
	char target[PATH_MAX], joined[PATH_MAX * 2], norm[PATH_MAX];
	char reason[PATH_MAX + 64], dummy[256];
	const char *path = d->new_file.path, *slash;
	size_t len;

	if (git_blob_lookup(&blob, snap->store->repo, &d->new_file.id) < 0)
		return;
	len = (size_t)git_blob_rawsize(blob);
	if (len >= sizeof(target))
		len = sizeof(target) - 1;
	memcpy(target, git_blob_rawcontent(blob), len);
	target[len] = '\0';
	git_blob_free(blob);
	if (target[0] == '/') {
		snprintf(reason, sizeof(reason), "symlink to the absolute "
			 "path '%s', outside the project", target);
		found(g, path, 0, "symlink", reason);
		return;
	}
	slash = strrchr(path, '/');
	snprintf(joined, sizeof(joined), "%.*s%s%s",
		 slash ? (int)(slash - path) : 0, path, slash ? "/" : "",
		 target);
	if (rules_path_normalize(norm, sizeof(norm), joined, NULL, dummy,
				 sizeof(dummy)) < 0) {
		snprintf(reason, sizeof(reason), "symlink to '%s', outside "
			 "the project", target);
		found(g, path, 0, "symlink", reason);
	} else if (snap->rules && *norm &&
		   rules_decide(snap->rules, norm, 0, NULL) == RULE_HIDE) {
		snprintf(reason, sizeof(reason), "symlink to '%s', a hidden "
			 "path", target);
		found(g, path, 0, "symlink", reason);
	}
}

static int check_delta(struct gates *g, size_t idx)
{
	struct snapshot *snap = g->c->snap;
	const struct rule_origin *why = NULL;
	const git_diff_delta *d;
	git_patch *patch = NULL;
	const char *path, *reason;
	char buf[512];
	int has_new, error = 0;

	if (git_patch_from_diff(&patch, g->c->diff, idx) < 0)
		return -1;
	d = git_patch_get_delta(patch);
	has_new = d->status != GIT_DELTA_DELETED;
	path = has_new ? d->new_file.path : d->old_file.path;

	if (has_new && env_like(path))
		found(g, path, 0, "env-file", d->status == GIT_DELTA_ADDED ?
		      "a new .env-like file" : "a changed .env-like file");
	reason = exec_config(path);
	if (!reason && d->status == GIT_DELTA_RENAMED)
		reason = exec_config(d->old_file.path);
	if (reason) {
		snprintf(buf, sizeof(buf), "%s %s: %s",
			 d->status == GIT_DELTA_DELETED ? "deleted" :
			 d->status == GIT_DELTA_ADDED ? "new" : "changed",
			 "file that can run code or steer an agent", reason);
		found(g, path, 0, "exec-config", buf);
	}
	if (has_new && d->new_file.mode == GIT_FILEMODE_BLOB_EXECUTABLE &&
	    d->old_file.mode != GIT_FILEMODE_BLOB_EXECUTABLE)
		found(g, path, 0, "executable",
		      d->old_file.mode == GIT_FILEMODE_BLOB ?
		      "file made executable" : "new executable file");
	if (has_new && d->new_file.mode == GIT_FILEMODE_LINK)
		check_symlink(g, d);
	if (snap->rules && (rules_gate_sensitive(snap->rules, path, 0, &why) ||
			    (d->status == GIT_DELTA_RENAMED &&
			     rules_gate_sensitive(snap->rules,
						  d->old_file.path, 0, &why)))) {
		snprintf(buf, sizeof(buf), "matches the [gates] sensitive "
			 "pattern '%s' (%s:%u)", why ? why->pattern : "?",
			 why ? why->file : "?", why ? why->line : 0);
		found(g, path, 0, "sensitive", buf);
	}
	if (has_new && !(d->flags & GIT_DIFF_FLAG_BINARY))
		error = scan_patch(g, patch, path);
	git_patch_free(patch);
	return error;
}

/* How many visible files the project holds (up to COUNT_LIMIT). */
static size_t count_files(struct snapshot *snap, int dirfd, const char *rel,
			  size_t n)
{
	struct dirent *d;
	DIR *dir;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return n;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return n;
	}
	while ((d = readdir(dir)) && n < COUNT_LIMIT) {
		char *path;
		int sub;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		path = path_join2(rel, d->d_name);
		if (!path)
			break;
		if (d->d_type == DT_DIR) {
			if (strcmp(path, ".git") != 0 && !(snap->rules &&
			    rules_decide(snap->rules, path, 1, NULL) ==
			    RULE_HIDE)) {
				sub = openat(dirfd, d->d_name, O_PATH |
					     O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
				if (sub >= 0) {
					n = count_files(snap, sub, path, n);
					close(sub);
				}
			}
		} else if (!(snap->rules && rules_decide(snap->rules, path, 0,
							 NULL) == RULE_HIDE)) {
			n++;
		}
		free(path);
	}
	closedir(dir);
	return n;
}

static void check_mass_deletion(struct gates *g)
{
	struct snapshot *snap = g->c->snap;
	size_t i, n = git_diff_num_deltas(g->c->diff), deleted = 0, total;
	char reason[256];

	for (i = 0; i < n; i++)
		if (git_diff_get_delta(g->c->diff, i)->status ==
		    GIT_DELTA_DELETED)
			deleted++;
	if (deleted < MASS_MIN)
		return;
	total = count_files(snap, snap->projectfd, "", 0);
	if (deleted > MASS_DELETIONS || deleted * 2 > total) {
		snprintf(reason, sizeof(reason), "%zu files deleted, of %zu "
			 "in the project", deleted, total);
		found(g, ".", 0, "mass-deletion", reason);
	}
}

int snapshot_check(struct snapshot_changes *c,
		   void (*fn)(const struct snapshot_finding *f, void *payload),
		   void *payload, char *err, size_t errsz)
{
	struct gates g;
	size_t i, n = git_diff_num_deltas(c->diff);
	int error;

	memset(&g, 0, sizeof(g));
	g.c = c;
	g.fn = fn;
	g.payload = payload;
	error = compile(&g, err, errsz);
	for (i = 0; error == 0 && i < n; i++)
		if (check_delta(&g, i) < 0)
			error = snapshot_fail_git(err, errsz, -1, "cannot "
						  "check the change");
	if (error == 0)
		check_mass_deletion(&g);
	for (i = 0; i < NSECRETS; i++)
		pcre2_code_free(g.re[i]);
	pcre2_match_data_free(g.md);
	return error < 0 ? error : g.count;
}
