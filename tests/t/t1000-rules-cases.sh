#!/bin/bash
#
# t1000-rules-cases.sh - the rule cases of tests/data/rules/*.case, each
# run through `wardfs rules check` (a dry run printing the decision and
# the deciding rule, like git check-ignore -v).
#
# A .case file is an INI body, a line "---", then expectations, one a line:
#
#	PATH [dir] -> DECISION [ORIGIN]
#
# DECISION is hide, readonly or allow; ORIGIN (optional) is project:LINE,
# user:LINE, <built-in>, <command line> (a ":LINE" may follow those too),
# or "-" for "no rule".  Before "---", "=== user" sends the lines after it
# to the user's config.ini, "=== project" (the default) to the project's
# .wardfs.ini, and "=== option SECTION.KEY=VALUE" adds a -o option.  Lines
# after "---" that are empty or start with ';' are ignored.
#
# Output is TAP: one test per case (it loads and runs) and one per
# expectation.  WARDFS_BIN is the binary (default: ../../wardfs from here).

here=$(cd "$(dirname "$0")" && pwd -P) || exit 1
: "${WARDFS_BIN:=$here/../../wardfs}"
data=$here/../data/rules

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t1000-rules-cases.XXXXXX") || exit 1
tmp=$(cd "$tmp" && pwd -P) || exit 1
trap 'rm -rf "$tmp"' EXIT

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
}

# diag FILE: print FILE as TAP diagnostics
diag() {
	sed 's/^/#   /' "$1"
}

# is_expectation LINE: a line after "---" that is an expectation
is_expectation() {
	case $1 in
	'' | ';'*) return 1 ;;
	esac
	return 0
}

# plan: one test per case plus one per expectation
plan() {
	local f line n=0 in_expect
	for f in "$data"/*.case; do
		n=$((n + 1))
		in_expect=
		while IFS= read -r line || test -n "$line"; do
			if test -z "$in_expect"; then
				test "$line" = --- && in_expect=t
				continue
			fi
			is_expectation "$line" && n=$((n + 1))
		done <"$f"
	done
	echo "1..$n"
}

# origin_of FIELD: "file:line:pattern" (or "::") as the case files write
# it: project:LINE, user:LINE, <built-in>:0, ... or "-"
origin_of() {
	local field=$1 file rest line
	if test "$field" = "::"; then
		echo -
		return
	fi
	file=${field%%:*}
	rest=${field#*:}
	line=${rest%%:*}
	case $file in
	"$project/.wardfs.ini") file=project ;;
	"$config/wardfs/config.ini") file=user ;;
	esac
	echo "$file:$line"
}

run_case() {
	local case_file=$1 name target line left right path is_dir want
	local want_origin got got_origin i
	local -a opts=() paths=() expects=() dirs=() origins=() lines=()

	name=$(basename "$case_file" .case)
	project=$tmp/$name/project
	config=$tmp/$name/config
	mkdir -p "$project" "$config/wardfs" || exit 1
	target=$project/.wardfs.ini
	: >"$target"

	# body, then expectations
	while IFS= read -r line || test -n "$line"; do
		if test -n "$target"; then
			case $line in
			---)
				target=
				;;
			'=== user')
				target=$config/wardfs/config.ini
				: >"$target"
				;;
			'=== project')
				target=$project/.wardfs.ini
				;;
			'=== option '*)
				opts+=(-o "${line#=== option }")
				;;
			*)
				printf '%s\n' "$line" >>"$target"
				;;
			esac
			continue
		fi
		is_expectation "$line" || continue
		left=${line%% -> *}
		right=${line#* -> }
		is_dir=
		case $left in
		*' dir')
			left=${left% dir}
			is_dir=t
			;;
		esac
		path=$left
		test -n "$is_dir" && path=$path/
		want=${right%% *}
		if test "$want" = "$right"; then
			want_origin=
		else
			want_origin=${right#* }
		fi
		paths+=("$path")
		expects+=("$want")
		dirs+=("$is_dir")
		origins+=("$want_origin")
	done <"$case_file"

	if (cd "$project" &&
		XDG_CONFIG_HOME=$config HOME=$tmp/$name \
			"$WARDFS_BIN" rules check -C "$project" "${opts[@]}" -- \
			"${paths[@]}") >"$tmp/$name/out" 2>"$tmp/$name/err"; then
		ok "$name: loads and checks ${#paths[@]} paths"
	else
		not_ok "$name: loads and checks ${#paths[@]} paths"
		diag "$tmp/$name/err"
	fi
	mapfile -t lines <"$tmp/$name/out"

	for i in "${!paths[@]}"; do
		line=${lines[$i]-}
		IFS=$'\t' read -r got_origin got path <<<"$line"
		got_origin=$(origin_of "$got_origin")
		want=${expects[$i]}
		want_origin=${origins[$i]}
		# an origin written without a line matches any line
		case $want_origin in
		*:*) ;;
		-) ;;
		?*) got_origin=${got_origin%:*} ;;
		esac
		if test "$got" = "$want" && test "$path" = "${paths[$i]}" &&
			{ test -z "$want_origin" ||
				test "$got_origin" = "$want_origin"; }; then
			ok "$name: ${paths[$i]} -> $want${want_origin:+ $want_origin}"
		else
			not_ok "$name: ${paths[$i]} -> $want${want_origin:+ $want_origin}"
			echo "#   got: $got $got_origin (${line:-no output})"
		fi
	done
}

if ! test -x "$WARDFS_BIN"; then
	echo "Bail out! no wardfs binary at $WARDFS_BIN (run make)"
	exit 1
fi

plan
for f in "$data"/*.case; do
	run_case "$f"
done
test "$failed" -eq 0
