"""Lab 02's checks run against the notebook in a learner process of its own: ``nb`` is a
proxy, values cross by value (see ``labgrader.harness``)."""

LABGRADER_PROCESS = True
