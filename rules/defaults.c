/*
 * defaults.c - the built-in policy (SPEC §5), loaded first as if it were
 * a file named "<built-in>" and so listed, and overridable, like one.
 *
 * Patterns with a '/' inside are anchored at the project root by the glob
 * rules; a secret such as a kubeconfig is hidden at any depth, so those
 * start with "**" + "/".
 */
#include "rules/rules_int.h"
#include "rules/banned.h"

static const struct rules_default defaults[] = {
	/* secrets: environment files, keys, credentials */
	{ SEC_HIDE, "path", ".env" },
	{ SEC_HIDE, "path", ".env.*" },
	{ SEC_HIDE, "path", "*.pem" },
	{ SEC_HIDE, "path", "*.key" },
	{ SEC_HIDE, "path", "*.p12" },
	{ SEC_HIDE, "path", "*.pfx" },
	{ SEC_HIDE, "path", "id_rsa*" },
	{ SEC_HIDE, "path", "id_dsa*" },
	{ SEC_HIDE, "path", "id_ecdsa*" },
	{ SEC_HIDE, "path", "id_ed25519*" },
	{ SEC_HIDE, "path", ".ssh/" },
	{ SEC_HIDE, "path", ".aws/" },
	{ SEC_HIDE, "path", ".gnupg/" },
	{ SEC_HIDE, "path", "**/.kube/config" },
	{ SEC_HIDE, "path", "**/.docker/config.json" },
	{ SEC_HIDE, "path", ".netrc" },
	{ SEC_HIDE, "path", ".npmrc" },
	{ SEC_HIDE, "path", ".pypirc" },
	{ SEC_HIDE, "path", ".git-credentials" },
	{ SEC_HIDE, "path", "credentials.json" },

	/* templates of environment files carry no secrets */
	{ SEC_ALLOW, "path", ".env.example" },
	{ SEC_ALLOW, "path", ".env.sample" },
	{ SEC_ALLOW, "path", ".env.template" },

	/*
	 * What makes code run or steers review.  ".git" without a slash
	 * also covers the .git file of a worktree or submodule.
	 */
	{ SEC_READONLY, "path", ".git" },
	{ SEC_READONLY, "path", ".git/" },
	{ SEC_READONLY, "path", ".git/hooks/" },
	{ SEC_READONLY, "path", ".github/workflows/" },
	{ SEC_READONLY, "path", ".gitlab-ci.yml" },
	{ SEC_READONLY, "path", "/.wardfs.ini" },

	/* a private key, whatever the file is called */
	{ SEC_CONTENT, "pattern",
	  "-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----" },
};

const struct rules_default *rules_defaults(size_t *n)
{
	*n = sizeof(defaults) / sizeof(defaults[0]);
	return defaults;
}
