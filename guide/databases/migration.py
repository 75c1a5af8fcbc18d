"""The guide's ``migrations/001_create_users.sql``, verbatim, and a function that applies it.

Defects kept (guide-defects §2.1), each shown by ``tests/databases/test_guide_ports.py``:

- ``idx_users_email`` duplicates the index behind ``email … UNIQUE``;
- ``idx_users_status`` is a left prefix of ``idx_users_status_created``;
- ``status``, ``created_at`` and ``updated_at`` have a DEFAULT but are nullable (an explicit NULL
  gets in);
- the UNIQUE on email is case-sensitive (``A@X.com`` and ``a@x.com`` both get in);
- there is no ``role`` column, though the guide's JWT and RBAC code read ``user.role``;
- no ``orders`` table, though the guide's queries join it.

The fix is ``reference/databases/migrations``.
"""

from __future__ import annotations

import psycopg

GUIDE_MIGRATION_SQL = """
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

CREATE TYPE user_status AS ENUM ('active', 'inactive', 'suspended');

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    email VARCHAR(255) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,
    name VARCHAR(100) NOT NULL,
    status user_status DEFAULT 'active',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

-- 인덱스
CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_status ON users(status);
CREATE INDEX idx_users_created_at ON users(created_at DESC);

-- 복합 인덱스
CREATE INDEX idx_users_status_created ON users(status, created_at DESC);

-- 부분 인덱스
CREATE INDEX idx_users_active ON users(email) WHERE status = 'active';

-- 업데이트 트리거
CREATE OR REPLACE FUNCTION update_updated_at()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();
"""


def apply(database_url: str) -> None:
    """Run the guide's migration on the (empty) database at ``database_url``."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(GUIDE_MIGRATION_SQL)
