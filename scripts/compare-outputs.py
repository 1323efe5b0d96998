#!/usr/bin/env python3
"""Compares two netpeek binaries byte for byte: stdout, stderr and exit code.

usage: scripts/compare-outputs.py [--json-notes] [--jobs N] [--list] OLD NEW [CAPTURE|DIR ...]

Every capture (default: tests/fixtures/corpus and captures/, or ../shared/corpus
when the fixtures are not there yet) is read by both binaries in each mode
below; for `-w` the written file is read back by tshark and its listing
(frame numbers, times, lengths, interfaces, comments) is compared. Exits 0
only when everything is equal; prints each difference (the first differing
line of each stream) and a count.

--json-notes: the one documented change of JSON schema 2 is allowed: OLD's
`notes`/`http_notes` (lists of strings) and NEW's (lists of objects with
`code` and `text`) compare by their texts, and the meta line's `schema`
number is ignored. Everything else in the line must be equal.

Used for refactors that must not change behaviour (see docs/ARCHITECTURE.md).
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

MODES = [
    ("default", []),
    ("plain", ["--plain"]),
    ("json", ["--json"]),
    ("stats", ["--stats"]),
    ("json-stats", ["--json", "--stats"]),
    ("explain", ["--explain"]),
    ("ladder", ["--ladder"]),
    ("ladder-ascii-fold", ["--ladder", "--ascii", "--fold"]),
    ("dump-A", ["-A"]),
    ("dump-X", ["-X"]),
    ("plain-X", ["--plain", "-X"]),
    ("plain-e-tttt", ["--plain", "-e", "-tttt"]),
    ("follow-0", ["--follow", "0"]),
    ("follow-1-hex", ["--follow", "1", "--follow-format", "hex"]),
    ("har", ["--har", "-"]),
    ("har-body", ["--har", "-", "--body"]),
    ("quiet-stats", ["-q", "--stats"]),
    ("body", ["--body"]),
    ("color", ["--color", "always"]),
    ("count-7", ["-c", "7"]),
    ("json-body-secrets", ["--json", "--body", "--show-secrets"]),
]

ENV = dict(os.environ, TZ="UTC", LC_ALL="C")
ENV.pop("NO_COLOR", None)
ENV.pop("SSLKEYLOGFILE", None)


def captures(args):
    paths = args or []
    if not paths:
        for d in ["tests/fixtures/corpus", "captures"]:
            if os.path.isdir(d):
                paths.append(d)
        if "tests/fixtures/corpus" not in paths and os.path.isdir("../shared/corpus"):
            paths.append("../shared/corpus")
    out = []
    for p in paths:
        if os.path.isdir(p):
            for n in sorted(os.listdir(p)):
                if n.endswith((".pcap", ".pcapng", ".cap")):
                    out.append(os.path.join(p, n))
        else:
            out.append(p)
    return out


def run(binary, capture, extra, cwd):
    # The capture path is given as it is so that both binaries print the
    # same name in their headers.
    p = subprocess.run([binary, "-r", capture] + extra, capture_output=True, env=ENV,
                       cwd=cwd, timeout=600)
    return p.returncode, p.stdout, p.stderr


def tshark_listing(path):
    if not os.path.exists(path):
        return b"(no file)"
    p = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number",
                        "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len",
                        "-e", "frame.interface_id", "-e", "frame.comment"],
                       capture_output=True, env=ENV, timeout=600)
    return b"exit %d\n" % p.returncode + p.stdout + p.stderr


def normalise_notes(line, new):
    """A JSON line with notes reduced to their texts (see --json-notes)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return line

    def texts(v):
        return [n.get("text") if isinstance(n, dict) else n for n in v]

    def walk(o):
        if isinstance(o, dict):
            for k in list(o):
                if k in ("notes", "http_notes") and isinstance(o[k], list):
                    o[k] = texts(o[k])
                else:
                    walk(o[k])
        elif isinstance(o, list):
            for x in o:
                walk(x)
    walk(obj)
    if obj.get("type") == "meta":
        obj.pop("schema", None)
    return json.dumps(obj, sort_keys=True).encode()


def first_difference(a, b):
    al, bl = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return f"line {i + 1}:\n      old: {x[:300]!r}\n      new: {y[:300]!r}"
    return f"line counts {len(al)} vs {len(bl)}"


def compare(old, new, capture, mode, extra, json_notes, tmp):
    diffs = []
    ow = os.path.join(tmp, "old")
    nw = os.path.join(tmp, "new")
    os.makedirs(ow, exist_ok=True)
    os.makedirs(nw, exist_ok=True)
    cap = os.path.abspath(capture)
    o = run(old, cap, extra, ow)
    n = run(new, cap, extra, nw)
    if o[0] != n[0]:
        diffs.append(f"exit code {o[0]} vs {n[0]}")
    oout, nout = o[1], n[1]
    if json_notes and "--json" in extra:
        oout = b"\n".join(normalise_notes(l, False) for l in oout.split(b"\n"))
        nout = b"\n".join(normalise_notes(l, True) for l in nout.split(b"\n"))
    if oout != nout:
        diffs.append("stdout " + first_difference(oout, nout))
    if o[2] != n[2]:
        diffs.append("stderr " + first_difference(o[2], n[2]))
    return diffs


def compare_write(old, new, capture, tmp):
    cap = os.path.abspath(capture)
    files = []
    for b, d in [(old, "old"), (new, "new")]:
        path = os.path.join(tmp, d + ".pcapng")
        p = subprocess.run([b, "-r", cap, "-q", "-w", path], capture_output=True, env=ENV,
                           timeout=600)
        files.append((p.returncode, p.stderr, tshark_listing(path)))
    diffs = []
    if files[0][0] != files[1][0]:
        diffs.append(f"exit code {files[0][0]} vs {files[1][0]}")
    if files[0][1] != files[1][1]:
        diffs.append("stderr " + first_difference(files[0][1], files[1][1]))
    if files[0][2] != files[1][2]:
        diffs.append("tshark's reading " + first_difference(files[0][2], files[1][2]))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json-notes", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--list", action="store_true", help="print every comparison made")
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("captures", nargs="*")
    a = ap.parse_args()
    a.old, a.new = os.path.abspath(a.old), os.path.abspath(a.new)
    caps = captures(a.captures)
    if not caps:
        print("no captures found", file=sys.stderr)
        return 2
    jobs = []
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for i, c in enumerate(caps):
            for j, (mode, extra) in enumerate(MODES):
                t = os.path.join(tmp, f"{i}-{j}")
                jobs.append(((c, mode), pool.submit(compare, a.old, a.new, c, mode, extra,
                                                     a.json_notes, t)))
            t = os.path.join(tmp, f"{i}-w")
            os.makedirs(t, exist_ok=True)
            jobs.append(((c, "write"), pool.submit(compare_write, a.old, a.new, c, t)))
        bad = 0
        for (c, mode), fut in jobs:
            diffs = fut.result()
            if diffs:
                bad += 1
                print(f"DIFFERS {os.path.basename(c)} [{mode}]")
                for d in diffs:
                    print("    " + d)
            elif a.list:
                print(f"same    {os.path.basename(c)} [{mode}]")
    print(f"{len(jobs) - bad}/{len(jobs)} equal ({len(caps)} captures, {len(MODES) + 1} modes)")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
