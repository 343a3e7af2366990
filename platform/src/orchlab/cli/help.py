"""Help pages that read as conventions expect, for ``orchlab`` and ``labgrader`` alike.

Typer labels every value with its Python type (``<bool>``, ``<str>``, ``<list[str]>``).
:func:`plain_metavars` replaces those labels once the command tree is built: a flag shows
no value, a value shows what it means (``PATH``, ``DIR``, ``N``, ``SECONDS``, the option's
own name), a choice lists its values. :func:`version_option` adds ``--version``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import typer
from typer.core import TyperArgument, TyperOption

_NAMES = {
    "timeout": "SECONDS",
    "check_timeout": "SECONDS",
    "address": "HOST:PORT",
    "param": "KEY=VALUE",
    "params": "KEY=VALUE",
}


def _metavar(param: TyperArgument | TyperOption) -> str:
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return ""
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    if isinstance(param, TyperArgument):
        return (param.name or "value").upper()  # an argument's name says what it holds
    if desc.is_path:
        return str(desc.path_type or "path").upper()
    annotation = desc.annotation
    if annotation is int or (desc.is_ranged and "int" in str(desc.ranged_type_name)):
        return "N"
    name = param.name or "value"
    return _NAMES.get(name, name.upper())


def _no_type(ctx: Any) -> None:
    return None


def plain_metavars(command: Any) -> Any:
    """Give every parameter of a command tree a conventional label; returns the command.

    A parameter that names its own ``metavar`` keeps it.
    """
    for param in command.params:
        if param.metavar is None and isinstance(param, TyperArgument | TyperOption):
            param.metavar = _metavar(param)
    for param in command.params:
        if isinstance(param, TyperArgument):
            # An argument's label is its name already: no type column beside it.
            param.display_type_rich = _no_type  # type: ignore[method-assign]
    make_help = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = make_help(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    return command


def _version(distribution: str) -> str:
    if distribution == "orchlab":
        from orchlab import __version__  # the package's one source of its version

        return __version__
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "0+unknown"


def version_option(distribution: str, prog: str) -> Callable[[bool], None]:
    """A ``--version`` callback printing ``PROG VERSION`` from the installed metadata."""

    def show(value: bool) -> None:
        if value:
            typer.echo(f"{prog} {_version(distribution)}")
            raise typer.Exit(0)

    return show


EXIT_CODES = (
    "Exit codes: 0 success; 1 the work failed (a check, a run, an engine); "
    "2 a usage error (a bad option, path, spec or id), with one line saying what to fix."
)
"""The exit-code line both command lines print at the end of their top-level help."""


def run_app(app: typer.Typer, prog: str) -> None:
    """Build ``app``'s command tree with plain labels and run it as ``prog``."""
    command = plain_metavars(typer.main.get_command(app))
    command(prog_name=prog)


__all__ = ["EXIT_CODES", "plain_metavars", "run_app", "version_option"]
