#!/bin/sh
# Fake actions/runner config.sh: records its arguments and environment, exits with the code in
# ./config-exit (default 0).
DIR=$(cd "$(dirname "$0")" && pwd)
printf '%s\n' "$@" > "$DIR/rec/config.args"
env > "$DIR/rec/config.env"
exit "$(cat "$DIR/config-exit" 2>/dev/null || echo 0)"
