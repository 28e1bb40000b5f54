#!/bin/sh
# make demo: guard a small demo project and show what an agent would see.
set -u
W=${1:-wardfs}
demo=$(mktemp -d /tmp/wardfs-demo.XXXXXX)
export WARDFS_HOME="$demo/state"
mnt="$demo/view"
proj="$demo/project"

cleanup() {
	"$W" umount --lazy "$mnt" >/dev/null 2>&1
	rm -rf "$demo"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

mkdir -p "$proj/src" "$proj/.ssh" "$mnt"
cd "$proj" || exit 1
printf 'DATABASE_URL=postgres://admin:hunter2@db/prod\n' > .env
printf 'DATABASE_URL=\n' > .env.example
printf 'not really a key\n' > .ssh/id_ed25519
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' \
	> src/main.c
printf 'all:\n\tcc -o hello src/main.c\n' > Makefile
git init -q . && git add -A src Makefile .env.example &&
	git -c user.name=demo -c user.email=demo@example.com \
		commit -q -m 'demo project'

echo "A demo project in $proj:"
step ls -A "$proj"
ls -A "$proj"

step wardfs mount "$proj" "$mnt"
"$W" mount "$proj" "$mnt" || exit 1

echo "What the agent sees (no .env, no .ssh):"
step ls -A "$mnt"
ls -A "$mnt"
step cat "$mnt/.env"
cat "$mnt/.env"

echo "The agent edits, builds and deletes inside the view:"
step "cd $mnt && sed -i s/hello/guarded/ src/main.c && make && rm Makefile"
(cd "$mnt" && sed -i s/hello/guarded/ src/main.c && make -s && rm Makefile &&
	./hello)
step git -C "$mnt" status --short
git -C "$mnt" status --short

echo "The real project is untouched:"
step cat "$proj/src/main.c"
cat "$proj/src/main.c"
step ls -A "$proj"
ls -A "$proj"

step wardfs status
"$W" status
step wardfs umount "$mnt"
"$W" umount "$mnt"

echo "Review the agent's change as a git diff:"
step wardfs diff --stat "$mnt"
"$W" diff --stat "$mnt"
step wardfs diff "$mnt" src Makefile
"$W" diff --no-pager "$mnt" src Makefile
step wardfs check "$mnt"
"$W" check "$mnt"
echo "The gates flag the built binary; accept the source change only:"
step wardfs accept "$mnt" src/main.c Makefile
"$W" accept "$mnt" src/main.c Makefile
echo "The project now has the agent's edit (and the rest stays in the session):"
step cat "$proj/src/main.c"
cat "$proj/src/main.c"
step git -C "$proj" status --short
git -C "$proj" status --short
step wardfs diff --stat "$mnt"
"$W" diff --stat "$mnt"
