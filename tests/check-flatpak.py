#!/usr/bin/env python3
"""Checks the Flatpak manifest: it parses, names the app ID, the command and
the runtime, grants exactly what the app needs, and builds the repository
with meson and runs its tests.

Usage: check-flatpak.py MANIFEST APP_ID COMMAND
"""

import json
import sys

FINISH_ARGS = {"--share=network", "--share=ipc", "--socket=fallback-x11", "--socket=wayland", "--device=dri"}


def main():
    path, app_id, command = sys.argv[1:4]
    with open(path, encoding="utf-8") as file:
        manifest = json.load(file)

    problems = []

    def expect(condition, what):
        if not condition:
            problems.append(what)

    expect(manifest.get("id") == app_id, f"id is {manifest.get('id')!r}, not {app_id!r}")
    expect(manifest.get("command") == command, f"command is {manifest.get('command')!r}, not {command!r}")
    expect(manifest.get("runtime") == "org.gnome.Platform", "the runtime is not org.gnome.Platform")
    expect(manifest.get("sdk") == "org.gnome.Sdk", "the SDK is not org.gnome.Sdk")
    expect(str(manifest.get("runtime-version", "")).isdigit(), "no GNOME runtime version")
    args = manifest.get("finish-args", [])
    expect(set(args) == FINISH_ARGS and len(args) == len(FINISH_ARGS),
           f"finish-args are {sorted(args)}, not {sorted(FINISH_ARGS)}")
    expect(any(rule in manifest.get("cleanup", []) for rule in ("/include", "*.a")), "no cleanup rules")

    modules = [m for m in manifest.get("modules", []) if isinstance(m, dict) and m.get("name") == command]
    expect(len(modules) == 1, f"no single module named {command!r}")
    if modules:
        module = modules[0]
        expect(module.get("buildsystem") == "meson", "the module is not built with meson")
        expect(module.get("run-tests") is True, "the module's tests are not run")
        sources = module.get("sources", [])
        expect(any(s.get("type") == "dir" and s.get("path") == ".." for s in sources),
               "the module is not built from the repository")
        # The oracle's botocore is not in the SDK.
        expect("-Dbotocore_test=false" in module.get("config-opts", []), "the botocore test is not turned off")

    for problem in problems:
        print(problem)
    print(f"{path}: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
