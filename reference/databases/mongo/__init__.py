"""MongoDB patterns of chapter 02, corrected from the guide's Mongoose model and aggregation.

- :mod:`.users` — the users collection with a ``$jsonSchema`` validator, a case-insensitive unique
  email, idempotent setup, and lookups that refuse operator injection.
- :mod:`.validation` — the validator's ``$jsonSchema`` rules checked in Python before a write
  (``insert_user``), for servers that do not enforce validators.
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
    DuplicateEmailError,
    SetupReport,
    UnsafeQueryValueError,
    UserValidationError,
    ensure_user_collection,
    find_user_by_email,
    insert_user,
    new_user,
)
from reference.databases.mongo.validation import schema_violations

__all__ = [
    "EMAIL_COLLATION",
    "USER_INDEXES",
    "USER_SCHEMA",
    "DuplicateEmailError",
    "MonthlyRevenue",
    "SetupReport",
    "UnsafeQueryValueError",
    "UserValidationError",
    "ensure_user_collection",
    "find_user_by_email",
    "insert_user",
    "is_genuine_mongodb",
    "month_labels",
    "monthly_revenue",
    "new_user",
    "period_bounds",
    "revenue_pipeline",
    "schema_violations",
    "zero_fill",
]
