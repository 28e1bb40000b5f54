/*
 * path.c - what a path is, for the rules module: project-relative,
 * '/'-separated, no leading or trailing '/', no empty, "." or ".."
 * component; the project root is "".
 */
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

int rules_path_normalize(char *out, size_t outsz, const char *in,
			 int *is_dir, char *err, size_t errsz)
{
	const char *p = in, *comp;
	size_t len = 0, clen;
	int dir = 1;

	if (outsz == 0)
		return rules_fail(err, errsz, -1, "no room for a path");
	if (in[0] == '/')
		return rules_fail(err, errsz, -1, "'%s' is an absolute path",
				  in);
	out[0] = '\0';
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - comp);
		dir = *p == '/';
		if (clen == 1 && comp[0] == '.') {
			dir = 1;
			continue;
		}
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			if (len == 0)
				return rules_fail(err, errsz, -1,
						  "'%s' is outside the project",
						  in);
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			out[len] = '\0';
			dir = 1;
			continue;
		}
		if (len + (len ? 1 : 0) + clen + 1 > outsz)
			return rules_fail(err, errsz, -1,
					  "path '%s' too long (max %zu bytes)",
					  in, outsz - 1);
		if (len)
			out[len++] = '/';
		memcpy(out + len, comp, clen);
		len += clen;
		out[len] = '\0';
	}
	if (is_dir)
		*is_dir = len == 0 ? 1 : dir;
	return 0;
}

int rules_path_relative(char *out, size_t outsz, const char *root,
			const char *abs, char *err, size_t errsz)
{
	size_t rlen = strlen(root);

	while (rlen > 0 && root[rlen - 1] == '/')
		rlen--;
	if (abs[0] != '/' || root[0] != '/' ||
	    strncmp(abs, root, rlen) != 0 ||
	    (abs[rlen] != '\0' && abs[rlen] != '/'))
		return rules_fail(err, errsz, -1,
				  "'%s' is outside the project '%s'", abs,
				  root);
	return rules_path_normalize(out, outsz,
				    abs + rlen + (abs[rlen] == '/'), NULL,
				    err, errsz);
}
