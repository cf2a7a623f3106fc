"""User commands shared by entities and services, with their error semantics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .central import CentralSystem
from .const import DEFAULT_REMOTE_ID_TAG, DOMAIN, ID_TAG_MAX_LENGTH
from .core.limits import ChargingLimit
from .core.model import Charger
from .protocol import ChargerProtocol
from .wire.connection import CallErrorReceived


def _connector(charger: Charger, connector_id: int, *, station: bool = False) -> None:
    """A connector of the charger must exist; with `station`, 0 (the whole charger) may."""
    if not (station and connector_id == 0) and connector_id not in charger.outlet_ids:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_connector",
            translation_placeholders={
                "charger_id": charger.charger_id,
                "connector_id": str(connector_id),
            },
        )


def _rejected(charger: Charger, action: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_rejected",
        translation_placeholders={"charger_id": charger.charger_id, "action": action},
    )


async def async_start_charging(
    central: CentralSystem,
    charger: Charger,
    connector_id: int,
    id_tag: str | None,
    context: Context | None = None,
) -> None:
    """Ask the charger to start a session on a connector.

    The session is attributed to the user behind `context` (the call's), if any.
    """
    id_tag = id_tag or DEFAULT_REMOTE_ID_TAG
    if not 0 < len(id_tag) <= ID_TAG_MAX_LENGTH:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="id_tag_too_long",
            translation_placeholders={"max": str(ID_TAG_MAX_LENGTH)},
        )
    _connector(charger, connector_id)
    central.session(charger.charger_id)  # offline is a validation error, before anything else
    central.authorization.remember_remote(id_tag)
    starts = central.ledger.remote_starts
    pending = None
    if (starter := await starts.async_starter(context)) is not None:
        # Before the call: a charger may send its StartTransaction before its answer.
        pending = starts.expect(charger.charger_id, connector_id, id_tag, starter, dt_util.utcnow())
    try:
        accepted: bool = await central.run_command(
            charger.charger_id, lambda session: session.remote_start(connector_id, id_tag)
        )
    except HomeAssistantError:
        if pending is not None:
            starts.cancel(pending)
        raise
    if not accepted:
        if pending is not None:
            starts.cancel(pending)
        raise _rejected(charger, "start")


async def async_stop_charging(central: CentralSystem, charger: Charger, connector_id: int) -> None:
    """Ask the charger to stop the session on a connector."""
    _connector(charger, connector_id)
    central.session(charger.charger_id)
    tx = charger.connectors[connector_id].transaction
    if tx is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_transaction",
            translation_placeholders={
                "charger_id": charger.charger_id,
                "connector_id": str(connector_id),
            },
        )
    transaction_id = tx.transaction_id
    accepted: bool = await central.run_command(
        charger.charger_id, lambda session: session.remote_stop(transaction_id)
    )
    if not accepted:
        raise _rejected(charger, "stop")


def status_error(charger: Charger, action: str, status: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={
            "charger_id": charger.charger_id,
            "action": action,
            "status": status,
        },
    )


def to_amps(
    central: CentralSystem, charger: Charger, amps: float | None, watts: float | None
) -> float:
    """A limit in amps from amps or watts, checked against the charger's range."""
    settings = central.electrical_settings(charger.charger_id)
    if amps is not None:
        value, digits = amps, 1
    else:
        # Kept to 0.1 mA: a charger that takes W gets back the watts asked for (to 0.1 W);
        # a charger that takes A gets 0.1 A steps anyway.
        value, digits = settings.watts_to_amps(watts or 0.0), 4
    if not 0 <= value <= settings.max_current:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="limit_out_of_range",
            translation_placeholders={
                "limit": f"{value:.1f}",
                "max": f"{settings.max_current:g}",
            },
        )
    return round(value, digits)


