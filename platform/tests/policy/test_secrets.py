"""Secrets from the environment, files and memory, and redaction in logs (logging and
structlog), nested data and notebook display."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import structlog

from orchlab.policy import (
    MASK,
    REDACTOR,
    ChainSecrets,
    EnvSecrets,
    FileSecrets,
    MemorySecrets,
    RedactingFilter,
    Redactor,
    SecretNotFound,
    get_secret,
    install_display_redaction,
)


def test_stores_and_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_DB_PASSWORD", "env-value-123")
    (tmp_path / "api_token").write_text("file-value-456\n")
    chain = ChainSecrets(EnvSecrets(prefix="APP_"), FileSecrets(tmp_path))
    assert chain.get("DB_PASSWORD") == "env-value-123"
    assert chain.get("api_token") == "file-value-456"
    with pytest.raises(SecretNotFound, match=r"not found in any store") as info:
        chain.get("missing")
    assert "APP_missing is unset" in str(info.value) and "no file" in str(info.value)
    with pytest.raises(ValueError, match=r"invalid secret name '../x'"):
        FileSecrets(tmp_path).get("../x")
    assert REDACTOR.text("x file-value-456 y") == f"x {MASK} y"


def test_secret_never_prints_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "tok-abcdef")
    secret = get_secret("TOKEN")
    assert secret.reveal() == "tok-abcdef"
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}"):
        assert "tok-abcdef" not in shown and MASK in shown


def test_redactor_masks_values_and_secret_keys() -> None:
    r = Redactor(["s3cr3t-value", "s3cr3t"])
    data = {"msg": "got s3cr3t-value", "password": "hunter22", "n": 1, "items": ["s3cr3t", 2]}
    assert r.redact(data) == {"msg": f"got {MASK}", "password": MASK, "n": 1, "items": [MASK, 2]}
    assert r.text("abc") == "abc"


def test_logging_filter_masks_message_args_and_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(Redactor(["pw-999888"])))
    logger = logging.getLogger("orchlab.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting with %s", "pw-999888")
        try:
            raise RuntimeError("bad password pw-999888")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "pw-999888" not in out and "RuntimeError: bad password " + MASK in out


def test_structlog_processor() -> None:
    out = io.StringIO()
    log = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[Redactor(["sl-secret-1"]), structlog.processors.JSONRenderer()],
    )
    log.info("login", token="sl-secret-1", user="ann", note="used sl-secret-1")
    assert "sl-secret-1" not in out.getvalue() and '"user": "ann"' in out.getvalue()


def test_notebook_display_is_masked() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert install_display_redaction(Redactor(["nb-secret-77"]))
        data, _ = shell.display_formatter.format({"k": "nb-secret-77"})
        assert "nb-secret-77" not in data["text/plain"] and MASK in data["text/plain"]
    finally:
        InteractiveShell.clear_instance()


def test_memory_store() -> None:
    store = MemorySecrets()
    store.set("k", "memory-val-1")
    assert store.get("k") == "memory-val-1"
    with pytest.raises(SecretNotFound, match=r"'nope' not found in the in-memory store"):
        store.get("nope")
