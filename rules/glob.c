/*
 * glob.c - gitignore-style globs as PCRE2 regexes.
 *
 * The syntax is gitignore(5)'s, matched byte by byte as git's wildmatch
 * does:
 *
 *   *        any run of bytes but '/'
 *   ?        one byte but '/'
 *   [a-z]    a class; [!...] or [^...] negates; ']' first is literal;
 *            [:alpha:] and the other POSIX classes; never matches '/'
 *   **       as a whole component: leading "**" + "/" matches in every
 *            directory, trailing "/" + "**" everything inside (not the
 *            directory itself), "/" + "**" + "/" zero or more directories;
 *            elsewhere it is a '*'
 *   \x       x itself (\*, \?, \[, \\, "\ ")
 *
 * Trailing spaces and tabs are dropped unless escaped.  A pattern with a
 * '/' at the start or in the middle is anchored at the project root;
 * otherwise it matches a name at any depth.  A trailing '/' restricts it
 * to directories.  A leading '!' (gitignore's negation) is refused: write
 * the exception in [allow].
 *
 * The body returned here matches one path (or ancestor) exactly from the
 * point where it starts; match.c adds what goes around it.  Every
 * character that is not a letter or digit is escaped, so nothing in a
 * glob can reach PCRE2 as syntax, and no raw control byte appears in it:
 * each atom (a byte, a class, a star...) is followed by RULES_GLOB_SEP,
 * so that match.c can merge the common prefixes of many globs.
 */
#include <string.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* One literal byte, inside a class. */
static void add_literal(struct rules_buf *b, unsigned char c)
{
	if (is_alnum(c))
		rules_buf_addc(b, (char)c);
	else if (c > 0x20 && c < 0x7f)
		rules_buf_addf(b, "\\%c", c);
	else
		rules_buf_addf(b, "\\x{%02x}", c);
}

static void add_atom(struct rules_buf *b, const char *atom)
{
	rules_buf_adds(b, atom);
	rules_buf_addc(b, RULES_GLOB_SEP);
}

/* One literal byte outside a class. */
static void add_char(struct rules_buf *b, unsigned char c)
{
	add_literal(b, c);
	rules_buf_addc(b, RULES_GLOB_SEP);
}

/* Is pat[i] preceded by an odd number of backslashes? */
static int escaped(const char *pat, size_t start, size_t i)
{
	size_t n = 0;

	while (i > start && pat[i - 1] == '\\') {
		n++;
		i--;
	}
	return n % 2;
}

static const char *const posix_classes[] = {
	"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower",
	"print", "punct", "space", "upper", "xdigit", NULL,
};

static int posix_class(const char *name, size_t len)
{
	size_t i;

	for (i = 0; posix_classes[i]; i++)
		if (strlen(posix_classes[i]) == len &&
		    memcmp(posix_classes[i], name, len) == 0)
			return 1;
	return 0;
}

/*
 * One member of a class at pat[*i]: a byte, or an escaped byte.  Returns
 * the byte, or -1 with *msg set.
 */
static int class_char(const char *pat, size_t len, size_t *i,
		      const char **msg, size_t *off)
{
	unsigned char c = (unsigned char)pat[*i];

	if (c == '\\') {
		if (*i + 1 >= len) {
			*msg = "trailing backslash";
			*off = *i;
			return -1;
		}
		(*i)++;
		c = (unsigned char)pat[*i];
	}
	if (c >= 0x80) {
		*msg = "non-ASCII byte in '[...]' (write it out, or use re:)";
		*off = *i;
		return -1;
	}
	(*i)++;
	return c;
}

/*
 * A class starting at pat[*i] == '['; on success *i is at its ']'.
 */
