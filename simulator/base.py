"""What every simulated charger does, whatever its OCPP version: connect (and reconnect),
boot until Accepted, heartbeat, run charging sessions on each outlet, answer calls."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import logging
import random
import time
from typing import Any
import uuid

from ocpp.exceptions import InternalError, NotImplementedError as OcppNotImplementedError, OCPPError
from ocpp.messages import Call, MessageType, unpack, validate_payload
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .ev import Car, Meter
from .profiles import Profile, ProfileStore, parse_time

type Payload = dict[str, Any]
type After = Callable[[], Coroutine[Any, Any, None]] | None

# Stop reasons of a reset: the charger goes down with the session, nobody unplugs.
RESET_REASONS = ("SoftReset", "HardReset", "Reboot")


@dataclass(slots=True)
class Options:
    """Command line settings shared by every simulated charger."""

    url: str = "ws://127.0.0.1:9000"
    version: str = "1.6"
    connectors: int = 1
    interval: int = 10  # meter sample interval, s
    password: str | None = None
    id_tag: str = "SIMTAG01"
    session: float = 300.0  # average session length, s
    idle: float = 60.0  # average pause between sessions, s
    max_current: float = 16.0  # per phase, A
    vendor: str = "OCPP Simulator"  # 1.6 allows 20 characters


@dataclass(slots=True)
class Outlet:
    """One connector (1.6) or EVSE (2.0.1) and the session on it."""

    number: int
    meter: Meter
    status: str | None = None
    operative: bool = True
    pending_operative: bool | None = None  # availability change scheduled after the session
    car: Car | None = None
    transaction_id: Any = None
    session_start: datetime | None = None
    id_tag: str | None = None
    remote_tag: str | None = None  # a remote start waiting to be served
    remote_start_id: int | None = None
    stop_reason: str | None = None  # a stop someone asked for
    reservation: tuple[int, str] | None = None  # (reservation id, id tag)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    seq_no: int = 0  # 2.0.1 TransactionEvent sequence

    @property
    def in_session(self) -> bool:
        """Whether a transaction runs on this outlet."""
        return self.transaction_id is not None


class Link:
    """The `ocpp` ChargePoint of one websocket connection, calls routed to a SimCharger.

    Mixed into `ocpp.v16.ChargePoint` / `ocpp.v201.ChargePoint`: incoming calls and our
    answers are validated against the library's schemas, as are our own calls.
    """

    sim: SimCharger

    async def route_message(self, raw_msg: str) -> None:
        """Answer calls through the simulator; hand answers to the waiting call()."""
        try:
            msg = unpack(raw_msg)
        except OCPPError as err:
            self.sim.log.warning("unparsable frame from the central system: %s", err)
            return
        if msg.message_type_id != MessageType.Call:
            self._response_queue.put_nowait(msg)  # type: ignore[attr-defined]
            return
        after: After = None
        try:
            await validate_payload(msg, self._ocpp_version)  # type: ignore[attr-defined]
            payload, after = self.sim.handle(msg.action, msg.payload)
            result = msg.create_call_result(payload)
            await validate_payload(result, self._ocpp_version)  # type: ignore[attr-defined]
            text = result.to_json()
        except OCPPError as err:
            self.sim.log.info("answering %s with %s: %s", msg.action, err.code, err)
            text = msg.create_call_error(err).to_json()
            after = None
        except Exception as err:  # a simulator bug must not kill the connection
            self.sim.log.exception("error handling %s", msg.action)
            text = msg.create_call_error(InternalError(description=repr(err))).to_json()
            after = None
        await self._send(text)  # type: ignore[attr-defined]
        if after is not None:
            self.sim.spawn(after())

    async def send(self, action: str, payload: Payload) -> Payload:
        """Send a call (schema-checked) and return the answer's payload; raises on CallError."""
        msg = Call(str(uuid.uuid4()), action, payload)
        await validate_payload(msg, self._ocpp_version)  # type: ignore[attr-defined]
        async with self._call_lock:  # type: ignore[attr-defined]
            await self._send(msg.to_json())  # type: ignore[attr-defined]
            response = await self._get_specific_response(  # type: ignore[attr-defined]
                msg.unique_id,
                self._response_timeout,  # type: ignore[attr-defined]
            )
        if response.message_type_id == MessageType.CallError:
            raise response.to_exception()
        response.action = action
        await validate_payload(response, self._ocpp_version)  # type: ignore[attr-defined]
        return response.payload  # type: ignore[no-any-return]


