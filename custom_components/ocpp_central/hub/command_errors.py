"""A command on a connected charger, its protocol failures turned into translated HA errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.exceptions import OCPPError

from ..const import DOMAIN
from ..protocol import ChargerProtocol, NotInVersion
from ..wire.connection import CallErrorReceived, CallTimeoutError, NotConnectedError


async def run_command[T](
    session: ChargerProtocol, command: Callable[[ChargerProtocol], Awaitable[T]]
) -> T:
    """Run `command` on a charger's handler; what goes wrong reaches the user translated."""
    placeholders = {"charger_id": session.charger_id}
    try:
        return await command(session)
    except NotConnectedError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="charger_offline",
            translation_placeholders=placeholders,
        ) from err
    except (TimeoutError, CallTimeoutError) as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="charger_timeout",
            translation_placeholders=placeholders,
        ) from err
    except CallErrorReceived as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="charger_call_error",
            translation_placeholders={**placeholders, "error": str(err)},
        ) from err
    except NotInVersion as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="action_not_in_version" if err.action else "field_not_in_version",
            translation_placeholders={
                **placeholders,
                "name": err.name,
                "version": session.connection.ocpp_version,
            },
        ) from err
    except OCPPError as err:
        # Our own check of the request (every call is checked against the charger's OCPP
        # schema before it goes out): a value the user gave that this charger cannot take.
        cause = err.details.get("cause") if isinstance(err.details, dict) else None
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_request",
            translation_placeholders={
                **placeholders,
                "error": str(cause or err.description or err.code)[:200],
            },
        ) from err
