"""TLS locally: a course CA, a server certificate it signs, uvicorn serving HTTPS, clients trusting that CA.

The pattern: HSTS and ``Secure`` cookies only mean something over HTTPS, so the course serves its
apps over HTTPS too — with a private certificate authority the project generates (the
``cryptography`` package; ``trustme`` does the same for tests but is not in our registries). The
CA's key signs one server certificate for ``localhost``/``127.0.0.1``/``::1``; clients are given
*that CA* as their only trust anchor (``ssl.create_default_context(cafile=…)``), so a request to
the course server verifies the chain and the host name like any production request, and a request
anywhere else is not affected. ``verify=False`` never appears: it would accept any certificate,
including a man in the middle's.

Files live in ``<state dir>/tls/`` (``ca.pem``, ``server.pem``, ``server.key``, keys mode 0600)
and are regenerated when missing or within a day of expiry.

Taught in ``notebooks/07_security_headers.ipynb``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from starlette.types import ASGIApp

from reference.api_design.graphql.background import serve_in_background
from reference.config import state_dir

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 825  # what browsers accepted for leaf certificates; a local CA needs no more
SERVER_DAYS = 90


@dataclass(frozen=True)
class TLSFiles:
    """Where the course CA certificate and the server's certificate chain and key are."""

    ca: Path
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts the course CA and nothing else, host names checked."""
        return ssl.create_default_context(cafile=str(self.ca))


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def generate(directory: Path, names: tuple[str, ...] = SERVER_NAMES) -> TLSFiles:
    """Create a CA and a server certificate for ``names`` in ``directory`` (overwriting)."""
    if not names:
        raise ValueError("a server certificate needs at least one host name")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Backend Skill Lab course CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName([_san(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    # The key is written owner-only from the first byte (no window where it is world-readable).
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(_key_pem(server_key))
    return files


def _still_valid(files: TLSFiles) -> bool:
    if not all(path.exists() for path in (files.ca, files.cert, files.key)):
        return False
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    except ValueError:
        return False
    return cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=1)


def course_tls(directory: Path | None = None) -> TLSFiles:
    """The course's CA and server certificate, generated on first use (or when near expiry)."""
    directory = directory or state_dir() / "tls"
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    # Two notebooks started at once must not both generate: one could read the other's new
    # certificate beside its own key. The lock makes the check-and-generate one step.
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return files if _still_valid(files) else generate(directory)


@contextmanager
def serve(app: ASGIApp, tls: TLSFiles | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free port; yield its base URL, stop on exit.

    With ``tls`` the server speaks HTTPS with that certificate (``https://localhost:PORT`` — the
    name the certificate carries); without, plain HTTP (to show what changes).
    """
    running = serve_in_background(
        app,
        server_header=False,  # OWASP: do not advertise the server software
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
        lifespan="off",
    )
    try:
        yield f"https://localhost:{running.port}" if tls else running.url
    finally:
        running.stop()
