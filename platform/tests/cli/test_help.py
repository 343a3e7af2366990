"""Both command lines' help pages: conventional labels, an example per command, exit codes,
and ``--version`` from the installed metadata."""

from __future__ import annotations

import re
import sys
from functools import cache
from importlib.metadata import version
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from orchlab.cli.help import plain_metavars

TYPE_LABEL = re.compile(r"<(bool|str|int|float|list\[[a-z]+\]|dir|file|path)[^>]*>")


def _commands(app: typer.Typer) -> list[tuple[str, ...]]:
    root = plain_metavars(typer.main.get_command(app))
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, (*path, name))
        else:
            found.append(path)

    walk(root, ())
    return found


def _apps() -> list[tuple[str, typer.Typer]]:
    import labgrader.cli
    import orchlab.cli

    orchlab.cli._register()
    return [("orchlab", orchlab.cli.app), ("labgrader", labgrader.cli.app)]


CASES = [(prog, path) for prog, app in _apps() for path in _commands(app)]


@cache
def _tree(prog: str) -> Any:
    """``prog``'s command tree as its entry point builds it (see ``orchlab.cli.help.run_app``)."""
    return plain_metavars(typer.main.get_command(dict(_apps())[prog]))


def _run(prog: str, *args: str) -> str:
    """Run ``prog ARGS`` in this process, as on a 100-column plain terminal; its stdout.

    The pages are rendered in process: starting an interpreter per page would test nothing
    more (the entry points themselves run in the CLI error tests and the grader's tests).
    """
    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    with CliRunner().isolation(env=env) as (stdout, stderr, _):
        try:
            _tree(prog).main(args=list(args), prog_name=prog)
            code: object = 0
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    assert code in (0, None), err
    return out


def _help(prog: str, *args: str) -> str:
    return _run(prog, *args, "--help")


@pytest.mark.parametrize(("prog", "path"), CASES, ids=[" ".join(c[:1] + c[1]) for c in CASES])
def test_every_command_help_has_plain_labels_and_an_example(
    prog: str, path: tuple[str, ...]
) -> None:
    page = _help(prog, *path)
    assert not TYPE_LABEL.search(page), TYPE_LABEL.search(page)
    assert f"Example: {prog} {' '.join(path)}" in page.replace("\n ", " ")


@pytest.mark.parametrize("prog", ["orchlab", "labgrader"])
def test_the_top_level_help_lists_exit_codes_and_version_prints(prog: str) -> None:
    page = " ".join(_help(prog).split())
    assert "Exit codes: 0 success; 1 the work failed" in page and "2 a usage error" in page
    assert _run(prog, "--version") == f"{prog} {version('orchlab')}\n"


def test_a_flag_shows_no_value_and_a_value_says_what_it_means() -> None:
    import labgrader.cli

    grade = plain_metavars(typer.main.get_command(labgrader.cli.app)).commands["grade"]
    labels = {p.name: p.metavar for p in grade.params}
    assert (labels["release"], labels["jobs"], labels["timeout"]) == ("", "N", "SECONDS")
    assert (labels["out"], labels["due"], labels["backend"]) == ("DIR", "FILE", "local|temporal")
    assert labels["targets"] == "TARGETS"
