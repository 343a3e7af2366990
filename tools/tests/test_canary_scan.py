from pathlib import Path

import pytest

from secret_scan import main, scan

SECRET = "sk-canary-0123456789abcdef"


def test_finds_the_secret_anywhere_even_across_chunks(tmp_path: Path) -> None:
    (tmp_path / "clean.log").write_text("nothing here\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    big = b"x" * ((1 << 20) - 5) + SECRET.encode() + b"\n"  # straddles the 1 MiB chunk edge
    (nested / "big.bin").write_bytes(big)
    (tmp_path / "wide.txt").write_bytes(SECRET.encode("utf-16-le"))
    scanned, leaks = scan([tmp_path], SECRET)
    assert scanned == 3
    assert sorted(p.name for p in leaks) == ["big.bin", "wide.txt"]


def test_cli_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out.log").write_text("ok\n")
    monkeypatch.delenv("CANARY", raising=False)
    assert main(["--env", "CANARY", str(tmp_path)]) == 2
    monkeypatch.setenv("CANARY", SECRET)
    assert main(["--env", "CANARY", str(tmp_path)]) == 0
    assert "appears in none" in capsys.readouterr().out
    (tmp_path / "leak.log").write_text(f"token={SECRET}\n")
    assert main(["--env", "CANARY", str(tmp_path)]) == 1
    assert "leak.log" in capsys.readouterr().out
