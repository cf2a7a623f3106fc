"""Base entity: a thin view on the model, written only when its value changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import time
from typing import Any

from homeassistant.const import EntityCategory
from homeassistant.core import Context, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .cause import current_cause
from .central import CentralSystem
from .const import DOMAIN
from .core.model import Charger, Connector


@dataclass(frozen=True, kw_only=True)
class OcppEntityDescription(EntityDescription):
    """Entity description with how to read the value from the model."""

    # Live readings are unavailable while the charger is offline; facts (energy,
    # sessions, firmware) keep their last known value.
    live: bool = True
    value_fn: Callable[[Charger, Connector], Any] = lambda charger, conn: None
    attrs_fn: Callable[[Charger, Connector], dict[str, Any]] | None = None
    # A connector entity that repeats a charger entity while the charger has one outlet
    # (connector_status repeats status) takes this category there, out of the dashboard.
    single_outlet_category: EntityCategory | None = None


# How long HA attributes an entity's changes to the action called on it (HA's own "recent
# context" time): a charger message within it does not take the attribution over.
CALL_CONTEXT_SECONDS = 5


class OcppEntity(Entity):
    """An entity of a charger (connector_id None) or of one of its connectors."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: OcppEntityDescription

    def __init__(
        self,
        central: CentralSystem,
        charger: Charger,
        connector_id: int | None,
        description: OcppEntityDescription,
        platform: str,
    ) -> None:
        """Initialize."""
        self.central = central
        self.charger = charger
        self.connector_id = connector_id
        self.entity_description = description
        if description.translation_key is None:
            self._attr_translation_key = description.key
        cid = charger.charger_id
        if connector_id is None:
            self._attr_unique_id = f"{cid}_{description.key}"
        else:
            self._attr_unique_id = f"{cid}_{connector_id}_{description.key}"
            # A subclass may have chosen its category before this (session_cost does).
            category = (
                self._attr_entity_category
                if hasattr(self, "_attr_entity_category")
                else description.entity_category
            )
            central.devices.track_connector_entity(
                cid, connector_id, platform, self._attr_unique_id, category
            )
            if description.single_outlet_category and len(charger.outlet_ids) <= 1:
                self._attr_entity_category = description.single_outlet_category
        self._value: Any = None
        self._attrs: dict[str, Any] | None = None
        self._was_available: bool | None = None
        self._call_context_until = 0.0

    @property
    def connector(self) -> Connector:
        """The connector this entity shows (connector 0 for charger-level entities)."""
        return self.charger.connectors[self.connector_id or 0]

    @property
    def device_info(self) -> DeviceInfo:
        """Charger device, or the connector's child device on multi-outlet chargers."""
        identifier = self.central.devices.device_identifier(self.charger, self.connector_id or 0)
        return DeviceInfo(identifiers={(DOMAIN, identifier)})

    @property
    def available(self) -> bool:
        """Live readings need a connected charger."""
        return self.charger.connected or not self.entity_description.live

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes, where the description defines them."""
        return self._attrs

    def _read(self) -> tuple[Any, dict[str, Any] | None]:
        description = self.entity_description
        conn = self.connector
        attrs = description.attrs_fn(self.charger, conn) if description.attrs_fn else None
        return description.value_fn(self.charger, conn), attrs

    async def async_added_to_hass(self) -> None:
        """Follow the model."""
        self.async_on_remove(self.charger.add_listener(self.connector_id, self._on_model_update))
        self._value, self._attrs = self._read()
        self._was_available = self.available

    @callback
    def async_set_context(self, context: Context) -> None:
        """An action called on this entity (or one of ours): its changes are the call's."""
        super().async_set_context(context)
        self._call_context_until = time.monotonic() + CALL_CONTEXT_SECONDS

    @callback
    def _on_model_update(self) -> None:
        value, attrs = self._read()
        available = self.available
        if value == self._value and attrs == self._attrs and available == self._was_available:
            return
        self._value = value
        self._attrs = attrs
        self._was_available = available
        if (cause := current_cause()) is not None:
            if cause.from_call:
                self.async_set_context(cause.context)
            elif time.monotonic() > self._call_context_until:
                super().async_set_context(cause.context)
        self.async_write_ha_state()
