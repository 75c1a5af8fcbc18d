"""The guide's express-rate-limit port (guide/security/rate_limit.py): each defect of 7.1, shown.

The guide's defects are asserted AS defects here (the port must keep them); the reference fix of
each is tested in test_client_ip.py and test_login_throttle.py."""

from __future__ import annotations

from starlette.testclient import TestClient

from guide.security.rate_limit import MemoryStore, build_app

PASSWORDS = {"ada@example.com": "correct horse battery"}
PROXY = ("10.0.0.2", 40000)  # the load balancer in front of the app


def wrong(client: TestClient, email: str = "ada@example.com", **headers: str) -> int:
    response = client.post(
        "/api/auth/login", json={"email": email, "password": "guess"}, headers=headers
    )
    status: int = response.status_code
    return status


def test_guide_login_limit_holds_for_one_direct_client() -> None:
    """The guide's happy path: 5 failed logins from one address, then 429."""
    client = TestClient(build_app(PASSWORDS), client=("203.0.113.5", 5000))
    assert [wrong(client) for _ in range(6)] == [401] * 5 + [429]


def test_guide_successes_are_not_counted() -> None:
    """skipSuccessfulRequests: 10 good logins leave the budget untouched."""
    client = TestClient(build_app(PASSWORDS), client=("203.0.113.5", 5000))
    for _ in range(10):
        ok = client.post(
            "/api/auth/login",
            json={"email": "ada@example.com", "password": PASSWORDS["ada@example.com"]},
        )
        assert ok.status_code == 200
    assert wrong(client) == 401


def test_guide_defect_per_process_store_doubles_the_budget() -> None:
    """Defect 1: two app instances (two workers) each allow 5 — 10 guesses instead of 5."""
    first = TestClient(build_app(PASSWORDS), client=("203.0.113.5", 5000))
    second = TestClient(build_app(PASSWORDS), client=("203.0.113.5", 5000))
    codes = [wrong(first) for _ in range(5)] + [wrong(second) for _ in range(5)]
    assert codes == [401] * 10


def test_guide_defect_behind_a_proxy_everyone_shares_one_bucket() -> None:
    """Defect 2: without trust proxy every user is the proxy: 5 failures by five different people
    lock out a sixth who never failed."""
    client = TestClient(build_app(PASSWORDS), client=PROXY)
    for n in range(5):
        assert (
            wrong(client, f"user{n}@example.com", **{"X-Forwarded-For": f"198.51.100.{n}"}) == 401
        )
    innocent = client.post(
        "/api/auth/login",
        json={"email": "ada@example.com", "password": PASSWORDS["ada@example.com"]},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert innocent.status_code == 429


def test_guide_defect_trust_proxy_makes_the_header_spoofable() -> None:
    """Defect 3: with trust proxy the leftmost X-Forwarded-For is the key — one attacker writing
    a fresh one each time is never limited (the proxy appends the true address on the right)."""
    client = TestClient(build_app(PASSWORDS, trust_proxy=True), client=PROXY)
    codes = [wrong(client, **{"X-Forwarded-For": f"192.0.2.{n}, 203.0.113.66"}) for n in range(50)]
    assert codes == [401] * 50


def test_guide_defect_login_limited_per_ip_only() -> None:
    """Defect 4: one account, 6 addresses, 6 guesses — no 429 (the reference refuses the 6th)."""
    app = build_app(PASSWORDS)
    codes = [wrong(TestClient(app, client=(f"203.0.113.{n}", 5000))) for n in range(6)]
    assert codes == [401] * 6


def test_guide_api_limit_is_shared_behind_a_proxy() -> None:
    """The general /api/ limit (100 per 15 min) on req.ip: behind the proxy, 100 requests by
    anyone exhaust it for everyone (the login route's own limit is not involved)."""
    client = TestClient(build_app(PASSWORDS), client=PROXY)
    codes = [
        client.get("/api/users", headers={"X-Forwarded-For": f"198.51.100.{n % 250}"}).status_code
        for n in range(101)
    ]
    assert codes == [200] * 100 + [429]


def test_guide_memory_store_clears_every_key_at_the_window_edge() -> None:
    """express-rate-limit's MemoryStore resets all counts at once when the window ends (a fixed
    window: a burst of 2 × max straddles the edge)."""
    store = MemoryStore(window_ms=60_000)
    assert [store.increment("a") for _ in range(3)] == [1, 2, 3]
    store.reset_at = 0.0  # the window has ended
    assert store.increment("a") == 1
