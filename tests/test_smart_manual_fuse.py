"""Manual mode: the fuse holds whatever set the charger's limit.

A session seen drawing above the user's own limit (a backend replaced it with a higher
TxProfile at the same stack level, or the charger does not apply it) is reckoned with at
what it draws: smart charging's protective profile goes out as soon as the fuse leaves it
less. Table tests for the decision, and a charger over real websockets, with and without an
upstream backend (shared mode).
"""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from ocpp.charge_point import snake_to_camel_case
import pytest

from custom_components.ocpp_central.const import DOMAIN
from custom_components.ocpp_central.core.smart import ChargingMode, Phase, SessionInput
from custom_components.ocpp_central.smart_charging.inputs import assumed_cap, drawn_above
from simulator.profiles import Profile, ProfileStore

from .charger import SimCharger
from .helpers import prepare_charger
from .smart_helpers import (
    GRID,
    USER_STACK_LEVEL,
    boot,
    charger,
    draw,
    limits,
    set_grid,
    settle,
    shown,
    smart_clears,
    smart_site,
    start,
    tick,
)
from .upstream_backend import answer_of, running_backend
from .upstream_helpers import upstream_entry, wait_upstream

MANUAL, FAST = ChargingMode.MANUAL, ChargingMode.FAST
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FUSE_25 = {"main_fuse": 25.0, "supply_phases": 3, "grid_current_sensors": GRID}


def session(
    mode: ChargingMode = MANUAL,
    upper: float | None = 10,
    drawn: float | None = 32,
    allowed: float | None = None,
    charger_max: float = 32,
) -> SessionInput:
    return SessionInput(
        key="a",
        mode=mode,
        phases=frozenset({Phase.L1, Phase.L2, Phase.L3}),
        started=T0,
        charger_max=charger_max,
        upper=upper,
        drawn=dict.fromkeys((Phase.L1, Phase.L2, Phase.L3), drawn) if drawn is not None else None,
        allowed=allowed,
    )


@pytest.mark.parametrize(
    ("given", "seen", "fresh", "expected"),
    [
        (session(), None, True, 32),  # above the user's 10 A with nothing of ours on
        (session(drawn=11), None, True, None),  # within the tolerance
        (session(drawn=11.5), None, True, 11.5),
        (session(drawn=8), None, True, None),  # the user's limit holds
        (session(drawn=20), 32, True, 32),  # the most seen is kept
        (session(drawn=40), 32, True, 40),
        (session(), None, False, None),  # an old reading, or before the car could follow
        (session(allowed=20), None, True, None),  # our profile is in force, not the user's
        (session(allowed=20), 16, True, 16),
        (session(mode=FAST), None, True, None),  # our profile is always on top there
        (session(upper=None), None, True, None),  # no user limit: the charger's max caps it
        (session(drawn=None), None, True, None),  # no reading
    ],
)
def test_drawn_above(
    given: SessionInput, seen: float | None, fresh: bool, expected: float | None
) -> None:
    assert drawn_above(given, seen, fresh) == expected


@pytest.mark.parametrize(
    ("given", "seen", "upper"),
    [
        (session(), None, 10),  # never seen above: the user's limit caps it
        (session(), 32, 32),  # it draws what the backend allows
        (session(), 16, 16),
        (session(charger_max=22), 32, 22),  # never more than the charger's maximum
        (session(upper=16), 12, 16),  # the user raised their limit since
        (session(mode=FAST), 32, 10),
        (session(upper=None), 32, None),
    ],
)
def test_assumed_cap(given: SessionInput, seen: float | None, upper: float | None) -> None:
    assert assumed_cap(given, seen).upper == upper


