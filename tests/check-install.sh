#!/bin/sh
# meson install into a temporary DESTDIR: exactly the files a desktop needs
# (binary, desktop entry, metainfo, schema, icons, translations), a schema
# that compiles, a desktop entry whose command is installed, and the
# installed binary speaking Vietnamese when asked to.
# Usage: check-install.sh BUILD_DIR PREFIX
set -eu
build=$1
prefix=$2
app=io.github.mealtrace.Mealtrace
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail () { echo "not as expected: $*"; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
root="$dest$prefix"

expected="bin/mealtrace
share/applications/$app.desktop
share/glib-2.0/schemas/$app.gschema.xml
share/icons/hicolor/scalable/apps/$app.svg
share/icons/hicolor/symbolic/apps/$app-symbolic.svg
share/locale/vi/LC_MESSAGES/mealtrace.mo
share/metainfo/$app.metainfo.xml"
actual=$(cd "$dest" && find . -type f -o -type l | sed "s|^\./${prefix#/}/||; s|^\./|/|" | LC_ALL=C sort)
echo "installed:"
echo "$actual" | sed 's/^/  /'
[ "$actual" = "$expected" ] || fail "the file list; expected:
$expected"

[ -x "$root/bin/mealtrace" ] || fail "bin/mealtrace is not executable"
glib-compile-schemas --strict --targetdir="$dest" "$root/share/glib-2.0/schemas" || fail "the schema"
[ -f "$dest/gschemas.compiled" ] || fail "no gschemas.compiled"
grep -qx 'Exec=mealtrace' "$root/share/applications/$app.desktop" || fail "the desktop entry's Exec"
grep -q "<id>$app</id>" "$root/share/metainfo/$app.metainfo.xml" || fail "the metainfo's id"
# Both translated through po/.
grep -q '^Comment\[vi\]=' "$root/share/applications/$app.desktop" || fail "the desktop entry in Vietnamese"
grep -q '<summary xml:lang="vi">' "$root/share/metainfo/$app.metainfo.xml" || fail "the metainfo in Vietnamese"

# The installed binary finds its translations beside it.
summary="Use the built-in demo data set: no account, no network"
translated=$(LANGUAGE=vi LC_ALL=C.UTF-8 TEXTDOMAINDIR="$root/share/locale" gettext -d mealtrace "$summary")
[ "$translated" != "$summary" ] || fail "the catalog has no Vietnamese for the summary"
help=$(LANGUAGE=vi LC_ALL=C.UTF-8 "$root/bin/mealtrace" --help)
echo "LANGUAGE=vi mealtrace --help:"
echo "$help" | sed 's/^/  /'
printf '%s\n' "$help" | grep -qF "$translated" || fail "--help in Vietnamese"
"$root/bin/mealtrace" --version | grep -qx "mealtrace $(meson introspect "$build" --projectinfo | sed 's/.*"version": "\([^"]*\)".*/\1/')" ||
  fail "--version"
echo "ok"
