"""A real TLS connection to Temporal, configured the SDK's way (a TOML profile).

The pinned CLI's ``temporal server start-dev`` has no TLS flags, so the dev server is put
behind a TLS-terminating proxy that requires a client certificate (mutual TLS) from a CA the
test generates with ``cryptography``. The client side is the real Temporal SDK, connected by
``orchlab.runtime.connect_temporal`` from nothing but ``TEMPORAL_CONFIG_FILE`` and
``TEMPORAL_PROFILE``. The proxy decodes the HTTP/2 request headers it forwards, so the API
key is checked on the wire, not just in the client's options.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import hpack
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from temporalio import workflow
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.worker import Worker

from orchlab.errors import ConfigError, ServiceError
from orchlab.runtime import connect_temporal, temporal_connect_options

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@dataclass
class _Pki:
    folder: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    usage: ExtendedKeyUsageOID | None = None,
    dns: str | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if dns is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(dns), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> _Pki:
    """A CA, a server certificate for ``localhost``, a client certificate, another CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("orchlab test CA", ca_key, None, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _cert(
        "localhost", server_key, ca, ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH, dns="localhost"
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _cert("orchlab-worker", client_key, ca, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("some other CA", other_key, None, other_key)
    pem = serialization.Encoding.PEM
    return _Pki(
        folder=folder,
        ca=_write(folder / "ca.pem", ca.public_bytes(pem)),
        server_cert=_write(folder / "server.pem", server.public_bytes(pem)),
        server_key=_write(folder / "server.key", _key_pem(server_key)),
        client_cert=_write(folder / "client.pem", client.public_bytes(pem)),
        client_key=_write(folder / "client.key", _key_pem(client_key)),
        other_ca=_write(folder / "other-ca.pem", other.public_bytes(pem)),
    )


@dataclass
class _TlsProxy:
    """Terminates mutual TLS on loopback and forwards the plain bytes to the dev server."""

    upstream: str
    context: ssl.SSLContext
    address: str = ""
    client_subjects: list[str] = field(default_factory=list)
    request_headers: list[dict[str, str]] = field(default_factory=list)
    refused: int = 0

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, watch: bool
    ) -> None:
        decoder = hpack.Decoder() if watch else None
        buffer = b""
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
                if decoder is not None:
                    buffer = self._read_frames(buffer + data, decoder)
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
                writer.close()

    def _read_frames(self, buffer: bytes, decoder: hpack.Decoder) -> bytes:
        # HTTP/2 frames from the client: decode each HEADERS block (HPACK is stateful, so
        # every block is decoded, in order).
        if buffer.startswith(_PREFACE):
            buffer = buffer[len(_PREFACE) :]
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, flags, payload = buffer[3], buffer[4], buffer[9 : 9 + length]
            buffer = buffer[9 + length :]
            if kind == 0x1:  # HEADERS (this client sends no CONTINUATION for small headers)
                if flags & 0x8:  # PADDED
                    payload = payload[1 : len(payload) - payload[0]]
                if flags & 0x20:  # PRIORITY
                    payload = payload[5:]
                headers = decoder.decode(payload)
                self.request_headers.append({str(k): str(v) for k, v in headers})
        return buffer

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        subject = dict(item[0] for item in peer.get("subject", ()))
        self.client_subjects.append(str(subject.get("commonName", "")))
        host, port = self.upstream.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(
            self._pipe(reader, up_writer, watch=True), self._pipe(up_reader, writer, watch=False)
        )


@pytest_asyncio.fixture(loop_scope="session")
async def tls_proxy(pki: _Pki, temporal_address: str) -> AsyncIterator[_TlsProxy]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no entry
    context.set_alpn_protocols(["h2"])
    proxy = _TlsProxy(upstream=temporal_address, context=context)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await proxy._handle(reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    proxy.address = f"localhost:{server.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        server.close()


def _profile(
    pki: _Pki, proxy: _TlsProxy, *, client_cert: bool = True, ca: Path | None = None
) -> Path:
    lines = [
        "[profile.cluster]",
        f'address = "{proxy.address}"',
        'namespace = "default"',
        'api_key = "orchlab-test-api-key"',
        "[profile.cluster.tls]",
        f'server_ca_cert_path = "{ca or pki.ca}"',
        'server_name = "localhost"',
    ]
    if client_cert:
        lines += [
            f'client_cert_path = "{pki.client_cert}"',
            f'client_key_path = "{pki.client_key}"',
        ]
    path = pki.folder / f"temporal-{uuid.uuid4().hex[:6]}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def clean_temporal_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No Temporal variable from the suite's environment leaks into the profile."""
    for var in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("ORCHLAB_TEMPORAL_ADDRESS", raising=False)
    return monkeypatch


@workflow.defn(sandboxed=False)
class _Hello:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello {name} over TLS"


async def test_a_toml_profile_with_mtls_and_an_api_key_connects_and_runs_a_workflow(
    pki: _Pki, tls_proxy: _TlsProxy, clean_temporal_env: pytest.MonkeyPatch, task_queue: str
) -> None:
    clean_temporal_env.setenv("TEMPORAL_CONFIG_FILE", str(_profile(pki, tls_proxy)))
    clean_temporal_env.setenv("TEMPORAL_PROFILE", "cluster")
    clean_temporal_env.setenv("TEMPORAL_GRPC_META_X_ORCHLAB_TEAM", "ml")  # a variable on top

    options = temporal_connect_options()
    assert options["target_host"] == tls_proxy.address
    assert options["api_key"] == "orchlab-test-api-key"
    assert options["tls"].client_cert == pki.client_cert.read_bytes()

    client = await connect_temporal()
    info = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert info.namespace_info.name == "default"
    async with Worker(client, task_queue=task_queue, workflows=[_Hello]):
        result = await client.execute_workflow(
            _Hello.run,
            "orchlab",
            id=f"tls-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
            execution_timeout=dt.timedelta(seconds=30),
        )
    assert result == "hello orchlab over TLS"
    # The proxy saw our client certificate, and the API key in every request's headers.
    assert tls_proxy.client_subjects and set(tls_proxy.client_subjects) == {"orchlab-worker"}
    calls = [h for h in tls_proxy.request_headers if h.get(":path", "").startswith("/temporal")]
    assert calls, "no gRPC request went through the TLS proxy"
    assert all(h.get("authorization") == "Bearer orchlab-test-api-key" for h in calls)
    assert all(h.get("x-orchlab-team") == "ml" for h in calls)


async def test_without_a_client_certificate_the_handshake_is_refused(
    pki: _Pki, tls_proxy: _TlsProxy, clean_temporal_env: pytest.MonkeyPatch
) -> None:
    clean_temporal_env.setenv(
        "TEMPORAL_CONFIG_FILE", str(_profile(pki, tls_proxy, client_cert=False))
    )
    clean_temporal_env.setenv("TEMPORAL_PROFILE", "cluster")
    refused = (
        r"cannot reach Temporal at localhost:\d+ \(from the Temporal profile 'cluster' in "
        r".*; namespace default\): (the TLS handshake failed|the server closed the connection "
        r"while it was set up \(does it want a TLS client certificate)"
    )
    with pytest.raises(ServiceError, match=refused):
        await asyncio.wait_for(connect_temporal(), timeout=30)
    assert not tls_proxy.request_headers


async def test_a_server_from_another_ca_is_not_trusted(
    pki: _Pki, tls_proxy: _TlsProxy, clean_temporal_env: pytest.MonkeyPatch
) -> None:
    clean_temporal_env.setenv(
        "TEMPORAL_CONFIG_FILE", str(_profile(pki, tls_proxy, ca=pki.other_ca))
    )
    clean_temporal_env.setenv("TEMPORAL_PROFILE", "cluster")
    untrusted = r"the server's certificate is not trusted \(InvalidCertificate\(UnknownIssuer\)\)"
    with pytest.raises(ServiceError, match=untrusted):
        await asyncio.wait_for(connect_temporal(), timeout=30)
    assert not tls_proxy.client_subjects


def test_an_unreadable_client_certificate_is_a_config_error(
    pki: _Pki, clean_temporal_env: pytest.MonkeyPatch
) -> None:
    path = pki.folder / "missing-cert.toml"
    path.write_text(
        '[profile.default]\naddress = "localhost:1"\n[profile.default.tls]\n'
        f'client_cert_path = "{pki.folder / "nope.pem"}"\nclient_key_path = "{pki.client_key}"\n'
    )
    clean_temporal_env.setenv("TEMPORAL_CONFIG_FILE", str(path))
    clean_temporal_env.delenv("TEMPORAL_PROFILE", raising=False)
    with pytest.raises(ConfigError, match=r"nope\.pem, which cannot be read"):
        temporal_connect_options()
