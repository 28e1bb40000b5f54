/*
 * load.c - where a policy comes from.
 *
 * Sources, in order: the built-in defaults (defaults.c), the user file
 * ${XDG_CONFIG_HOME:-~/.config}/wardfs/config.ini, the project file
 * <project>/.wardfs.ini, then -o overrides "section.key=value".  Later
 * values add to earlier ones; a single-valued key (marked 1 below) takes
 * the last value.
 *
 * The config syntax (inih: "key = value" lines under "[section]" headers,
 * comments start a line with ';' or '#', or follow " ;" on a line):
 *
 *   [hide]      path = PATTERN     invisible (repeatable)
 *   [readonly]  path = PATTERN     visible, never written (repeatable)
 *   [allow]     path = PATTERN     exceptions to [hide] and [readonly]
 *   [content]   pattern = PCRE2    hide a file whose first 4 KiB match
 *   [redact]    path = PATTERN     show a file with its values masked
 *               match = PCRE2      more lines to mask (group 1, if any,
 *                                  is the part masked)
 *   [limits]    quota = SIZE       upper-layer quota (1)
 *               max_file = SIZE    largest file in the upper layer (1)
 *   [audit]     reads = BOOL       log reads too (1)
 *               log = denied|writes|all  what to log (1)
 *   [run]       mask = PATH        home path to hide from `wardfs run`
 *               writable = PATH    path writable outside the project
 *               network = none|host  network default of `run` (1)
 *               env_drop = GLOB    environment variables to unset
 *   [gates]     secret = PCRE2     more secret patterns for review
 *               sensitive = PATTERN  more paths review flags
 *
 * PATTERN is a gitignore-style glob (glob.c) or re:<PCRE2> over the
 * project-relative path.  SIZE is a number with an optional K, M, G or T
 * suffix (powers of 1024), 0 meaning no limit.  BOOL is true/false,
 * yes/no, on/off or 1/0.  PATH is absolute or starts with "~/".
 *
 * Leading blanks are ignored (there are no continuation lines); trailing
 * blanks are dropped, so a pattern ending in a space escapes it ("\ ").
 * A line may hold 198 bytes: inih r55 would split a longer one in two.
 *
 * The trust boundary: the project file comes with the repository, so it
 * may only restrict.  An [allow] or [audit] section, [run] writable,
 * [run] network = host and a [limits] value above the current one are
 * reported as warnings and ignored when they come from it.
 *
 * Every problem in every source is collected; rules_load() then fails
 * with all of them, one "file:line: what" a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules_int.h"
#include "rules/banned.h"

const char *const rules_section_names[RULES_NSECTIONS] = {
	"allow", "hide", "readonly", "content", "redact", "limits", "audit",
	"run", "gates",
};

static const struct rules_key keys[] = {
	{ SEC_HIDE, "path", VAL_PATTERN, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_READONLY, "path", VAL_PATTERN, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_ALLOW, "path", VAL_PATTERN, TRUST_USER, NULL, NULL, 0 },
	{ SEC_CONTENT, "pattern", VAL_REGEX, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_REDACT, "path", VAL_PATTERN, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_REDACT, "match", VAL_REGEX, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_LIMITS, "quota", VAL_SIZE, TRUST_TIGHTER, NULL, NULL, 1 },
	{ SEC_LIMITS, "max_file", VAL_SIZE, TRUST_TIGHTER, NULL, NULL, 1 },
	{ SEC_AUDIT, "reads", VAL_BOOL, TRUST_USER, NULL, NULL, 1 },
	{ SEC_AUDIT, "log", VAL_CHOICE, TRUST_USER, "denied|writes|all",
	  NULL, 1 },
	{ SEC_RUN, "mask", VAL_HOMEPATH, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_RUN, "writable", VAL_HOMEPATH, TRUST_USER, NULL, NULL, 0 },
	{ SEC_RUN, "network", VAL_CHOICE, TRUST_CHOICE, "none|host", "none",
	  1 },
	{ SEC_RUN, "env_drop", VAL_TEXT, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_GATES, "secret", VAL_REGEX, TRUST_ANY, NULL, NULL, 0 },
	{ SEC_GATES, "sensitive", VAL_PATTERN, TRUST_ANY, NULL, NULL, 0 },
};

/* Where a value comes from: decides what it may do. */
enum source {
	SRC_BUILTIN,
	SRC_USER,
	SRC_PROJECT,
	SRC_COMMAND_LINE,
};

