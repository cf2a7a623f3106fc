"""User commands shared by entities and services, with their error semantics."""

from __future__ import annotations

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .central import CentralSystem
from .const import DEFAULT_REMOTE_ID_TAG, DOMAIN, ID_TAG_MAX_LENGTH
from .model import Charger


def _connector(charger: Charger, connector_id: int) -> None:
    if connector_id not in charger.outlet_ids:
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
    central: CentralSystem, charger: Charger, connector_id: int, id_tag: str | None
) -> None:
    """Ask the charger to start a session on a connector."""
    id_tag = id_tag or DEFAULT_REMOTE_ID_TAG
    if not 0 < len(id_tag) <= ID_TAG_MAX_LENGTH:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="id_tag_too_long",
            translation_placeholders={"max": str(ID_TAG_MAX_LENGTH)},
        )
    _connector(charger, connector_id)
    central.session(charger.charger_id)  # offline is a validation error, before anything else
    central.remote_id_tags.add(id_tag)
    accepted: bool = await central.run_command(
        charger.charger_id, lambda session: session.remote_start(connector_id, id_tag)
    )
    if not accepted:
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
