/*
 * log.c - messages from the filesystem, through the caller's callback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fs/fs_int.h"
#include "rules/banned.h"

void fs_log(struct fs *fs, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!fs->opts.log)
		return;
	if (level == FS_LOG_DEBUG && !fs->opts.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fs->opts.log(level, msg, fs->opts.payload);
}

/* One key=value line per refused access: paths only, never contents. */
void fs_deny(struct fs *fs, const char *op, struct node *parent,
	     const char *name, enum rule_action action)
{
	const struct rule_origin *why = NULL;
	const char *what = "allow";
	char *path;

	if (!fs->opts.log && !fs->audit)
		return;
	switch (action) {
	case RULE_HIDE:
		what = "hidden";
		break;
	case RULE_READONLY:
		what = "readonly";
		break;
	case RULE_ALLOW:
		break;
	}
	audit_node(fs, FS_AUDIT_DENIAL, op, parent, name,
		   action == RULE_HIDE ? "hidden" : "denied");
	path = node_path(fs, parent, name);
	if (path && fs->opts.rules)
		rules_decide(fs->opts.rules, path, 0, &why);
	if (why)
		fs_log(fs, FS_LOG_INFO,
		       "deny op=%s path=\"%s\" result=%s rule=\"%s:%u\"", op,
		       path ? path : "?", what, why->file, why->line);
	else
		fs_log(fs, FS_LOG_INFO, "deny op=%s path=\"%s\" result=%s",
		       op, path ? path : "?", what);
	free(path);
}
