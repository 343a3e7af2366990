"""Every setting, read in one place, takes effect where it is used."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.service import RPCError

from orchlab.config import Profile, get_settings
from orchlab.errors import ConfigError, ServiceError
from orchlab.runtime import (
    Stack,
    connect_temporal,
    ensure_prefect,
    ensure_temporal,
    find_state_dir,
    prefect_api_url,
    temporal_address,
    temporal_connect_options,
    use_prefect,
)

_ENGINE_VARS = (
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_PROFILE",
    "TEMPORAL_CONFIG_FILE",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS",
    "TEMPORAL_UI_URL",
    "PREFECT_API_URL",
    "PREFECT_API_KEY",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No engine or orchlab variable from the suite's environment; run in an empty folder."""
    for var in _ENGINE_VARS:
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith("ORCHLAB_")]:
        monkeypatch.delenv(var)
    # No TOML profile from the home folder either: an empty configuration file.
    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "empty.toml"))
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_orchlab_variables_and_engine_variables(env: pytest.MonkeyPatch) -> None:
    env.setenv("ORCHLAB_PROFILE", "test")
    env.setenv("ORCHLAB_TEMPORAL_PORT", "17000")
    env.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
    s = get_settings()
    assert s.profile is Profile.TEST
    assert s.temporal_port == 17000
    assert s.temporal_connect_config()["target_host"] == "temporal.example:7233"


def test_bad_value_names_the_field(env: pytest.MonkeyPatch) -> None:
    env.setenv("ORCHLAB_PREFECT_PORT", "99999")
    with pytest.raises(ConfigError, match="prefect_port"):
        get_settings()


# --- profiles ---------------------------------------------------------------------------


def test_test_profile_keeps_its_state_apart_from_a_running_lab(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".state").mkdir()
    (tmp_path / ".state" / "services.json").write_text("{}")  # a learner's lab, say
    assert find_state_dir() == tmp_path / ".state"
    env.setenv("ORCHLAB_PROFILE", "test")
    assert find_state_dir() == tmp_path / ".state" / "test"
    assert get_settings().model_registry_dir == Path(".state/test/registry")


