#!/bin/sh
# Module boundaries (STYLE.md §1): nobody includes another module's
# internals, and fs/ and snapshot/ never include each other.
status=0
for mod in fs rules snapshot cli; do
	for f in $(ls */*.c */*.h 2>/dev/null | grep -v "^$mod/" | grep -v '^tests/'); do
		if grep -q "#include \"$mod/${mod}_int.h\"" "$f"; then
			echo "lint: $f includes $mod/${mod}_int.h" >&2
			status=1
		fi
	done
done
if grep -l '#include "snapshot/' fs/*.[ch] 2>/dev/null; then
	echo "lint: fs/ includes snapshot/" >&2; status=1
fi
if grep -l '#include "fs/' snapshot/*.[ch] 2>/dev/null; then
	echo "lint: snapshot/ includes fs/" >&2; status=1
fi
if grep -l '#include "\(fs\|snapshot\|cli\)/' rules/*.[ch] 2>/dev/null; then
	echo "lint: rules/ depends on a higher module" >&2; status=1
fi
for f in */*.c; do
	case "$f" in tests/*) continue ;; esac
	last=$(grep '#include' "$f" | tail -n 1)
	[ "$last" = '#include "rules/banned.h"' ] ||
		{ echo "lint: $f: banned.h must be the last include" >&2; status=1; }
done
[ $status -eq 0 ] && echo "lint ok"
exit $status
