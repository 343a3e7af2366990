"""``python -m orchlab.cli``: the same as the ``orchlab`` command."""

from orchlab.cli import main

main()
