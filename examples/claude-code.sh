#!/bin/sh
# Run Claude Code under wardfs: the project is guarded, ~/.claude stays
# writable (its settings, sessions and credentials live there).
#
#   cp examples/claude-code.sh ~/bin/claude-guarded && chmod +x ~/bin/claude-guarded
#   cd ~/src/app && claude-guarded
#
# Add to ~/.config/wardfs/config.ini (the user file: a project file may not
# widen what run may write):
#
#   [run]
#   writable = ~/.claude
#   writable = ~/.claude.json
#   writable = ~/.cache
#
# ANTHROPIC_API_KEY is passed through (run only drops *_TOKEN, *_SECRET,
# AWS_* and the like).  Add --net=none only for offline work: the agent
# needs the network to reach its model.
exec wardfs run -- claude "$@"
