#!/usr/bin/env python3
"""Lists the units of the source that are too long to read as one piece.

usage: scripts/unit-sizes.py [--max-file N] [--max-fn N] [--top N] [PATH ...]

Every .rs file under the PATHs (default: src/) longer than --max-file lines
(default 800, unit tests included) and every function longer than --max-fn
lines (default 120, tests included: they are units too) is printed, longest
first; the exit code is 1 when there is any, else 0. --top N also prints the
N longest functions whatever their length (for a report).

A function runs from its `fn` line to the first later line that closes a
brace at the `fn` line's indentation (rustfmt's layout), so signatures with
generics, where clauses and several lines count with their function. A
signature that ends in `;` (a trait method without a body, an extern
declaration) is not a function body and is skipped. Comments and string
contents are not parsed: a line inside a raw string that looks like a `fn`
line would be counted, which this code base does not do.
"""
import argparse
import os
import re
import sys

# Qualifiers rustc accepts before `fn`, in any order the grammar allows:
# visibility (`pub`, `pub(crate)`, `pub(super)`, `pub(in path)`), `default`,
# `const`, `async`, `unsafe`, `extern` with an optional ABI string.
FN_LINE = re.compile(
    r"^(?P<indent>[ \t]*)"
    r"(?:(?:pub(?:\s*\([^)]*\))?|default|const|async|unsafe|extern(?:\s+\"[^\"]*\")?)\s+)*"
    r"fn\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
)
IMPL_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:unsafe\s+)?impl\b(?P<rest>.*)$")
TRAIT_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?:pub(?:\s*\([^)]*\))?\s+)?(?:unsafe\s+)?trait\s+(?P<name>\w+)"
)


def rust_files(paths):
    for path in paths:
        if os.path.isfile(path):
            if path.endswith(".rs"):
                yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".rs"):
                    yield os.path.join(root, name)


def owner_name(rest):
    """`impl<T> Foo<T> for Bar {` -> `Bar`; `impl Foo {` -> `Foo`."""
    rest = rest.split("{")[0].split(" where ")[0]
    if " for " in rest:
        rest = rest.split(" for ")[1]
    rest = re.sub(r"^\s*<[^>]*>", "", rest).strip()
    match = re.match(r"[\w:]+", rest)
    return match.group(0).split("::")[-1] if match else ""


def functions(lines):
    """Yields (line number, qualified name, length) of every function body."""
    owners = []  # (indent, name) of the enclosing impl or trait blocks
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped.startswith("}"):
            while owners and len(owners[-1][0]) >= len(indent):
                owners.pop()
        impl = IMPL_LINE.match(line)
        trait = TRAIT_LINE.match(line)
        opens_block = stripped.count("{") > stripped.count("}")
        if impl and opens_block:
            owners.append((impl.group("indent"), owner_name(impl.group("rest"))))
            continue
        if trait and opens_block:
            owners.append((trait.group("indent"), trait.group("name")))
            continue
        match = FN_LINE.match(line)
        if not match:
            continue
        indent = match.group("indent")
        end = body_end(lines, i, indent)
        if end is None:
            continue
        name = match.group("name")
        owner = next((n for ind, n in reversed(owners) if len(ind) < len(indent)), "")
        yield i + 1, f"{owner}::{name}" if owner else name, end - i + 1


def body_end(lines, start, indent):
    """Index of the line closing the function that starts at `start`, or
    None when the signature has no body."""
    for j in range(start, len(lines)):
        code = lines[j].split("//")[0].rstrip()
        if j == start and code.count("{") and code.count("{") == code.count("}"):
            return j  # a one-line function
        if code.endswith(";") and "{" not in "".join(lines[start : j + 1]):
            return None  # a declaration
        if j > start and lines[j].startswith(indent + "}"):
            return j
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-file", type=int, default=800)
    parser.add_argument("--max-fn", type=int, default=120)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("paths", nargs="*", default=["src"])
    args = parser.parse_args()

    long_files, long_fns, all_fns = [], [], []
    for path in rust_files(args.paths):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        if len(lines) > args.max_file:
            long_files.append((len(lines), path))
        for line_no, name, length in functions(lines):
            all_fns.append((length, f"{path}:{line_no}", name))
            if length > args.max_fn:
                long_fns.append((length, f"{path}:{line_no}", name))

    for length, path in sorted(long_files, reverse=True):
        print(f"file over {args.max_file} lines: {path} ({length} lines)")
    for length, where, name in sorted(long_fns, reverse=True):
        print(f"function over {args.max_fn} lines: {where} {name} ({length} lines)")
    if args.top:
        print("longest functions:")
        for length, where, name in sorted(all_fns, reverse=True)[: args.top]:
            print(f"  {length:4} {where} {name}")
    if long_files or long_fns:
        print(f"{len(long_files)} files, {len(long_fns)} functions over the limits")
        return 1
    print(f"no file over {args.max_file} lines, no function over {args.max_fn} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
