"""Taught in notebooks/06_caching_http.ipynb §3.

Exercise 06.5: nginx cache rules for a shared cache that is safe and fast.

The grader runs a throwaway nginx (``reference.caching.nginx.throwaway_nginx``) in front of a
counting origin, with your rules in place of the course's, and watches ``X-Cache-Status`` and how
many requests reach the origin. It provides the rest of the server: ``proxy_pass`` to the origin,
``proxy_cache course`` (a zone already declared), and ``add_header X-Cache-Status
$upstream_cache_status always``. Return a ``CacheRules``:

* ``http``: text for the http context — ``map`` blocks (a ``map`` may not appear in a location);
* ``location``: directives for the proxied location (``proxy_no_cache``, ``proxy_cache_use_stale`` …).

What the rules must achieve:

* lifetimes come from the origin's ``Cache-Control``: ``s-maxage`` for this shared cache, a response
  without a lifetime (or ``no-store``, ``private``, ``max-age=0``) is not stored — nginx does that
  by itself unless you override it (``proxy_ignore_headers``, ``proxy_cache_valid``);
* a response to a request carrying ``Authorization`` is not stored unless the origin marked it
  ``public`` (nginx alone stores it: Bob then gets Alice's page);
* no 4xx/5xx is stored, even one that carries ``public, max-age=60`` (as the guide's middleware sets
  on every response) — except a 404 or 410 with a lifetime (negative caching);
* once an entry expires, it is served stale (``STALE``/``UPDATING``) while ONE background request
  revalidates it, so a slow origin never makes a reader wait, and concurrent misses share one fetch.

Useful variables: ``$http_authorization``, ``$upstream_http_cache_control``, ``$upstream_status``.
``map`` can chain: a map's source may be ``"$a:$b"``.
"""

from __future__ import annotations

from reference.caching.nginx import CacheRules


def nginx_cache_rules() -> CacheRules:
    """The http-context maps and the location directives of the course's shared cache."""
    no_store = """
map $http_authorization $learner_has_auth {
    "" 0;
    default 1;
}
map $upstream_http_cache_control $learner_public {
    "~*(^|[ ,])public( *(,|$))" 1;
    default 0;
}
map $upstream_status $learner_error {
    "~^(404|410)$" 0;
    "~^[45]" 1;
    default 0;
}
map "$learner_has_auth:$learner_public:$learner_error" $learner_no_store {
    "~^1:0:" 1;
    "~:1$" 1;
    default 0;
}
"""
    location = """
proxy_no_cache $learner_no_store;
proxy_cache_use_stale updating error timeout http_502 http_503 http_504;
proxy_cache_background_update on;
proxy_cache_lock on;
"""
    return CacheRules(http=no_store, location=location)
