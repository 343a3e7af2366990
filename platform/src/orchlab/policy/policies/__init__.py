"""Rego policies shipped with orchlab, each with a ``<name>_cases.yaml`` of unit tests."""