struct loader {
	struct rules *r;
	struct rules_diag *d;
	int full;		/* RULES_MAX_ENTRIES reached and reported */
};

int rules_section_find(const char *name)
{
	int i;

	for (i = 0; i < RULES_NSECTIONS; i++)
		if (strcmp(rules_section_names[i], name) == 0)
			return i;
	return -1;
}

const struct rules_key *rules_key_find(enum rules_section section,
				       const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].section == section &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* A copy of file kept in r, for origins; NULL when out of memory. */
static const char *intern_file(struct rules *r, const char *file)
{
	char **files, *copy;

	if (r->nfiles > 0 && strcmp(r->files[r->nfiles - 1], file) == 0)
		return r->files[r->nfiles - 1];
	copy = strdup(file);
	if (!copy)
		return NULL;
	files = realloc(r->files, (r->nfiles + 1) * sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	r->files = files;
	r->files[r->nfiles++] = copy;
	return copy;
}

/*
 * Parse a size: digits, then optionally K, M, G or T (a trailing "B" or
 * "iB" is accepted too).  Returns 0, or -1 when malformed or too big.
 */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case 'k': case 'K': mul = 1ull << 10; p++; break;
	case 'm': case 'M': mul = 1ull << 20; p++; break;
	case 'g': case 'G': mul = 1ull << 30; p++; break;
	case 't': case 'T': mul = 1ull << 40; p++; break;
	default: break;
	}
	if (mul > 1 && (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0))
		p += strlen(p);
	else if (strcmp(p, "B") == 0)
		p++;
	if (*p)
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	size_t i;

	for (i = 0; yes[i]; i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; no[i]; i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

/* Is value one of the '|'-separated choices? */
static int is_choice(const char *choices, const char *value)
{
	size_t len = strlen(value);
	const char *p = choices, *end;

	for (;;) {
		end = strchr(p, '|');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) == len && memcmp(p, value, len) == 0)
			return 1;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* "a|b|c" as "a, b or c", for messages. */
static void choices_text(char *buf, size_t bufsz, const char *choices)
{
	size_t len = 0, i, n = strlen(choices);
	size_t last = (size_t)(strrchr(choices, '|') - choices);

	for (i = 0; i < n && len + 5 < bufsz; i++) {
		if (choices[i] != '|') {
			buf[len++] = choices[i];
			continue;
		}
		if (i == last) {
			memcpy(buf + len, " or ", 4);
			len += 4;
		} else {
			memcpy(buf + len, ", ", 2);
			len += 2;
		}
	}
	buf[len] = '\0';
}

static void format_size(char *buf, size_t bufsz, uint64_t v)
{
	static const char units[] = "KMGT";
	int i;

	for (i = 3; i >= 0; i--) {
		uint64_t unit = 1ull << (10 * (i + 1));

		if (v >= unit && v % unit == 0) {
			snprintf(buf, bufsz, "%llu%c",
				 (unsigned long long)(v / unit), units[i]);
			return;
		}
	}
	snprintf(buf, bufsz, "%llu", (unsigned long long)v);
}

/* Report a bad regex, the offset counted in the value as written. */
static int check_regex(struct loader *L, const char *file, unsigned line,
		       const char *value, const char *re)
{
	char msg[256];
	pcre2_code *code;
	uint32_t options;
	size_t off;

	options = re == value ? RULES_TEXT_OPTIONS : RULES_PATH_OPTIONS;
	code = rules_regex_compile(re, options, msg, sizeof(msg), &off);
	if (!code) {
		rules_diag_error(L->d, file, line,
				 "bad pattern '%s': %s at offset %zu", value,
				 msg, off + (size_t)(re - value));
		return -1;
	}
	pcre2_code_free(code);
	return 0;
}

static int check_pattern(struct loader *L, const char *file, unsigned line,
			 const char *value)
{
	struct rules_buf b = RULES_BUF_INIT;
	int anchored, dir_only, rc;
	const char *msg;
	size_t off;

	if (strncmp(value, "re:", 3) == 0)
		return check_regex(L, file, line, value, value + 3);
	rc = rules_glob_translate(&b, value, &anchored, &dir_only, &msg, &off);
	rules_buf_release(&b);
	if (rc < 0)
		rules_diag_error(L->d, file, line,
				 "bad pattern '%s': %s at offset %zu", value,
				 msg, off);
	return rc;
}

/* Check a value for its key; 0, or -1 with the error reported. */
static int check_value(struct loader *L, const struct rules_key *k,
		       const char *file, unsigned line, const char *value,
		       uint64_t *size)
{
	const char *sec = rules_section_names[k->section];
	char choices[64];
	int b;

	if (!*value) {
		rules_diag_error(L->d, file, line,
				 "empty value for '%s' in [%s]", k->name, sec);
		return -1;
	}
	switch (k->kind) {
	case VAL_PATTERN:
		return check_pattern(L, file, line, value);
	case VAL_REGEX:
		return check_regex(L, file, line, value, value);
	case VAL_SIZE:
		if (parse_size(value, size) == 0)
			return 0;
		rules_diag_error(L->d, file, line,
				 "bad size '%s' for '%s' (expected a number "
				 "with an optional K, M, G or T)", value,
				 k->name);
		return -1;
	case VAL_BOOL:
		if (parse_bool(value, &b) == 0)
			return 0;
		rules_diag_error(L->d, file, line,
				 "bad value '%s' for '%s' (expected true or "
				 "false)", value, k->name);
		return -1;
	case VAL_CHOICE:
		if (is_choice(k->choices, value))
			return 0;
		choices_text(choices, sizeof(choices), k->choices);
		rules_diag_error(L->d, file, line,
				 "bad value '%s' for '%s' (expected %s)", value,
				 k->name, choices);
		return -1;
	case VAL_HOMEPATH:
		if (value[0] == '/' || strcmp(value, "~") == 0 ||
		    strncmp(value, "~/", 2) == 0)
			return 0;
		rules_diag_error(L->d, file, line,
				 "bad path '%s' for '%s' (expected an absolute "
				 "path or one under ~/)", value, k->name);
		return -1;
	case VAL_TEXT:
		return 0;
	}
	abort();
}

/*
 * Apply the trust boundary to a project file's value.  Returns 1 when the
 * value is to be ignored (the warning given), 0 otherwise.
 */
static int untrusted(struct loader *L, const struct rules_key *k,
		     const char *file, unsigned line, const char *value,
		     uint64_t size)
{
	const char *sec = rules_section_names[k->section];
	uint64_t current;
	char cur[32];

	switch (k->trust) {
	case TRUST_ANY:
		return 0;
	case TRUST_USER:
		rules_diag_warn(L->d, file, line,
				"[%s] %s in a project file is ignored", sec,
				k->name);
		return 1;
	case TRUST_CHOICE:
		if (strcmp(value, k->project_value) == 0)
			return 0;
		rules_diag_warn(L->d, file, line,
				"[%s] %s = %s in a project file is ignored",
				sec, k->name, value);
		return 1;
	case TRUST_TIGHTER:
		current = strcmp(k->name, "quota") == 0 ? L->r->quota :
							  L->r->max_file;
		/* 0 means no limit: the loosest of all */
		if (size == current || (size != 0 && (current == 0 ||
						       size < current)))
			return 0;
		if (current == 0)
			snprintf(cur, sizeof(cur), "none");
		else
			format_size(cur, sizeof(cur), current);
		rules_diag_warn(L->d, file, line,
				"looser limit '%s = %s' in a project file is "
				"ignored (the limit is %s)", k->name, value,
				cur);
		return 1;
	}
	abort();
}

/* Check value, apply the trust boundary, and keep it. */
static void add_value(struct loader *L, const struct rules_key *k,
		      const char *file, unsigned line, const char *value,
		      enum source src)
{
	struct rules *r = L->r;
	struct rules_entry *e;
	uint64_t size = 0;
	size_t i;

	if (L->full)
		return;
	if (check_value(L, k, file, line, value, &size) < 0)
		return;
	if (src == SRC_PROJECT && untrusted(L, k, file, line, value, size))
		return;
	if (r->n >= RULES_MAX_ENTRIES) {
		rules_diag_error(L->d, file, line, "too many rules (max %d)",
				 RULES_MAX_ENTRIES);
		L->full = 1;
		return;
	}
	if (r->n == r->alloc) {
		size_t alloc = r->alloc ? r->alloc * 2 : 64;

		e = realloc(r->entries, alloc * sizeof(*e));
		if (!e)
			goto oom;
		r->entries = e;
		r->alloc = alloc;
	}
	e = &r->entries[r->n];
	memset(e, 0, sizeof(*e));
	e->key = k;
	e->value = strdup(value);
	e->origin.file = intern_file(r, file);
	if (!e->value || !e->origin.file) {
		free(e->value);
		goto oom;
	}
	e->origin.section = rules_section_names[k->section];
	e->origin.pattern = e->value;
	e->origin.line = line;
	if (k->single)
		for (i = 0; i < r->n; i++)
			if (r->entries[i].key == k)
				r->entries[i].overridden = 1;
	r->n++;
	if (k->kind == VAL_SIZE) {
		if (strcmp(k->name, "quota") == 0)
			r->quota = size;
		else
			r->max_file = size;
	}
	return;
oom:
	rules_diag_error(L->d, file, line, "out of memory");
	L->full = 1;
}

/*
 * Reading a file for inih.  The reader hands inih one line at a time, so
 * it knows the line number (inih r55 as built by Debian does not pass it
 * to the handler), and it checks what inih would get wrong silently:
 * lines longer than inih's buffer, NUL bytes, and lines inih rejects
 * without telling which (a key line the handler never saw).  It also
 * reads the [section] headers itself, so an unknown or ignored section is
 * reported once, at its header, even when it is empty.
 */
enum section_state {
	SECTION_NONE,		/* before the first header */
	SECTION_OK,
	SECTION_SKIP,		/* unknown or untrusted: its values dropped */
};

struct reader {
	struct loader *L;
	const char *file;
	enum source src;
	const char *data;
	size_t size;
	size_t pos;
	unsigned lineno;
	enum section_state state;
	enum rules_section section;
	int pending;		/* the last line was "key = value"-ish */
	const char *raw;	/* the last line as read (not NUL-terminated) */
	size_t rawlen;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void expected_key(struct reader *R)
{
	if (R->state == SECTION_OK &&
	    (R->section == SEC_HIDE || R->section == SEC_READONLY ||
	     R->section == SEC_ALLOW || R->section == SEC_REDACT))
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "expected 'path = PATTERN'");
	else
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "expected 'key = value' or '[section]'");
}

