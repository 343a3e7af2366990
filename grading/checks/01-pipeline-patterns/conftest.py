"""Lab 01's checks run against the notebook in a learner process of its own: ``nb`` is a
proxy, values cross by value, and the notebook's workflows and flows run in that process (see
``labgrader.harness``)."""

LABGRADER_PROCESS = True
