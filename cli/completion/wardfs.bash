# bash completion for wardfs(1)                        -*- shell-script -*-
#
# Installed as share/bash-completion/completions/wardfs; or source it from
# ~/.bashrc.  Completes the commands, their options, session ids (the first
# column of 'wardfs status'), snapshot ids (the first column of 'wardfs
# snapshot list'), mount and config options, and paths.  Self-contained:
# it uses bash-completion's helpers only where they are loaded.
#
# tests/t/t0101-completion.sh checks that every command and option of
# 'wardfs --help' and 'wardfs CMD --help' is offered here.
#
# shellcheck disable=SC2207
# (COMPREPLY=($(compgen ...)) splits at IFS, a newline where words may
# hold blanks, as bash-completion does)

_wardfs_commands="mount umount status run rules doctor diff check accept
	review discard log snapshot help"

# Options of each command, as 'wardfs CMD --help' lists them.
_wardfs_opts_mount="-s --session -f --foreground -d --debug -o -h --help"
_wardfs_opts_umount="-l --lazy -h --help"
_wardfs_opts_status="-h --help"
_wardfs_opts_run="-- --net= -s --session -o --allow-weaker -h --help"
_wardfs_opts_rules="-C -o --config --dir -h --help"
_wardfs_opts_doctor="-h --help"
_wardfs_opts_diff="--stat --name-status --json --color --color= --no-pager
	-s --session -h --help"
_wardfs_opts_check="-h --help"
_wardfs_opts_accept="-f --force -c --commit -m --message -b --branch
	-s --session -h --help"
_wardfs_opts_review="-f --force --color --color= -s --session -h --help"
_wardfs_opts_discard="-s --session -h --help"
_wardfs_opts_log="--denied --writes -f --follow --json --no-pager
	-s --session -h --help"
_wardfs_opts_snapshot="-m --message -s --session -h --help"
_wardfs_opts_snapshot_list="-s --session -h --help"
_wardfs_opts_snapshot_diff="--stat --name-status --json --color --color=
	--no-pager -s --session -h --help"
_wardfs_opts_snapshot_restore="-s --session -h --help"
_wardfs_opts_snapshot_drop="-s --session -h --help"
_wardfs_opts_help=""

# Config overrides, section.key= (the key table of rules/load.c).
_wardfs_config_keys="hide.path= readonly.path= allow.path= content.pattern=
	redact.path= redact.match= limits.quota= limits.max_file=
	audit.reads= audit.log= run.mask= run.writable= run.network=
	run.env_drop= gates.secret= gates.sensitive="

# Mount options of -o, besides the config overrides.
_wardfs_mount_opts="allow_other allow_root default_permissions fsname=
	timeout= threads= debug"

# The words of the command line, with "--opt" "=" "value" (which bash
# splits at COMP_WORDBREAKS) joined again.  Sets words, cword and cur.
_wardfs_words()
{
	local i w n=-1 glue=
	words=()
	cword=0
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n $glue ]]; then
			words[n]+=$w
			glue=
		elif ((n > 0)) && [[ $w == "=" ]] &&
			[[ ${words[n]} == -* || ${words[n]} == *[a-z].[a-z]* ||
			   ${words[n]} == *fsname || ${words[n]} == *timeout ||
			   ${words[n]} == *threads ]]; then
			words[n]+=$w
			((i < COMP_CWORD)) && glue=t
		else
			words[++n]=$w
		fi
		((i == COMP_CWORD)) && cword=$n
	done
	if ((COMP_CWORD >= ${#COMP_WORDS[@]})); then
		words[++n]=
		cword=$n
	fi
	cur=${words[cword]}
}

# Reply with the words of $1 that start with $2; after an '=' bash
# completes only what follows it (when '=' breaks words).
_wardfs_reply()
{
	local IFS=$' \t\n' w prefix=
	if [[ $2 == *=* && $COMP_WORDBREAKS == *=* ]]; then
		prefix=${2%%=*}=
	fi
	COMPREPLY=()
	for w in $1; do
		[[ $w == "$2"* ]] && COMPREPLY+=("${w#"$prefix"}")
	done
	# an option that takes its value after '=' goes on without a space
	if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}

_wardfs_sessions()
{
	local IFS=$' \t\n' id rest
	"$_wardfs_bin" status 2>/dev/null | while read -r id rest; do
		printf '%s\n' "$id"
	done
}

# Snapshot ids of session $1 (default: the current directory's).
_wardfs_snapshots()
{
	local IFS=$' \t\n' id rest
	"$_wardfs_bin" snapshot list ${1:+-s "$1"} 2>/dev/null |
	while read -r id rest; do
		printf '%s\n' "$id"
	done
}

# Add paths starting with $1 to COMPREPLY: files, or directories with -d.
_wardfs_paths()
{
	local IFS=$'\n' kind=-f
	if [[ $1 == -d ]]; then
		kind=-d
		shift
	fi
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen "$kind" -- "$1"))
}

