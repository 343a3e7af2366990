"""Overrides, rubric columns, regrades, LMS exports and the batch report, on a real batch."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import GOOD, LAB, WRONG, write_notebook

from labgrader.batch import grade_batch
from labgrader.class_report import write_report
from labgrader.exports import Target, export
from labgrader.gradebook import REVIEW_PREFIX, Status
from labgrader.overrides import OverrideError, load_overrides, record_override
from labgrader.publish import RECORDS, BatchOutputError, Publication
from labgrader.regrade import regrade
from labgrader.rubric import RubricError, load_rubric

RUBRIC = """
items:
  - id: design-walkthrough
    points: 4
    description: explains the design
"""
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {r["learner"]: r for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A batch of two learners graded once for the module: ada right, bob wrong on add."""
    from conftest import write_course

    root = write_course(tmp_path_factory.mktemp("course") / "course")
    (root / "labs").mkdir()
    (root / "grading" / "checks" / LAB / "rubric.yaml").write_text(RUBRIC, encoding="utf-8")
    subs = root / "subs"
    write_notebook(subs / "ada.ipynb", GOOD)
    write_notebook(subs / "bob.ipynb", WRONG)
    out = root / "graded"
    grade_batch(
        lab=LAB,
        submissions=[subs],
        out=out,
        jobs=2,
        checks_dir=root / "grading" / "checks" / LAB,
    )
    return out


def _copy(out: Path, tmp_path: Path) -> Path:
    """A private copy of the module's batch output and its checks, for a test to change."""
    target = tmp_path / "graded"
    shutil.copytree(out, target)
    data = json.loads((target / ".batch.json").read_text(encoding="utf-8"))
    checks = shutil.copytree(data["checks"], tmp_path / "checks" / LAB)
    data["checks"] = str(checks)
    (target / ".batch.json").write_text(json.dumps(data), encoding="utf-8")
    return target


def test_rubric_items_are_empty_manual_columns_and_count_in_the_maximum(graded: Path) -> None:
    rows = _csv(graded / "gradebook.csv")
    header = (graded / "gradebook.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == (
        "learner,status,score,max_score,add,scale,design-walkthrough,late_days,review,message"
    )
    assert rows["ada"]["design-walkthrough"] == "" and rows["ada"]["score"] == "5"
    assert rows["ada"]["max_score"] == "9"  # 5 automatic + 4 rubric
    assert rows["bob"]["add"] == "0" and rows["bob"]["score"] == "2"
    book = json.loads((graded / "gradebook.json").read_text(encoding="utf-8"))
    assert book["manual"] == ["design-walkthrough"]
    assert book["rows"][0]["manual"] == {"design-walkthrough": None}
    assert (graded / RECORDS / "bob.ipynb").is_file()  # the submission as graded, kept


def test_an_override_is_recorded_applied_everywhere_and_kept_by_a_regrade(
    graded: Path, tmp_path: Path
) -> None:
    out = _copy(graded, tmp_path)
    pub = Publication.load(out)
    decision = record_override(
        out,
        pub.record("bob"),
        "add",
        3,
        reason="a valid answer",
        rubric=pub.rubric,
        by="prof",
        now=NOW,
    )
    assert (decision.replaces, decision.by, decision.at) == (
        0.0,
        "prof",
        "2026-12-03T09:00:00+00:00",
    )
    record_override(
        out,
        pub.record("bob"),
        "design-walkthrough",
        3.5,
        reason="clear",
        rubric=pub.rubric,
        by="prof",
        now=NOW,
    )
    pub.republish(learners=["bob"])
    bob = _csv(out / "gradebook.csv")["bob"]
    assert (bob["add"], bob["design-walkthrough"], bob["score"]) == ("3", "3.5", "8.5")
    assert _csv(out / "gradebook.csv")["ada"]["score"] == "5"  # nobody else changed
    page = (out / "bob" / "feedback.html").read_text(encoding="utf-8")
    assert "instructor&#39;s decision on add: 3 point(s) (automatic 0), by prof" in page
    assert json.loads((out / "bob" / "results.json").read_text(encoding="utf-8"))["score"] == 8.5
    record = json.loads((out / RECORDS / "bob.json").read_text(encoding="utf-8"))
    assert record["score"] == 2  # the grader's record keeps the automatic result

    outcomes = regrade(out, ["bob"], now=NOW)
    assert [(o.learner, o.before, o.after, o.status) for o in outcomes] == [
        ("bob", 2.0, 2.0, Status.GRADED)
    ]
    bob = _csv(out / "gradebook.csv")["bob"]
    assert (bob["add"], bob["score"], bob["review"]) == ("3", "8.5", "0")
    assert len(load_overrides(out)) == 2


def test_a_regrade_that_changes_the_overridden_points_flags_the_row(
    graded: Path, tmp_path: Path
) -> None:
    out = _copy(graded, tmp_path)
    pub = Publication.load(out)
    record_override(out, pub.record("bob"), "add", 3, reason="ok", rubric=pub.rubric, now=NOW)
    (out / RECORDS / "bob.ipynb").write_bytes((out / RECORDS / "ada.ipynb").read_bytes())
    regrade(out, ["bob"], exercise="add", now=NOW)
    shown = pub.exported(pub.record("bob"))
    assert shown.exercises["add"] == 3.0  # the decision still counts
    assert any(
        n.startswith(REVIEW_PREFIX) and "automatic points of add changed from 0 to 3" in n
        for n in shown.notes
    )
    assert _csv(out / "gradebook.csv")["bob"]["review"] == "1"


