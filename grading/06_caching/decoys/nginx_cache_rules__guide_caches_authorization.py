"""Decoy for 06.5: nginx's defaults for Authorization (errors and stale handled): Alice's max-age=60 page is served to Bob. Caught by test_authorised_response_is_not_shared."""

from __future__ import annotations

from reference.caching.nginx import CacheRules


def nginx_cache_rules() -> CacheRules:
    return CacheRules(
        http='map $upstream_status $no_store {\n    "~^(404|410)$" 0;\n    "~^[45]" 1;\n    default 0;\n}\n',
        location="proxy_no_cache $no_store;\nproxy_cache_use_stale updating;\nproxy_cache_background_update on;\nproxy_cache_lock on;\n",
    )
