#!/bin/bash
test_description='man pages: wardfs(1) documents every command, option,
environment variable, session file and exit status; wardfs.ini(5) every
section and key of rules/load.c and every built-in default; both lint clean'
WARD_NO_FUSE=t
. "$(dirname "$0")/../lib/test-lib.sh"
. "$WARDFS_SRC/tests/lib/cli-help.sh"

MAN1=$WARDFS_SRC/cli/wardfs.1
MAN5=$WARDFS_SRC/cli/wardfs.ini.5

# mandoc lints the pages (Debian's mandoc package, tests/lib/deps.sh).  As
# root, install it when missing; in CI a missing mandoc fails, elsewhere
# the lint tests are skipped.
if ! command -v mandoc >/dev/null && test "$(id -u)" = 0 &&
	command -v apt-get >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq mandoc >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq mandoc; } \
		>/dev/null 2>&1
fi
if command -v mandoc >/dev/null || test -n "${CI:-}"; then
	test_set_prereq MANDOC
fi
command -v man >/dev/null && test_set_prereq MAN

# (Forks are slow on some machines: the checks below loop in bash.)

# block FILE START -> the lines of FILE from the line START (a regex) to
# the next .Ss or .Sh (mdoc source)
block() {
	sed -n "/$2/,/^\\.S[sh] /p" "$1" | sed '$d'
}

# has_text FILE TEXT -> whether FILE holds TEXT in a line
has_text() {
	local line
	while IFS= read -r line; do
		case $line in *"$2"*) return 0 ;; esac
	done <"$1"
	return 1
}

# documents_option MDOCFILE OPTION -> whether the mdoc source has an item
# (.It) for the option, named with Fl ("Fl -session", "Fl s")
documents_option() {
	local line name=${2#-}
	while IFS= read -r line; do
		case " $line " in " .It"*" Fl $name "*) return 0 ;; esac
	done <"$1"
	return 1
}

# man5_keys -> "section key" for every key entry under SECTIONS, and
# whether the entry says "One value" (1) or "Repeatable" (0)
man5_keys() {
	awk '
	function done_key() {
		if (key != "")
			print sec, key, (one && !rep) ? 1 : (rep && !one) ? 0 : "?"
		key = ""
	}
	/^\.Sh / { done_key(); insec = ($0 == ".Sh SECTIONS") }
	!insec { next }
	/^\.Ss / { done_key(); sec = $2; gsub(/\[|\]/, "", sec) }
	/^\.It / { done_key() }
	/^\.El/ { done_key() }
	/^\.It Ic [a-z_]+ No =/ { key = $3; one = 0; rep = 0 }
	/One value/ { one = 1 }
	/Repeatable/ { rep = 1 }
	END { done_key() }' "$MAN5"
}

# man5_defaults -> the "[section] key = value" lines of the literal block
# of BUILT-IN DEFAULTS
man5_defaults() {
	awk '
	/^\.Sh / { insec = ($0 == ".Sh BUILT-IN DEFAULTS") }
	insec && /^\.Bd -literal/ { lit = 1; next }
	insec && /^\.Ed/ { lit = 0 }
	!insec || !lit || /^$/ { next }
	/^\[[a-z_]+\]$/ { sec = $0; next }
	{ gsub(/\\e/, "\\"); print sec " " $0 }' "$MAN5"
}

test_expect_success 'the pages exist' '
	test_path_is_file "$MAN1" &&
	test_path_is_file "$MAN5"
'

test_expect_success 'every command of wardfs --help has its own subsection' '
	commands >cmds &&
	test_line_count -gt 10 cmds &&
	while read -r cmd; do
		has_line "$MAN1" ".Ss $cmd" &&
		{ has_line "$MAN1" ".Cm $cmd" ||
		  has_text "$MAN1" ".Cm $cmd " ; } ||
		{ echo "wardfs(1) lacks command $cmd" >&2; return 1; }
	done <cmds
'

test_expect_success 'the global options and the help command are documented' '
	help_options >global &&
	has_line global --version &&
	has_line global --help &&
	block "$MAN1" "^\\.Ss Global options" >global.man &&
	while read -r opt; do
		documents_option global.man "$opt" ||
		{ echo "wardfs(1) lacks global option $opt" >&2; return 1; }
	done <global &&
	documents_option global.man -h &&
	has_text global.man ".It Cm help" &&
	has_text global.man "Every command takes"
'

