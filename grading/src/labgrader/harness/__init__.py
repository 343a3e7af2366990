"""The grading harness: the learner's process, the checks' process and the channel between.

Check authors use :func:`worker` (run the notebook's workflows on a worker of the learner's
process), :func:`replay` (replay a history on the notebook's workflows there) and, through
the ``nb`` fixture, a :class:`NotebookProxy`.
"""

from labgrader.harness.engine import replay, worker
from labgrader.harness.proxy import NotebookNameError, NotebookProxy, RemoteError, RemoteObject

__all__ = ["NotebookNameError", "NotebookProxy", "RemoteError", "RemoteObject", "replay", "worker"]
