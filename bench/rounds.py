#!/usr/bin/env python3
"""Times commands in rounds, for bench/compare.sh.

    bench/rounds.py RUNS < commands.json > results.json

Reads a JSON list of command lines. After a warm-up round (untimed, under
GNU time for the memory), each of RUNS rounds runs every command once, in
turn, the order reversed every other round: a slow spell on a shared
machine then falls on all the commands alike, not on the runs of one of
them, and their ratios (what the targets are) stay fair. Output goes to
/dev/null.

Writes a JSON list, one object per command in the order given: the median
wall time (s) and the mean CPU time (user + system, s), measured by wait4
on the command's own process, and the peak resident memory (MB) of the
warm-up run, measured by GNU time (a process forked from this one would
count this interpreter's memory as its own until it executes the command).
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def run(argv):
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime


def peak_rss_mb(argv):
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", out.name, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return int(out.read().split()[-1]) // 1024


def main():
    runs = int(sys.argv[1])
    commands = [shlex.split(c) for c in json.load(sys.stdin)]
    rss = [peak_rss_mb(c) for c in commands]
    times = [([], []) for _ in commands]
    for r in range(runs):
        order = list(range(len(commands)))
        if r % 2:
            order.reverse()
        for i in order:
            wall, cpu = run(commands[i])
            times[i][0].append(wall)
            times[i][1].append(cpu)
    json.dump(
        [
            {"median": statistics.median(w), "cpu": statistics.mean(c), "rss_mb": m}
            for (w, c), m in zip(times, rss)
        ],
        sys.stdout,
    )


if __name__ == "__main__":
    main()
