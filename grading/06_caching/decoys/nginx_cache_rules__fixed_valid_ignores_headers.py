"""Decoy for 06.5: the origin's Cache-Control ignored, a fixed proxy_cache_valid instead — s-maxage, no-store and private mean nothing. Caught by test_responses_without_a_shared_lifetime_are_not_stored."""

from __future__ import annotations

from reference.caching.nginx import CacheRules


def nginx_cache_rules() -> CacheRules:
    return CacheRules(
        http='map $http_authorization $has_auth {\n    "" 0;\n    default 1;\n}\nmap $upstream_http_cache_control $public {\n    "~*(^|[ ,])public( *(,|$))" 1;\n    default 0;\n}\nmap $upstream_status $error {\n    "~^(404|410)$" 0;\n    "~^[45]" 1;\n    default 0;\n}\nmap "$has_auth:$public:$error" $no_store {\n    "~^1:0:" 1;\n    "~:1$" 1;\n    default 0;\n}\n',
        location="proxy_ignore_headers Cache-Control Expires;\nproxy_cache_valid 200 404 1m;\nproxy_no_cache $no_store;\nproxy_cache_use_stale updating;\nproxy_cache_background_update on;\nproxy_cache_lock on;\n",
    )