def car_limit(cp: SimCharger, transaction_id: int) -> float:
    """What a charger that follows its profiles lets the car draw: replay what it received."""
    store = ProfileStore()
    for action, payload in cp.received:
        if action == "SetChargingProfile":
            profile = snake_to_camel_case(payload["cs_charging_profiles"])
            store.install(Profile.from_16(payload["connector_id"], profile))
        elif action == "ClearChargingProfile" and "id" in payload:
            store.clear(profile_id=payload["id"])
    return store.limit(1, 32.0, transaction_id=transaction_id)


async def user_limit(hass: HomeAssistant, amps: float) -> None:
    from homeassistant.helpers import device_registry as dr

    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
    assert device is not None
    await hass.services.async_call(
        DOMAIN, "set_charging_limit", {"device_id": device.id, "limit_amps": amps}, blocking=True
    )
    await settle(hass)


async def car_follows(hass: HomeAssistant, cp: SimCharger, tx: int, house: float) -> float:
    """The car draws what the charger allows; the grid meter shows the house plus the car."""
    amps = car_limit(cp, tx)
    await draw(hass, cp, amps, amps, amps)
    set_grid(hass, house + amps, house + amps, house + amps)
    await settle(hass)
    return amps


@pytest.mark.usefixtures("fast_upstream")
async def test_a_backend_profile_above_the_users_limit_is_held_to_the_fuse(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Manual mode, the user's 10 A, then the backend's 32 A TxProfile at the same stack
    level: the car draws 32 A, a 5 A house is 37 A on a 25 A fuse, and the very run that
    sees it sends smart charging's profile at the fuse's 20 A."""
    set_grid(hass, 5, 5, 5)
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url, options=FUSE_25)
        async with charger(entry.runtime_data.server.port) as cp:
            await prepare_charger(hass, cp, ChargeProfileMaxStackLevel=("8", True))
            await wait_upstream(hass)
            await user_limit(hass, 10)
            tx = await start(hass, cp)
            assert await car_follows(hass, cp, tx, house=5) == 10
            assert shown(hass) == ("10.0", "user")

            schedule = {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32}],
            }
            profile = {
                "chargingProfileId": 9,
                "stackLevel": USER_STACK_LEVEL,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": schedule,
            }
            answer = await backend.point.raw_call(
                "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
            )
            assert answer_of(answer) == {"status": "Accepted"}
            await tick(hass, freezer, 10)
            assert car_limit(cp, tx) == 32  # the backend's replaced the user's 10 A
            assert not limits(cp)

            await car_follows(hass, cp, tx, house=5)
            assert limits(cp) == [20]
            assert shown(hass) == ("20.0", "fuse")
            assert car_limit(cp, tx) == 20  # ours is on top

            # The car follows: the fuse holds, and nothing more goes out.
            assert await car_follows(hass, cp, tx, house=5) == 20
            await tick(hass, freezer, 31)
            set_grid(hass, 25, 25, 24.9)  # a new report, the same house
            await tick(hass, freezer, 31)
            assert limits(cp) == [20]
            assert not smart_clears(cp)


async def test_a_session_drawing_more_than_its_limit_is_held_to_the_fuse(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without a backend: a charger that draws 32 A under the user's 10 A gets the fuse's
    share in the run that sees the reading; a new limit of the user's applies again."""
    set_grid(hass, 5, 5, 5)
    entry = await smart_site(hass, **FUSE_25)
    async with charger(entry.runtime_data.server.port) as cp:
        await boot(hass, cp)
        await user_limit(hass, 10)
        tx = await start(hass, cp)
        await tick(hass, freezer, 10)
        await draw(hass, cp, 32, 32, 32)  # on top of the 5 A house the meter last showed
        assert limits(cp) == [20]
        set_grid(hass, 37, 37, 37)
        await settle(hass)
        assert limits(cp) == [20]
        assert shown(hass) == ("20.0", "fuse")

        # The user sets their limit again: it goes to the charger, and ours is cleared.
        await user_limit(hass, 12)
        assert len(smart_clears(cp)) == 1
        assert car_limit(cp, tx) == 12
        assert shown(hass) == ("12.0", "user")
