#!/bin/bash
test_description='shell completion: bash offers every command and every
option of wardfs --help, session and snapshot ids, option values and paths;
the zsh file parses and names every command and option'
WARD_NO_FUSE=t
. "$(dirname "$0")/../lib/test-lib.sh"
. "$WARDFS_SRC/tests/lib/cli-help.sh"

BASH_COMPLETION=$WARDFS_SRC/cli/completion/wardfs.bash
ZSH_COMPLETION=$WARDFS_SRC/cli/completion/_wardfs
command -v zsh >/dev/null && test_set_prereq ZSH

# (Forks are slow on some machines: the checks below loop in bash.)

# complete WORD... -> COMPREPLY, one a line, for the command line WORD...
# as bash splits it (the last WORD is the one being completed), as bash
# calls a completion function: _wardfs CMD CUR PREV.
complete_words() {
	local COMP_WORDS COMP_CWORD COMP_LINE COMP_POINT COMPREPLY
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_wardfs wardfs "${COMP_WORDS[COMP_CWORD]}" \
		"${COMP_WORDS[COMP_CWORD - 1]}" || return 1
	test ${#COMPREPLY[@]} = 0 || printf '%s\n' "${COMPREPLY[@]}"
}

# 'wardfs' on PATH is the binary under test; stub/wardfs (put first on PATH
# by the tests that need it) prints a fixed 'status' and 'snapshot list'.
test_expect_success 'setup' '
	mkdir bin stub &&
	ln -s "$WARDFS_BIN" bin/wardfs &&
	cat >stub/wardfs <<-\EOF &&
	#!/bin/sh
	case "$1 $2" in
	"status "*)
		echo "app-1a2b3c live 3 /src/app /mnt/app"
		echo "lib-0f0f0f unmounted 0 /src/lib /home/me/lib-view"
		;;
	"snapshot list")
		echo "   1  2026-11-22 10:00:00      3 paths  before the refactor"
		echo "   2  2026-11-22 11:00:00      1 path   after the refactor"
		;;
	*)
		exit 2
		;;
	esac
	EOF
	chmod +x stub/wardfs &&
	PATH=$PWD/bin:$PATH &&
	mkdir -p tree/src tree/docs &&
	>tree/src/main.c &&
	>tree/README
'

test_expect_success 'the bash completion file loads and registers _wardfs' '
	bash -n "$BASH_COMPLETION" &&
	. "$BASH_COMPLETION" &&
	complete -p wardfs >out &&
	test_grep -- "-F _wardfs" out
'

test_expect_success 'wardfs <TAB> offers every command of wardfs --help' '
	commands >cmds &&
	test_line_count -gt 10 cmds &&
	complete_words wardfs "" >out &&
	while read -r cmd; do
		has_line out "$cmd" ||
		{ echo "not offered: $cmd" >&2; return 1; }
	done <cmds &&
	has_line out help
'

test_expect_success 'a prefix narrows the commands' '
	complete_words wardfs di >out &&
	printf "%s\\n" diff discard >expect &&
	sort out >actual &&
	test_cmp expect actual &&
	complete_words wardfs um >out &&
	echo umount >expect &&
	test_cmp expect out
'

test_expect_success 'wardfs -<TAB> offers the global options' '
	complete_words wardfs - >out &&
	help_options >global &&
	while read -r opt; do
		has_line out "$opt" || return 1
	done <global
'

test_expect_success 'wardfs CMD -<TAB> offers every option of wardfs CMD --help' '
	while read -r cmd; do
		help_options "$cmd" >opts.$cmd &&
		# the union over the subcommands of rules and snapshot
		case $cmd in
		rules)
			complete_words wardfs rules check - &&
			complete_words wardfs rules list - ;;
		snapshot)
			for sub in create list diff restore drop; do
				complete_words wardfs snapshot $sub - || return 1
			done ;;
		*)
			complete_words wardfs "$cmd" - ;;
		esac >offered.$cmd || return 1
		# --net= offers the option --net
		while read -r opt; do
			echo "${opt%=}"
		done <offered.$cmd >names.$cmd &&
		while read -r opt; do
			has_line names.$cmd "$opt" ||
			{ echo "not offered: wardfs $cmd $opt" >&2; return 1; }
		done <opts.$cmd || return 1
	done <cmds &&
	has_line opts.diff --session &&
	has_line opts.run --allow-weaker
'

test_expect_success 'no option is offered that the command does not take' '
	while read -r cmd; do
		while read -r opt; do
			# every command takes -h and --help (SPEC 2)
			case $opt in --|-h|--help) continue ;; esac
			has_line opts.$cmd "$opt" ||
			{ echo "offered but unknown: wardfs $cmd $opt" >&2
			  return 1; }
		done <names.$cmd || return 1
	done <cmds
'

test_expect_success '--<TAB> offers only long options' '
	complete_words wardfs log -- >out &&
	test_grep -x -- --follow out &&
	test_grep -v -x -- -f out
'

test_expect_success 'option values: --net=, --color=, -o' '
	complete_words wardfs run --net = "" >out &&
	printf "%s\\n" none host >expect &&
	test_cmp expect out &&
	complete_words wardfs run --net = n >out &&
	echo none >expect &&
	test_cmp expect out &&
	complete_words wardfs run --net "" >out &&
	printf "%s\\n" none host >expect &&
	test_cmp expect out &&
	complete_words wardfs diff --color = a >out &&
	printf "%s\\n" always auto >expect &&
	test_cmp expect out &&
	complete_words wardfs mount -o allow_other,ti >out &&
	echo allow_other,timeout= >expect &&
	test_cmp expect out
