"""Engines are started once per test session and shared; every test uses unique names."""

pytest_plugins = ["orchlab.testing.fixtures"]
