"""Token verification and refresh rotation cost, as ratios against baselines measured in the same run.

Run: ``uv run python -m bench.auth`` (Redis must be up). Two tables, each from many short
interleaved rounds (a busy machine slows every variant alike; the median of per-round ratios is
reported):

1. verifications per second of one access token — HS256 with a shared secret (the guide's
   ``jwt.verify``, the baseline) vs the reference :class:`~reference.auth.tokens.TokenVerifier`
   with EdDSA and RS256 keys from an in-process key ring, with a JWKS fetched over HTTP and cached
   (:class:`~reference.auth.tokens.JwksCache`), and with the JWKS fetched on every verification;
2. refresh latency — the reference rotation (verify the refresh token, one Lua compare-and-swap,
   sign a new pair) and the Lua script alone, vs a plain Redis ``GET`` on the same client.

Writes ``bench/results/auth.md``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from fastapi import FastAPI

from reference.api_design.graphql.background import serve_in_background
from reference.auth.keys import KeyRing, generate_key
from reference.auth.refresh import ROTATE_LUA, SessionStore
from reference.auth.tokens import JwksCache, TokenIssuer, TokenVerifier, ring_source
from reference.sandbox import fresh_redis_prefix

RESULTS = Path(__file__).parent / "results" / "auth.md"
ISSUER, AUDIENCE, SUB = (
    "https://auth.course.test",
    "course-api",
    "00000000-0000-4000-8000-000000000001",
)


def throughput(fn: Callable[[], object], ops: int) -> float:
    start = time.perf_counter()
    for _ in range(ops):
        fn()
    return ops / (time.perf_counter() - start)


def interleaved(
    variants: dict[str, Callable[[], object]], baseline: str, ops: int, rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    for fn in variants.values():  # warm up: key parsing, connections, script cache
        throughput(fn, max(ops // 4, 5))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            samples[name].append(throughput(fn, ops))
    base = samples[baseline]
    ratios = {
        name: statistics.median(v / b for v, b in zip(values, base, strict=True))
        for name, values in samples.items()
    }
    return {name: statistics.median(v) for name, v in samples.items()}, ratios


def verification(ops: int, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    secret = "s" * 32
    now = int(time.time())
    hs_token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": SUB, "iat": now, "exp": now + 3600},
        secret,
        algorithm="HS256",
    )
    rings = {alg: KeyRing(generate_key(alg, kid=alg.lower())) for alg in ("EdDSA", "RS256")}
    tokens = {
        alg: TokenIssuer(ring, ISSUER, AUDIENCE, access_ttl=3600).access_token(SUB, ["user"])
        for alg, ring in rings.items()
    }
    jwks_app = FastAPI()
    jwks_app.get("/jwks")(lambda: rings["RS256"].jwks())
    server = serve_in_background(jwks_app)
    try:
        cached = JwksCache(f"{server.url}/jwks", ttl=300)
        every_time = JwksCache(f"{server.url}/jwks", ttl=-1)  # always stale: fetch per call
        verifiers = {
            alg: TokenVerifier(ring_source(ring), ISSUER, AUDIENCE) for alg, ring in rings.items()
        }
        by_cache = TokenVerifier(cached.jwks, ISSUER, AUDIENCE)
        by_fetch = TokenVerifier(every_time.jwks, ISSUER, AUDIENCE)
        variants: dict[str, Callable[[], object]] = {
            "HS256 shared secret, guide-style (baseline)": lambda: jwt.decode(
                hs_token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
            ),
            "EdDSA, reference verifier, key ring": lambda: verifiers["EdDSA"].verify(
                tokens["EdDSA"]
            ),
            "RS256, reference verifier, key ring": lambda: verifiers["RS256"].verify(
                tokens["RS256"]
            ),
            "RS256, JWKS over HTTP, cached": lambda: by_cache.verify(tokens["RS256"]),
            "RS256, JWKS over HTTP, fetched every time": lambda: by_fetch.verify(tokens["RS256"]),
        }
        return interleaved(variants, "HS256 shared secret, guide-style (baseline)", ops, rounds)
    finally:
        server.stop()


def rotation(ops: int, rounds: int) -> tuple[dict[str, float], dict[str, float], str]:
    client, prefix = fresh_redis_prefix("bench_auth")
    ring = KeyRing(generate_key("EdDSA", kid="e1"))
    store = SessionStore(
        client, TokenIssuer(ring, ISSUER, AUDIENCE), lambda _s: ["user"], prefix=prefix
    )
    pair = [store.login(SUB)]
    script = client.register_script(ROTATE_LUA)
    client.hset(prefix + "bench-fam", mapping={"sub": SUB, "jti": "j0", "state": "active"})
    client.set(prefix + "plain", "x")
    counter = iter(range(10**9))

    def refresh() -> None:
        pair[0] = store.refresh(pair[0].refresh_token)

    def lua_only() -> None:
        # Always the current jti → the "ok" path, as a real rotation.
        current = str(client.hget(prefix + "bench-fam", "jti"))
        script(keys=[prefix + "bench-fam", prefix + "u"], args=[current, f"j{next(counter)}", SUB])

    variants: dict[str, Callable[[], object]] = {
        "GET (baseline)": lambda: client.get(prefix + "plain"),
        "Lua CAS alone (EVALSHA, + the HGET that feeds it)": lua_only,
        "reference refresh: verify + Lua CAS + sign a new pair": refresh,
    }
    try:
        medians, ratios = interleaved(variants, "GET (baseline)", ops, rounds)
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    server = client.info("server")["redis_version"]
    client.close()
    return medians, ratios, f"Redis {server}"


def table(title: str, medians: dict[str, float], ratios: dict[str, float], unit: str) -> list[str]:
    lines = [
        f"## {title}",
        "",
        f"| variant | median {unit} | median ratio to the baseline |",
        "|---|---:|---:|",
    ]
    lines += [f"| {n} | {medians[n]:,.0f} | {ratios[n]:.2f} |" for n in medians]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ops", type=int, default=100, help="calls per round and variant")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    v_medians, v_ratios = verification(args.ops, args.rounds)
    r_medians, r_ratios, redis_version = rotation(args.ops, args.rounds)
    command = "uv run python -m bench.auth" + (
        f" --ops {args.ops} --rounds {args.rounds}" if (args.ops, args.rounds) != (100, 20) else ""
    )
    lines = [
        "# Auth: token verification and refresh rotation",
        "",
        f"Command: `{command}`  ",
        f"Setup: PyJWT {jwt.__version__}, {redis_version}, Python {platform.python_version()}, "
        f"{args.rounds} interleaved rounds of {args.ops} sequential calls per variant.",
        "",
        *table(
            "Verifications per second of one access token", v_medians, v_ratios, "verifications/s"
        ),
        f"Against HS256 (a shared secret: every verifier could also mint tokens), EdDSA verifies at "
        f"{v_ratios['EdDSA, reference verifier, key ring']:.2f}× and RS256 at "
        f"{v_ratios['RS256, reference verifier, key ring']:.2f}× the rate, with no secret on the verifying",
        "side. A cached JWKS costs about as much as an in-process key ring; fetching the JWKS on every",
        f"verification drops to {v_ratios['RS256, JWKS over HTTP, fetched every time']:.2f}× — the reason",
        "`JwksCache` refetches only after its TTL or for an unknown `kid`.",
        "",
        *table("Refresh latency against a plain GET", r_medians, r_ratios, "operations/s"),
        "A refresh is the script's round trip plus token work in Python (verify the refresh token,",
        f"sign two tokens): {1 / r_ratios['reference refresh: verify + Lua CAS + sign a new pair']:.1f}× "
        "a GET's latency here. The Lua row includes the HGET that reads the current id first,",
        "so it is two round trips.",
        "",
    ]
    text = "\n".join(lines)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