/* A "[name]" line (trimmed, len > 0). */
static void section_header(struct reader *R, const char *line, size_t len)
{
	const char *close = memchr(line, ']', len);
	const char *name = line + 1, *end, *rest;
	char buf[64];
	size_t nlen;
	int sec;

	if (!close) {
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "missing ']' in section header");
		R->state = SECTION_SKIP;
		return;
	}
	for (rest = close + 1; rest < line + len && is_blank(*rest); rest++)
		;
	if (rest < line + len && *rest != ';' && *rest != '#') {
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "unexpected text after section header");
		R->state = SECTION_SKIP;
		return;
	}
	while (name < close && is_blank(*name))
		name++;
	end = close;
	while (end > name && is_blank(end[-1]))
		end--;
	nlen = (size_t)(end - name);
	if (nlen >= sizeof(buf))
		nlen = sizeof(buf) - 1;
	memcpy(buf, name, nlen);
	buf[nlen] = '\0';
	sec = rules_section_find(buf);
	if (sec < 0) {
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "unknown section '%s'", buf);
		R->state = SECTION_SKIP;
		return;
	}
	R->section = (enum rules_section)sec;
	R->state = SECTION_OK;
	if (R->src == SRC_PROJECT &&
	    (R->section == SEC_ALLOW || R->section == SEC_AUDIT)) {
		rules_diag_warn(R->L->d, R->file, R->lineno,
				"[%s] in a project file is ignored", buf);
		R->state = SECTION_SKIP;
	}
}

