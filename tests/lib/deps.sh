#!/bin/sh
# Install the Debian packages wardfs needs to build, test and demo, when
# they are missing.  As root it installs them; otherwise it prints the one
# command to run.
pkgs="build-essential pkg-config libfuse3-dev fuse3 libgit2-dev libpcre2-dev
libinih-dev libseccomp-dev bubblewrap git python3 attr acl mandoc"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing="$missing $p"
done
command -v prove >/dev/null 2>&1 || missing="$missing perl"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $missing >/dev/null ||
		{ echo "deps: apt-get install failed" >&2; exit 1; }
else
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run: sudo apt-get install$missing" >&2
	exit 1
fi
