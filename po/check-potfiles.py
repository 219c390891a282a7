#!/usr/bin/env python3
"""Checks that po/POTFILES.in lists every file with translatable strings.

A C file that marks strings with _(), N_(), C_(), NC_() or ngettext(), a
.ui file with translatable="yes", the desktop entry, the metainfo and the
GSettings schema must be listed, and every listed file must exist. Prints
what is missing or stale and exits 1 when anything is.

Usage: check-potfiles.py SOURCE_ROOT
"""

import pathlib
import re
import sys

C_MARK = re.compile(r'(?<![A-Za-z0-9_])(_|N_|C_|NC_|g_dngettext|ngettext|g_dpgettext2)\s*\(')
UI_MARK = re.compile(r'translatable\s*=\s*"(yes|true|1)"')


def needs_translation(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".c", ".h"):
        # Comments may mention _() without marking anything.
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        return C_MARK.search(text) is not None
    if path.suffix == ".ui":
        return UI_MARK.search(text) is not None
    return True  # desktop entry, metainfo, schema: always translated


def main():
    root = pathlib.Path(sys.argv[1])
    listed = set()
    for line in (root / "po" / "POTFILES.in").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            listed.add(line)

    candidates = []
    for folder in ("src", "data"):
        for path in sorted((root / folder).rglob("*")):
            name = path.name
            if path.suffix in (".c", ".h", ".ui") or name.endswith((".desktop.in", ".metainfo.xml.in", ".gschema.xml")):
                candidates.append(path)

    failures = 0
    for path in candidates:
        relative = path.relative_to(root).as_posix()
        if needs_translation(path) and relative not in listed:
            print(f"{relative} has translatable strings but is not in po/POTFILES.in")
            failures += 1
    for relative in sorted(listed):
        if not (root / relative).is_file():
            print(f"po/POTFILES.in lists {relative}, which does not exist")
            failures += 1
    print(f"{len(listed)} files listed, {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
