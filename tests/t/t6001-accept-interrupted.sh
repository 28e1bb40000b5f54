#!/bin/bash
test_description='wardfs accept: an accept killed part way is completed by the next command'
. "$(dirname "$0")/../lib/test-lib.sh"

# Each path must be wholly old or wholly new (and with "clean", no
# temporary is left).
check_all_or_nothing() {
	local f
	for f in $(test_seq 1 200); do
		case $(cat "project/f$f" 2>/dev/null) in
		"old $f" | "new $f") ;;
		*) echo "f$f is neither old nor new" >&2; return 1 ;;
		esac
	done &&
	if test "$1" = clean && find project -name ".wardfs-accept-*" | grep .; then
		echo "temporaries left" >&2
		return 1
	fi
}

test_expect_success 'setup: a session changing 200 files, deleting 20, adding 20' '
	for i in $(test_seq 1 200); do echo "old $i" >project/f$i; done &&
	mkdir project/del &&
	for i in $(test_seq 1 20); do echo "del $i" >project/del/d$i; done &&
	ward_mount &&
	for i in $(test_seq 1 200); do echo "new $i" >mnt/f$i; done &&
	rm -r mnt/del &&
	mkdir mnt/add &&
	for i in $(test_seq 1 20); do echo "add $i" >mnt/add/a$i; done &&
	ward_umount
'

for n in 0 1 7 40 151 300; do
	test_expect_success "accept killed after $n steps, then completed by diff" '
		test_expect_code 137 env WARDFS_TEST_ACCEPT_DIE_AFTER='$n' \
			"$WARDFS_BIN" accept "$WARD_SESSION" >/dev/null &&
		test_path_is_file "$WARD_SDIR/accept.journal" &&
		check_all_or_nothing &&
		find project -name ".wardfs-accept-*" >tmps &&
		"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns 2>err &&
		test_grep "completing an interrupted accept" err &&
		test_path_is_missing "$WARD_SDIR/accept.journal" &&
		check_all_or_nothing clean &&
		test_file_is_empty ns &&
		for i in $(test_seq 1 200); do
			echo "new $i" >expect &&
			test_cmp expect project/f$i || return 1
		done &&
		test_path_is_missing project/del &&
		test_path_is_file project/add/a20
	'
	test_expect_success "reset for the next round ($n)" '
		for i in $(test_seq 1 200); do echo "old $i" >project/f$i; done &&
		mkdir project/del &&
		for i in $(test_seq 1 20); do echo "del $i" >project/del/d$i; done &&
		rm -r project/add &&
		ward_mount -s "$WARD_SESSION" &&
		for i in $(test_seq 1 200); do echo "new $i" >mnt/f$i; done &&
		rm -r mnt/del &&
		mkdir -p mnt/add &&
		for i in $(test_seq 1 20); do echo "add $i" >mnt/add/a$i; done &&
		ward_umount &&
		"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
		test_line_count = 240 ns
	'
done

test_expect_success 'a torn journal (no end record) is dropped, the project untouched' '
	printf "wardfs-accept 1\000W 100644 0644 " >"$WARD_SDIR/accept.journal" &&
	"$WARDFS_BIN" check "$WARD_SESSION" >/dev/null &&
	test_path_is_missing "$WARD_SDIR/accept.journal" &&
	echo "old 1" >expect &&
	test_cmp expect project/f1
'

test_done
