"""Write the reference pages that come from the code, never kept by hand.

- ``docs/reference/cli.md``: every command of ``orchlab`` and ``labgrader``: its usage, what
  it does, an example, and a table of its arguments and options (from the CLI definitions).
- ``docs/reference/settings.md``: every setting of :class:`orchlab.config.Settings`: the
  environment variables that set it, its default, and what it does (from the field's
  docstring).

``python tools/docs_reference.py`` writes them; ``--check`` exits 1 naming a page that is out
of date (``make test`` runs it), so a new option cannot ship without its line.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

import typer

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("docs/reference/cli.md", "docs/reference/settings.md")


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(param: Any) -> str:
    value = param.default
    if value is None or getattr(param, "is_flag", False) or param.required:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return f"`{getattr(value, 'value', value)}`"


def _command_section(prog: str, path: tuple[str, ...], command: Any) -> list[str]:
    from orchlab.cli.help import plain_metavars

    plain_metavars(command)
    name = " ".join((prog, *path))
    doc = inspect.cleandoc(command.help or "")
    summary, _, rest = doc.partition("\n\n")
    lines = [f"### `{name}`", "", " ".join(summary.split()), ""]
    for paragraph in rest.split("\n\n"):
        if paragraph.strip():
            text = " ".join(paragraph.split())
            if text.startswith("Example: "):
                lines += ["```console", f"$ {text.removeprefix('Example: ')}", "```", ""]
            else:
                lines += [text, ""]
    rows = []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            label = f"`{param.metavar or param.name.upper()}`" + ("..." if param.nargs != 1 else "")
        else:
            flags = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
            label = f"{flags} `{param.metavar}`" if param.metavar else flags
        label = label.replace("|", "\\|")  # a choice's bars inside a table cell
        rows.append(f"| {label} | {_cell(param.help or '')} | {_default(param)} |")
    if rows:
        lines += ["| argument or option | meaning | default |", "|---|---|---|", *rows, ""]
    return lines


def _walk(prog: str, command: Any, path: tuple[str, ...] = ()) -> list[str]:
    subs = getattr(command, "commands", None)
    if not subs:
        return _command_section(prog, path, command)
    lines: list[str] = []
    for name, sub in subs.items():
        lines += _walk(prog, sub, (*path, name))
    return lines


def cli_page() -> str:
    """The CLI reference page."""
    import labgrader.cli
    import orchlab.cli
    from orchlab.cli.help import EXIT_CODES

    orchlab.cli._register()
    lines = [
        "# Command-line reference",
        "",
        "Generated from the command definitions by `tools/docs_reference.py`; `make test` fails",
        "when it is out of date. Every command also prints this with `--help`.",
        "",
        EXIT_CODES,
        "",
    ]
    for prog, app, what in (
        ("orchlab", orchlab.cli.app, "the engines, pipelines, audit logs and dead letters"),
        ("labgrader", labgrader.cli.app, "assigning, checking and grading the labs"),
    ):
        lines += [f"## `{prog}`: {what}", ""]
        lines += _walk(prog, typer.main.get_command(app))
    return "\n".join(lines).rstrip() + "\n"


def _env_names(name: str, field: Any) -> list[str]:
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return [str(c) for c in choices]
    return [f"ORCHLAB_{name.upper()}"]


def settings_page() -> str:
    """The settings reference page."""
    from orchlab.config import Settings

    lines = [
        "# Settings reference",
        "",
        "Generated from `orchlab.config.Settings` by `tools/docs_reference.py`; `make test` fails",
        "when it is out of date. Settings are read from the environment (the variables below),",
        "once, in that one class; `ORCHLAB_PROFILE` (dev, test, prod) changes some defaults.",
        "The Temporal SDK's own configuration (`TEMPORAL_*` variables, TOML profiles) applies",
        "on top: see [the platform's settings page](../platform/settings.md).",
        "",
        "| setting | environment variables | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        env = ", ".join(f"`{n}`" for n in _env_names(name, field))
        default = field.default
        shown = "" if default is None else f"`{getattr(default, 'value', default)}`"
        lines.append(f"| `{name}` | {env} | {shown} | {_cell(field.description or '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the pages, or with ``--check`` report the stale ones (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which page is stale")
    args = parser.parse_args(argv)
    stale = []
    for rel, text in zip(PAGES, (cli_page(), settings_page()), strict=True):
        path = ROOT / rel
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current == text:
            continue
        if args.check:
            stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel}")
    for rel in stale:
        print(f"{rel} is stale: run `python tools/docs_reference.py` to regenerate it")
    if not stale and args.check:
        print(f"reference pages are up to date ({len(PAGES)} pages)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
