"""Security evidence: a secret set in the environment appears in no log, audit record,
export, encrypted payload or console output produced while orchlab handles it."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from typer.testing import CliRunner

import orchlab.cli.audit  # noqa: F401
from orchlab.cli import app
from orchlab.deploy import BlueGreen, ScriptedMetrics, run_canary
from orchlab.policy import (
    AccessGuard,
    AuditLog,
    EncryptionCodec,
    EnvSecrets,
    InputRejected,
    KeyRing,
    Principal,
    StrictInput,
    WorkflowRule,
    gate,
    get_secret,
    install_log_redaction,
    new_key,
    validate_input,
)


class Job(StrictInput):
    name: str


def test_an_environment_secret_leaks_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    value = f"sk-{secrets.token_hex(16)}"
    monkeypatch.setenv("ORCHLAB_SECRET_DB_PASSWORD", value)
    secret = get_secret("DB_PASSWORD", EnvSecrets(prefix="ORCHLAB_SECRET_"))

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    flt = install_log_redaction()
    try:
        log = logging.getLogger("orchlab.deploy.canary")
        log.warning("connecting to db with %s", secret.reveal())
        log.info("secret object %s", secret)
        logging.getLogger("temporalio.worker").error("failed: password=%s", secret.reveal())
        try:
            raise ConnectionError(f"auth failed for {secret.reveal()}")
        except ConnectionError:
            logging.getLogger("orchlab").exception("db down")

        audit = AuditLog(tmp_path / "audit.jsonl")
        # A value that a policy echoes into its reasons, and then into the audit trail.
        gate(
            "promotion",
            {"source": "dev", "target": secret.reveal(), "requested_by": "ci"},
            audit=audit,
            actor="ci",
            subject="wine v1",
        )
        audit.append(
            "config.loaded",
            actor="ci",
            subject="db",
            data={
                "password": value,
                "dsn": f"postgres://ml:{value}@db/ml",
                "nested": [{"token": value}],
            },
        )
        guard = AccessGuard([WorkflowRule("Train")], audit=audit)
        guard.decide(Principal(value, ("engineer",), "internal"), "start", "Train")
        BlueGreen("api", audit=audit, actor="ci").deploy(f"v1-{value}")
        run_canary("v1", "v2", ScriptedMetrics([0.01]), threshold=0.5, audit=audit)

        with pytest.raises(InputRejected) as rejected:
            validate_input(Job, {"name": "x", value: 1})
        logging.getLogger("orchlab.policy").warning("rejected: %s", rejected.value)

        codec = EncryptionCodec(KeyRing({"k1": new_key()}, active="k1"))
        [sealed] = asyncio.run(codec.encode([Payload(data=value.encode())]))
        result = CliRunner().invoke(
            app,
            [
                "audit",
                "export",
                str(audit.path),
                "-o",
                str(tmp_path / "ce.jsonl"),
                "--format",
                "cloudevents",
            ],
        )
        assert result.exit_code == 0, result.output
        print(f"done with {secret}")
    finally:
        root.removeHandler(handler)
        for name in ("orchlab", "temporalio", "prefect", ""):
            logging.getLogger(name).removeFilter(flt)
            for h in logging.getLogger(name).handlers:
                h.removeFilter(flt)

    captured = capfd.readouterr()
    outputs = {
        "logs": stream.getvalue(),
        "stdout": captured.out,
        "stderr": captured.err,
        "cli": result.output,
        "payload": sealed.SerializeToString().decode("latin-1"),
        **{f.name: f.read_text() for f in tmp_path.rglob("*") if f.is_file()},
    }
    assert "audit.jsonl" in outputs and "ce.jsonl" in outputs
    assert "connecting to db with **********" in outputs["logs"]
    leaks = [name for name, text in outputs.items() if value in text]
    assert leaks == [], f"the secret leaked into: {leaks}"
    assert AuditLog(tmp_path / "audit.jsonl").verify().ok
