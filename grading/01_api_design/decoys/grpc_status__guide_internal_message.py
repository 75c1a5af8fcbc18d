"""Decoy for 01.6, from the guide: ``callback({ code: grpc.status.INTERNAL, message: error.message })``
— every failure is INTERNAL and the client reads the exception's text. It must fail.

Caught by test_each_database_error_gets_its_status.
"""

from __future__ import annotations

import grpc

MESSAGES: dict[grpc.StatusCode, str] = {code: "internal error" for code in grpc.StatusCode}


def status_for_database_error(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    return grpc.StatusCode.INTERNAL, str(exc)