def test_an_explicit_state_dir_beats_the_profile(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("ORCHLAB_PROFILE", "test")
    env.setenv("ORCHLAB_STATE_DIR", "elsewhere")
    s = get_settings()
    assert s.state_dir == Path("elsewhere") and s.state_dir_is_explicit
    # Taken as given, not looked for in parent folders.
    assert find_state_dir() == tmp_path / "elsewhere"


def test_prod_requires_an_external_engine(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="profile 'prod' needs an external engine"):
        get_settings(profile="prod")
    assert get_settings(profile="prod", temporal_address="t:7233").profile is Profile.PROD
    env.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")  # the SDK's variable counts too
    assert get_settings(profile="prod").profile is Profile.PROD


def test_prod_never_starts_an_embedded_engine(env: pytest.MonkeyPatch) -> None:
    env.setenv("ORCHLAB_PROFILE", "prod")
    env.setenv("PREFECT_API_URL", "http://prefect.example/api")
    with pytest.raises(ServiceError, match="no Temporal server found"):
        ensure_temporal(timeout=5)
    with pytest.raises(ServiceError, match="starts no embedded Temporal: set TEMPORAL_ADDRESS"):
        Stack(get_settings()).start()
    env.delenv("PREFECT_API_URL")
    env.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
    with pytest.raises(ServiceError, match="no Prefect server found"):
        ensure_prefect(timeout=5)


# --- Temporal -------------------------------------------------------------------------


def test_orchlab_temporal_address_is_honoured_everywhere(env: pytest.MonkeyPatch) -> None:
    env.setenv("TEMPORAL_ADDRESS", "from-the-sdk-variable:7233")
    env.setenv("ORCHLAB_TEMPORAL_ADDRESS", "from-orchlab:7233")
    assert temporal_address() == "from-orchlab:7233"
    assert ensure_temporal() == "from-orchlab:7233"
    assert temporal_connect_options()["target_host"] == "from-orchlab:7233"


def test_namespace_orchlab_beats_the_profile_which_beats_default(env: pytest.MonkeyPatch) -> None:
    env.setenv("TEMPORAL_ADDRESS", "t:7233")
    assert temporal_connect_options()["namespace"] == "default"
    env.setenv("TEMPORAL_NAMESPACE", "ml-team")
    assert temporal_connect_options()["namespace"] == "ml-team"
    env.setenv("ORCHLAB_TEMPORAL_NAMESPACE", "lab")
    assert temporal_connect_options()["namespace"] == "lab"


async def test_the_namespace_takes_effect_on_the_client(
    env: pytest.MonkeyPatch, temporal_address: str
) -> None:
    env.setenv("TEMPORAL_ADDRESS", temporal_address)
    env.setenv("TEMPORAL_NAMESPACE", "no-such-namespace-here")
    client = await connect_temporal()
    assert client.namespace == "no-such-namespace-here"
    with pytest.raises(RPCError, match="no-such-namespace-here"):
        await client.count_workflows()  # the server looks the namespace up
    env.delenv("TEMPORAL_NAMESPACE")
    client = await connect_temporal()
    assert client.namespace == "default"
    assert (await client.count_workflows()).count >= 0


def test_a_toml_profile_supplies_address_namespace_and_api_key(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(
        '[profile.default]\naddress = "local:7233"\n'
        '[profile.cloud]\naddress = "ns.acct.tmprl.cloud:7233"\nnamespace = "ns.acct"\n'
        'api_key = "k-123"\n'
    )
    env.setenv("TEMPORAL_CONFIG_FILE", str(config))
    assert temporal_connect_options()["target_host"] == "local:7233"
    env.setenv("TEMPORAL_PROFILE", "cloud")
    options = temporal_connect_options()
    assert options["target_host"] == "ns.acct.tmprl.cloud:7233"
    assert options["namespace"] == "ns.acct"
    assert options["api_key"] == "k-123"
    assert options["tls"] is True  # an API key implies TLS
    env.setenv("TEMPORAL_ADDRESS", "override:7233")  # variables beat the file
    assert temporal_connect_options()["target_host"] == "override:7233"


def test_a_missing_config_file_or_profile_is_an_error_not_silence(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"TEMPORAL_CONFIG_FILE names .*nope\.toml"):
        get_settings()
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "local:7233"\n')
    env.setenv("TEMPORAL_CONFIG_FILE", str(config))
    env.setenv("TEMPORAL_PROFILE", "staging")
    with pytest.raises(ConfigError, match="Profile 'staging' not found"):
        temporal_connect_options()
    config.write_text("[profile.default\n")
    env.delenv("TEMPORAL_PROFILE")
    with pytest.raises(ConfigError, match="TOML parse error"):
        temporal_connect_options()


def test_no_temporal_anywhere_says_how_to_configure_one(env: pytest.MonkeyPatch) -> None:
    env.setenv("ORCHLAB_STATE_DIR", "empty-state")
    with pytest.raises(ServiceError, match=r"set TEMPORAL_ADDRESS .*\(TEMPORAL_PROFILE"):
        temporal_address()


# --- Prefect --------------------------------------------------------------------------


def test_prefect_api_url_from_either_name(env: pytest.MonkeyPatch) -> None:
    env.setenv("ORCHLAB_PREFECT_API_URL", "http://orchlab.example/api")
    assert prefect_api_url() == "http://orchlab.example/api"
    env.setenv("PREFECT_API_URL", "http://prefect.example/api")
    assert prefect_api_url() == "http://prefect.example/api"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str | None] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recording_api() -> Iterator[str]:
    """A stand-in HTTP API that records each request's Authorization header."""
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()


def test_the_prefect_api_key_reaches_prefect_s_client(
    env: pytest.MonkeyPatch, recording_api: str
) -> None:
    # A fresh process: Prefect reads its settings once per process.
    env.setenv("ORCHLAB_PREFECT_API_KEY", "pnu_orchlab_test")
    code = (
        "import asyncio, sys\n"
        "from orchlab.runtime import use_prefect\n"
        "use_prefect(sys.argv[1])\n"
        "from prefect.client.orchestration import get_client\n"
        "async def main():\n"
        "    async with get_client() as c:\n"
        "        assert await c.api_healthcheck() is None\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", code, recording_api], check=True, timeout=120)
    assert "Bearer pnu_orchlab_test" in _Recorder.seen
    assert "pnu_orchlab_test" not in repr(get_settings())  # a secret: never printed


