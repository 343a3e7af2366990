"""Check the Markdown of docs/ and the README the way a reader meets it, rendered.

Parsed with markdown-it-py (the CommonMark parser rich already ships, with GFM tables on):

- a line that looks like a table row but renders as text (a blank line or a paragraph split
  the table, so its later rows show as ``| a | b |`` prose);
- a table row with more or fewer cells than its header (a cell silently dropped or an
  unescaped ``|`` inside a cell);
- a relative link or image to a file that does not exist.

``python tools/docs_lint.py`` prints one line per problem (``docs/x.md:12: ...``) and exits 1
when it finds any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
_ROW = re.compile(r"^\s*\|.*\|\s*$")


def _cells(line: str) -> int:
    """The cells of a GFM table row: only an escaped bar does not split (GFM splits on a bar
    inside a code span too)."""
    text = line.replace("\\|", "x").strip()
    return len(text.strip("|").split("|"))


def problems(path: Path, root: Path = ROOT) -> Iterator[str]:
    """Every problem of one Markdown file, as ``file:line: what``."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    rel = path.relative_to(root) if path.is_relative_to(root) else path
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    for index, token in enumerate(tokens):
        if token.type == "paragraph_open" and token.map:
            start, end = token.map
            for number in range(start, end):
                if _ROW.match(lines[number]):
                    yield (
                        f"{rel}:{number + 1}: a table row outside a table (a blank line or a "
                        "paragraph splits the table above it?)"
                    )
                    break
        elif token.type == "table_open" and token.map:
            start, end = token.map
            header = _cells(lines[start])
            for number in range(start + 2, end):
                if lines[number].strip() and _cells(lines[number]) != header:
                    yield (
                        f"{rel}:{number + 1}: {_cells(lines[number])} cells where the header has "
                        f"{header} (an unescaped | inside a cell?)"
                    )
        elif token.type == "inline" and token.children:
            line = (token.map[0] + 1) if token.map else 0
            for child in token.children:
                target = child.attrs.get("href") or child.attrs.get("src")
                if not isinstance(target, str) or re.match(r"^[a-z]+:|^#|^//", target):
                    continue
                file = target.split("#")[0]
                if file and not (path.parent / file).exists():
                    yield f"{rel}:{line}: the link {target!r} leads to no file"
        del index


def main(argv: list[str] | None = None) -> int:
    """Lint docs/ and README.md (or the files given); exit 1 when anything is wrong."""
    given = sys.argv[1:] if argv is None else argv
    files = [Path(a).resolve() for a in given] or [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
    ]
    found = [p for f in files for p in problems(f)]
    for line in found:
        print(line)
    if not found:
        print(f"docs read as written ({len(files)} Markdown files: tables and links)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
