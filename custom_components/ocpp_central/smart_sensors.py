"""Smart charging's sensors of a connector: what it may draw now and why, and its plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import Platform, UnitOfElectricCurrent
from homeassistant.util import dt as dt_util

from .central import CentralSystem
from .core.model import Charger, Connector
from .core.planner import PLAN_STATUSES, Plan
from .core.smart import LimitSource
from .entity import OcppEntity, OcppEntityDescription

# At most this many of the plan's periods in the attributes (HA's recorder keeps them).
MAX_PERIODS_SHOWN = 96


@dataclass(frozen=True, kw_only=True)
class SmartSensorDescription(OcppEntityDescription, SensorEntityDescription):
    """Sensor description."""


def plan_attributes(plan: Plan | None) -> dict[str, Any]:
    """The plan's periods (start, end, price, expected energy) and what it should cost."""
    if plan is None:
        return {"periods": [], "estimated_cost": None, "energy": None, "deferred_energy": None}
    return {
        "periods": [
            {
                "start": dt_util.as_local(slot.start).isoformat(),
                "end": dt_util.as_local(slot.end).isoformat(),
                "price": None if slot.price is None else round(slot.price, 4),
                "energy": round(slot.energy_kwh, 3),
            }
            for slot in plan.slots[:MAX_PERIODS_SHOWN]
        ],
        "estimated_cost": round(plan.estimated_cost, 2),
        "energy": round(plan.energy_kwh, 3),
        "deferred_energy": round(plan.deferred_kwh, 3),
    }


# Not diagnostic: they answer the homeowner's first questions, "why does my car charge
# slowly?" and "when will it charge?".
SMART_SENSORS = (
    SmartSensorDescription(
        key="limit_source",
        device_class=SensorDeviceClass.ENUM,
        options=[source.value for source in LimitSource],
        value_fn=lambda charger, conn: conn.smart.source,
    ),
    SmartSensorDescription(
        key="allocated_current",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=0,
        value_fn=lambda charger, conn: conn.smart.allocated,
    ),
    SmartSensorDescription(
        key="plan_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(PLAN_STATUSES),
        live=False,
        value_fn=lambda charger, conn: conn.smart.plan_status,
    ),
    SmartSensorDescription(
        key="planned_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        live=False,
        value_fn=lambda charger, conn: conn.smart.planned_start,
        attrs_fn=lambda charger, conn: plan_attributes(conn.smart.plan),
    ),
)


class SmartSensor(OcppEntity, SensorEntity):
    """A smart charging sensor reading the model."""

    entity_description: SmartSensorDescription

    @property
    def native_value(self) -> str | int | float | datetime | None:
        """The value read from the model."""
        return self._value  # type: ignore[no-any-return]


def smart_sensors(central: CentralSystem, charger: Charger, conn: Connector) -> list[OcppEntity]:
    """A connector's smart charging sensors."""
    return [
        SmartSensor(central, charger, conn.connector_id, description, Platform.SENSOR)
        for description in SMART_SENSORS
    ]
