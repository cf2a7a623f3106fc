"""The backend's commands to the charger: refused, or passed on and the answer relayed.

observe: every command is refused; with the schema's "Rejected" (or the nearest refusal its
response allows) where the response has a status, else with a NotSupported CallError ("the
action is recognized but not supported by the receiver" is what observe mode means).
shared and billing: commands go to the charger through the ChargerPort, except those that
would cut Home Assistant off from the charger or change its security (refused as above).
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import json
import logging
import re
from typing import Any

from ocpp.exceptions import GenericError, NotSupportedError, OCPPError, SecurityError
from ocpp.v16.enums import Action as Action16
from ocpp.v21.enums import Action as Action21
from ocpp.v201.enums import Action as Action201

from ..wire.actions import CHARGER_ACTIONS
from ..wire.connection import (
    Apply,
    CallErrorReceived,
    CallHandler,
    CallTimeoutError,
    NotConnectedError,
    Payload,
)
from ..wire.validation import CallResult, response_schema, validate
from .ports import ChargerPort
from .settings import UpstreamMode, UpstreamSettings
from .transactions import TransactionMap, to_charger

_LOGGER = logging.getLogger(__name__)

ACTIONS: dict[str, frozenset[str]] = {
    "1.6": frozenset(a.value for a in Action16),
    "2.0.1": frozenset(a.value for a in Action201),
    "2.1": frozenset(a.value for a in Action21),
}
# What the backend may send: everything a version knows that a charger does not send, and
# DataTransfer (which goes both ways).
COMMANDS: dict[str, frozenset[str]] = {
    version: (ACTIONS[version] - charger) | {"DataTransfer"}
    for version, charger in CHARGER_ACTIONS.items()
}

# Commands that would make the charger leave (or stop trusting) Home Assistant.
_PROTECTED = frozenset({"CertificateSigned", "InstallCertificate", "DeleteCertificate"})
_PROTECTED_2X = _PROTECTED | {"SetNetworkProfile"}
# 1.6 configuration keys that hold where the charger connects to and how it proves who it
# is: the standard ones, and the words vendors use for theirs.
_PROTECTED_KEY = re.compile(
    r"authorizationkey|securityprofile|url|host|server|backend|backoffice|centralsystem|csms"
    r"|websocket|password|certificate",
    re.IGNORECASE,
)
_PROTECTED_VARIABLES = {("OCPPCommCtrlr", "NetworkConfigurationPriority")}

# The status a refusal answers with, in order of preference.
_REFUSALS = ("Rejected", "NotSupported", "Unknown", "Failed")
# Codes a CallError from the charger may carry (both versions' lists, and 1.6's typo).
_ERROR_CODES = frozenset(
    {
        "FormatViolation",
        "FormationViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurenceConstraintViolation",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    }
)


class RelayedError(OCPPError):  # type: ignore[misc]  # untyped library
    """The charger's CallError, passed on to the backend with its own code."""

    def __init__(self, code: str, description: str) -> None:
        """Keep a known code; anything else becomes a GenericError."""
        super().__init__(description=description[:255])
        self.code = code if code in _ERROR_CODES else GenericError.code


def is_protected(version: str, action: str, payload: Payload) -> bool:
    """Whether a command would cut Home Assistant off from the charger."""
    if version == "1.6":
        if action == "ChangeConfiguration":
            return bool(_PROTECTED_KEY.search(str(payload.get("key", ""))))
        return action in _PROTECTED
    if action == "SetVariables":
        return any(
            _component(entry) == "SecurityCtrlr"
            or (_component(entry), _variable(entry)) in _PROTECTED_VARIABLES
            for entry in payload.get("setVariableData") or ()
        )
    return action in _PROTECTED_2X


def _name(entry: Any, key: str) -> Any:
    """entry[key]["name"], or None for anything else."""
    part = entry.get(key) if isinstance(entry, dict) else None
    return part.get("name") if isinstance(part, dict) else None


def _component(entry: Any) -> Any:
    return _name(entry, "component")


def _variable(entry: Any) -> Any:
    return _name(entry, "variable")


@functools.cache
def _status_refusal(version: str, action: str) -> Payload | None:
    """{"status": <refusal>} when that alone is a valid response to `action`."""
    try:
        schema = response_schema(action, version)
    except (OCPPError, ValueError, OSError):
        return None
    status = schema.get("properties", {}).get("status")
    if not isinstance(status, dict) or set(schema.get("required", ())) - {"status"}:
        return None
    if isinstance(ref := status.get("$ref"), str):
        status = schema.get("definitions", {}).get(ref.rsplit("/", 1)[-1], {})
    for choice in _REFUSALS:
        if choice in status.get("enum", ()):
            try:
                validate(CallResult("", {"status": choice}, action), version)
            except OCPPError:
                return None
            return {"status": choice}
    return None


def refusal(version: str, action: str, payload: Payload) -> Payload:
    """The answer that refuses a command; raises NotSupportedError when none says so."""
    if action == "SetVariables":
        results = []
        for entry in payload["setVariableData"]:
            result = {"attributeStatus": "Rejected"}
            result |= {
                k: entry[k] for k in ("attributeType", "component", "variable") if k in entry
            }
            results.append(result)
        return {"setVariableResult": results}
    if (answer := _status_refusal(version, action)) is not None:
        return dict(answer)
    raise NotSupportedError(description=f"{action} is not passed on to this charger")


def _plain(payload: Payload) -> Payload:
    """JSON types only (the library's validation turns some 1.6 numbers into Decimal)."""
    plain: Payload = json.loads(json.dumps(payload, default=float))
    return plain


class CommandGate:
    """Answers the backend's commands according to the mode."""

    def __init__(
        self,
        settings: UpstreamSettings,
        charger: ChargerPort,
        ids: TransactionMap,
        registered: Callable[[], bool],
    ) -> None:
        """`registered` says whether the backend answered our boot (Accepted or Pending)."""
        self._version = settings.ocpp_version
        self._mode = settings.mode
        self._charger = charger
        self._ids = ids
        self._registered = registered

    def handlers(self) -> dict[str, CallHandler]:
        """One handler per command of the version."""
        return {
            action: functools.partial(self._relay, action) for action in COMMANDS[self._version]
        }

    async def _relay(self, action: str, payload: Payload) -> Apply:
        """`handle` as a connection handler: relaying changes nothing of ours, so the step
        that applies the message only answers (see connection.Apply)."""
        answer = await self.handle(action, payload)
        return lambda: answer

    async def handle(self, action: str, payload: Payload) -> Payload:
        """Refuse, or pass on and relay the charger's answer (errors as OCPP errors)."""
        if not self._registered():
            raise SecurityError(description="BootNotification was not accepted")
        if self._mode is UpstreamMode.OBSERVE or is_protected(self._version, action, payload):
            return refusal(self._version, action, payload)
        command = _plain(payload)
        if self._version == "1.6":
            if (translated := to_charger(action, command, self._ids)) is None:
                _LOGGER.debug("refusing %s for a transaction id not mapped to ours", action)
                return refusal(self._version, action, payload)
            command = translated
        try:
            return await self._charger.call(action, command)
        except CallErrorReceived as err:
            raise RelayedError(err.code, err.description) from err
        except CallTimeoutError as err:
            raise GenericError(description="The charger did not answer in time") from err
        except NotConnectedError as err:
            raise GenericError(description="The charger is not connected") from err
