"""TLS locally: the app over HTTPS with the course CA, clients trusting that CA only (never verify=False)."""

from __future__ import annotations

import ssl
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from fastapi import FastAPI

from reference.security.headers import harden, missing_headers
from reference.security.tls import TLSFiles, course_tls, generate, serve


def test_https_with_the_course_ca_verifies_and_carries_hsts(
    items_app: Callable[..., FastAPI], tls_files: TLSFiles
) -> None:
    with serve(harden(items_app(gated=True)), tls_files) as base:
        assert base.startswith("https://localhost:")
        with httpx.Client(verify=tls_files.client_context()) as client:
            response = client.get(f"{base}/items/1")
            by_ip = client.get(base.replace("localhost", "127.0.0.1") + "/items/1")
    assert response.status_code == by_ip.status_code == 200
    assert missing_headers(response.headers, https=True) == []  # HSTS included, no Server header


def test_a_client_with_the_default_trust_store_refuses_the_course_certificate(
    items_app: Callable[..., FastAPI], tls_files: TLSFiles
) -> None:
    """The certificate is private to the course: only a client given the CA accepts it."""
    with (
        serve(harden(items_app(gated=True)), tls_files) as base,
        httpx.Client() as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(f"{base}/items/1")


def test_a_certificate_for_another_name_fails_the_host_check(
    items_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    other = generate(tmp_path, names=("api.other.test",))
    with (
        serve(harden(items_app(gated=True)), other) as base,
        httpx.Client(verify=other.client_context()) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(f"{base}/items/1")


def test_plain_http_gets_no_hsts(items_app: Callable[..., FastAPI]) -> None:
    with serve(harden(items_app(gated=True))) as base, httpx.Client() as client:
        response = client.get(f"{base}/items/1")
    assert base.startswith("http://")
    assert "strict-transport-security" not in response.headers
    assert missing_headers(response.headers, https=False) == []


def test_course_tls_generates_once_keeps_the_key_private_and_reuses(tmp_path: Path) -> None:
    first = course_tls(tmp_path)
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(first.ca.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    before = first.cert.read_bytes()
    assert course_tls(tmp_path).cert.read_bytes() == before


def test_course_tls_replaces_a_corrupted_certificate(tmp_path: Path) -> None:
    files = course_tls(tmp_path)
    files.cert.write_text("not a certificate")
    again = course_tls(tmp_path)
    assert x509.load_pem_x509_certificate(again.cert.read_bytes())
    assert isinstance(again.client_context(), ssl.SSLContext)


def test_a_certificate_needs_a_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one host name"):
        generate(tmp_path, names=())


def test_concurrent_first_use_yields_one_matching_certificate_and_key(tmp_path: Path) -> None:
    """Eight threads asking at once (two notebooks starting together): one generation, a key that
    matches the certificate every caller sees."""
    barrier = threading.Barrier(8)

    def first_use() -> bytes:
        barrier.wait(timeout=30)
        return course_tls(tmp_path).cert.read_bytes()

    with ThreadPoolExecutor(8) as pool:
        certificates = set(pool.map(lambda _: first_use(), range(8)))
    assert len(certificates) == 1
    context = ssl.create_default_context()
    context.load_cert_chain(
        tmp_path / "server.pem", tmp_path / "server.key"
    )  # raises on a mismatch
