"""Testing helpers for pipelines built on orchlab: shared engine fixtures for pytest.

``pytest_plugins = ["orchlab.testing.fixtures"]`` in a ``conftest.py`` gives a test session
``temporal_address``, ``temporal_client``, ``temporal_time_skipping``, ``prefect_api_url``
and ``task_queue``. They need pytest, pytest-asyncio and Temporal's time-skipping test
server: ``pip install "orchlab[grader]"`` (or ``[dev]``).

:mod:`orchlab.testing.history` reads how a workflow called its activities (timeouts, retry
policies) from the history the server recorded, for tests that assert that configuration.
"""

__all__: list[str] = []