'

test_expect_success 'without = in COMP_WORDBREAKS, --net=<TAB> completes whole' '
	(
		COMP_WORDBREAKS=${COMP_WORDBREAKS//=/} &&
		complete_words wardfs run --net=h >out
	) &&
	echo --net=host >expect &&
	test_cmp expect out
'

test_expect_success '-o offers section.key= for every key of rules/load.c' '
	sed -n "/^static const struct rules_key keys\\[\\] = {/,/^};/p" \
		"$WARDFS_SRC/rules/load.c" |
		sed -n -E "s/.*\\{ SEC_([A-Z]+), \"([a-z_]+)\".*/\\1.\\2=/p" |
		tr "[:upper:]" "[:lower:]" | sort -u >keys &&
	test_line_count -ge 16 keys &&
	complete_words wardfs rules check -o "" | sort >out &&
	test_cmp keys out &&
	complete_words wardfs mount -o "" >out &&
	while read -r key; do
		has_line out "$key" || return 1
	done <keys &&
	test_grep -x allow_other out &&
	test_grep -x timeout= out
'

test_expect_success 'session ids come from the first column of wardfs status' '
	(
		PATH=$PWD/stub:$PATH &&
		complete_words wardfs status "" >status.out &&
		complete_words wardfs mount -s "" >mount.out &&
		complete_words wardfs diff --session a >diff.out &&
		complete_words wardfs umount l >umount.out
	) &&
	test_grep -x app-1a2b3c status.out &&
	test_grep -x lib-0f0f0f status.out &&
	printf "%s\\n" app-1a2b3c lib-0f0f0f >expect &&
	test_cmp expect mount.out &&
	echo app-1a2b3c >expect &&
	test_cmp expect diff.out &&
	test_grep -x lib-0f0f0f umount.out
'

test_expect_success 'snapshot ids come from wardfs snapshot list' '
	(
		PATH=$PWD/stub:$PATH &&
		complete_words wardfs snapshot restore "" >restore.out &&
		complete_words wardfs snapshot diff 1 "" >diff.out &&
		complete_words wardfs snapshot app-1a2b3c drop 1 "" >drop.out &&
		complete_words wardfs snapshot "" >snapshot.out
	) &&
	printf "%s\\n" 1 2 >expect &&
	test_cmp expect restore.out &&
	test_grep -x 2 diff.out &&
	test_cmp expect drop.out &&
	test_grep -x list snapshot.out &&
	test_grep -x restore snapshot.out &&
	test_grep -x app-1a2b3c snapshot.out
'

test_expect_success 'paths: files after diff --, directories for mount' '
	(
		cd tree &&
		complete_words wardfs diff -- s >../diff.out &&
		complete_words wardfs rules check R >../check.out &&
		complete_words wardfs mount "" >../mount.out
	) &&
	echo src >expect &&
	test_cmp expect diff.out &&
	echo README >expect &&
	test_cmp expect check.out &&
	printf "%s\\n" docs src >expect &&
	sort mount.out >actual &&
	test_cmp expect actual
'

test_expect_success 'rules offers its subcommands, help the commands' '
	complete_words wardfs rules "" >out &&
	printf "%s\\n" check list >expect &&
	test_cmp expect out &&
	complete_words wardfs help mo >out &&
	echo mount >expect &&
	test_cmp expect out
'

test_expect_success 'run completes the command after --' '
	complete_words wardfs run -- ech >out &&
	test_grep -x echo out
'

test_expect_success 'an option value is not completed as an option' '
	complete_words wardfs accept -m "" >out &&
	test_file_is_empty out
'

# zsh: the file must parse, and name every command and option.

# zsh_names FILE WORD -> whether FILE has WORD (an option, or $help) not
# inside a longer option name
zsh_names() {
	local line re="(^|[^-a-z])${2//\$/\\\$}([^-a-z]|\$)"
	while IFS= read -r line; do
		[[ $line =~ $re ]] && return 0
	done <"$1"
	return 1
}
test_expect_success ZSH 'the zsh completion file parses' '
	zsh -n "$ZSH_COMPLETION" &&
	head -n 1 "$ZSH_COMPLETION" >out &&
	test_grep -x "#compdef wardfs" out
'

test_expect_success 'the zsh file lists every command' '
	while read -r cmd; do
		test_grep -E "^ +.$cmd:" "$ZSH_COMPLETION" ||
		return 1
	done <cmds
'

test_expect_success 'the zsh file names every option under its command' '
	while read -r cmd; do
		sed -n -E "/^  ([a-z]+\\|)*$cmd(\\|[a-z]+)*\\)\$/,/^    ;;\$/p" \
			"$ZSH_COMPLETION" >zsh.$cmd &&
		test -s zsh.$cmd || { echo "no case for $cmd" >&2; return 1; }
		while read -r opt; do
			case $opt in
			-h | --help)
				zsh_names zsh.$cmd "\$help" ;;
			*)
				zsh_names zsh.$cmd "$opt" ;;
			esac || { echo "zsh: wardfs $cmd $opt" >&2; return 1; }
		done <opts.$cmd || return 1
	done <cmds
'

test_done
