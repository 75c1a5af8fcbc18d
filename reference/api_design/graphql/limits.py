"""What a single GraphQL request may cost: bounded ``first``, query depth, tokens and aliases.

Pattern: cap the work per request *before* executing it. ``first`` ≤ 100 bounds each list; the depth
limit bounds how many lists nest; the token limit (checked while parsing) bounds the document
itself, and the alias limit stops one request repeating a field hundreds of times under different
names. Together they bound the rows any query can touch: at most ``MAX_FIRST ** (nested
connections)``. The guide had none of these. Taught in
``notebooks/01_api_design_graphql_grpc.ipynb``.
"""

from __future__ import annotations

from reference.api_design.graphql.errors import BadUserInput

DEFAULT_FIRST = 20
MAX_FIRST = 100
MAX_DEPTH = 10
MAX_TOKENS = 1000
MAX_ALIASES = 15


def check_first(first: int) -> int:
    """``first`` itself if 1 ≤ first ≤ ``MAX_FIRST``, else a ``BAD_USER_INPUT`` error."""
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(f"first must be between 1 and {MAX_FIRST}, got {first}")
    return first
