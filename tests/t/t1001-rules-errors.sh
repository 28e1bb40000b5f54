#!/bin/bash
#
# t1001-rules-errors.sh - every config problem is reported through the
# CLI as "file:line: what" (all of them, then exit 1); warnings for what
# a project file may not do; usage errors exit 2.
#
# Output is TAP.  WARDFS_BIN is the binary (default: ../../wardfs).

here=$(cd "$(dirname "$0")" && pwd -P) || exit 1
: "${WARDFS_BIN:=$here/../../wardfs}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t1001-rules-errors.XXXXXX") || exit 1
tmp=$(cd "$tmp" && pwd -P) || exit 1
trap 'rm -rf "$tmp"' EXIT

project=$tmp/project
ini=$project/.wardfs.ini
mkdir -p "$project" "$tmp/config" || exit 1
export XDG_CONFIG_HOME=$tmp/config HOME=$tmp

count=0
failed=0

ok() {
	count=$((count + 1))
	echo "ok $count - $1"
}

not_ok() {
	count=$((count + 1))
	failed=$((failed + 1))
	echo "not ok $count - $1"
	for f in "$tmp/out" "$tmp/err"; do
		echo "#   ${f##*/}:"
		sed 's/^/#     /' "$f"
	done
}

# wardfs ARGS...: run it in the project, stdout to out, stderr to err;
# sets rc
wardfs() {
	(cd "$project" && "$WARDFS_BIN" "$@") >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# fails TITLE CODE TEXT ARGS...: wardfs ARGS exits CODE, prints nothing
# on stdout and a stderr line containing TEXT
fails() {
	local title=$1 code=$2 text=$3
	shift 3
	wardfs "$@"
	if test "$rc" = "$code" && ! test -s "$tmp/out" &&
		grep -qF -- "$text" "$tmp/err"; then
		ok "$title"
	else
		not_ok "$title (exit $rc, want $code)"
	fi
}

# config_error TITLE INI TEXT: with INI as the project file, `rules
# check` fails with "wardfs: <project>/.wardfs.ini:TEXT"
config_error() {
	printf '%s' "$2" >"$ini"
	fails "$1" 1 "wardfs: $ini:$3" rules check x
}

if ! test -x "$WARDFS_BIN"; then
	echo "Bail out! no wardfs binary at $WARDFS_BIN (run make)"
	exit 1
fi
echo "1..$((22 + $(ls "$here"/../../examples/*.ini | wc -l)))"

config_error 'bad [content] pattern: PCRE2 message and offset' \
	$'[content]\npattern = sec(ret\n' \
	"2: bad pattern 'sec(ret': missing closing parenthesis at offset 7"

config_error 'bad re: pattern: offset counted in the value' \
	$'; comment\n[hide]\npath = re:a[b\n' \
	"3: bad pattern 're:a[b': missing terminating ] for character class at offset 6"

config_error 'bad glob' \
	$'[hide]\npath = x[a\n' \
	"2: bad pattern 'x[a': missing ']' at offset 1"

config_error 'unknown section' \
	$'[hidden]\npath = .env\n' \
	"1: unknown section 'hidden'"

config_error 'unknown key' \
	$'[hide]\nglob = .env\n' \
	"2: unknown key 'glob' in [hide]"

config_error 'a bare pattern needs "path ="' \
	$'[hide]\nsecrets.txt\n' \
	"2: expected 'path = PATTERN'"

long=$(printf 'x%.0s' $(seq 1 192))
config_error 'line too long' \
	$'[hide]\npath = '"${long}"$'\n' \
	"2: line too long (max 198 bytes)"
if grep -q ':3:' "$tmp/err"; then
	not_ok 'a long line is not split in two'
else
	ok 'a long line is not split in two'
fi

printf '[hide]\npath = %s\n' "${long%x}" >"$ini"
wardfs rules check x
if test "$rc" = 0; then
	ok 'a line of 198 bytes is fine'
else
	not_ok 'a line of 198 bytes is fine'
fi

config_error 'bad size' \
	$'[limits]\nquota = 2X\n' \
	"2: bad size '2X' for 'quota' (expected a number with an optional K, M, G or T)"

# every error, each on its own line, and nothing decided
printf '[nope]\n[hide]\nfoo = 1\npath = [\n[content]\npattern = (\n' >"$ini"
wardfs rules check x
if test "$rc" = 1 && ! test -s "$tmp/out" &&
	grep -qF "$ini:1: unknown section 'nope'" "$tmp/err" &&
	grep -qF "$ini:3: unknown key 'foo' in [hide]" "$tmp/err" &&
	grep -qF "$ini:4: bad pattern '['" "$tmp/err" &&
	grep -qF "$ini:6: bad pattern '('" "$tmp/err" &&
	test "$(grep -c '^wardfs: ' "$tmp/err")" = 4; then
	ok 'all errors are reported, one a line'
else
	not_ok 'all errors are reported, one a line'
fi

# [allow] in a project file: reported, ignored
printf '[allow]\npath = .env\n' >"$ini"
wardfs rules check .env
if test "$rc" = 0 &&
	grep -qF "wardfs: warning: $ini:1: [allow] in a project file is ignored" "$tmp/err" &&
	grep -qP '^<built-in>:0:\.env\thide\t\.env$' "$tmp/out"; then
	ok '[allow] in a project file is reported and ignored'
else
	not_ok '[allow] in a project file is reported and ignored'
fi

# ... but works from the user file
mkdir -p "$tmp/config/wardfs"
printf '[allow]\npath = .env\n' >"$tmp/config/wardfs/config.ini"
: >"$ini"
wardfs rules check .env
if test "$rc" = 0 && ! test -s "$tmp/err" &&
	grep -qP "^\\Q$tmp/config/wardfs/config.ini\\E:2:\\.env\\tallow\\t\\.env\$" "$tmp/out"; then
	ok '[allow] in the user file is taken'
else
	not_ok '[allow] in the user file is taken'
fi
rm -f "$tmp/config/wardfs/config.ini"

# a looser limit in a project file: reported, ignored
printf '[limits]\nquota = 1G\n' >"$tmp/config/wardfs/config.ini"
printf '[limits]\nquota = 2G\n' >"$ini"
wardfs rules list
if test "$rc" = 0 &&
	grep -qF "$ini:2: looser limit 'quota = 2G' in a project file is ignored" "$tmp/err" &&
	grep -qF "[limits] quota = 1G" "$tmp/out" &&
	! grep -qF "quota = 2G" "$tmp/out"; then
	ok 'a looser limit in a project file is reported and ignored'
else
	not_ok 'a looser limit in a project file is reported and ignored'
fi
rm -f "$tmp/config/wardfs/config.ini"
: >"$ini"

fails 'missing explicit user file' 1 \
	"wardfs: cannot open '$tmp/nowhere.ini': No such file or directory" \
	rules check --config "$tmp/nowhere.ini" x

fails 'bad -o option' 1 \
	"wardfs: <command line>: bad option 'hide' (expected section.key=value)" \
	rules check -o hide x

fails '-o unknown section' 1 \
	"wardfs: <command line>: unknown section 'nope'" \
	rules list -o nope.path=x

fails 'a path outside the project' 1 \
	"is outside the project '$project'" \
	rules check "$tmp"

fails 'check without a path is a usage error' 2 'no path given' \
	rules check

fails 'an unknown option is a usage error' 2 "unknown option '--bogus'" \
	rules check --bogus x

fails 'an unknown subcommand is a usage error' 2 \
	"'bogus' is not a rules command" rules bogus

wardfs rules --help
if test "$rc" = 0 && grep -q '^usage: wardfs rules check' "$tmp/out" &&
	! test -s "$tmp/err"; then
	ok '--help prints the usage on stdout'
else
	not_ok '--help prints the usage on stdout'
fi

# the example rule files load cleanly as project files
for example in "$here"/../../examples/*.ini; do
	cp "$example" "$ini"
	wardfs rules list
	if test "$rc" = 0 && ! test -s "$tmp/err" &&
		grep -qF "$ini:" "$tmp/out"; then
		ok "examples/${example##*/} loads without a problem"
	else
		not_ok "examples/${example##*/} loads without a problem"
	fi
done

test "$failed" -eq 0
