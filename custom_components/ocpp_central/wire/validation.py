"""Schema validation of OCPP messages, and the one module that reaches into `ocpp.messages`.

The library's message classes (Call, CallResult, CallError), its parser and its validation
are used from here only; the rest of the integration imports them from this module.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
from ocpp.exceptions import OCPPError
from ocpp.messages import (
    Call,
    CallError,
    CallResult,
    MessageType,
    _validate_payload as validate_payload,  # sync variant, pinned lib
    get_validator,
    unpack,
)

__all__ = [
    "Call",
    "CallError",
    "CallResult",
    "MessageType",
    "preload_schemas",
    "response_schema",
    "unpack",
    "validate",
]


def preload_schemas(ocpp_version: str) -> None:
    """Load every JSON schema of a version (file I/O: run it in an executor).

    The library reads a schema from disk the first time an action is validated, which
    would block the event loop. Loading goes through the same validation call so each
    schema is cached with the float parser the library uses for it.
    """
    folder = Path(ocpp.__file__).parent / f"v{ocpp_version.replace('.', '')}" / "schemas"
    for path in sorted(folder.glob("*.json")):
        name = path.stem
        if name.endswith("Response"):
            message: Call | CallResult = CallResult("", {}, name.removesuffix("Response"))
        else:
            message = Call("", name.removesuffix("Request"), {})
        # An empty payload rarely validates; the schema is cached all the same.
        with contextlib.suppress(OCPPError):
            validate_payload(message, ocpp_version)


def response_schema(action: str, ocpp_version: str) -> dict[str, Any]:
    """The JSON schema of an action's response (OCPPError, ValueError or OSError when the
    version has no such action)."""
    schema: dict[str, Any] = get_validator(MessageType.CallResult, action, ocpp_version).schema
    return schema


# The library validates every version with a draft-4 validator; so do the compiled ones.
_DRAFT4 = "http://json-schema.org/draft-04/schema#"
# Validated by the library with Decimal floats (ocpp.messages._validate_payload, which also
# rewrites the payload): always its own path.
_DECIMAL_CHECKS = frozenset(
    {
        ("1.6", MessageType.Call, "SetChargingProfile"),
        ("1.6", MessageType.Call, "RemoteStartTransaction"),
        ("1.6", MessageType.CallResult, "GetCompositeSchedule"),
    }
)
_fast_checks: dict[tuple[str, int, str], Callable[[Any], Any] | None] = {}


def _fast_check(msg: Call | CallResult, ocpp_version: str) -> Callable[[Any], Any] | None:
    """The compiled validator of a message's schema (made once, from the library's schema)."""
    key = (ocpp_version, msg.message_type_id, msg.action)
    try:
        return _fast_checks[key]
    except KeyError:
        pass
    check = None
    if key not in _DECIMAL_CHECKS:
        try:
            schema = get_validator(msg.message_type_id, msg.action, ocpp_version).schema
            check = fastjsonschema.compile(
                {**schema, "$schema": _DRAFT4},
                use_default=False,
                use_formats=False,
                detailed_exceptions=False,
            )
        except Exception:
            check = None
    _fast_checks[key] = check
    return check


def validate(msg: Call | CallResult, ocpp_version: str) -> None:
    """Validate a payload exactly as the library does, only faster when it is valid.

    jsonschema walks the schema for every message (a fifth of the CPU time under load).
    A compiled validator (fastjsonschema) confirms valid payloads; whatever it rejects goes
    through the library, which decides and names the error with its OCPP code.
    """
    if (check := _fast_check(msg, ocpp_version)) is not None:
        try:
            check(msg.payload)
        except Exception:
            pass
        else:
            return
    validate_payload(msg, ocpp_version)
