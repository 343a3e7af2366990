"""``python -m labgrader``: the same as the ``labgrader`` command."""

from labgrader.cli import main

main()
