"""Decoy for 06.5: proxy_cache_use_stale updating without proxy_cache_background_update — the reader that finds the entry expired waits for the slow origin. Caught by test_stale_is_served_while_one_request_revalidates."""

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
proxy_cache_lock on;
"""
    return CacheRules(http=no_store, location=location)
