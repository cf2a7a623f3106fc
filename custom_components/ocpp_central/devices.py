"""Devices of approved chargers (child devices for multi-outlet ones) and their entities.

Platforms register an EntityFactory once; entities are then made for every charger,
connector and measurand as they appear, without reloading the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.const import EntityCategory
from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .core.model import Charger, Connector
from .core.smart.state import SMART_ENTITIES

if TYPE_CHECKING:
    from .parts import CentralView


@dataclass(slots=True, frozen=True)
class EntityFactory[C: CentralView]:
    """How one platform makes entities for chargers, connectors and measurands (`C`: the
    central system the entities are given, CentralSystem; this module does not import it)."""

    charger: Callable[[C, Charger], Sequence[Entity]]
    connector: Callable[[C, Charger, Connector], Sequence[Entity]] | None = None
    measurand: Callable[[C, Charger, Connector, str], Sequence[Entity]] | None = None
    # Connector entities that exist only while smart charging is set up.
    smart: Callable[[C, Charger, Connector], Sequence[Entity]] | None = None
    # Entities only a charger with upstream settings has (made when it gets them).
    upstream: Callable[[C, Charger], Sequence[Entity]] | None = None


class ChargerDevices[C: CentralView]:
    """Devices and entities of one central system's chargers."""

    def __init__(self, central: C) -> None:
        """Start with no platforms registered."""
        self.central = central
        self._factories: list[tuple[EntityFactory[C], AddConfigEntryEntitiesCallback]] = []
        # Connector entities (platform, unique id, category on a multi-outlet charger), to
        # move them to a child device when a charger turns out to have several outlets.
        self._connector_unique_ids: dict[
            tuple[str, int], list[tuple[str, str, EntityCategory | None]]
        ] = {}

    def add_entities(self, charger: Charger) -> None:
        """Entities of every registered platform for a charger just added."""
        for factory, add in self._factories:
            self._spawn_charger(charger, factory, add)

    def add_upstream_entities(self, charger: Charger) -> None:
        """Entities for upstream settings a charger just got."""
        for factory, add in self._factories:
            self._spawn_upstream(charger, factory, add)

    def _spawn_upstream(
        self, charger: Charger, factory: EntityFactory[C], add: AddConfigEntryEntitiesCallback
    ) -> None:
        if factory.upstream is not None and self.central.upstreams.claim_entity(charger.charger_id):
            self._add(charger, add, factory.upstream(self.central, charger))

    def forget(self, charger_id: str) -> None:
        """A charger was removed."""
        for key in [key for key in self._connector_unique_ids if key[0] == charger_id]:
            del self._connector_unique_ids[key]

    @staticmethod
    def connector_identifier(charger_id: str, connector_id: int) -> str:
        """Device identifier of a connector's child device."""
        return f"{charger_id}-connector-{connector_id}"

    def device_identifier(self, charger: Charger, connector_id: int) -> str:
        """Identifier of the device that carries a connector's entities."""
        if connector_id > 0 and len(charger.outlet_ids) > 1:
            return self.connector_identifier(charger.charger_id, connector_id)
        return charger.charger_id

    def charger_name(self, charger_id: str) -> str:
        """The charger's title (the user may rename the subentry)."""
        sub_id = self.central.subentry_ids.get(charger_id)
        if sub_id and (sub := self.central.entry.subentries.get(sub_id)) is not None:
            return sub.title
        return charger_id

    def register(self, charger: Charger) -> None:
        """Create or update a charger's device (and its connectors' on multi-outlet chargers)."""
        dev_reg = dr.async_get(self.central.hass)
        subentry_id = self.central.subentry_ids[charger.charger_id]
        info = charger.info
        dev_reg.async_get_or_create(
            config_entry_id=self.central.entry.entry_id,
            config_subentry_id=subentry_id,
            identifiers={(DOMAIN, charger.charger_id)},
            name=self.charger_name(charger.charger_id),
            manufacturer=info.vendor,
            model=info.model,
            serial_number=info.serial,
            sw_version=info.firmware,
        )
        if len(charger.outlet_ids) > 1:
            for connector_id in charger.outlet_ids:
                self._register_connector_device(charger, connector_id)

    def _register_connector_device(self, charger: Charger, connector_id: int) -> dr.DeviceEntry:
        name = self.charger_name(charger.charger_id)
        return dr.async_get(self.central.hass).async_get_or_create(
            config_entry_id=self.central.entry.entry_id,
            config_subentry_id=self.central.subentry_ids[charger.charger_id],
            identifiers={(DOMAIN, self.connector_identifier(charger.charger_id, connector_id))},
            # "<charger name> Connector N", in Home Assistant's language
            translation_key="connector",
            translation_placeholders={"charger_name": name, "connector_id": str(connector_id)},
            manufacturer=charger.info.vendor,
            model=charger.info.model,
            via_device=(DOMAIN, charger.charger_id),
        )

    def device_id(self, charger_id: str) -> str | None:
        """HA device id of a charger."""
        device = dr.async_get(self.central.hass).async_get_device(
            identifiers={(DOMAIN, charger_id)}
        )
        return device.id if device else None

    @callback
    def add_entity_factory(
        self, factory: EntityFactory[C], add: AddConfigEntryEntitiesCallback
    ) -> None:
        """Register a platform; it gets entities for every charger, now and later."""
        self._factories.append((factory, add))
        for charger in self.central.chargers.values():
            self._spawn_charger(charger, factory, add)

    def _add(
        self, charger: Charger, add: AddConfigEntryEntitiesCallback, entities: Sequence[Entity]
    ) -> None:
        if entities:
            add(entities, config_subentry_id=self.central.subentry_ids[charger.charger_id])

    def _spawn_charger(
        self, charger: Charger, factory: EntityFactory[C], add: AddConfigEntryEntitiesCallback
    ) -> None:
        self._add(charger, add, factory.charger(self.central, charger))
        self._spawn_upstream(charger, factory, add)
        for connector_id, conn in sorted(charger.connectors.items()):
            if connector_id > 0:
                self._spawn_connector(charger, conn, factory, add)
            if factory.measurand is not None:
                for key in sorted(conn.measurands):
                    self._spawn_measurand(charger, conn, key, factory, add)

    def _spawn_connector(
        self,
        charger: Charger,
        conn: Connector,
        factory: EntityFactory[C],
        add: AddConfigEntryEntitiesCallback,
    ) -> None:
        if factory.connector is not None:
            self._add(charger, add, factory.connector(self.central, charger, conn))
        if factory.smart is not None and self.central.smart.enabled:
            self._add(charger, add, factory.smart(self.central, charger, conn))

    def add_smart_entities(self) -> None:
        """Smart charging was set up: its entities for every connector, without a reload."""
        for factory, add in self._factories:
            if factory.smart is None:
                continue
            for charger in self.central.chargers.values():
                for connector_id in charger.outlet_ids:
                    conn = charger.connectors[connector_id]
                    self._add(charger, add, factory.smart(self.central, charger, conn))

    def remove_smart_entities(self) -> None:
        """Smart charging's settings were removed: its entities go with them."""
        ent_reg = er.async_get(self.central.hass)
        for charger in self.central.chargers.values():
            for connector_id in charger.outlet_ids:
                tracked = self._connector_unique_ids.get((charger.charger_id, connector_id), [])
                for platform, key in SMART_ENTITIES:
                    unique_id = f"{charger.charger_id}_{connector_id}_{key}"
                    tracked[:] = [t for t in tracked if t[:2] != (platform, unique_id)]
                    if entity_id := ent_reg.async_get_entity_id(platform, DOMAIN, unique_id):
                        ent_reg.async_remove(entity_id)

    def _spawn_measurand(
        self,
        charger: Charger,
        conn: Connector,
        key: str,
        factory: EntityFactory[C],
        add: AddConfigEntryEntitiesCallback,
    ) -> None:
        assert factory.measurand is not None
        self._add(charger, add, factory.measurand(self.central, charger, conn, key))

    def track_connector_entity(
        self,
        charger_id: str,
        connector_id: int,
        platform: str,
        unique_id: str,
        category: EntityCategory | None,
    ) -> None:
        """Remember a connector entity, to move it to a child device later if needed."""
        self._connector_unique_ids.setdefault((charger_id, connector_id), []).append(
            (platform, unique_id, category)
        )

    def on_new_connector(self, charger: Charger, conn: Connector) -> None:
        """A connector appeared: its device (moving the first one's if needed) and entities."""
        if charger.charger_id not in self.central.subentry_ids:
            return
        if len(charger.outlet_ids) == 2:
            # The charger turned out to have several outlets: the first one's entities
            # move from the charger device to a child device of their own.
            first = (
                charger.outlet_ids[0]
                if charger.outlet_ids[0] != conn.connector_id
                else charger.outlet_ids[1]
            )
            device = self._register_connector_device(charger, first)
            ent_reg = er.async_get(self.central.hass)
            for platform, unique_id, category in self._connector_unique_ids.get(
                (charger.charger_id, first), []
            ):
                if entity_id := ent_reg.async_get_entity_id(platform, DOMAIN, unique_id):
                    ent_reg.async_update_entity(
                        entity_id, device_id=device.id, entity_category=category
                    )
        if len(charger.outlet_ids) > 1:
            self._register_connector_device(charger, conn.connector_id)
        for factory, add in self._factories:
            self._spawn_connector(charger, conn, factory, add)

    def on_new_measurand(self, charger: Charger, conn: Connector, key: str) -> None:
        """A measurand was reported for the first time: its sensor."""
        if charger.charger_id not in self.central.subentry_ids:
            return
        for factory, add in self._factories:
            if factory.measurand is not None:
                self._spawn_measurand(charger, conn, key, factory, add)
        self.central.save_soon()