class SimCharger:
    """One simulated charger; subclasses speak a particular OCPP version."""

    subprotocol: str
    link_class: type
    outlet_name: str  # what the version calls an outlet in logs: connector / EVSE

    def __init__(self, options: Options, charger_id: str) -> None:
        """Set up the charger's outlets and meters (registers start somewhere plausible)."""
        self.options = options
        self.charger_id = charger_id
        self.rng = random.Random(charger_id)
        self.log = logging.LoggerAdapter(logging.getLogger("simulator"), {"charger": charger_id})
        self.outlets = {
            n: Outlet(n, Meter(self.rng, energy_wh=round(self.rng.uniform(50_000, 3_000_000))))
            for n in range(1, options.connectors + 1)
        }
        self.profiles = ProfileStore()
        self.firmware = "1.0.0"
        self.link: Any = None
        self.accepted = False
        self.heartbeat = 300
        self.boot_reason = "PowerUp"
        self.rebooting = False
        self._boot_wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._warned: set[str] = set()

    # --- helpers -----------------------------------------------------------------------

    def warn_once(self, key: str, msg: str, *args: Any) -> None:
        """Log a warning once per key."""
        if key not in self._warned:
            self._warned.add(key)
            self.log.warning(msg, *args)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a task that belongs to the current connection (cancelled when it closes)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if err is None or isinstance(err, ConnectionClosed):
            return
        if isinstance(err, (OCPPError, TimeoutError)):
            self.log.warning("gave up on a message: %r", err)
            return
        self.log.error("simulator task failed: %r", err, exc_info=err)

    async def send(self, action: str, payload: Payload) -> Payload:
        """Send a call on the current connection."""
        if self.link is None:
            raise ConnectionClosed(None, None)
        return await self.link.send(action, payload)  # type: ignore[no-any-return]

    async def sleep(self, outlet: Outlet | None, seconds: float) -> None:
        """Sleep, waking early when something happens to the outlet (remote start, stop ...)."""
        if outlet is None:
            await asyncio.sleep(seconds)
            return
        try:
            async with asyncio.timeout(max(seconds, 0)):
                await outlet.wake.wait()
        except TimeoutError:
            pass
        outlet.wake.clear()

    def poke(self, outlet: Outlet) -> None:
        """Wake an outlet's session loop."""
        outlet.wake.set()

    def limit(self, outlet: Outlet) -> float:
        """The current the outlet may offer now (charging profiles applied)."""
        return self.profiles.limit(
            outlet.number,
            self.options.max_current,
            transaction_id=outlet.transaction_id,
            session_start=outlet.session_start,
        )

    def outlet_for(self, number: int | None) -> Outlet | None:
        """An outlet by number; None/0 means the first one that is free."""
        if number:
            return self.outlets.get(number)
        for outlet in self.outlets.values():
            if not outlet.in_session and outlet.car is None and outlet.operative:
                return outlet
        return None

    def outlets_at(self, number: int | None) -> list[Outlet]:
        """The outlets a call addresses: None/0 means all, an unknown number none."""
        if not number:
            return list(self.outlets.values())
        return [self.outlets[number]] if number in self.outlets else []

    def session_length(self) -> float:
        """How long the next session lasts (around --session)."""
        return self.rng.uniform(0.7, 1.3) * self.options.session

    # --- connection ----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if not self.options.password:
            return {}
        token = base64.b64encode(f"{self.charger_id}:{self.options.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def run(self) -> None:
        """Connect, serve, and reconnect (backing off) until cancelled."""
        url = f"{self.options.url.rstrip('/')}/{self.charger_id}"
        backoff = 1.0
        while True:
            started = time.monotonic()
            try:
                async with connect(
                    url,
                    subprotocols=[self.subprotocol],  # type: ignore[list-item]
                    additional_headers=self._headers(),
                    open_timeout=15,
                    ping_interval=None,
                ) as websocket:
                    self.log.info(
                        "connected to %s (%s)", url, websocket.subprotocol or "no subprotocol"
                    )
                    await self._serve(websocket)
                self.log.info("connection closed")
            except InvalidStatus as err:
                status = err.response.status_code
                if status == 401:
                    self.warn_once(
                        "401",
                        "the central system refused the password (HTTP 401); check --password",
                    )
                else:
                    self.log.warning("handshake refused: HTTP %s", status)
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as err:
                self.log.warning("cannot connect to %s: %s", url, err or type(err).__name__)
            if time.monotonic() - started > 60:
                backoff = 1.0
            delay = 3.0 if self.rebooting else backoff
            self.rebooting = False
            await asyncio.sleep(delay)
            backoff = min(backoff * 2, 30.0)

    async def _serve(self, websocket: ClientConnection) -> None:
        link = self.link_class(self.charger_id, websocket, response_timeout=30)
        link.sim = self
        self.link = link
        self.accepted = False
        reader = self.spawn(link.start())
        self.spawn(self._online())
        try:
            await reader
        except ConnectionClosed:
            pass
        finally:
            self.link = None
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for outlet in self.outlets.values():
                outlet.wake.clear()

    async def close(self) -> None:
        """Drop the connection (as a reboot does); run() reconnects."""
        if self.link is not None:
            await self.link._connection.close()

    async def _online(self) -> None:
        await self._boot()
        await self.after_boot()
        self.spawn(self._heartbeats())
        for outlet in self.outlets.values():
            self.spawn(self._outlet_loop(outlet))

    async def _boot(self) -> None:
        """BootNotification until Accepted; Pending waits for the interval or a trigger."""
        last = None
        while True:
            self._boot_wakeup.clear()
            answer = await self.send("BootNotification", self.boot_payload(self.boot_reason))
            status, interval = answer["status"], int(answer.get("interval") or 0)
            if status == "Accepted":
                self.heartbeat = interval if interval > 0 else 300
                self.accepted = True
                self.boot_reason = "PowerUp"
                self.log.info("boot accepted (heartbeat every %s s)", self.heartbeat)
                return
            retry = interval if interval > 0 else 30
            if status != last:
                hint = (
                    " (approve it in Home Assistant, or set the new-charger policy to accept)"
                    if status == "Pending"
                    else ""
                )
                self.log.warning("boot %s%s; retrying in %s s", status, hint, retry)
                last = status
            try:
                async with asyncio.timeout(retry):
                    await self._boot_wakeup.wait()
                self.boot_reason = "Triggered"
                self.log.info("BootNotification triggered by the central system")
            except TimeoutError:
                pass

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            await self.send("Heartbeat", {})

    def trigger_boot(self) -> None:
        """TriggerMessage(BootNotification): boot again now."""
        if not self.accepted:
            self._boot_wakeup.set()
            return

        async def boot_again() -> None:
            answer = await self.send("BootNotification", self.boot_payload("Triggered"))
            self.log.info("triggered boot answered %s", answer["status"])

        self.spawn(boot_again())

    async def reboot(self, reason: str, hard: bool) -> None:
        """Stop the sessions, then drop the connection and come back with a new boot."""
        for outlet in self.outlets.values():
            if outlet.in_session:
                outlet.stop_reason = reason
                self.poke(outlet)
        for _ in range(100):  # let the session loops send their stops (bounded)
            if not any(o.in_session for o in self.outlets.values()):
                break
            await asyncio.sleep(0.1)
        self.log.info("rebooting (%s reset)", "hard" if hard else "soft")
        self.boot_reason = "RemoteReset"
        self.rebooting = True
        for outlet in self.outlets.values():
            outlet.car = None
            outlet.status = None
        await self.close()

    async def _outlet_loop(self, outlet: Outlet) -> None:
        """Sessions, one after another, with pauses in between (remote starts cut them short)."""
        if outlet.in_session:  # reconnected in the middle of a session: carry on
            await self.send_status(outlet, "Charging")
            await self.charge(outlet)
        await self.send_status(outlet, self.idle_status(outlet))
        first = True
        while True:
            if outlet.remote_tag is None:
                pause = (
                    self.rng.uniform(2, 6)
                    if first
                    else self.rng.uniform(0.5, 1.5) * self.options.idle
                )
                await self.sleep(outlet, pause)
            first = False
            if not outlet.operative:
                await self.sleep(outlet, 3600)
                continue
            if outlet.remote_tag is None and outlet.reservation is not None:
                continue  # reserved: only the reserving tag (through a remote start) may charge
            await self.session(outlet)

    # --- the session ---------------------------------------------------------------------

    def plug_in(self, outlet: Outlet) -> tuple[bool, str]:
        """A car arrives: whether a remote start brought it, and the tag it presents
        (the remote start's, else the reserving one's, else --id-tag)."""
        remote = outlet.remote_tag is not None
        tag = outlet.remote_tag or (
            outlet.reservation[1] if outlet.reservation else self.options.id_tag
        )
        outlet.remote_tag = None
        outlet.car = Car.random(self.rng)
        return remote, tag

    async def charge(self, outlet: Outlet) -> None:
        """Charge until the session ends, reporting state changes and a meter sample every
        interval; then stop. Sessions end after about --session, or when asked to."""
        if outlet.car is None:  # resumed after a reconnect without a car model
            outlet.car = Car.random(self.rng)
        deadline = time.monotonic() + self.session_length()
        last = time.monotonic()
        next_sample = last + self.interval
        while outlet.stop_reason is None:
            await self.sleep(outlet, max(0.0, next_sample - time.monotonic()))
            now = time.monotonic()
            outlet.meter.charge(outlet.car, self.limit(outlet), now - last)
            last = now
            state = "Charging"
            if outlet.car.full:
                state = "SuspendedEV"
            elif outlet.meter.offered < 6:
                state = "SuspendedEVSE"
            if state != outlet.status:  # the hook records the state it reports there
                await self.send_charging_state(outlet, state)
            if now >= next_sample:
                next_sample = now + self.interval
                await self.send_sample(outlet)
            if outlet.stop_reason is None and now >= deadline:
                outlet.stop_reason = "EVDisconnected" if outlet.car.full else "Local"
        await self.stop(outlet)

    async def stop(self, outlet: Outlet) -> None:
        """End the transaction; then the driver unplugs (unless the charger is resetting)."""
        reason = outlet.stop_reason or "Local"
        await self.send_stop(outlet, reason)
        self.end_session(outlet)
        if reason in RESET_REASONS:
            return
        await self.unplug(outlet)

    async def unplug(self, outlet: Outlet) -> None:
        """The driver takes a few seconds to unplug; then the outlet is idle."""
        await self.sleep(None, self.rng.uniform(2, 5))
        await self.send_status(outlet, self.idle_status(outlet))

    def idle_status(self, outlet: Outlet) -> str:
        """Status of an outlet without a car."""
        if not outlet.operative:
            return "Unavailable"
        return "Reserved" if outlet.reservation else "Available"

    def end_session(self, outlet: Outlet) -> None:
        """Forget the session; apply an availability change that waited for it."""
        outlet.transaction_id = None
        outlet.session_start = None
        outlet.car = None
        outlet.stop_reason = None
        outlet.remote_start_id = None
        outlet.meter.idle(0.0)
        self.profiles.drop_transaction(outlet.number)
        if outlet.pending_operative is not None:
            outlet.operative = outlet.pending_operative
            outlet.pending_operative = None

    def set_operative(self, outlets: list[Outlet], operative: bool) -> str:
        """ChangeAvailability: now, or Scheduled after a running session."""
        scheduled = False
        for outlet in outlets:
            if outlet.in_session and not operative:
                outlet.pending_operative = operative
                scheduled = True
            else:
                outlet.operative = operative
                outlet.pending_operative = None
        return "Scheduled" if scheduled else "Accepted"

    async def show_idle(self, outlet: Outlet) -> None:
        """Report the idle status, unless a car is there (its session reports for itself)."""
        if not outlet.in_session and outlet.car is None:
            await self.send_status(outlet, self.idle_status(outlet))

    # --- calls from the central system: what both versions answer alike -------------------
    # The version files unpack their payloads and wrap the answers; the rules live here.

    @staticmethod
    def run_after(fn: Callable[[], None]) -> After:
        """An After that calls a plain function once the answer is sent."""

        async def run() -> None:
            fn()

        return run

    def remote_start_outlet(self, number: int | None, tag: str) -> Outlet | None:
        """The outlet a remote start for `tag` may use; None when it must be rejected
        (busy, unavailable, a start already waiting, or reserved for another tag)."""
        outlet = self.outlet_for(number)
        if (
            outlet is None
            or not outlet.operative
            or outlet.in_session
            or outlet.remote_tag is not None
            or (outlet.reservation is not None and outlet.reservation[1] != tag)
        ):
            return None
        return outlet

    def remote_stop(self, transaction_id: Any) -> tuple[Payload, After]:
        """RemoteStopTransaction / RequestStopTransaction."""
        for outlet in self.outlets.values():
            if outlet.in_session and outlet.transaction_id == transaction_id:
                outlet.stop_reason = "Remote"
                self.poke(outlet)
                return {"status": "Accepted"}, None
        return {"status": "Rejected"}, None

    def install_profile(self, profile: Profile) -> tuple[Payload, After]:
        """SetChargingProfile once the version's own checks passed: a TxProfile needs a
        session on its outlet; the outlets it touches recompute their limit at once."""
        if profile.purpose == "TxProfile":
            outlet = self.outlets.get(profile.connector)
            if outlet is None or not outlet.in_session:
                return {"status": "Rejected"}, None
        self.profiles.install(profile)
        outlets = self.outlets_at(profile.connector)
        for outlet in outlets:
            self.poke(outlet)
        self.log.info(
            "%s %s: %s installed; limit now %.1f A",
            self.outlet_name,
            profile.connector,
            profile.purpose,
            min(self.limit(o) for o in outlets),
        )
        return {"status": "Accepted"}, None

    def clear_profiles(
        self,
        profile_id: int | None,
        number: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> tuple[Payload, After]:
        """ClearChargingProfile; every outlet recomputes its limit."""
        removed = self.profiles.clear(profile_id, number, purpose, stack_level)
        for outlet in self.outlets.values():
            self.poke(outlet)
        return {"status": "Accepted" if removed else "Unknown"}, None

    def schedule_limit(self, outlets: list[Outlet], unit: str) -> float:
        """GetCompositeSchedule: the lowest limit now, in A or in W (3 phases at 230 V)."""
        limit = min(self.limit(o) for o in outlets)
        return round(limit if unit == "A" else limit * 230 * 3, 1)

    def change_availability(self, outlets: list[Outlet], operative: bool) -> tuple[Payload, After]:
        """ChangeAvailability: idle outlets report their new status at once."""
        status = self.set_operative(outlets, operative)

        async def report() -> None:
            for outlet in outlets:
                await self.show_idle(outlet)
                self.poke(outlet)

        return {"status": status}, report

    def reserve(
        self, outlet: Outlet | None, reservation_id: int, tag: str, expiry_date: str | None
    ) -> tuple[Payload, After]:
        """ReserveNow: hold a free outlet for `tag` until the expiry (15 min if unreadable)."""
        if outlet is None:
            return {"status": "Rejected"}, None
        if not outlet.operative:
            return {"status": "Unavailable"}, None
        if outlet.in_session or outlet.car is not None:
            return {"status": "Occupied"}, None
        outlet.reservation = (reservation_id, tag)
        expiry = parse_time(expiry_date) or datetime.now(UTC) + timedelta(minutes=15)

        async def hold() -> None:
            await self.send_status(outlet, "Reserved")
            await asyncio.sleep(min(max((expiry - datetime.now(UTC)).total_seconds(), 0), 86400))
            if outlet.reservation and outlet.reservation[0] == reservation_id:
                outlet.reservation = None
                await self.reservation_expired(reservation_id)
                await self.show_idle(outlet)

        return {"status": "Accepted"}, hold

    def on_CancelReservation(self, payload: Payload) -> tuple[Payload, After]:
        """Same message in both versions."""
        for outlet in self.outlets.values():
            if outlet.reservation and outlet.reservation[0] == payload["reservationId"]:
                outlet.reservation = None

                async def report(outlet: Outlet = outlet) -> None:
                    await self.show_idle(outlet)

                return {"status": "Accepted"}, report
        return {"status": "Rejected"}, None

    def firmware_update(self, retrieve_date: str | None, extra: Payload) -> After:
        """UpdateFirmware: from the retrieve date (waiting at most a minute) download and
        install, reporting each step with FirmwareStatusNotification (+ `extra`), then reboot."""
        retrieve = parse_time(retrieve_date) or datetime.now(UTC)

        async def update() -> None:
            wait = (retrieve - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(min(max(wait, 0), 60))
            for status in ("Downloading", "Downloaded", "Installing"):
                await self.send("FirmwareStatusNotification", {"status": status} | extra)
                await asyncio.sleep(2)
            self.firmware = f"1.0.{int(time.time()) % 1000}"
            await self.send("FirmwareStatusNotification", {"status": "Installed"} | extra)
            await self.reboot("Reboot", True)

        return update

    def log_upload(self, kind: str, action: str, extra: Payload) -> tuple[str, After]:
        """GetDiagnostics / GetLog: the file name, and the upload reported through `action`."""
        name = f"{kind}-{self.charger_id}-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"

        async def upload() -> None:
            await self.send(action, {"status": "Uploading"} | extra)
            await asyncio.sleep(2)
            await self.send(action, {"status": "Uploaded"} | extra)

        return name, upload

    def on_DataTransfer(self, payload: Payload) -> tuple[Payload, After]:
        """No vendor extensions are simulated."""
        return {"status": "UnknownVendorId"}, None

    def on_ClearCache(self, payload: Payload) -> tuple[Payload, After]:
        """Nothing is cached; the answer is the same in both versions."""
        return {"status": "Accepted"}, None

    # --- per version -------------------------------------------------------------------

    def handle(self, action: str, payload: Payload) -> tuple[Payload, After]:
        """Answer a call from the central system: (answer payload, what to do after)."""
        handler = getattr(self, f"on_{action}", None)
        if handler is None:
            raise OcppNotImplementedError(description=f"{action} is not simulated")
        result: tuple[Payload, After] = handler(payload)
        return result

    def boot_payload(self, reason: str) -> Payload:
        """The BootNotification payload."""
        raise NotImplementedError

    async def after_boot(self) -> None:
        """Accepted: tell the central system the charger's status."""
        raise NotImplementedError

    async def send_status(self, outlet: Outlet, status: str) -> None:
        """Send a status for an outlet."""
        raise NotImplementedError

    async def session(self, outlet: Outlet) -> None:
        """Plug in, authorize, charge, stop."""
        raise NotImplementedError

    @property
    def interval(self) -> int:
        """Seconds between meter samples (a setting the central system may change)."""
        raise NotImplementedError

    async def send_charging_state(self, outlet: Outlet, state: str) -> None:
        """Report a change between Charging / SuspendedEV / SuspendedEVSE; record it in
        outlet.status, which charge() compares against."""
        raise NotImplementedError

    async def send_sample(self, outlet: Outlet) -> None:
        """Send the periodic meter sample of a running session."""
        raise NotImplementedError

    async def send_stop(self, outlet: Outlet, reason: str) -> None:
        """End the outlet's transaction for `reason` (a 1.6 stop reason)."""
        raise NotImplementedError

    async def reservation_expired(self, reservation_id: int) -> None:
        """A reservation ran out (1.6 says nothing; 2.0.1 overrides)."""


@contextlib.asynccontextmanager
async def running(chargers: Sequence[SimCharger]) -> AsyncIterator[None]:
    """Run simulated chargers (connecting, reconnecting) while in the block."""
    tasks = [asyncio.create_task(charger.run()) for charger in chargers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
