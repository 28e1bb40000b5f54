#!/bin/bash
test_description='wardfs run takes a snapshot before and after its command'
. "$(dirname "$0")/../lib/test-lib.sh"

test_expect_success 'setup' '
	echo one >project/a.txt &&
	echo keep >project/keep.txt
'

test_expect_success 'run says which snapshots it took' '
	(cd project && "$WARDFS_BIN" run "$PWD" -- sh -c "echo two >>a.txt; rm keep.txt") 2>err &&
	test_grep "^wardfs: snapshot 1 before .sh -c echo two >>a.txt; rm keep.txt.$" err &&
	test_grep "^wardfs: snapshot 2 after .sh -c echo two >>a.txt; rm keep.txt.$" err &&
	WARD_SESSION=$(ls home/sessions) &&
	"$WARDFS_BIN" snapshot list "$WARD_SESSION" >list &&
	test_line_count = 2 list &&
	test_grep "^ *1  .*  0 paths  before .sh -c" list &&
	test_grep "^ *2  .*  2 paths  after .sh -c" list
'

test_expect_success 'the pair is the undo point of the command' '
	"$WARDFS_BIN" snapshot diff -s "$WARD_SESSION" --name-status 1 2 >ns &&
	printf "M\ta.txt\nD\tkeep.txt\n" >expect &&
	test_cmp expect ns &&
	(cd project && "$WARDFS_BIN" run "$PWD" -- sh -c "echo three >>a.txt") 2>err &&
	test_grep "^wardfs: snapshot 4 after " err &&
	"$WARDFS_BIN" snapshot restore -s "$WARD_SESSION" 2 2>err &&
	"$WARDFS_BIN" diff --name-status "$WARD_SESSION" >ns &&
	test_cmp expect ns &&
	(cd project && "$WARDFS_BIN" run "$PWD" -- cat a.txt) >actual 2>err &&
	printf "one\ntwo\n" >expect &&
	test_cmp expect actual
'

test_done
