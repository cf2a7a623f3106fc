"""A scripted OCPP 1.6 charger: an `ocpp` library charge point over a real websocket that
records every call it receives and answers with configurable statuses (see scripted.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
import json
from typing import Any

from ocpp.charge_point import camel_to_snake_case
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection

from .scripted import LOGGER, Recorder, serving


class SimCharger(Recorder, ChargePoint):
    """Records every call it receives and answers with configurable statuses."""

    def __init__(self, charger_id: str, connection: ClientConnection) -> None:
        super().__init__(charger_id, connection, response_timeout=5, logger=LOGGER)
        self.start_recording()
        self.answers: dict[str, str] = {}
        self.silent: set[str] = set()  # actions never answered (see `unanswered`)
        self.errors: dict[str, str] = {}  # actions answered with a CallError of this code
        self.unanswered: list[tuple[str, str, dict[str, Any]]] = []  # (action, unique id, payload)
        self.frames: list[str] = []  # every frame received from the central system
        self.configuration = {}
        self.kept_schedule: dict[str, Any] | None = None

    async def route_message(self, raw_msg: str) -> None:
        """Record every frame; swallow calls whose action is in `silent`."""
        self.frames.append(raw_msg)
        try:
            msg = json.loads(raw_msg)
        except ValueError:
            msg = None
        if isinstance(msg, list) and len(msg) == 4 and msg[0] == 2 and msg[2] in self.silent:
            self.unanswered.append((msg[2], msg[1], msg[3]))
            self.record(msg[2], camel_to_snake_case(msg[3]))
            return
        if isinstance(msg, list) and len(msg) == 4 and msg[0] == 2 and msg[2] in self.errors:
            self.record(msg[2], camel_to_snake_case(msg[3]))
            await self._connection.send(
                json.dumps([4, msg[1], self.errors[msg[2]], "refused by the test", {}])
            )
            return
        await super().route_message(raw_msg)

    async def answer(self, unique_id: str, payload: dict[str, Any]) -> None:
        """Answer a call by hand (one that was swallowed because its action was silent)."""
        await self._connection.send(json.dumps([3, unique_id, payload]))

    @on(Action.remote_start_transaction)
    def on_remote_start(self, **kwargs: Any) -> call_result.RemoteStartTransaction:
        self.record("RemoteStartTransaction", kwargs)
        return call_result.RemoteStartTransaction(
            status=self.answers.get("RemoteStartTransaction", "Accepted")
        )

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, **kwargs: Any) -> call_result.RemoteStopTransaction:
        self.record("RemoteStopTransaction", kwargs)
        return call_result.RemoteStopTransaction(
            status=self.answers.get("RemoteStopTransaction", "Accepted")
        )

    @on(Action.trigger_message)
    def on_trigger(self, **kwargs: Any) -> call_result.TriggerMessage:
        self.record("TriggerMessage", kwargs)
        return call_result.TriggerMessage(status=self.answers.get("TriggerMessage", "Accepted"))

    # --- charging control and maintenance (answers from `answers`, default Accepted) ---

    configuration: dict[str, tuple[str, bool]] = {}  # key -> (value, readonly); set per test
    composite: dict[str, Any] | None = None  # GetCompositeSchedule answer payload (snake_case)
    # GetCompositeSchedule answers with the schedule of the latest accepted profile (a
    # charger that keeps what it is given), unless `composite` is set.
    echo_composite = False
    # Profiles with more periods than this are rejected (a charger without multi-period
    # schedules); None: any number.
    max_periods: int | None = None

    def _status(self, action: str, default: str = "Accepted") -> str:
        return self.answers.get(action, default)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **kwargs: Any) -> call_result.SetChargingProfile:
        self.record("SetChargingProfile", kwargs)
        schedule = kwargs["cs_charging_profiles"]["charging_schedule"]
        if self.max_periods is not None and (
            len(schedule["charging_schedule_period"]) > self.max_periods
        ):
            return call_result.SetChargingProfile(status="Rejected")
        status = self._status("SetChargingProfile")
        if status == "Accepted":
            # Plain numbers (the library reads them as Decimal, which it cannot send back).
            self.kept_schedule = json.loads(json.dumps(schedule, default=float))
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **kwargs: Any) -> call_result.ClearChargingProfile:
        self.record("ClearChargingProfile", kwargs)
        return call_result.ClearChargingProfile(status=self._status("ClearChargingProfile"))

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, **kwargs: Any) -> call_result.GetCompositeSchedule:
        self.record("GetCompositeSchedule", kwargs)
        if self.composite is None and self.echo_composite and self.kept_schedule is not None:
            return call_result.GetCompositeSchedule(
                status="Accepted",
                connector_id=kwargs["connector_id"],
                schedule_start=self.kept_schedule.get("start_schedule"),
                charging_schedule=self.kept_schedule,
            )
        if self.composite is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(**self.composite)

    @on(Action.change_availability)
    def on_change_availability(self, **kwargs: Any) -> call_result.ChangeAvailability:
        self.record("ChangeAvailability", kwargs)
        return call_result.ChangeAvailability(status=self._status("ChangeAvailability"))

    @on(Action.reset)
    def on_reset(self, **kwargs: Any) -> call_result.Reset:
        self.record("Reset", kwargs)
        return call_result.Reset(status=self._status("Reset"))

    @on(Action.unlock_connector)
    def on_unlock(self, **kwargs: Any) -> call_result.UnlockConnector:
        self.record("UnlockConnector", kwargs)
        return call_result.UnlockConnector(status=self._status("UnlockConnector", "Unlocked"))

    @on(Action.update_firmware)
    def on_update_firmware(self, **kwargs: Any) -> call_result.UpdateFirmware:
        self.record("UpdateFirmware", kwargs)
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, **kwargs: Any) -> call_result.GetDiagnostics:
        self.record("GetDiagnostics", kwargs)
        return call_result.GetDiagnostics(file_name=self.answers.get("GetDiagnostics"))

    @on(Action.get_configuration)
    def on_get_configuration(self, **kwargs: Any) -> call_result.GetConfiguration:
        self.record("GetConfiguration", kwargs)
        wanted = kwargs.get("key") or list(self.configuration)
        known = [k for k in wanted if k in self.configuration]
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "value": self.configuration[k][0], "readonly": self.configuration[k][1]}
                for k in known
            ],
            unknown_key=[k for k in wanted if k not in self.configuration] or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, **kwargs: Any) -> call_result.ChangeConfiguration:
        self.record("ChangeConfiguration", kwargs)
        status = self._status("ChangeConfiguration")
        if status in ("Accepted", "RebootRequired") and kwargs["key"] in self.configuration:
            self.configuration[kwargs["key"]] = (kwargs["value"], False)
        return call_result.ChangeConfiguration(status=status)

    @on(Action.data_transfer)
    def on_data_transfer(self, **kwargs: Any) -> call_result.DataTransfer:
        self.record("DataTransfer", kwargs)
        return call_result.DataTransfer(
            status=self._status("DataTransfer"), data=self.answers.get("DataTransferData")
        )

    @on(Action.reserve_now)
    def on_reserve_now(self, **kwargs: Any) -> call_result.ReserveNow:
        self.record("ReserveNow", kwargs)
        return call_result.ReserveNow(status=self._status("ReserveNow"))

    local_list_version: int = 0

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **kwargs: Any) -> call_result.GetLocalListVersion:
        self.record("GetLocalListVersion", kwargs)
        return call_result.GetLocalListVersion(list_version=self.local_list_version)

    @on(Action.send_local_list)
    def on_send_local_list(self, **kwargs: Any) -> call_result.SendLocalList:
        self.record("SendLocalList", kwargs)
        status = self._status("SendLocalList")
        if status == "Accepted":
            self.local_list_version = kwargs["list_version"]
        return call_result.SendLocalList(status=status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, **kwargs: Any) -> call_result.CancelReservation:
        self.record("CancelReservation", kwargs)
        return call_result.CancelReservation(status=self._status("CancelReservation"))

    async def boot(self, vendor: str = "Acme", model: str = "Wallbox 11", **kwargs: Any) -> Any:
        """Send a BootNotification."""
        return await self.call(
            call.BootNotification(charge_point_vendor=vendor, charge_point_model=model, **kwargs)
        )

    async def status(
        self, connector_id: int, status: str, error_code: str = "NoError", **kw: Any
    ) -> None:
        """Send a StatusNotification."""
        await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code=error_code, status=status, **kw
            )
        )

    async def meter_values(
        self,
        connector_id: int,
        sampled: list[dict[str, Any]],
        timestamp: str = "2026-01-01T00:00:00Z",
        **kw: Any,
    ) -> None:
        """Send a MeterValues with one meterValue holding the `sampled` values."""
        await self.call(
            call.MeterValues(
                connector_id=connector_id,
                meter_value=[{"timestamp": timestamp, "sampledValue": sampled}],
                **kw,
            )
        )


@contextlib.asynccontextmanager
async def connected_charger(
    port: int,
    charger_id: str = "CP1",
    *,
    subprotocols: list[str] | None = None,
    path_prefix: str = "",
    **connect_kwargs: Any,
) -> AsyncIterator[SimCharger]:
    """Connect a scripted charger and serve its incoming calls while in the block.
    `subprotocols=[]` offers none: no Sec-WebSocket-Protocol header at all (as such chargers do)."""
    async with serving(
        f"ws://127.0.0.1:{port}/{path_prefix}{charger_id}",
        ["ocpp1.6"] if subprotocols is None else subprotocols,
        lambda websocket: SimCharger(charger_id, websocket),
        **connect_kwargs,
    ) as charger:
        yield charger
