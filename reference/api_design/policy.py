"""Who may do what to a user record — one table consulted by handlers *and* by the link builder.

The pattern: object-level authorization (OWASP API1, BOLA) decided in one function, so the links a
response advertises and the checks a handler enforces can never disagree. Roles:

============  ======  =====================  ===========  ======  ======
role          list    read / read orders     update       create  delete
============  ======  =====================  ===========  ======  ======
user          no      own record only        own record   no      no
manager       yes     any                    own record   no      no
admin         yes     any                    any          yes     yes
============  ======  =====================  ===========  ======  ======

A caller who may not *read* a record gets 404 for it (its existence is not confirmed); one who may
read but not act gets 403. Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import uuid
from typing import Literal

from reference.api_design.auth import Principal
from reference.databases.models import UserRole

Action = Literal["list", "create", "read", "update", "delete"]


def may(principal: Principal, action: Action, owner_id: uuid.UUID | None = None) -> bool:
    """Whether ``principal`` may perform ``action`` (on the record owned by ``owner_id``)."""
    if principal.role is UserRole.ADMIN:
        return True
    own = owner_id is not None and owner_id == principal.user_id
    if action == "read":
        return own or principal.role is UserRole.MANAGER
    if action == "list":
        return principal.role is UserRole.MANAGER
    if action == "update":
        return own
    return False
