#!/bin/sh
# Fake actions/runner run.sh: records how it was started, then runs the fake listener in the
# foreground (as the real run.sh runs run-helper.sh) and passes its exit code through.
DIR=$(cd "$(dirname "$0")" && pwd)
printf '%s\n' "$@" > "$DIR/rec/run.args"
env > "$DIR/rec/run.env"
"$DIR/bin/Runner.Listener" run "$@"
exit $?