static char *read_line(char *str, int num, void *stream)
{
	struct reader *R = stream;
	const char *line, *nl, *t;
	size_t len, tlen, max = num > 2 ? (size_t)num - 2 : 0;

	if (R->pending) {
		expected_key(R);
		R->pending = 0;
	}
	if (R->pos >= R->size)
		return NULL;
	line = R->data + R->pos;
	nl = memchr(line, '\n', R->size - R->pos);
	len = nl ? (size_t)(nl - line) : R->size - R->pos;
	R->pos += len + (nl ? 1 : 0);
	R->lineno++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (R->lineno == 1 && len >= 3 &&
	    memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (memchr(line, '\0', len)) {
		rules_diag_error(R->L->d, R->file, R->lineno, "NUL byte");
		len = 0;
	} else if (len > max) {
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "line too long (max %zu bytes)", max);
		len = 0;
	}
	/* No leading blanks: inih would take the line as a continuation. */
	while (len > 0 && is_blank(*line)) {
		line++;
		len--;
	}
	R->raw = line;
	R->rawlen = len;
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';

	for (t = line, tlen = len; tlen > 0 && is_blank(t[tlen - 1]); tlen--)
		;
	if (tlen == 0 || *t == ';' || *t == '#')
		return str;
	if (*t == '[')
		section_header(R, t, tlen);
	else
		R->pending = 1;
	return str;
}

