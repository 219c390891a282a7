#!/usr/bin/env python3
"""Writes tests/bench/RESULTS.md from the log of `meson test --benchmark`.

Each benchmark prints `name: value unit` lines, the last one its ratio to
its floor. Names of the form RUN.METRIC (bench-batch's runs) become a table
with a row per run; the others a table of their own lines.

Usage: bench-results.py BUILD_DIR OUTPUT [WALL_SECONDS]
"""

import datetime
import json
import os
import platform
import re
import subprocess
import sys

LINE = re.compile(r"^([A-Za-z0-9_.()<=>, -]+?): (.+)$")


def machine():
    model = "unknown processor"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            kb = int(meminfo.readline().split()[1])
            memory = f", {kb / 1024 / 1024:.0f} GiB of memory"
    except (OSError, ValueError, IndexError):
        pass
    distro = ""
    try:
        with open("/etc/os-release", encoding="utf-8") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"') + ", "
    except OSError:
        pass
    return f"{os.cpu_count()} × {model}{memory}; {distro}Linux {platform.release()}"


def commit(root):
    try:
        return subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse(stdout):
    lines = []
    for raw in stdout.splitlines():
        match = LINE.match(raw.strip())
        if match:
            lines.append((match.group(1), match.group(2)))
    return lines


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def section(name, result):
    lines = parse(result["stdout"])
    out = [f"## {name}", "",
           f"{result['result'].lower()} in {result['duration']:.1f} s."]
    if not lines:
        return "\n".join(out + ["", "No figures were printed.", ""])
    runs, plain = {}, []
    for key, value in lines:
        # RUN.METRIC, RUN having a dot of its own ("large.users" is a figure).
        if re.match(r"^[a-z0-9_]+(\.[a-z0-9_]+){2,}$", key):
            run, metric = key.rsplit(".", 1)
            runs.setdefault(run, {})[metric] = value
        else:
            plain.append((key, value))
    if runs:
        metrics = []
        for values in runs.values():
            for metric in values:
                if metric not in metrics:
                    metrics.append(metric)
        out += ["", table(["run"] + metrics, [[run] + [values.get(m, "") for m in metrics]
                                              for run, values in runs.items()])]
    if plain:
        out += ["", table(["figure", "value"], [[key, value] for key, value in plain])]
    last = lines[-1]
    out += ["", f"Last line: `{last[0]}: {last[1]}`", ""]
    return "\n".join(out)


def main():
    build, output = sys.argv[1], sys.argv[2]
    wall = float(sys.argv[3]) if len(sys.argv) > 3 else None
    results = []
    with open(os.path.join(build, "meson-logs", "testlog.json"), encoding="utf-8") as log:
        for line in log:
            results.append(json.loads(line))
    root = os.path.dirname(os.path.abspath(os.path.join(build, "build.ninja")))
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary = []
    for result in results:
        lines = parse(result["stdout"])
        targets = next((value for key, value in lines if key.startswith("targets")), "")
        last = f"{lines[-1][0]}: {lines[-1][1]}" if lines else ""
        summary.append([result["name"], f"{result['duration']:.1f} s", result["result"].lower(), last, targets])
    doc = ["# Mealtrace benchmark results", "",
           f"Written by `build-aux/bench` on {now}, at commit `{commit(source)}`.", "",
           f"Machine: {machine()}.", ""]
    if wall is not None:
        doc += [f"All benchmarks together took {wall:.0f} s.", ""]
    doc += [table(["benchmark", "time", "result", "last line", "targets"], summary), ""]
    doc += [section(result["name"], result) for result in results]
    with open(output, "w", encoding="utf-8") as out:
        out.write("\n".join(doc))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
