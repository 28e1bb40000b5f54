#!/bin/sh
# Run aider under wardfs.  aider writes its history next to the project
# (.aider*, inside the view, so in the session) and caches under ~/.aider
# and ~/.cache.
#
# ~/.config/wardfs/config.ini:
#
#   [run]
#   writable = ~/.aider
#   writable = ~/.cache
#
# aider commits by itself; in the view .git/ is read-only, so run it with
# --no-auto-commits and commit what you accept with
# 'wardfs accept --commit -m MSG' (or 'wardfs accept --branch NAME').
exec wardfs run -- aider --no-auto-commits "$@"
