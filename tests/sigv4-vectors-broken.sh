#!/bin/sh
# The vector runner on cases it must flag (tests/data/sigv4-broken): it
# exits 1, prints a line per failure and counts a CRLF request as passed.
# Usage: sigv4-vectors-broken.sh SIGV4_VECTORS DIR
out=$("$1" "$2")
status=$?
printf '%s\n' "$out"
fail () { echo "not as expected: $1"; exit 1; }
[ "$status" -eq 1 ] || fail "exit status $status"
printf '%s\n' "$out" | grep -qx 'no-credentials: cannot read the case (context.json has no credentials object)' ||
  fail "no line for no-credentials"
printf '%s\n' "$out" | grep -qx 'wrong-signature: header signature differs' || fail "no line for wrong-signature"
printf '%s\n' "$out" | grep -q '^crlf-request' && fail "crlf-request did not pass"
[ "$(printf '%s\n' "$out" | tail -n 1)" = "1 passed, 2 failed" ] || fail "the count"
exit 0
