"""Decoy for 06.5: Authorization handled, but a 500 marked public, max-age=60 is stored. Caught by test_errors_are_not_stored."""

from __future__ import annotations

from reference.caching.nginx import CacheRules


def nginx_cache_rules() -> CacheRules:
    return CacheRules(
        http='map $http_authorization $has_auth {\n    "" 0;\n    default 1;\n}\nmap $upstream_http_cache_control $public {\n    "~*(^|[ ,])public( *(,|$))" 1;\n    default 0;\n}\nmap "$has_auth:$public" $no_store {\n    "1:0" 1;\n    default 0;\n}\n',
        location="proxy_no_cache $no_store;\nproxy_cache_use_stale updating;\nproxy_cache_background_update on;\nproxy_cache_lock on;\n",
    )
