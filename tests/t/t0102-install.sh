#!/bin/bash
test_description='make install and make uninstall with PREFIX and DESTDIR
install, and remove, exactly the files the README lists'
WARD_NO_FUSE=t
. "$(dirname "$0")/../lib/test-lib.sh"

command -v make >/dev/null && test_set_prereq MAKE
command -v man >/dev/null && test_set_prereq MAN

# The make of the source tree: make test has built everything, so install
# builds nothing (under make asan, SANITIZE reaches it through MAKEFLAGS).
ward_make() {
	make --no-print-directory -C "$WARDFS_SRC" "$@"
}

# readme_files PREFIX -> the files the README's Install section lists, with
# PREFIX for "PREFIX", one a line (globs expanded)
readme_files() {
	local line
	sed -n '/^## Install$/,/^## /p' "$WARDFS_SRC/README.md" |
		sed -n 's/^    PREFIX\//\//p' >readme.list || return 1
	test -s readme.list || return 1
	while read -r line; do
		# shellcheck disable=SC2086 # the glob is meant
		printf '%s\n' "$1"$line
	done <readme.list
}

test_expect_success MAKE 'the README lists what make install installs' '
	sed -n "/^## Install\$/,/^## /p" "$WARDFS_SRC/README.md" >install.md &&
	test_grep "make install" install.md &&
	test_grep "make uninstall" install.md &&
	readme_files /usr >/dev/null &&
	test_line_count -ge 7 readme.list &&
	test_grep -x "/bin/wardfs" readme.list &&
	test_grep -x "/share/man/man1/wardfs.1" readme.list &&
	test_grep -x "/share/man/man5/wardfs.ini.5" readme.list &&
	test_grep -x "/share/bash-completion/completions/wardfs" readme.list &&
	test_grep -x "/share/zsh/vendor-completions/_wardfs" readme.list
'

test_expect_success MAKE 'make install DESTDIR=... PREFIX=/usr installs them' '
	ward_make install DESTDIR="$PWD/x" PREFIX=/usr >install.out 2>&1 &&
	readme_files "$PWD/x/usr" >expect.files &&
	while read -r f; do
		test_path_is_file "$f" || return 1
	done <expect.files &&
	ls "$WARDFS_SRC"/examples/*.ini >examples &&
	ls x/usr/share/doc/wardfs/examples/*.ini >installed.examples &&
	test_line_count = $(wc -l <examples) installed.examples
'

test_expect_success MAKE 'nothing is installed that the README does not list' '
	find "$PWD/x" -type f | sort >actual &&
	sort expect.files >expect &&
	test_cmp expect actual
'

test_expect_success MAKE 'the installed files are the ones of the source tree' '
	test -x x/usr/bin/wardfs &&
	x/usr/bin/wardfs --version >actual &&
	"$WARDFS_BIN" --version >expect &&
	test_cmp expect actual &&
	cmp "$WARDFS_SRC/cli/wardfs.1" x/usr/share/man/man1/wardfs.1 &&
	cmp "$WARDFS_SRC/cli/wardfs.ini.5" x/usr/share/man/man5/wardfs.ini.5 &&
	cmp "$WARDFS_SRC/cli/completion/wardfs.bash" \
		x/usr/share/bash-completion/completions/wardfs &&
	cmp "$WARDFS_SRC/cli/completion/_wardfs" \
		x/usr/share/zsh/vendor-completions/_wardfs &&
	stat -c %a x/usr/share/man/man1/wardfs.1 >mode &&
	echo 644 >expect &&
	test_cmp expect mode
'

test_expect_success MAKE,MAN 'man finds the installed pages by name' '
	MANPAGER=cat man -M "$PWD/x/usr/share/man" wardfs >man1.out 2>&1 &&
	test_grep "wardfs mount" man1.out &&
	MANPAGER=cat man -M "$PWD/x/usr/share/man" 5 wardfs.ini \
		>man5.out 2>&1 &&
	test_grep "TRUST BOUNDARY" man5.out
'

test_expect_success MAKE 'the installed bash completion registers itself' '
	bash -c ". x/usr/share/bash-completion/completions/wardfs &&
		complete -p wardfs" >out &&
	test_grep -- "-F _wardfs" out
'

test_expect_success MAKE 'make uninstall with the same variables removes them' '
	mkdir -p x/usr/bin x/usr/share/man/man1 &&
	echo keep >x/usr/bin/other &&
	echo keep >x/usr/share/man/man1/other.1 &&
	ward_make uninstall DESTDIR="$PWD/x" PREFIX=/usr >uninstall.out 2>&1 &&
	while read -r f; do
		test_path_is_missing "$f" || return 1
	done <expect.files &&
	test_path_is_missing x/usr/share/doc/wardfs &&
	find x -type f | sort >actual &&
	printf "%s\\n" x/usr/bin/other x/usr/share/man/man1/other.1 >expect &&
	test_cmp expect actual
'

test_expect_success MAKE 'PREFIX defaults to /usr/local' '
	ward_make install DESTDIR="$PWD/y" >install.out 2>&1 &&
	readme_files "$PWD/y/usr/local" >expect.local &&
	find "$PWD/y" -type f | sort >actual &&
	sort expect.local >expect &&
	test_cmp expect actual &&
	ward_make uninstall DESTDIR="$PWD/y" >uninstall.out 2>&1 &&
	find y -type f >actual &&
	test_file_is_empty actual
'

test_done
