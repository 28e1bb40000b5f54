# cli-help.sh - what `wardfs --help` says, for the tests that hold the
# manual page and the shell completion to it (t0100, t0101).  Sourced
# after test-lib.sh.

# (Forks are slow on some machines: these loop in bash.)

# help_options ARGS... -> every option that 'wardfs ARGS --help' names, in
# its usage lines or its option lines, one a line (-s, --session, ...).
help_options() {
	local text line chunk usage=
	local re='(^|[][ |,])(--?[A-Za-z][-A-Za-z]*)(.*)'
	local -A seen=()
	text=$("$WARDFS_BIN" "$@" --help 2>&1)
	while IFS= read -r line; do
		chunk=
		case $line in
		usage:*) usage=t ;;
		"") usage= ;;
		esac
		if test -n "$usage"; then
			chunk=$line
		elif [[ $line =~ ^\ {1,8}(-.*) ]]; then
			# what stands before the description
			chunk=${BASH_REMATCH[1]%%  *}
		fi
		while [[ $chunk =~ $re ]]; do
			seen[${BASH_REMATCH[2]}]=1
			chunk=${BASH_REMATCH[3]}
		done
	done <<<"$text"
	test ${#seen[@]} = 0 || printf '%s\n' "${!seen[@]}"
}

# commands -> the commands 'wardfs --help' lists
commands() {
	"$WARDFS_BIN" --help | sed -n '/^commands:/,/^$/p' |
		sed -n -E 's/^   ([a-z]+) .*/\1/p'
}

# has_line FILE LINE -> whether FILE holds LINE
has_line() {
	local line
	while IFS= read -r line; do
		test "$line" = "$2" && return 0
	done <"$1"
	return 1
}