test_expect_success 'every option of every command is documented under it' '
	while read -r cmd; do
		help_options "$cmd" >opts.$cmd &&
		block "$MAN1" "^\\.Ss $cmd\$" >man.$cmd &&
		test -s man.$cmd || return 1
		while read -r opt; do
			case $opt in
			-h | --help) continue ;;	# global: every command
			esac
			documents_option man.$cmd "$opt" ||
			{ echo "wardfs(1) lacks $cmd $opt" >&2; return 1; }
		done <opts.$cmd || return 1
	done <cmds
'

test_expect_success 'the option lists found options (the parser works)' '
	has_line opts.diff --session &&
	has_line opts.diff -s &&
	has_line opts.diff --color &&
	has_line opts.run --net &&
	has_line opts.run --allow-weaker &&
	has_line opts.rules -C &&
	has_line opts.umount --lazy &&
	has_line opts.accept -m
'

test_expect_success 'every variable the code reads is in ENVIRONMENT' '
	block "$MAN1" "^\\.Sh ENVIRONMENT" >env.man &&
	{
		grep -ohE "getenv\\(\"[A-Z_]+\"\\)" "$WARDFS_SRC"/cli/*.c \
			"$WARDFS_SRC"/rules/*.c "$WARDFS_SRC"/snapshot/*.c \
			"$WARDFS_SRC"/fs/*.c |
		sed -E "s/getenv\\(\"(.*)\"\\)/\\1/" | grep -v _TEST_
		printf "%s\\n" WARDFS_HOME XDG_STATE_HOME XDG_CONFIG_HOME \
			NO_COLOR PAGER
	} | sort -u >env.code &&
	test_line_count -ge 5 env.code &&
	while read -r var; do
		has_line env.man ".It Ev $var" ||
		has_text env.man "Ev $var " ||
		{ echo "ENVIRONMENT lacks $var" >&2; return 1; }
	done <env.code
'

test_expect_success 'FILES shows the session directory layout' '
	block "$MAN1" "^\\.Sh FILES" >files.man &&
	{
		printf "%s\\n" session.ini upper work store.git audit.jsonl \
			daemon.log lock mnt
		grep -ohE "session_path\\([^,]+, \"[^\"]+\"\\)" \
			"$WARDFS_SRC"/cli/*.c | sed -E "s/.*, \"(.*)\"\\)/\\1/"
	} | sort -u >files.code &&
	while read -r name; do
		has_line files.man ".It Pa $name" ||
		has_line files.man ".It Pa $name/" ||
		{ echo "FILES lacks $name" >&2; return 1; }
	done <files.code &&
	has_text files.man "sessions/ Ns Ar id"
'

test_expect_success 'EXIT STATUS covers 0, 1, 2 and the run statuses' '
	block "$MAN1" "^\\.Sh EXIT STATUS" >exit.man &&
	for code in 0 1 2; do
		has_line exit.man ".It $code" || return 1
	done &&
	for code in 125 126 127 128; do
		has_text exit.man "$code" || return 1
	done
'

test_expect_success 'EXAMPLES shows a whole session' '
	block "$MAN1" "^\\.Sh EXAMPLES" >examples.man &&
	for cmd in run mount status diff check accept snapshot umount discard \
		log; do
		has_line examples.man "\$ wardfs $cmd" ||
		has_text examples.man "\$ wardfs $cmd " ||
		{ echo "EXAMPLES lacks wardfs $cmd" >&2; return 1; }
	done
'

# The key table of rules/load.c, one "section key single trust" a line.
test_expect_success 'parse the sections and keys of rules/load.c' '
	sed -n "/rules_section_names\\[RULES_NSECTIONS\\] = {/,/^};/p" \
		"$WARDFS_SRC/rules/load.c" | grep -oE "\"[a-z_]+\"" |
		tr -d "\"" >sections &&
	test_line_count = 9 sections &&
	sed -n "/^static const struct rules_key keys\\[\\] = {/,/^};/p" \
		"$WARDFS_SRC/rules/load.c" | tr -d "\\n\\t" |
		sed "s/},/}\\n/g" |
		sed -n -E "s/^.*\\{ SEC_([A-Z]+), \"([a-z_]+)\", [A-Z_]+, (TRUST_[A-Z]+), .*, +([01]) \\}.*/\\1 \\2 \\4 \\3/p" |
		tr "[:upper:]" "[:lower:]" >keys &&
	test_line_count -ge 16 keys &&
	has_line keys "hide path 0 trust_any" &&
	has_line keys "limits quota 1 trust_tighter" &&
	has_line keys "run network 1 trust_choice"
'

test_expect_success 'wardfs.ini(5) has a subsection for every section' '
	sed -n "/^\\.Sh SECTIONS/,/^\\.Sh PATTERNS/p" "$MAN5" |
		sed -n -E "s/^\\.Ss \\[([a-z_]+)\\]\$/\\1/p" | sort >man.sections &&
	sort sections >code.sections &&
	test_cmp code.sections man.sections
'

test_expect_success 'every key is documented in its section, and no other' '
	man5_keys >man.keys &&
	cut -d" " -f1,2 keys | sort >expect &&
	cut -d" " -f1,2 man.keys | sort >actual &&
	test_cmp expect actual
'

test_expect_success 'single-valued keys say "One value", the others "Repeatable"' '
	cut -d" " -f1-3 keys | sort >expect &&
	sort man.keys >actual &&
	test_cmp expect actual
'

test_expect_success 'TRUST BOUNDARY names every key a project file may not set' '
	block "$MAN5" "^\\.Sh TRUST BOUNDARY" >trust.man &&
	while read -r sec key single trust; do
		test $trust = trust_any && continue
		# a section the project may not set at all is named alone
		if grep -q "^$sec .* trust_any\$" keys; then
			has_text trust.man "[$sec] $key"
		else
			has_text trust.man "[$sec]"
		fi || { echo "TRUST BOUNDARY lacks [$sec] $key" >&2; return 1; }
	done <keys
'

test_expect_success 'BUILT-IN DEFAULTS lists every default of wardfs rules list' '
	mkdir empty &&
	"$WARDFS_BIN" rules list --config "" -C empty >rules.list &&
	sed -n -E "s/^<built-in>:0\\t//p" rules.list | sort >expect &&
	test_line_count -ge 30 expect &&
	man5_defaults | sort >actual &&
	test_cmp expect actual
'

test_expect_success 'the masks and variables run always drops are in both pages' '
	for list in default_masks default_env_drop; do
		sed -n "/$list\\[\\] = {/,/^};/p" "$WARDFS_SRC/cli/cmd_run.c" |
			grep -oE "\"[^\"]+\"" | tr -d "\"" >$list || return 1
		test_line_count -ge 5 $list || return 1
	done &&
	block "$MAN1" "^\\.Ss run\$" >run.man &&
	block "$MAN5" "^\\.Ss \\[run\\]\$" >run5.man &&
	while read -r m; do
		has_text run.man "$m" && has_text run5.man "$m" ||
		{ echo "lacking $m" >&2; return 1; }
	done <default_masks &&
	while read -r v; do
		{ has_line run.man ".Ev $v" || has_line run.man ".Ev $v ,"; } &&
		{ has_line run5.man ".Ev $v" || has_line run5.man ".Ev $v ,"; } ||
		{ echo "lacking $v" >&2; return 1; }
	done <default_env_drop
'

test_expect_success MANDOC 'wardfs(1) lints clean (mandoc -T lint -W warning)' '
	mandoc -T lint -W warning "$MAN1" >lint.out 2>&1 &&
	test_file_is_empty lint.out
'

test_expect_success MANDOC 'wardfs.ini(5) lints clean (mandoc -T lint -W warning)' '
	mandoc -T lint -W warning "$MAN5" >lint.out 2>&1 &&
	test_file_is_empty lint.out
'

test_expect_success MANDOC 'mandoc renders both pages' '
	mandoc -T ascii "$MAN1" | sed "s/.\x08//g" >wardfs.1.txt &&
	test_grep "wardfs mount" wardfs.1.txt &&
	test_grep "SECURITY CONSIDERATIONS" wardfs.1.txt &&
	mandoc -T ascii "$MAN5" | sed "s/.\x08//g" >wardfs.ini.5.txt &&
	test_grep "TRUST BOUNDARY" wardfs.ini.5.txt
'

test_expect_success MAN 'man renders both pages without a warning' '
	MANPAGER=cat MANWIDTH=80 man -l "$MAN1" >man1.out 2>man1.err &&
	test_file_is_empty man1.err &&
	test_grep "wardfs mount" man1.out &&
	MANPAGER=cat MANWIDTH=80 man -l "$MAN5" >man5.out 2>man5.err &&
	test_file_is_empty man5.err &&
	test_grep "TRUST BOUNDARY" man5.out
'

test_done