/*
 * inih drops the blanks at the end of a value, also an escaped one: when
 * value ends in an odd number of backslashes, take the blank that
 * followed it back from the raw line.
 */
static const char *unescape_tail(struct reader *R, const char *value,
				 char *buf, size_t bufsz)
{
	size_t vlen = strlen(value), n = 0, i;

	while (n < vlen && value[vlen - 1 - n] == '\\')
		n++;
	if (n % 2 == 0 || vlen + 2 > bufsz)
		return value;
	for (i = 0; i + vlen < R->rawlen; i++) {
		if (memcmp(R->raw + i, value, vlen) != 0)
			continue;
		if (!is_blank(R->raw[i + vlen]))
			continue;
		memcpy(buf, value, vlen);
		buf[vlen] = R->raw[i + vlen];
		buf[vlen + 1] = '\0';
		return buf;
	}
	return value;
}

static int on_value(void *user, const char *section, const char *name,
		    const char *value)
{
	struct reader *R = user;
	const struct rules_key *k;
	char buf[512];

	(void)section;	/* R->section, read by read_line(), is the same */
	R->pending = 0;
	switch (R->state) {
	case SECTION_NONE:
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "'%s' outside of any section", name);
		return 1;
	case SECTION_SKIP:
		return 1;
	case SECTION_OK:
		break;
	}
	k = rules_key_find(R->section, name);
	if (!k) {
		rules_diag_error(R->L->d, R->file, R->lineno,
				 "unknown key '%s' in [%s]", name,
				 rules_section_names[R->section]);
		return 1;
	}
	value = unescape_tail(R, value, buf, sizeof(buf));
	add_value(R->L, k, R->file, R->lineno, value, R->src);
	return 1;
}

/*
 * Read a whole config file, at most RULES_MAX_FILE bytes.  Returns 0, 1
 * when it does not exist and need not, -1 on error (reported).
 */
