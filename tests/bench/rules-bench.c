/*
 * rules-bench.c - how many rules_decide() calls a second?
 *
 * 100,000 project-relative paths (1 to 7 components, mostly ordinary
 * source files, as a tree an agent works in) against 200 rules of every
 * shape: names at any depth, anchored paths, directory-only rules, "**",
 * character classes, a few re: rules, some that real paths hit; then
 * against the built-in defaults alone.  Not a test: `make bench-rules`
 * builds and runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules.h"
#include "rules/banned.h"

#define NPATHS 100000
#define NRULES 200
#define ROUNDS 5

static const char *const words[] = {
	"src", "lib", "test", "docs", "app", "core", "util", "net", "io",
	"build", "vendor", "node_modules", "pkg", "cmd", "internal", "web",
	"assets", "config", "scripts", "tools", "api", "model", "view",
};
static const char *const exts[] = {
	".c", ".h", ".go", ".py", ".js", ".ts", ".json", ".md", ".txt",
	".yml", ".o", ".key", ".pem", "", ".lock", ".rs",
};

static unsigned long seed = 12345;

static unsigned rnd(unsigned n)
{
	seed = seed * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((seed >> 33) % n);
}

#define NWORDS (sizeof(words) / sizeof(words[0]))
#define NEXTS (sizeof(exts) / sizeof(exts[0]))

static char *make_rule(int i)
{
	const char *w = words[i % NWORDS], *e = exts[i % NEXTS];
	const char *sec = i % 10 == 0 ? "allow" : i % 3 == 0 ? "readonly" :
				       "hide";
	char buf[160];

	/* a few rules that real paths hit */
	switch (i) {
	case 13:
		return strdup("hide.path=*.key");
	case 26:
		return strdup("readonly.path=vendor/");
	case 39:
		return strdup("hide.path=build/");
	case 52:
		return strdup("readonly.path=*.lock");
	case 65:
		return strdup("allow.path=docs/api/**");
	default:
		break;
	}
	switch (i % 8) {
	case 0:
		snprintf(buf, sizeof(buf), "%s.path=secret-%d%s", sec, i, e);
		break;
	case 1:
		snprintf(buf, sizeof(buf), "%s.path=/%s/gen-%d/", sec, w, i);
		break;
	case 2:
		snprintf(buf, sizeof(buf), "%s.path=*.tmp%d", sec, i);
		break;
	case 3:
		snprintf(buf, sizeof(buf), "%s.path=**/%s/private-%d", sec, w,
			 i);
		break;
	case 4:
		snprintf(buf, sizeof(buf), "%s.path=%s/**/cache%d/", sec, w, i);
		break;
	case 5:
		snprintf(buf, sizeof(buf), "%s.path=data[0-9][0-9]-%d.bin", sec,
			 i);
		break;
	case 6:
		snprintf(buf, sizeof(buf), "%s.path=.%s-%drc", sec, w, i);
		break;
	default:
		if (i % 40 == 7)
			snprintf(buf, sizeof(buf), "%s.path=re:^%s/x%d\\.", sec,
				 w, i);
		else
			snprintf(buf, sizeof(buf), "%s.path=%s-%d?%s", sec, w,
				 i, e);
		break;
	}
	return strdup(buf);
}

static char *make_path(void)
{
	unsigned depth = 1 + rnd(7), k;
	char buf[512];
	size_t len = 0;

	for (k = 0; k + 1 < depth; k++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s/",
					words[rnd(NWORDS)]);
	snprintf(buf + len, sizeof(buf) - len, "%s%u%s", words[rnd(NWORDS)],
		 rnd(1000), exts[rnd(NEXTS)]);
	return strdup(buf);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *title, const struct rules_config *cfg,
	       char **paths)
{
	unsigned long counts[3] = { 0, 0, 0 };
	struct rules *r = NULL;
	const struct rule_origin *why;
	double t0, t1;
	char err[4096];
	int i, k;

	if (rules_load(&r, cfg, NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "rules-bench: %s\n", err);
		return 1;
	}
	t0 = now();
	for (k = 0; k < ROUNDS; k++)
		for (i = 0; i < NPATHS; i++)
			counts[rules_decide(r, paths[i], i % 9 == 0, &why)]++;
	t1 = now();
	printf("%-28s %10.0f decisions/s  (%.0f ns each; hide %lu, "
	       "readonly %lu, allow %lu)\n", title,
	       (double)NPATHS * ROUNDS / (t1 - t0),
	       (t1 - t0) * 1e9 / ((double)NPATHS * ROUNDS),
	       counts[RULE_HIDE] / ROUNDS, counts[RULE_READONLY] / ROUNDS,
	       counts[RULE_ALLOW] / ROUNDS);
	rules_free(r);
	return 0;
}

int main(void)
{
	struct rules_config cfg = RULES_CONFIG_INIT;
	char **paths, *rules[NRULES];
	int i, status = 0;

	paths = calloc(NPATHS, sizeof(*paths));
	if (!paths)
		return 1;
	for (i = 0; i < NPATHS; i++)
		paths[i] = make_path();
	for (i = 0; i < NRULES; i++)
		rules[i] = make_rule(i);

	printf("%d paths x %d rounds\n", NPATHS, ROUNDS);
	cfg.user_file = "";
	cfg.no_defaults = 1;
	cfg.overrides = (const char *const *)rules;
	cfg.noverrides = NRULES;
	status |= run("200 rules", &cfg, paths);
	cfg.no_defaults = 0;
	cfg.overrides = NULL;
	cfg.noverrides = 0;
	status |= run("built-in defaults", &cfg, paths);

	for (i = 0; i < NRULES; i++)
		free(rules[i]);
	for (i = 0; i < NPATHS; i++)
		free(paths[i]);
	free(paths);
	return status;
}
