#!/usr/bin/env python3
"""Checks the layering of src/ (see src/README.md); exits 1 listing each offending file:line.

Rules:
  1. Project includes go only downward: app -> {wire, net} -> core -> storage -> base.
       base    may include base
       storage may include storage, base
       channels may include channels, base
       core    may include core, storage, channels, base
       wire    may include wire, core, storage, base
       net     may include net, wire, base   (for wire/common/http_message.h)
       app     may include anything
  2. RocksDB headers (rocksdb/...) only under src/storage/rocksdb/.
  3. Boost.Beast and Boost.Asio headers (boost/beast..., boost/asio...) only under src/net/ and
     src/app/.
  4. Reading the real clocks (system_clock::now, steady_clock::now, high_resolution_clock::now)
     only in src/base/clock.cc; everything else takes a base::Clock so tests can use a manual one.

Comments and string literals are ignored. Usage: python3 tools/check_layers.py [--root DIR]
"""

import argparse
import os
import re
import sys

LAYERS = ("base", "storage", "channels", "core", "wire", "net", "app")
ALLOWED = {
    "base": {"base"},
    "storage": {"storage", "base"},
    "channels": {"channels", "base"},
    "core": {"core", "storage", "channels", "base"},
    "wire": {"wire", "core", "storage", "base"},
    "net": {"net", "wire", "base"},
    "app": set(LAYERS),
}
SOURCE_EXTENSIONS = (".h", ".hh", ".hpp", ".hxx", ".inl", ".ipp", ".c", ".cc", ".cpp", ".cxx")

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
CLOCK_RE = re.compile(r"\b(system_clock|steady_clock|high_resolution_clock)\s*::\s*now\b")
CLOCK_FILE = "src/base/clock.cc"


def strip_comments_and_strings(text):
    """Blanks out comments and the contents of string/char literals, keeping line breaks, so
    line numbers still match. The text of #include lines is kept (their "..." is a path)."""
    out = []
    i, n = 0, len(text)
    line_start = True  # only whitespace since the last newline
    in_include = False
    while i < n:
        c = text[i]
        if c == "\n":
            out.append(c)
            i += 1
            line_start, in_include = True, False
            continue
        if line_start and c == "#":
            in_include = re.match(r"#\s*include\b", text[i:i + 40]) is not None
        if not c.isspace():
            line_start = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
            continue
        if c == "R" and text.startswith('R"', i) and not in_include:
            m = re.match(r'R"([^()\\ \t\n]{0,16})\(', text[i:])
            if m:
                end = text.find(")" + m.group(1) + '"', i + m.end())
                end = n if end < 0 else end + len(m.group(1)) + 2
                out.append("".join(ch if ch == "\n" else " " for ch in text[i:end]))
                i = end
                continue
        digit_separator = False  # 1'000'000, 0xFF'FF
        if c == "'":
            k = i
            while k > 0 and (text[k - 1].isalnum() or text[k - 1] in "'."):
                k -= 1
            digit_separator = k < i and text[k].isdigit()
        if c in "\"'" and not in_include and not digit_separator:
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" and j + 1 < n and text[j + 1] != "\n" else 1
            if j < n and text[j] == c:
                j += 1  # closing quote; an unterminated literal stops before the newline
            out.append(c + " " * (j - i - 1))
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def layer_of(rel_src_path):
    """'wire/sqs/x.h' -> 'wire'; None when the first component is not a layer."""
    first = rel_src_path.split("/", 1)[0]
    return first if first in LAYERS else None


def resolve_include(src_dir, file_dir, quote, path):
    """The src/-relative path of a project header, or None for an outside header."""
    path = path.strip()
    if quote == '"':
        local = os.path.normpath(os.path.join(file_dir, path))
        if os.path.isfile(local) and os.path.commonpath([local, src_dir]) == src_dir:
            return os.path.relpath(local, src_dir).replace(os.sep, "/")
    candidate = os.path.normpath(os.path.join(src_dir, path))
    if layer_of(path) and os.path.commonpath([candidate, src_dir]) == src_dir:
        # Quoted includes naming a layer are project headers even if the file is missing;
        # angle-bracket ones only when the file exists under src/ (not a system header).
        if quote == '"' or os.path.isfile(candidate):
            return path
    return None


def check_file(root, src_dir, path):
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    rel_src = os.path.relpath(path, src_dir).replace(os.sep, "/")
    layer = layer_of(rel_src)
    problems = []
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    code = strip_comments_and_strings(text)
    for lineno, line in enumerate(code.splitlines(), 1):
        m = INCLUDE_RE.match(line)
        if m:
            quote, inc = m.group(1), m.group(2).strip()
            target = resolve_include(src_dir, os.path.dirname(path), quote, inc)
            if target is not None:
                target_layer = layer_of(target)
                if layer is None:
                    problems.append((rel, lineno, f"file is in no known layer ({', '.join(LAYERS)})"))
                elif target_layer not in ALLOWED[layer]:
                    allowed = ", ".join(sorted(ALLOWED[layer]))
                    problems.append((rel, lineno, f'{layer} includes "{target}" ({target_layer}); '
                                     f"{layer} may include only {allowed}"))
            if (inc.startswith("rocksdb/") or inc == "rocksdb") and \
                    not rel.startswith("src/storage/rocksdb/"):
                problems.append((rel, lineno, f"<{inc}>: RocksDB headers only under src/storage/rocksdb/"))
            if re.match(r"boost/(beast|asio)\b", inc) and \
                    not (rel.startswith("src/net/") or rel.startswith("src/app/")):
                problems.append((rel, lineno, f"<{inc}>: Boost.Beast/Asio only under src/net/ and src/app/"))
            continue
        if rel != CLOCK_FILE:
            for cm in CLOCK_RE.finditer(line):
                problems.append((rel, lineno, f"{cm.group(1)}::now outside {CLOCK_FILE}; "
                                 "take a base::Clock (base/clock.h)"))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="repository root (default: the one holding this script)")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    src_dir = os.path.join(root, "src")
    if not os.path.isdir(src_dir):
        print(f"check_layers: no src/ under {root}", file=sys.stderr)
        return 2
    problems = []
    count = 0
    for dirpath, dirnames, filenames in os.walk(src_dir):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(SOURCE_EXTENSIONS):
                count += 1
                problems.extend(check_file(root, src_dir, os.path.join(dirpath, name)))
    for rel, lineno, message in problems:
        print(f"{rel}:{lineno}: {message}")
    if problems:
        print(f"check_layers: {len(problems)} violation(s) in {count} files", file=sys.stderr)
        return 1
    print(f"check_layers: {count} files ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