def test_a_regrade_of_one_exercise_changes_only_that_exercise(graded: Path, tmp_path: Path) -> None:
    out = _copy(graded, tmp_path)
    checks = Publication.load(out).checks
    original = (checks / "test_fixture.py").read_text(encoding="utf-8")
    # The checks changed after the batch: scale's visible check and add's now fail everybody.
    changed = original.replace("== [10, 20]", "== [0]").replace("== 3, f", "== 4, f")
    (checks / "test_fixture.py").write_text(changed, encoding="utf-8")
    regrade(out, ["ada"], exercise="scale", now=NOW)
    ada = _csv(out / "gradebook.csv")["ada"]
    assert (ada["add"], ada["scale"], ada["score"]) == ("3", "1", "4")
    assert _csv(out / "gradebook.csv")["bob"]["score"] == "2"
    assert "regraded on 2026-12-03 (exercise scale)" in Publication.load(out).record("ada").notes


def test_override_errors_say_what_is_wrong(graded: Path, tmp_path: Path) -> None:
    out = _copy(graded, tmp_path)
    pub = Publication.load(out)
    with pytest.raises(OverrideError, match=r"'dag' is no exercise or rubric item .*add, "):
        record_override(out, pub.record("bob"), "dag", 1, reason="x", rubric=pub.rubric)
    with pytest.raises(OverrideError, match="add is worth 0 to 3 points, not 7"):
        record_override(out, pub.record("bob"), "add", 7, reason="x", rubric=pub.rubric)
    with pytest.raises(OverrideError, match="give a --reason"):
        record_override(out, pub.record("bob"), "add", 1, reason=" ", rubric=pub.rubric)
    with pytest.raises(BatchOutputError, match="no graded learner 'zed'"):
        pub.record("zed")
    assert load_overrides(out) == []
    (out / RECORDS / "bob.ipynb").unlink()
    with pytest.raises(BatchOutputError, match="kept no copy of bob's submission"):
        regrade(out, ["bob"])
    with pytest.raises(BatchOutputError, match="holds no batch output"):
        Publication.load(tmp_path)


def test_a_bad_rubric_names_the_item(tmp_path: Path) -> None:
    (tmp_path / "rubric.yaml").write_text("items:\n  - id: Walk Through\n    points: 2\n")
    with pytest.raises(RubricError, match="item 1 needs an id of lower-case letters"):
        load_rubric(tmp_path)
    (tmp_path / "rubric.yaml").write_text("items:\n  - id: walk\n    points: 0\n")
    with pytest.raises(RubricError, match="item 'walk' needs positive points, not 0"):
        load_rubric(tmp_path)


def test_lms_exports_and_bundles_round_trip(graded: Path, tmp_path: Path) -> None:
    out = _copy(graded, tmp_path)
    pub = Publication.load(out)
    record_override(out, pub.record("bob"), "add", 1, reason="partial", rubric=pub.rubric)
    pub.republish(learners=["bob"])
    (canvas,) = export(out, Target.CANVAS, assignment="Lab 90 (77)")
    lines = list(csv.reader(io.StringIO(canvas.read_text(encoding="utf-8"))))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 90 (77)"]
    assert lines[1] == ["Points Possible", "", "", "", "", "9"]
    assert lines[2:] == [["ada", "", "", "ada", "", "5"], ["bob", "", "", "bob", "", "3"]]
    (moodle,) = export(out, Target.MOODLE)
    rows = list(csv.DictReader(io.StringIO(moodle.read_text(encoding="utf-8"))))
    assert [r["Username"] for r in rows] == ["ada", "bob"]
    assert rows[1][f"Lab {LAB}"] == "3"
    assert "instructor's decision on add: 1 point(s)" in rows[1][f"Lab {LAB} (feedback)"]
    bundles = export(out, Target.BUNDLES)
    assert [p.name for p in bundles] == ["ada.zip", "bob.zip"]
    with zipfile.ZipFile(bundles[1]) as archive:
        assert sorted(archive.namelist()) == [
            "bob/feedback.html",
            "bob/grade.json",
            "bob/results.json",
        ]
        assert json.loads(archive.read("bob/results.json"))["score"] == 3


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: dict[str, str] = {}
        self.links: list[str] = []
        self._figure = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure":
            self._figure = a.get("id") or ""
        elif tag == "img":
            self.images[self._figure] = a.get("src") or ""
        elif tag == "a":
            self.links.append(a.get("href") or "")


def test_the_report_embeds_every_figure_and_links_each_feedback_page(
    graded: Path, tmp_path: Path
) -> None:
    out = _copy(graded, tmp_path)
    path = write_report(out)
    page = _Page()
    text = path.read_text(encoding="utf-8")
    page.feed(text)
    assert sorted(page.images) == ["fig-checks", "fig-durations", "fig-scores", "fig-statuses"]
    for src in page.images.values():
        prefix = "data:image/svg+xml;base64,"
        assert src.startswith(prefix)
        svg = base64.b64decode(src[len(prefix) :]).decode("utf-8")
        assert "<svg" in svg and "</svg>" in svg
    assert page.links == ["ada/feedback.html", "bob/feedback.html"]
    # The hardest check first: bob fails add's two checks, everyone passes scale's.
    rates = re.findall(r"<tr><td>(\w+)</td><td>(test_\w+)</td><td class=\"num\">(\d) / (\d)", text)
    assert rates[0][0] == "add" and rates[0][2:] == ("1", "2")
    assert rates[-1][0] == "scale" and rates[-1][2:] == ("2", "2")
    assert "http" not in text.replace("http://www.w3.org", "")  # nothing fetched from a network
