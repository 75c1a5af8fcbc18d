"""Decoy for 06.5: safe storing rules but no stale-while-revalidate — readers wait for a slow origin after expiry. Caught by test_stale_is_served_while_one_request_revalidates (and, having no lock, test_concurrent_misses_share_one_fetch)."""

from __future__ import annotations

from reference.caching.nginx import CacheRules


def nginx_cache_rules() -> CacheRules:
    return CacheRules(
        http='map $http_authorization $has_auth {\n    "" 0;\n    default 1;\n}\nmap $upstream_http_cache_control $public {\n    "~*(^|[ ,])public( *(,|$))" 1;\n    default 0;\n}\nmap $upstream_status $error {\n    "~^(404|410)$" 0;\n    "~^[45]" 1;\n    default 0;\n}\nmap "$has_auth:$public:$error" $no_store {\n    "~^1:0:" 1;\n    "~:1$" 1;\n    default 0;\n}\n',
        location="proxy_no_cache $no_store;\n",
    )
