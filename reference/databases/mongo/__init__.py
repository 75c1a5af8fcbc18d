"""MongoDB patterns of chapter 02, corrected from the guide's Mongoose model and aggregation.

- :mod:`.users` — the users collection with a ``$jsonSchema`` validator, a case-insensitive unique
  email, idempotent setup, and lookups that refuse operator injection.
- :mod:`.aggregation` — monthly revenue: delivered orders, order month in a time zone, zero-filled.
- :mod:`.sample_data` — generated data and the plain-Python oracle for the aggregation.
- :mod:`.search` — ``$text`` search (genuine MongoDB only).
- :mod:`.server` — telling genuine MongoDB from a wire-compatible server.

Taught in ``notebooks/02_databases_mongodb.ipynb``.
"""

from reference.databases.mongo.aggregation import (
    MonthlyRevenue,
    month_labels,
    monthly_revenue,
    period_bounds,
    revenue_pipeline,
    zero_fill,
)
from reference.databases.mongo.server import is_genuine_mongodb
from reference.databases.mongo.users import (
    EMAIL_COLLATION,
    USER_INDEXES,
    USER_SCHEMA,
    SetupReport,
    UnsafeQueryValueError,
    ensure_user_collection,
    find_user_by_email,
    new_user,
)

__all__ = [
    "EMAIL_COLLATION",
    "USER_INDEXES",
    "USER_SCHEMA",
    "MonthlyRevenue",
    "SetupReport",
    "UnsafeQueryValueError",
    "ensure_user_collection",
    "find_user_by_email",
    "is_genuine_mongodb",
    "month_labels",
    "monthly_revenue",
    "new_user",
    "period_bounds",
    "revenue_pipeline",
    "zero_fill",
]