def test_use_prefect_points_this_process_at_the_api(
    env: pytest.MonkeyPatch, prefect_api_url: str
) -> None:
    from prefect.settings import PREFECT_API_URL

    use_prefect(prefect_api_url)
    assert PREFECT_API_URL.value() == prefect_api_url
    assert get_settings().prefect_api_url == prefect_api_url


# --- state, registry, dead-letter queue -------------------------------------------------


def test_registry_defaults_under_state_dir(tmp_path: Path) -> None:
    assert get_settings(state_dir=tmp_path).model_registry_dir == tmp_path / "registry"


def test_registry_dir_takes_effect_in_the_registry(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from orchlab.pipelines import ModelRegistry

    env.setenv("ORCHLAB_REGISTRY_DIR", str(tmp_path / "models"))
    assert ModelRegistry().root == tmp_path / "models"


def test_dlq_path_takes_effect_in_the_queue_and_the_cli(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from orchlab.reliability import default_dlq_path

    assert default_dlq_path() == Path(".state/reliability/dlq.sqlite")
    env.setenv("ORCHLAB_STATE_DIR", str(tmp_path / "state"))
    assert default_dlq_path() == tmp_path / "state" / "reliability" / "dlq.sqlite"
    env.setenv("ORCHLAB_DLQ_PATH", str(tmp_path / "q.sqlite"))
    assert default_dlq_path() == tmp_path / "q.sqlite"
    run = subprocess.run(
        [sys.executable, "-m", "orchlab.cli", "dlq", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert f"no dead-letter queue at {tmp_path / 'q.sqlite'}" in " ".join(run.stderr.split())


# --- the embedded stack ------------------------------------------------------------------


@pytest.fixture
def stack_env(env: pytest.MonkeyPatch, tmp_path: Path, prefect_api_url: str) -> pytest.MonkeyPatch:
    """A private state folder, Prefect external (the session's), Temporal embedded."""
    from orchlab.runtime._process import free_port

    env.setenv("ORCHLAB_STATE_DIR", str(tmp_path / "state"))
    env.setenv("PREFECT_API_URL", prefect_api_url)
    env.setenv("ORCHLAB_TEMPORAL_PORT", str(free_port()))
    env.setenv("ORCHLAB_TEMPORAL_UI_PORT", str(free_port()))
    return env


async def test_the_embedded_engine_binds_to_host_and_serves_the_namespace(
    stack_env: pytest.MonkeyPatch,
) -> None:
    from orchlab.runtime._process import port_open

    stack_env.setenv("ORCHLAB_HOST", "127.0.0.2")  # loopback, but not the default address
    stack_env.setenv("TEMPORAL_NAMESPACE", "ml-team")
    stack = Stack(get_settings())
    try:
        records = stack.start(tie_to_parent=True)
        host, port = records["temporal"].url.rsplit(":", 1)
        assert host == "127.0.0.2" and port == os.environ["ORCHLAB_TEMPORAL_PORT"]
        assert port_open("127.0.0.2", int(port))
        assert temporal_address() == records["temporal"].url  # found through the record
        client = await connect_temporal()
        assert client.namespace == "ml-team"
        assert (await client.count_workflows()).count == 0  # the dev server has it
    finally:
        stack.stop()


def test_startup_timeout_bounds_the_wait_for_an_embedded_engine(
    stack_env: pytest.MonkeyPatch,
) -> None:
    stack_env.setenv("ORCHLAB_STARTUP_TIMEOUT", "0.01")
    stack = Stack(get_settings())
    with pytest.raises(ServiceError, match="temporal was not healthy after 0 s"):
        stack.start(tie_to_parent=True)
    assert stack.services == []  # what was started is stopped again