def _limit_refused(charger: Charger, status: str) -> HomeAssistantError:
    """What the charger answered to a limit, plainly: Rejected or NotSupported."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="limit_not_supported" if status == "not_supported" else "limit_rejected",
        translation_placeholders={"charger_id": charger.charger_id},
    )


async def async_set_charging_limit(
    central: CentralSystem, charger: Charger, connector_id: int, limit: ChargingLimit
) -> None:
    """Set (and remember) the limit of a connector or of the whole charger (connector 0);
    it is re-applied when the charger returns. A station maximum is sent, not kept."""
    _connector(charger, connector_id, station=True)
    session = central.session(charger.charger_id)
    conn = charger.connectors[connector_id]
    previous = conn.limit

    async def send(_: ChargerProtocol) -> str:
        try:
            if limit.station_max:
                return await session.set_charging_limit(connector_id, limit, None)
            return await central.apply_limit(session, charger, conn)
        except CallErrorReceived as err:
            # The error's code says it; its description may quote our whole request.
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="limit_call_error",
                translation_placeholders={"charger_id": charger.charger_id, "code": err.code},
            ) from err

    if not limit.station_max:
        conn.limit = limit
    try:
        status: str = await central.run_command(charger.charger_id, send)
    except HomeAssistantError:
        conn.limit = previous
        charger.notify((connector_id,))
        raise
    if status != "accepted":
        conn.limit = previous
        charger.notify((connector_id,))
        raise _limit_refused(charger, status)
    central.save_soon(0)
    charger.notify((connector_id,))


async def async_clear_charging_limit(
    central: CentralSystem,
    charger: Charger,
    connector_id: int | None,
    purpose: str | None = None,
    stack_level: int | None = None,
) -> None:
    """Remove our charging profiles from a connector (0: the whole charger), or, with a
    purpose or stack level, every profile matching them (on every connector when None).
    The limits of ours that went with them are forgotten, so they are not re-applied."""
    if connector_id is not None:
        _connector(charger, connector_id, station=True)
    session = central.session(charger.charger_id)
    if purpose is None and stack_level is None:
        assert connector_id is not None  # without criteria, a connector (or 0) is named
        target = connector_id
        await central.run_command(charger.charger_id, lambda s: s.clear_charging_limit(target))
    else:
        await central.run_command(
            charger.charger_id,
            lambda s: s.clear_charging_profiles(connector_id, purpose, stack_level),
        )
    ours = stack_level is None or stack_level == session.stack_level()
    cleared = (
        [charger.connectors[connector_id]]
        if connector_id is not None
        else list(charger.connectors.values())
    )
    for conn in cleared:
        sent_as = "tx" if conn.limit_in_transaction else "tx_default"
        if ours and purpose in (None, sent_as):
            conn.limit = None
    central.save_soon(0)
    charger.notify(conn.connector_id for conn in cleared)


async def async_set_availability(
    central: CentralSystem,
    charger: Charger,
    connector_id: int,
    available: bool,
    evse_connector: int | None = None,
) -> str:
    """ChangeAvailability for the charger (connector 0), one connector, or one plug of a
    connector (`evse_connector`, OCPP 2.x)."""
    if connector_id:
        _connector(charger, connector_id)
    elif evse_connector is not None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="evse_connector_needs_connector"
        )
    central.session(charger.charger_id)
    status: str = await central.run_command(
        charger.charger_id, lambda s: s.change_availability(connector_id, available, evse_connector)
    )
    if status not in ("accepted", "scheduled"):
        raise status_error(charger, "availability", status)
    return status


async def async_reset(
    central: CentralSystem, charger: Charger, hard: bool, connector_id: int | None = None
) -> None:
    """Reset the charger, or one of its connectors (an EVSE, OCPP 2.x)."""
    if connector_id is not None:
        _connector(charger, connector_id)
    central.session(charger.charger_id)
    if not await central.run_command(charger.charger_id, lambda s: s.reset(hard, connector_id)):
        raise _rejected(charger, "reset")


async def async_unlock(central: CentralSystem, charger: Charger, connector_id: int) -> None:
    """Unlock a connector; failure and lack of support are errors the user sees."""
    _connector(charger, connector_id)
    central.session(charger.charger_id)
    status: str = await central.run_command(charger.charger_id, lambda s: s.unlock(connector_id))
    if status != "unlocked":
        raise status_error(charger, "unlock", status)


async def async_call_status(
    central: CentralSystem,
    charger: Charger,
    action: str,
    command: Callable[[ChargerProtocol], Awaitable[str]],
    ok: tuple[str, ...],
) -> str:
    """Run a command answering a status; statuses outside `ok` raise."""
    status = await central.run_command(charger.charger_id, command)
    if status not in ok:
        raise status_error(charger, action, status)
    return status
