#!/bin/sh
# Run the Codex CLI under wardfs.  Its state lives in ~/.codex.
#
# ~/.config/wardfs/config.ini:
#
#   [run]
#   writable = ~/.codex
#   writable = ~/.cache
#
# OPENAI_API_KEY is passed through.  Codex's own sandbox can stay on: it
# then runs inside the guarded view, which already hides the secrets and
# keeps every write in the session until you accept it.
exec wardfs run -- codex "$@"
