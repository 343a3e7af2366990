"""Checks for exercise ``iac-gate``: ``iac_violations(spec)``.

Contract: env in dev/test/staging/prod; image ``name:tag`` with a tag after the last ``:`` that
is non-empty, not ``latest`` and has no ``/``; replicas an int >= 1 (>= 2 in prod);
resources.cpu and resources.memory present and non-empty. Sorted field names, each once.
"""

import pytest

from labgrader.checks import assert_equal

GOOD = {
    "env": "prod",
    "image": "fraud:1.8.0",
    "replicas": 4,
    "resources": {"cpu": "2", "memory": "4Gi"},
}


def _assert_violations(nb, spec, expected, cause):
    assert_equal(
        nb.iac_violations(spec),
        expected,
        what=f"iac_violations({spec!r})",
        hint=f"Likely cause: {cause}.",
    )


@pytest.mark.check(exercise="iac-gate", points=3)
def test_valid_spec_passes(nb):
    _assert_violations(nb, GOOD, [], "a rule stricter than the contract")
    _assert_violations(
        nb, {**GOOD, "image": "registry:5000/fraud:1.8.0"}, [], "the tag is not after the last ':'"
    )


@pytest.mark.check(exercise="iac-gate", points=3)
def test_worked_example(nb):
    spec = {"env": "prod", "image": "fraud:latest", "replicas": 1, "resources": {"cpu": "2"}}
    _assert_violations(
        nb,
        spec,
        ["image", "replicas", "resources.memory"],
        "'latest' accepted as a tag, or prod's minimum of 2 replicas not applied",
    )


@pytest.mark.check(exercise="iac-gate", points=2, hidden=True)
def test_hidden_unpinned_images_and_envs(nb):
    for image in ("fraud", "fraud:", "registry:5000/fraud", 42):
        _assert_violations(nb, {**GOOD, "image": image}, ["image"], f"image {image!r} accepted")
    _assert_violations(nb, {**GOOD, "env": "qa"}, ["env"], "an unknown env accepted")
    spec = {k: v for k, v in GOOD.items() if k != "env"}
    _assert_violations(nb, spec, ["env"], "a missing env accepted")


@pytest.mark.check(exercise="iac-gate", points=2, hidden=True)
def test_hidden_replicas_and_resources(nb):
    _assert_violations(
        nb, {**GOOD, "env": "dev", "replicas": 1}, [], "2 replicas required outside prod"
    )
    _assert_violations(
        nb, {**GOOD, "replicas": 0, "env": "test"}, ["replicas"], "0 replicas accepted"
    )
    _assert_violations(nb, {**GOOD, "replicas": "4"}, ["replicas"], "a string accepted as replicas")
    spec = {k: v for k, v in GOOD.items() if k != "resources"}
    _assert_violations(
        nb, spec, ["resources.cpu", "resources.memory"], "a missing resources mapping accepted"
    )
    _assert_violations(
        nb,
        {
            "env": "prod",
            "image": "fraud:1.0",
            "replicas": 1,
            "resources": {"cpu": "", "memory": "1Gi"},
        },
        ["replicas", "resources.cpu"],
        "an empty cpu accepted, or prod's minimum replicas not applied",
    )
