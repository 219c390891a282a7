#!/bin/sh
# Runs a command with an X server (Xvfb) and a D-Bus session bus of its own,
# so that window tests running at once never share a display, a selection
# or a bus. Xvfb picks a free display number itself (-displayfd), so two
# starting at once cannot take the same one. Without Xvfb or
# dbus-run-session, the command runs as it is: the window tests then skip.
# Nothing is written to stdout but the command's own output (TAP).
set -u

if ! command -v Xvfb >/dev/null 2>&1 || ! command -v dbus-run-session >/dev/null 2>&1; then
  exec "$@"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/mealtrace-display.XXXXXX") || exit 1
xvfb=
cleanup () {
  if [ -n "$xvfb" ]; then
    kill "$xvfb" 2>/dev/null
    wait "$xvfb" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkfifo "$dir/display" || exit 1
Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3>"$dir/display" >"$dir/xvfb.log" 2>&1 &
xvfb=$!
number=
read -r number <"$dir/display" || true
case "$number" in
  ''|*[!0-9]*)
    echo "with-display: Xvfb did not start:" >&2
    cat "$dir/xvfb.log" >&2
    exit 1
    ;;
esac

DISPLAY=":$number" dbus-run-session -- "$@"
status=$?
exit "$status"
