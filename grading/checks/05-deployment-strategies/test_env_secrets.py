"""Checks for exercise ``env-secrets``: ``resolve_secrets(config, env, store)``.

Contract: every ``secret://<env>/<name>`` string at any depth replaced by
``store["<env>/<name>"]`` in a new dict; another environment's secret: PermissionError naming
the dotted key and both environments; missing: KeyError; never a secret value in a message.
"""

import copy

import pytest

from labgrader.checks import assert_equal, text

STORE = {"prod/db-password": "s3cr3t", "dev/db-password": "devpass", "prod/api-token": "tok-9"}


@pytest.mark.check(exercise="env-secrets", points=3)
def test_resolves_nested_references(nb):
    config = {"db": {"user": "scorer", "password": "secret://prod/db-password"}, "replicas": 4}
    before = copy.deepcopy(config)
    got = nb.resolve_secrets(config, "prod", STORE)
    expected = {"db": {"user": "scorer", "password": "s3cr3t"}, "replicas": 4}
    assert_equal(
        got,
        expected,
        what=f"resolve_secrets({config!r}, 'prod', store)",
        hint="Likely cause: nested dicts not walked, or the store read with the wrong key "
        "('<env>/<name>').",
    )
    assert_equal(
        config, before, what="the input config after resolve_secrets", hint="Build a new dict."
    )


@pytest.mark.check(exercise="env-secrets", points=3)
def test_other_environment_refused(nb):
    config = {"db": {"password": "secret://prod/db-password"}}
    with pytest.raises(PermissionError) as info:
        nb.resolve_secrets(config, "dev", STORE)
    message = text(info.value, what="the PermissionError's message")
    for part in ("db.password", "prod", "dev"):
        assert part in message, (
            f"a dev deployment reading a prod secret should raise PermissionError naming the "
            f"key 'db.password' and both environments; got {message!r}"
        )
    assert "s3cr3t" not in message, f"the error message leaks the secret's value: {message!r}"


@pytest.mark.check(exercise="env-secrets", points=2, hidden=True)
def test_hidden_missing_secret_and_deep_nesting(nb):
    with pytest.raises(KeyError) as info:
        nb.resolve_secrets({"x": {"y": "secret://dev/missing"}}, "dev", STORE)
    assert "secret://dev/missing" in text(info.value, what="the KeyError's message"), (
        f"a missing secret should raise KeyError naming the reference; got {info.value!r}"
    )
    config = {"a": {"b": {"c": "secret://dev/db-password", "d": ["secret://x"]}}, "e": None}
    got = nb.resolve_secrets(config, "dev", STORE)
    expected = {"a": {"b": {"c": "devpass", "d": ["secret://x"]}}, "e": None}
    assert_equal(
        got,
        expected,
        what="resolve_secrets of a deeply nested config",
        hint="Lists are values, kept as they are.",
    )


@pytest.mark.check(exercise="env-secrets", points=2, hidden=True)
def test_hidden_refused_before_reading_the_store(nb):
    class Store(dict):
        def __getitem__(self, key):
            raise AssertionError(f"the store was read ({key!r}) for a refused reference")

        def __contains__(self, key):
            raise AssertionError(f"the store was read ({key!r}) for a refused reference")

    with pytest.raises(PermissionError) as info:
        nb.resolve_secrets({"partner": {"token": "secret://prod/api-token"}}, "staging", Store())
    message = text(info.value, what="the PermissionError's message")
    assert "partner.token" in message and "staging" in message, (
        f"expected a PermissionError naming 'partner.token' and 'staging', got {message!r}"
    )
