import pytest

from orchlab.config import Profile, get_settings
from orchlab.errors import ConfigError


def test_env_prefix_and_engine_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHLAB_PROFILE", "test")
    monkeypatch.setenv("ORCHLAB_TEMPORAL_PORT", "17000")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
    s = get_settings()
    assert s.profile is Profile.TEST
    assert s.temporal_port == 17000
    assert s.temporal_address == "temporal.example:7233"


def test_bad_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHLAB_PREFECT_PORT", "99999")
    with pytest.raises(ConfigError, match="prefect_port"):
        get_settings()


def test_prod_requires_external_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(ConfigError, match="TEMPORAL_ADDRESS"):
        get_settings(profile="prod")
    assert get_settings(profile="prod", temporal_address="t:7233").profile is Profile.PROD


def test_registry_defaults_under_state_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert get_settings(state_dir=tmp_path).model_registry_dir == tmp_path / "registry"
