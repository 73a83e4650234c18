"""TLS as the tests see it: certificates made by the project's own `make certs` script, a
replacement swapped in as certbot's deploy hook or an operator would, and handshakes that say
what the server agreed to (protocol, ALPN, session resumption, which certificate)."""

import contextlib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from harness.load import Load, Request
from harness.project import ROOT, clean_environ

MAKE_CERTS = ROOT / "scripts" / "make_certs.py"
HOSTS = "localhost,127.0.0.1"


@dataclass(frozen=True)
class Certificates:
    directory: Path  # fullchain.pem and privkey.pem, as nginx reads them
    ca_directory: Path

    @property
    def ca(self) -> str:
        return str(self.ca_directory / "ca.pem")

    def serial(self) -> int:
        return x509.load_pem_x509_certificate(
            (self.directory / "fullchain.pem").read_bytes()
        ).serial_number


def make_certificates(
    directory: Path, hosts: str = HOSTS, ca_directory: Path | None = None
) -> Certificates:
    """What `make certs` makes, in `directory` (the CA beside it unless given)."""
    certificates = Certificates(directory, ca_directory or directory.parent / "local-ca")
    subprocess.run(
        [
            sys.executable,
            str(MAKE_CERTS),
            "--certs",
            str(certificates.directory),
            "--ca",
            str(certificates.ca_directory),
            "--hosts",
            hosts,
        ],
        env=clean_environ(),
        check=True,
        capture_output=True,
    )
    return certificates


def replace_certificate(certificates: Certificates, hosts: str = HOSTS) -> int:
    """A new key and certificate from the same CA, renamed over the old files (the key first)
    as a deploy hook does it; returns the new certificate's serial number."""
    with tempfile.TemporaryDirectory(dir=certificates.directory.parent) as staging:
        fresh = make_certificates(Path(staging) / "certs", hosts, certificates.ca_directory)
        for name in ("privkey.pem", "fullchain.pem"):
            (fresh.directory / name).replace(certificates.directory / name)
    return certificates.serial()


@dataclass(frozen=True)
class Handshake:
    version: str
    alpn: str | None
    serial: int
    session: ssl.SSLSession
    reused: bool


def health_load_over_https(url: str, certificates: Certificates) -> Load:
    """GET /health/ on 4 connections trusting the local CA, for as long as a certificate is
    replaced under it: a GET on a kept-alive connection that an old worker closed during the
    reload is sent once more on a new one, as browsers do (Load counts those)."""
    return Load(
        url,
        lambda index, n: Request("GET", "/health/"),
        connections=4,
        pause=0.01,
        timeout=20,
        verify=certificates.ca,
        retry_on_closed_keepalive=True,
    )


def handshake(
    port: int,
    context: ssl.SSLContext,
    *,
    server_hostname: str = "localhost",
    session: ssl.SSLSession | None = None,
) -> Handshake:
    """A TLS handshake with 127.0.0.1:`port`, then an HTTP request, so that TLS 1.3's
    session ticket arrives before the connection closes."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname, session=session) as tls,
    ):
        alpn, version = tls.selected_alpn_protocol(), tls.version()
        serial = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number
        if alpn != "h2":
            tls.sendall(b"GET /nginx-health HTTP/1.1\r\nHost: localhost\r\n")
            tls.sendall(b"Connection: close\r\n\r\n")
            with contextlib.suppress(OSError):
                while tls.recv(4096):
                    pass
        return Handshake(version, alpn, serial, tls.session, tls.session_reused)


def client(ca: str, *, alpn: list[str] | None = None) -> ssl.SSLContext:
    """A verifying client that trusts `ca`, as a browser that imported it does."""
    context = ssl.create_default_context(cafile=ca)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def legacy_client(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers `version` and nothing else: OpenSSL 3 offers TLS 1.0 and 1.1 only
    at security level 0. It verifies nothing: it only asks what the server agrees to."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        # Python deprecates these versions, which is the point of offering them here.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = version
    return context


@contextlib.contextmanager
def permissive_server(certificates: Certificates):
    """A local Python TLS server that accepts TLS 1.0 up: proof that `legacy_client` offers
    what it claims to, so that nginx refusing it means something. Yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.load_cert_chain(
        certificates.directory / "fullchain.pem", certificates.directory / "privkey.pem"
    )
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve():
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                with (
                    contextlib.suppress(OSError, ssl.SSLError),
                    context.wrap_socket(connection, server_side=True) as tls,
                ):
                    tls.recv(4096)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