static int read_file(struct loader *L, const char *path, int must_exist,
		     int nofollow, char **out, size_t *outlen)
{
	struct rules_buf b = RULES_BUF_INIT;
	char chunk[8192];
	struct stat st;
	int fd = -1, error = -1;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
		  (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno == ENOENT && !must_exist) {
			error = 1;
			goto out;
		}
		if (errno == ELOOP && nofollow)
			rules_diag_error(L->d, NULL, 0,
					 "cannot read '%s': a symbolic link "
					 "(not followed)", path);
		else
			rules_diag_error(L->d, NULL, 0,
					 "cannot open '%s': %s", path,
					 strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rules_diag_error(L->d, NULL, 0,
				 "cannot read '%s': not a regular file", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rules_diag_error(L->d, NULL, 0, "cannot read '%s': %s",
					 path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > RULES_MAX_FILE) {
			rules_diag_error(L->d, path, 0,
					 "file too large (max %d bytes)",
					 RULES_MAX_FILE);
			goto out;
		}
		rules_buf_add(&b, chunk, (size_t)n);
	}
	if (b.failed) {
		rules_diag_error(L->d, path, 0, "out of memory");
		goto out;
	}
	*outlen = b.len;
	*out = b.ptr;
	b.ptr = NULL;
	error = 0;
out:
	if (fd >= 0)
		close(fd);
	rules_buf_release(&b);
	return error;
}

static void load_file(struct loader *L, const char *path, enum source src,
		      int must_exist)
{
	struct reader R;
	char *data = NULL;
	size_t size = 0;
	int rc;

	rc = read_file(L, path, must_exist, src == SRC_PROJECT, &data, &size);
	if (rc != 0)
		return;
	memset(&R, 0, sizeof(R));
	R.L = L;
	R.file = path;
	R.src = src;
	R.data = data ? data : "";
	R.size = size;
	R.state = SECTION_NONE;
	if (ini_parse_stream(read_line, &R, on_value, &R) == -2)
		rules_diag_error(L->d, path, 0, "out of memory");
	free(data);
}

static void load_override(struct loader *L, const char *opt)
{
	const char *file = "<command line>";
	const char *dot = strchr(opt, '.'), *eq = strchr(opt, '=');
	const struct rules_key *k;
	char sec[32], key[32];
	const char *value;
	size_t len;
	int s;

	if (!dot || !eq || dot > eq || dot == opt || eq == dot + 1) {
		rules_diag_error(L->d, file, 0,
				 "bad option '%s' (expected section.key=value)",
				 opt);
		return;
	}
	len = (size_t)(dot - opt);
	if (len >= sizeof(sec))
		len = sizeof(sec) - 1;
	memcpy(sec, opt, len);
	sec[len] = '\0';
	len = (size_t)(eq - dot - 1);
	if (len >= sizeof(key))
		len = sizeof(key) - 1;
	memcpy(key, dot + 1, len);
	key[len] = '\0';
	s = rules_section_find(sec);
	if (s < 0) {
		rules_diag_error(L->d, file, 0, "unknown section '%s'", sec);
		return;
	}
	k = rules_key_find((enum rules_section)s, key);
	if (!k) {
		rules_diag_error(L->d, file, 0, "unknown key '%s' in [%s]",
				 key, sec);
		return;
	}
	value = eq + 1;
	while (is_blank(*value))
		value++;
	if (strlen(value) > RULES_MAX_PATTERN) {
		rules_diag_error(L->d, file, 0,
				 "value of '%s.%s' too long (max %d bytes)",
				 sec, key, RULES_MAX_PATTERN);
		return;
	}
	add_value(L, k, file, 0, value, SRC_COMMAND_LINE);
}

/* The default user file, or NULL when there is none to look for. */
static char *default_user_file(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home;
	struct rules_buf b = RULES_BUF_INIT;

	if (xdg && xdg[0] == '/') {
		rules_buf_adds(&b, xdg);
	} else {
		home = getenv("HOME");
		if (!home || home[0] != '/')
			return NULL;
		rules_buf_adds(&b, home);
		rules_buf_adds(&b, "/.config");
	}
	rules_buf_adds(&b, "/wardfs/config.ini");
	if (b.failed) {
		rules_buf_release(&b);
		return NULL;
	}
	return b.ptr;
}

static void load_sources(struct loader *L, const struct rules_config *cfg)
{
	const struct rules_default *def;
	struct rules_buf path = RULES_BUF_INIT;
	char *user = NULL;
	size_t i, n;

	if (!cfg->no_defaults) {
		def = rules_defaults(&n);
		for (i = 0; i < n; i++)
			add_value(L, rules_key_find(def[i].section, def[i].key),
				  "<built-in>", 0, def[i].value, SRC_BUILTIN);
	}
	if (!cfg->user_file) {
		user = default_user_file();
		if (user)
			load_file(L, user, SRC_USER, 0);
	} else if (cfg->user_file[0]) {
		load_file(L, cfg->user_file, SRC_USER, 1);
	}
	if (cfg->project) {
		rules_buf_adds(&path, cfg->project);
		if (path.len == 0 || path.ptr[path.len - 1] != '/')
			rules_buf_addc(&path, '/');
		rules_buf_adds(&path, ".wardfs.ini");
		if (path.failed)
			rules_diag_error(L->d, NULL, 0, "out of memory");
		else
			load_file(L, path.ptr, SRC_PROJECT, 0);
	}
	for (i = 0; i < cfg->noverrides; i++)
		load_override(L, cfg->overrides[i]);
	rules_buf_release(&path);
	free(user);
}

int rules_load(struct rules **out, const struct rules_config *cfg,
	       void (*warn)(const char *msg, void *payload), void *payload,
	       char *err, size_t errsz)
{
	struct rules_diag d = { err, errsz, 0, 0, warn, payload };
	struct loader L = { NULL, &d, 0 };
	struct rules *r = NULL;
	int error = -1;

	*out = NULL;
	if (err && errsz)
		err[0] = '\0';
	r = calloc(1, sizeof(*r));
	if (!r)
		return rules_fail(err, errsz, -1, "out of memory");
	r->match_error.section = "error";
	r->match_error.pattern = "(a PCRE2 limit was reached)";
	r->match_error.file = "<built-in>";
	L.r = r;
	load_sources(&L, cfg);
	if (d.nerrors > 0)
		goto out;
	rules_compile(r, &d);
	if (d.nerrors > 0)
		goto out;
	*out = r;
	r = NULL;
	error = 0;
out:
	rules_free(r);
	return error;
}

void rules_free(struct rules *r)
{
	size_t i;

	if (!r)
		return;
	rules_compiled_release(r);
	for (i = 0; i < r->n; i++)
		free(r->entries[i].value);
	free(r->entries);
	for (i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->files);
	free(r);
}

uint64_t rules_quota_bytes(const struct rules *r)
{
	return r->quota;
}

uint64_t rules_max_file_bytes(const struct rules *r)
{
	return r->max_file;
}
