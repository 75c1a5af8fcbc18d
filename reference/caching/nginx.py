"""nginx as a real shared cache: the course's cache rules, and a throwaway nginx to run them.

Pattern: a reverse-proxy cache (a CDN edge in miniature) that honours the origin's ``Cache-Control``
(``s-maxage`` before ``max-age``), serves stale while one background request revalidates, never stores
an authorised response unless the origin marked it ``public``, never stores an error, and says what it
did in ``X-Cache-Status`` (MISS, HIT, EXPIRED, STALE, UPDATING, BYPASS, REVALIDATED). Taught in
notebooks/06_caching_http.ipynb §3; exercise 06.5 writes the rules.

The configuration lives once, in ``course/services/native/nginx/cache.conf.template`` (the launcher's
nginx and the compose service use it as is); :data:`REFERENCE_RULES` is read from its marked
sections, and :func:`render` puts other rules in their place. :func:`throwaway_nginx` runs one on an
ephemeral port with a temporary prefix — its own cache, so tests, grading and notebooks run in
parallel without sharing cache state. As root, nginx's workers run as ``nobody``; every path they
write is under the prefix, and nginx never touches ``/var/log/nginx`` (``-e`` and ``error_log``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reference.config import REPO_ROOT
from reference.setup.ports import free_port
from reference.setup.processes import DIE_WITH_PARENT, stop_process

TEMPLATE = REPO_ROOT / "course" / "services" / "native" / "nginx" / "cache.conf.template"


@dataclass(frozen=True)
class CacheRules:
    """Cache directives: ``http`` goes in the http context (``map`` blocks), ``location`` in the
    proxied location (``proxy_cache_*``, ``proxy_no_cache`` …)."""

    http: str
    location: str


def _section(text: str, name: str) -> str:
    match = re.search(rf"# BEGIN {name} rules\n(.*?)^\s*# END {name} rules", text, re.S | re.M)
    if match is None:
        raise ValueError(f"{TEMPLATE} has no '# BEGIN {name} rules' … '# END {name} rules' section")
    return match.group(1)


def reference_rules() -> CacheRules:
    """The course's rules, as the template holds them."""
    text = TEMPLATE.read_text()
    return CacheRules(http=_section(text, "http"), location=_section(text, "location"))


REFERENCE_RULES = reference_rules()


def render(variables: Mapping[str, str], rules: CacheRules | None = None) -> str:
    """The template with ``${NAME}`` filled in and, if given, ``rules`` in place of the course's."""
    text = TEMPLATE.read_text()
    if rules is not None:
        text = text.replace(REFERENCE_RULES.http, rules.http.rstrip("\n") + "\n", 1)
        text = text.replace(REFERENCE_RULES.location, rules.location.rstrip("\n") + "\n", 1)
    missing = set(re.findall(r"\$\{(\w+)\}", text)) - set(variables)
    if missing:
        raise ValueError(f"no value for {', '.join(sorted(missing))}")
    return re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], text)


def main_config(prefix: Path, http_include: Path) -> str:
    """A complete nginx.conf keeping every path nginx writes under ``prefix``, in the foreground."""
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"    client_body_temp_path {prefix}/scratch/client_body;\n"
        f"    proxy_temp_path {prefix}/scratch/proxy;\n"
        f"    fastcgi_temp_path {prefix}/scratch/fastcgi;\n"
        f"    uwsgi_temp_path {prefix}/scratch/uwsgi;\n"
        f"    scgi_temp_path {prefix}/scratch/scgi;\n"
        f"    access_log off;\n"
        f"    include {http_include};\n"
        "}\n"
    )


def nginx_binary() -> str:
    """``nginx`` on the PATH or Debian's ``/usr/sbin/nginx``; a clear error when it is missing."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise RuntimeError("nginx is not installed: run `course services up nginx` (installs it)")
    return found


def write_config(
    prefix: Path, listen: str, origin: str, rules: CacheRules | None = None
) -> list[str]:
    """Write the configuration under ``prefix``; return the nginx command line that runs it."""
    (prefix / "scratch").mkdir(parents=True, exist_ok=True)
    include = prefix / "cache.conf"
    include.write_text(
        render(
            {
                "CACHE_PROXY_LISTEN": listen,
                "CACHE_ORIGIN": origin,
                "CACHE_DIR": str(prefix / "cache"),
            },
            rules,
        )
    )
    config = prefix / "nginx.conf"
    config.write_text(main_config(prefix, include))
    if os.geteuid() == 0:
        # The workers (nobody) write the cache and temp files; the master creates the folders.
        os.chmod(prefix, 0o755)  # noqa: S103 - read-only for others; nothing secret
    return [nginx_binary(), "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)]


def check_config(command: list[str]) -> None:
    """``nginx -t``: a rule nginx rejects is a ``ValueError`` carrying nginx's own message."""
    result = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise ValueError(f"nginx rejected the configuration:\n{result.stderr.strip()}")


def wait_until_answering(url: str, deadline_s: float = 20.0) -> None:
    """Poll ``url`` until nginx answers any HTTP status (a 502 from a dead origin counts)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1.0):  # noqa: S310 - our own http:// URL
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def throwaway_nginx(origin: str, rules: CacheRules | None = None) -> Iterator[str]:
    """Run a private nginx cache in front of ``origin``; yield its base URL, remove it after.

    ``rules`` default to :data:`REFERENCE_RULES`. Invalid rules are a ``ValueError`` before start.
    """
    prefix = Path(tempfile.mkdtemp(prefix="course-nginx-"))
    port = free_port()
    process: subprocess.Popen[bytes] | None = None
    try:
        command = write_config(prefix, f"127.0.0.1:{port}", origin, rules)
        check_config(command)
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=DIE_WITH_PARENT,
        )
        base = f"http://127.0.0.1:{port}"
        # A path no test uses, so the readiness poll leaves nothing in the cache that matters.
        wait_until_answering(f"{base}/__course_nginx_ready__")
        yield base
    finally:
        if process is not None:
            stop_process(process)  # SIGTERM: fast shutdown of the master and its workers
        shutil.rmtree(prefix, ignore_errors=True)
