"""The reliability tests' helper modules (workflows, the crash app, replay handlers) are
imported by name here and by ``python -m`` in worker processes."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
