"""OCPP 2.x requests answered by a series of messages: the device model (GetBaseReport,
NotifyReport; GetVariables, SetVariables) and the charging profiles a station holds
(GetChargingProfiles, ReportChargingProfiles), and clearing them by criteria."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from ocpp.exceptions import TypeConstraintViolationError

from ..core.bounds import MAX_CONNECTORS
from ..core.status import snake
from ..wire.connection import Apply, CallErrorReceived, CallTimeoutError, Payload
from . import ChargerProtocol
from .charging_profiles import PURPOSES, reported_profiles

# Messages of one report taken at most (each is a frame of at most 256 KiB).
MAX_REPORT_PARTS = 500
# How many variables one SetVariables may carry (the station's own limit).
SET_VARIABLES_LIMIT_KEY = "DeviceDataCtrlr//ItemsPerMessage/SetVariables"


def parse_key(key: str) -> Payload:
    """`Component[/instance]/Variable[/instance]` to a component/variable pair."""
    parts = key.split("/")
    if len(parts) == 2:
        component, variable = {"name": parts[0]}, {"name": parts[1]}
    elif len(parts) == 3:
        component, variable = {"name": parts[0], "instance": parts[1]}, {"name": parts[2]}
    elif len(parts) == 4:
        component = {"name": parts[0], "instance": parts[1]}
        variable = {"name": parts[2], "instance": parts[3]}
    else:
        raise ValueError(key)
    for part in (component, variable):
        if not part["name"] or part.get("instance") == "":
            part.pop("instance", None)
        if not part["name"]:
            raise ValueError(key)
    return {"component": component, "variable": variable}


def format_key(component: Payload, variable: Payload) -> str:
    """A component/variable pair as `Component[/instance]/Variable[/instance]`."""
    parts = [component["name"]]
    if component.get("instance"):
        parts.append(component["instance"])
    parts.append(variable["name"])
    if variable.get("instance"):
        if not component.get("instance"):
            parts.insert(1, "")
        parts.append(variable["instance"])
    return "/".join(parts)


_REPORT_BASES = {
    "configuration_inventory": "ConfigurationInventory",
    "summary_inventory": "SummaryInventory",
    "full_inventory": "FullInventory",
}


def _variable_status(status: str) -> str:
    """A SetVariables attributeStatus as a set_configuration status."""
    if status in ("UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"):
        return "not_supported"
    return snake(status)


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else 0
    except ValueError:
        return None
    return number if number > 0 else None


class V201Reports(ChargerProtocol):
    """The report-driven part of a 2.x station's protocol handler."""

    _request_ids: Iterator[int]
    # Requests answered by a series of messages (NotifyReport ...), by request id.
    _reports: dict[int, tuple[list[Payload], asyncio.Future[list[Payload]]]]

    def _report_part(self, payload: Payload) -> Apply:
        """One of the messages answering a request of ours (NotifyReport ...); those
        answering nothing we asked are acknowledged and dropped."""
        self._charger()
        request_id = payload["requestId"]
        if type(request_id) is not int:
            raise TypeConstraintViolationError(description="requestId must be an integer")

        def apply() -> Payload:
            if (pending := self._reports.get(request_id)) is not None:
                parts, future = pending
                if not future.done():
                    parts.append(payload)
                    # A station that never ends its report must not grow it without end.
                    if not payload.get("tbc") or len(parts) >= MAX_REPORT_PARTS:
                        future.set_result(parts)
            return {}

        return apply

    async def _collect(self, action: str, payload: Payload) -> tuple[str, list[Payload]]:
        """Send a request answered by a series of messages; return its status and them."""
        request_id = payload["requestId"]
        future: asyncio.Future[list[Payload]] = asyncio.get_running_loop().create_future()
        self._reports[request_id] = ([], future)
        try:
            answer = await self.connection.call(action, payload)
            status = str(answer.get("status", "Rejected"))
            if status != "Accepted":
                return status, []
            try:
                async with asyncio.timeout(self.connection.call_timeout):
                    return status, await future
            except TimeoutError as err:
                raise CallTimeoutError(f"{action} (its report)") from err
        finally:
            self._reports.pop(request_id, None)

    async def _inventory(self, report_base: str) -> tuple[str, list[Payload]]:
        """GetBaseReport: its status and the `Actual` value of every variable reported, as
        {"key", "value", "readonly"} (the first value of a key wins)."""
        status, reports = await self._collect(
            "GetBaseReport", {"requestId": next(self._request_ids), "reportBase": report_base}
        )
        found: dict[str, Payload] = {}
        for item in (item for report in reports for item in report.get("reportData") or ()):
            component, variable = item["component"], item["variable"]
            evse = (component.get("evse") or {}).get("id")
            for attribute in item.get("variableAttribute") or ():
                if attribute.get("type", "Actual") == "Actual" and "value" in attribute:
                    key = format_key(component, variable)
                    if evse is not None and component["name"] in ("EVSE", "Connector"):
                        key = f"{component['name']}/{evse}/{variable['name']}"
                    found.setdefault(
                        key,
                        {
                            "key": key,
                            "value": str(attribute["value"]),
                            "readonly": attribute.get("mutability") == "ReadOnly",
                        },
                    )
        return status, list(found.values())

    async def read_configuration(self) -> dict[str, str]:
        """Actual values of the whole device model (GetBaseReport FullInventory)."""
        _, items = await self._inventory("FullInventory")
        return {item["key"]: item["value"] for item in items}

    def connector_ids(self, configuration: dict[str, str]) -> list[int]:
        """EVSE ids the device model reports."""
        ids = set()
        for key in configuration:
            name, _, rest = key.partition("/")
            if name == "EVSE" and rest.split("/")[0].isdigit():
                ids.add(int(rest.split("/")[0]))
        return sorted(i for i in ids if 0 < i <= MAX_CONNECTORS)

    async def get_configuration(
        self, keys: list[str] | None, report_type: str | None = None
    ) -> Payload:
        """GetVariables for the listed keys, or a report of the device model (GetBaseReport
        of `report_type`; the whole model by default)."""
        if not keys:
            report_base = _REPORT_BASES[report_type or "full_inventory"]
            status, items = await self._inventory(report_base)
            if report_type is not None and status not in ("Accepted", "EmptyResultSet"):
                raise CallErrorReceived(status, f"{report_base} report refused")
            return {"keys": sorted(items, key=lambda item: item["key"]), "unknown_keys": []}
        requested, unknown = [], []
        for key in keys:
            try:
                requested.append((key, parse_key(key)))
            except ValueError:
                unknown.append(key)
        result: Payload = {"keys": [], "unknown_keys": unknown}
        if not requested:
            return result
        answer = await self.connection.call(
            "GetVariables", {"getVariableData": [data for _, data in requested]}
        )
        for (key, _), item in zip(requested, answer.get("getVariableResult", []), strict=False):
            if item.get("attributeStatus") == "Accepted":
                result["keys"].append(
                    {"key": key, "value": item.get("attributeValue"), "readonly": False}
                )
            else:
                result["unknown_keys"].append(key)
        return result

    async def set_configuration(self, key: str, value: str) -> str:
        """SetVariables; returns accepted, reboot_required, rejected or not_supported."""
        return (await self.set_configurations({key: value}))[key]

    async def set_configurations(self, values: dict[str, str]) -> dict[str, str]:
        """SetVariables with every key at once (in as few messages as the station takes);
        each key's accepted, reboot_required, rejected or not_supported."""
        results = {key: "not_supported" for key in values}  # malformed keys: never sent
        items = []
        for key, value in values.items():
            try:
                items.append((key, {**parse_key(key), "attributeValue": value}))
            except ValueError:
                continue
        size = _positive_int(self.port.configuration.get(SET_VARIABLES_LIMIT_KEY))
        for start in range(0, len(items), size or len(items) or 1):
            chunk = items[start : start + (size or len(items))]
            answer = await self.connection.call(
                "SetVariables", {"setVariableData": [data for _, data in chunk]}
            )
            answered = {
                format_key(item["component"], item["variable"]): item.get("attributeStatus")
                for item in answer.get("setVariableResult") or ()
                if "component" in item and "variable" in item
            }
            for key, data in chunk:
                status = answered.get(format_key(data["component"], data["variable"]), "Rejected")
                results[key] = _variable_status(str(status))
        return results

    # --- charging profiles ---------------------------------------------------------------

    def _clear_criteria(
        self, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> Payload:
        criteria: Payload = {}
        if connector_id is not None:
            criteria["evseId"] = connector_id
        if purpose is not None:
            criteria["chargingProfilePurpose"] = PURPOSES[purpose]
        if stack_level is not None:
            criteria["stackLevel"] = stack_level
        return {"chargingProfileCriteria": criteria}

    async def get_charging_profiles(
        self, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> list[Payload]:
        """GetChargingProfiles, collecting the ReportChargingProfiles that answer it."""
        criteria: Payload = {}
        if purpose is not None:
            criteria["chargingProfilePurpose"] = PURPOSES[purpose]
        if stack_level is not None:
            criteria["stackLevel"] = stack_level
        payload: Payload = {"requestId": next(self._request_ids), "chargingProfile": criteria}
        if connector_id is not None:
            payload["evseId"] = connector_id
        _, reports = await self._collect("GetChargingProfiles", payload)
        try:
            return [profile for report in reports for profile in reported_profiles(report)]
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            # Only reachable for reports lenient mode let through.
            raise CallErrorReceived("FormatViolation", "malformed ReportChargingProfiles") from err
