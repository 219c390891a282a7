#!/bin/sh
# The layers of STYLE.md, checked: src/core includes and links no GTK, no
# libsoup and no OpenSSL; src/net and src/app include no GTK.
# Usage: check-layers.sh SOURCE_ROOT CORE_ONLY_BINARY
set -eu
src=$1
binary=$2
status=0

bad=$(grep -rlE '#include *[<"](gtk/|gdk/|libsoup/|openssl/)' "$src/src/core" || true)
if [ -n "$bad" ]; then
  echo "src/core includes GTK, libsoup or OpenSSL: $bad"
  status=1
fi
for layer in net app; do
  [ -d "$src/src/$layer" ] || continue
  bad=$(grep -rlE '#include *[<"](gtk/|gdk/)' "$src/src/$layer" || true)
  if [ -n "$bad" ]; then
    echo "src/$layer includes GTK: $bad"
    status=1
  fi
done

# A program built on the core alone must not pull them in either.
linked=$(ldd "$binary" | grep -E 'libgtk|libgdk|libsoup|libssl|libcrypto' || true)
if [ -n "$linked" ]; then
  echo "$binary, built on src/core alone, links: $linked"
  status=1
fi
[ "$status" -eq 0 ] && echo "layers: ok ($(ldd "$binary" | wc -l) libraries linked by a core-only program)"
exit "$status"