# Sessions (ids) starting with $1, then paths ($2: -f or -d).
_wardfs_sessions_and_paths()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "$(_wardfs_sessions)" -- "$1"))
	if [[ $2 == -d ]]; then
		_wardfs_paths -d "$1"
	else
		_wardfs_paths "$1"
	fi
}

# -o OPT[,OPT...]: complete the option after the last comma.
_wardfs_options()
{
	local list=$1 cur=$2 head='' w
	if [[ $cur == *,* ]]; then
		head=${cur%,*},
		cur=${cur##*,}
	fi
	COMPREPLY=()
	for w in $list; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$head$w")
	done
	if [[ $COMP_WORDBREAKS == *=* && $head$cur == *=* ]]; then
		# bash completes after the '=' only: values are not ours
		COMPREPLY=()
	fi
	compopt -o nospace 2>/dev/null
	return 0
}

_wardfs()
{
	local words cword cur prev cmd sub='' opts i npos=0 dashdash='' w
	local _wardfs_bin=${1:-wardfs}
	_wardfs_words
	prev=${words[cword - 1]}
	COMPREPLY=()

	if ((cword == 1)); then
		if [[ $cur == -* ]]; then
			_wardfs_reply "--version --help -h" "$cur"
		else
			_wardfs_reply "$_wardfs_commands" "$cur"
		fi
		return 0
	fi
	cmd=${words[1]}

	# What the word before the cursor asks for.
	case $cmd,$prev in
	*,-s | *,--session)
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "$(_wardfs_sessions)" -- "$cur"))
		return 0
		;;
	mount,-o | run,-o)
		_wardfs_options "$_wardfs_mount_opts $_wardfs_config_keys" "$cur"
		return 0
		;;
	rules,-o)
		_wardfs_options "$_wardfs_config_keys" "$cur"
		return 0
		;;
	rules,-C)
		_wardfs_paths -d "$cur"
		return 0
		;;
	rules,--config)
		_wardfs_paths "$cur"
		return 0
		;;
	run,--net)
		_wardfs_reply "none host" "$cur"
		return 0
		;;
	accept,-m | accept,--message | accept,-b | accept,--branch | \
	snapshot,-m | snapshot,--message)
		return 0	# free text
		;;
	esac
	case $cur in
	--net=*)
		[[ $cmd == run ]] && _wardfs_reply "--net=none --net=host" "$cur"
		return 0
		;;
	--color=*)
		[[ $cmd == @(diff|review|snapshot) ]] &&
			_wardfs_reply "--color=always --color=never --color=auto" "$cur"
		return 0
		;;
	esac

	# Positional arguments before the cursor, and "--".
	for ((i = 2; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $dashdash ]]; then
			((npos++))
			continue
		fi
		case $w in
		--) dashdash=$i ;;
		-s | --session | -o | -C | --config | -m | --message | -b | --branch)
			((i++)) ;;
		-*) ;;
		*) ((npos++)) ;;
		esac
	done

	# snapshot: the subcommand, maybe after a session, and the session
	local sid='' subi=0
	if [[ $cmd == snapshot ]]; then
		local first=''
		for ((i = 2; i < cword; i++)); do
			case ${words[i]} in
			-s | --session) sid=${words[i + 1]}; ((i++)) ;;
			-m | --message) ((i++)) ;;
			-*) ;;
			create | list | diff | restore | drop)
				sub=${words[i]}
				subi=$i
				[[ -n $first ]] && sid=$first
				break
				;;
			*)
				[[ -n $first ]] && break
				first=${words[i]}
				;;
			esac
		done
		for ((i = subi + 1; subi && i < cword; i++)); do
			[[ ${words[i]} == @(-s|--session) ]] && sid=${words[i + 1]}
		done
	fi

	if [[ $cur == -* && -z $dashdash ]]; then
		[[ $cmd == [a-z]* && $cmd != *[!a-z]* ]] || return 0
		opts=_wardfs_opts_$cmd
		[[ -n $sub && $sub != create ]] && opts+=_$sub
		_wardfs_reply "${!opts-}" "$cur"
		return 0
	fi

	case $cmd in
	help)
		((npos == 0)) && _wardfs_reply "$_wardfs_commands" "$cur"
		;;
	mount)
		_wardfs_paths -d "$cur"
		;;
	umount | status | check | log)
		((npos == 0)) && _wardfs_sessions_and_paths "$cur" -d
		;;
	diff | accept | discard | review)
		if ((npos == 0)) && [[ -z $dashdash ]]; then
			_wardfs_sessions_and_paths "$cur" -f
		else
			_wardfs_paths "$cur"
		fi
		;;
	run)
		if [[ -n $dashdash ]]; then
			# CMD and its arguments, as if typed alone
			if declare -F _command_offset >/dev/null; then
				for ((i = 1; i < COMP_CWORD; i++)); do
					[[ ${COMP_WORDS[i]} == -- ]] && break
				done
				_command_offset $((i + 1))
			elif ((cword == dashdash + 1)); then
				local IFS=$'\n'
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				_wardfs_paths "$cur"
			fi
		elif ((npos == 0)); then
			_wardfs_reply "--" "$cur"
			_wardfs_paths -d "$cur"
		else
			_wardfs_reply "--" "$cur"
		fi
		;;
	rules)
		sub=${words[2]}
		if ((cword == 2)); then
			_wardfs_reply "check list" "$cur"
		elif [[ $sub == check ]]; then
			_wardfs_paths "$cur"
		fi
		;;
	snapshot)
		if [[ -z $sub ]]; then
			# a subcommand, or the session before one
			local IFS=$'\n'
			((npos < 2)) && COMPREPLY=($(compgen -W \
				$'create\nlist\ndiff\nrestore\ndrop' -- "$cur"))
			((npos == 0)) && COMPREPLY+=($(compgen -W \
				"$(_wardfs_sessions)" -- "$cur"))
			return 0
		fi
		# the words after the subcommand
		local nsub=0
		for ((i = subi + 1; i < cword; i++)); do
			case ${words[i]} in
			-s | --session | -m | --message) ((i++)) ;;
			-*) ;;
			*) ((nsub++)) ;;
			esac
		done
		case $sub in
		create | list)
			((nsub == 0)) && [[ -z $sid ]] &&
				_wardfs_sessions_and_paths "$cur" -d
			;;
		diff | restore | drop)
			if [[ -n $dashdash ]]; then
				_wardfs_paths "$cur"
			elif [[ $sub == drop ]] || ((nsub == 0)) ||
				[[ $sub == diff && $nsub == 1 ]]; then
				local IFS=$'\n'
				COMPREPLY=($(compgen -W "$(_wardfs_snapshots "$sid")" \
					-- "$cur"))
				# diff A [B] [PATH...]
				[[ $sub == diff ]] && ((nsub > 0)) &&
					_wardfs_paths "$cur"
			else
				_wardfs_paths "$cur"
			fi
			;;
		esac
		;;
	esac
	return 0
}

complete -F _wardfs wardfs
