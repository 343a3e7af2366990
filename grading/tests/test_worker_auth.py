"""labgrader.worker_auth and the claim check: what a row's signature binds, which keys are
accepted, and that a worker grades only the notebook the coordinator named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from labgrader.distributed import fetch_notebook, store_notebook
from labgrader.errors import NotebookError, WorkerKeyError
from labgrader.worker_auth import keyed_queue, load_key, new_key, sign_row, verify_row, write_key

KEY = bytes.fromhex(new_key())
ROW = {"learner": "ada", "digest": "d" * 64, "score": 3.0, "checks": []}


def test_a_signed_row_verifies_and_any_change_is_rejected() -> None:
    signed = sign_row(KEY, ROW, lab="01", digest="d" * 64)
    assert verify_row(KEY, signed, lab="01", digest="d" * 64, learner="ada") == (ROW, "")
    forged = {"row": {**ROW, "score": 100.0}, "signature": signed["signature"]}
    assert verify_row(KEY, forged, lab="01", digest="d" * 64, learner="ada") == (
        None,
        "the row's signature does not match (not signed with the workers' key)",
    )
    other_key = sign_row(bytes.fromhex(new_key()), ROW, lab="01", digest="d" * 64)
    assert verify_row(KEY, other_key, lab="01", digest="d" * 64, learner="ada")[0] is None
    # The same row signed for another lab or notebook does not count for this one.
    assert verify_row(KEY, signed, lab="02", digest="d" * 64, learner="ada")[0] is None
    assert verify_row(KEY, signed, lab="01", digest="e" * 64, learner="ada")[0] is None


def test_unsigned_or_misdirected_results_say_why() -> None:
    def why(result: object, learner: str = "ada") -> str:
        return verify_row(KEY, result, lab="01", digest="d" * 64, learner=learner)[1]

    assert why({"learner": "ada", "score": 3}) == "the result is not a signed row"
    assert why({"row": ROW}) == "the row is not signed"
    assert why(sign_row(KEY, ROW, lab="01", digest="d" * 64), learner="bob") == (
        "the row is for another submission"
    )


def test_keys_come_from_a_private_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "worker.key"
    write_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    key = load_key(path)
    assert len(key) == 32
    assert load_key(env={"LABGRADER_KEY_FILE": str(path)}) == key
    assert load_key(env={"LABGRADER_KEY": key.hex()}) == key
    with pytest.raises(WorkerKeyError, match="exists already"):
        write_key(path)


@pytest.mark.parametrize(
    ("text", "mode", "message"),
    [
        ("ab" * 32, 0o644, r"may be read by others \(mode 644\): chmod 600"),
        ("ab" * 8, 0o600, "holds a 8-byte key; at least 32 bytes"),
        ("not hex at all", 0o600, "does not hold a hex key: make one with `labgrader keygen"),
    ],
)
def test_a_weak_or_exposed_key_is_refused_with_what_to_do(
    tmp_path: Path, text: str, mode: int, message: str
) -> None:
    path = tmp_path / "worker.key"
    path.write_text(text)
    path.chmod(mode)
    with pytest.raises(WorkerKeyError, match=message):
        load_key(path)


def test_no_key_at_all_names_the_option() -> None:
    with pytest.raises(WorkerKeyError, match="pass --key-file FILE"):
        load_key(env={})


def test_resend_queues_are_named_from_the_key() -> None:
    assert keyed_queue(KEY, "q", 1) == keyed_queue(KEY, "q", 1)
    assert keyed_queue(KEY, "q", 1) != keyed_queue(KEY, "q", 2)
    assert keyed_queue(KEY, "q", 1) != keyed_queue(bytes.fromhex(new_key()), "q", 1)


def test_the_claim_check_hands_over_only_the_named_notebook(tmp_path: Path) -> None:
    data = b'{"cells": []}'
    ref = store_notebook(tmp_path, data)
    digest = hashlib.sha256(data).hexdigest()
    assert ref == f"{digest}.ipynb"
    assert fetch_notebook(tmp_path, ref, digest) == data
    (tmp_path / ref).write_bytes(b'{"cells": [1]}')  # changed in the store after sending
    with pytest.raises(NotebookError, match="is not the one the coordinator sent"):
        fetch_notebook(tmp_path, ref, digest)
    with pytest.raises(NotebookError, match="not a name in the notebook store"):
        fetch_notebook(tmp_path, "../secret.ipynb", digest)
    with pytest.raises(NotebookError, match="is not in the store"):
        fetch_notebook(tmp_path, f"{'0' * 64}.ipynb", "0" * 64)


def test_keygen_writes_a_private_key_once_and_a_worker_without_one_says_what_to_do(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from labgrader.cli import app

    runner = CliRunner()
    path = tmp_path / "worker.key"
    made = runner.invoke(app, ["keygen", str(path)])
    assert made.exit_code == 0 and "(mode 600)" in " ".join(made.output.split())
    assert len(load_key(path)) == 32
    again = runner.invoke(app, ["keygen", str(path)])
    assert again.exit_code != 0 and "exists already" in " ".join(again.output.split())
    worker = runner.invoke(app, ["worker", "--lab", "01"], env={"LABGRADER_KEY_FILE": ""})
    assert worker.exit_code != 0 and "pass --key-file" in " ".join(worker.output.split())
