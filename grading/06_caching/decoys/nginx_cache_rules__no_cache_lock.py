"""Decoy for 06.5: stale-while-revalidate without proxy_cache_lock — concurrent misses on a cold key each reach the origin. Caught by test_concurrent_misses_share_one_fetch."""

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
"""
    return CacheRules(http=no_store, location=location)