static int translate_class(struct rules_buf *out, const char *pat,
			   size_t len, size_t *i, const char **msg,
			   size_t *off)
{
	struct rules_buf members = RULES_BUF_INIT;
	size_t open = *i, j = *i + 1;
	int negate = 0, slash = 0, first = 1;
	int lo, hi;

	if (j < len && (pat[j] == '!' || pat[j] == '^')) {
		negate = 1;
		j++;
	}
	for (;;) {
		if (j >= len) {
			*msg = "missing ']'";
			*off = open;
			goto fail;
		}
		if (pat[j] == ']' && !first)
			break;
		first = 0;
		if (pat[j] == '[' && j + 1 < len && pat[j + 1] == ':') {
			const char *end = strstr(pat + j + 2, ":]");

			if (end && (size_t)(end - pat) + 2 <= len) {
				size_t nlen = (size_t)(end - pat) - (j + 2);

				if (!posix_class(pat + j + 2, nlen)) {
					*msg = "unknown character class";
					*off = j;
					goto fail;
				}
				rules_buf_add(&members, pat + j, nlen + 4);
				/* [:punct:] and others may match '/' */
				slash = 1;
				j += nlen + 4;
				continue;
			}
		}
		lo = class_char(pat, len, &j, msg, off);
		if (lo < 0)
			goto fail;
		if (j + 1 < len && pat[j] == '-' && pat[j + 1] != ']') {
			size_t at = j;

			j++;
			hi = class_char(pat, len, &j, msg, off);
			if (hi < 0)
				goto fail;
			if (hi < lo) {
				*msg = "range out of order in '[...]'";
				*off = at - 1;
				goto fail;
			}
			add_literal(&members, (unsigned char)lo);
			rules_buf_addc(&members, '-');
			add_literal(&members, (unsigned char)hi);
			if (lo <= '/' && '/' <= hi)
				slash = 1;
		} else {
			add_literal(&members, (unsigned char)lo);
			if (lo == '/')
				slash = 1;
		}
	}
	if (negate)
		rules_buf_adds(out, "[^/");
	else if (slash)
		rules_buf_adds(out, "(?!/)[");
	else
		rules_buf_addc(out, '[');
	rules_buf_adds(out, rules_buf_str(&members));
	rules_buf_addc(out, ']');
	rules_buf_addc(out, RULES_GLOB_SEP);
	if (members.failed)
		out->failed = 1;
	rules_buf_release(&members);
	*i = j;
	return 0;
fail:
	rules_buf_release(&members);
	return -1;
}

int rules_glob_translate(struct rules_buf *out, const char *pat,
			 int *anchored, int *dir_only,
			 const char **msg, size_t *off)
{
	size_t len = strlen(pat), start = 0, i, j;

	*anchored = 0;
	*dir_only = 0;
	while (len > 0 && (pat[len - 1] == ' ' || pat[len - 1] == '\t') &&
	       !escaped(pat, 0, len - 1))
		len--;
	if (len == 0) {
		*msg = "empty pattern";
		*off = 0;
		return -1;
	}
	if (pat[0] == '!') {
		*msg = "'!' negation is not supported (use [allow], "
		       "or '\\!' for a literal '!')";
		*off = 0;
		return -1;
	}
	while (len > 0 && pat[len - 1] == '/') {
		*dir_only = 1;
		len--;
		/* "\/" at the end: the backslash only escaped the slash */
		if (len > 0 && pat[len - 1] == '\\' && escaped(pat, 0, len))
			len--;
	}
	while (start < len && pat[start] == '/')
		start++;
	if (start == len) {
		*msg = "pattern names the project root";
		*off = 0;
		return -1;
	}
	*anchored = memchr(pat, '/', len) != NULL;

	for (i = start; i < len; i++) {
		unsigned char c = (unsigned char)pat[i];

		switch (c) {
		case '\\':
			if (i + 1 >= len) {
				*msg = "trailing backslash";
				*off = i;
				return -1;
			}
			i++;
			if (pat[i] == '/')
				add_atom(out, "/");
			else
				add_char(out, (unsigned char)pat[i]);
			break;
		case '*':
			for (j = i; j < len && pat[j] == '*'; j++)
				;
			if (j - i == 2 && (i == start || pat[i - 1] == '/') &&
			    (j == len || pat[j] == '/')) {
				if (j == len) {
					/* "x/" + "**": what is inside x */
					add_atom(out, ".+");
				} else {
					/* "**" + "/": any directories */
					add_atom(out, "(?:.*/)?");
					j++;
				}
			} else if ((i == start || pat[i - 1] == '/') &&
				   (j == len || pat[j] == '/')) {
				/*
				 * a whole component: never empty, or "x/"
				 * plus a star would match the "x/" that
				 * stands for directory x itself
				 */
				add_atom(out, "[^/]+");
			} else {
				add_atom(out, "[^/]*");
			}
			i = j - 1;
			break;
		case '?':
			add_atom(out, "[^/]");
			break;
		case '[':
			if (translate_class(out, pat, len, &i, msg, off) < 0)
				return -1;
			break;
		case '/':
			add_atom(out, "/");
			break;
		default:
			add_char(out, c);
			break;
		}
	}
	if (out->failed) {
		*msg = "out of memory";
		*off = 0;
		return -1;
	}
	return 0;
}
