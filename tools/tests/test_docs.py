"""tools/docs_lint.py and tools/docs_reference.py: docs that render as written, and
reference pages that match the code."""

from __future__ import annotations

from pathlib import Path

import docs_lint
import docs_reference


def _lint(tmp_path: Path, text: str) -> list[str]:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    (tmp_path / "there.md").write_text("# there\n", encoding="utf-8")
    return [line.split(": ", 1)[1] for line in docs_lint.problems(page, root=tmp_path)]


def test_a_table_split_by_a_paragraph_is_found(tmp_path: Path) -> None:
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n\nA paragraph.\n| 3 | 4 |\n"
    assert _lint(tmp_path, text) == [
        "a table row outside a table (a blank line or a paragraph splits the table above it?)"
    ]


def test_a_row_with_another_number_of_cells_is_found(tmp_path: Path) -> None:
    text = "| a | b |\n|---|---|\n| `x|y` | 2 |\n| `x\\|y` | 2 |\n"
    assert _lint(tmp_path, text) == [
        "3 cells where the header has 2 (an unescaped | inside a cell?)"
    ]


def test_a_link_to_no_file_is_found_and_others_pass(tmp_path: Path) -> None:
    text = "[a](there.md#part) [b](https://example.org) [c](#top) [d](gone.md) ![e](img.png)\n"
    assert _lint(tmp_path, text) == [
        "the link 'gone.md' leads to no file",
        "the link 'img.png' leads to no file",
    ]


def test_the_course_docs_pass() -> None:
    assert docs_lint.main([]) == 0


def test_the_reference_pages_match_the_code_and_cover_every_command() -> None:
    assert docs_reference.main(["--check"]) == 0
    page = docs_reference.cli_page()
    for command in ("orchlab run", "orchlab dlq replay", "labgrader grade", "labgrader override"):
        assert f"### `{command}`" in page
    assert "| `--release` | Show hidden checks' results in feedback pages. |  |" in page
    settings = docs_reference.settings_page()
    assert "| `prefect_api_url` | `PREFECT_API_URL`, `ORCHLAB_PREFECT_API_URL` |  |" in settings
