"""Checks for exercise ``blue-green``: ``BlueGreenRouter``.

Contract: two slots, none live; deploy to the idle slot (blue while nothing is live) without
changing the live one; switch to the idle slot (RuntimeError if empty); rollback to the other
slot (RuntimeError if nothing is live or it is empty); failures change nothing.
"""

import pytest

from labgrader.checks import assert_equal, strictly_equal


def _state(router):
    return router.slots, router.live_version


@pytest.mark.check(exercise="blue-green", points=4)
def test_deploy_goes_to_the_idle_slot(nb):
    router = nb.BlueGreenRouter()
    assert_equal(
        _state(router),
        ({"blue": None, "green": None}, None),
        what="a new router's (slots, live_version)",
        hint="Two empty slots and nothing live.",
    )
    first, switched = router.deploy("1.7"), router.switch()
    assert strictly_equal((first, switched, router.live_version), ("blue", "blue", "1.7")), (
        f"deploy('1.7') then switch() should use 'blue' and make 1.7 live; got {first!r}, "
        f"{switched!r}, live {router.live_version!r}"
    )
    second = router.deploy("1.8")
    assert strictly_equal((second, router.live_version), ("green", "1.7")), (
        f"deploy('1.8') while blue is live goes to 'green' and leaves 1.7 serving; got slot "
        f"{second!r}, live {router.live_version!r}. Likely cause: deploying to the live slot"
    )
    assert_equal(router.slots, {"blue": "1.7", "green": "1.8"}, what="router.slots")


@pytest.mark.check(exercise="blue-green", points=4)
def test_switch_and_instant_rollback(nb):
    router = nb.BlueGreenRouter()
    router.deploy("1.7")
    router.switch()
    router.deploy("1.8")
    assert strictly_equal((router.switch(), router.live_version), ("green", "1.8")), (
        f"switch() after deploying 1.8 to green makes green live; live is {router.live_version!r}"
    )
    assert strictly_equal((router.rollback(), router.live_version), ("blue", "1.7")), (
        f"rollback() returns to blue, where 1.7 is still warm; live is {router.live_version!r}"
    )
    assert strictly_equal(router.slots, {"blue": "1.7", "green": "1.8"}), (
        f"a rollback moves traffic only, it removes no version; slots {router.slots}"
    )


@pytest.mark.check(exercise="blue-green", points=4, hidden=True)
def test_hidden_refusals_change_nothing(nb):
    router = nb.BlueGreenRouter()
    for action in (router.switch, router.rollback):
        with pytest.raises(RuntimeError):
            action()
    assert_equal(
        _state(router),
        ({"blue": None, "green": None}, None),
        what="(slots, live_version) after a refused switch and rollback",
        hint="A refused action must change nothing.",
    )
    router.deploy("2.0")
    router.switch()
    with pytest.raises(RuntimeError):
        router.rollback()  # green is empty: no previous version
    with pytest.raises(RuntimeError):
        router.switch()  # the idle slot is empty
    assert_equal(
        _state(router),
        ({"blue": "2.0", "green": None}, "2.0"),
        what="(slots, live_version) after refused actions",
        hint="Blue must still serve 2.0.",
    )


@pytest.mark.check(exercise="blue-green", points=3, hidden=True)
def test_hidden_long_sequence(nb):
    router = nb.BlueGreenRouter()
    assert_equal(router.deploy("a"), "blue", what="deploy('a') on a new router")
    assert_equal(
        router.deploy("b"),
        "blue",
        what="deploy('b')",
        hint="With nothing live, every deploy goes to blue.",
    )
    router.switch()
    router.deploy("c")
    router.switch()  # green: c
    router.deploy("d")  # blue: d replaces b
    assert_equal(
        _state(router),
        ({"blue": "d", "green": "c"}, "c"),
        what="(slots, live_version)",
        hint="Expected blue 'd', green 'c' live.",
    )
    router.switch()
    router.rollback()
    router.rollback()
    assert_equal(router.live_version, "d", what="live_version after two rollbacks")
