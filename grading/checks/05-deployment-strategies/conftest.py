"""Lab 05's checks run against the notebook in a learner process of its own: ``nb`` is a
proxy, values cross by value, and the notebook's workflows run on a worker in that process
(see ``labgrader.harness``)."""

LABGRADER_PROCESS = True
