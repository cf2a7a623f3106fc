"""What an Occupied EVSE shows, as a table (core/status.py)."""

from __future__ import annotations

import pytest

from custom_components.ocpp_central.core.status import ConnectorStatus as S, occupied_status


@pytest.mark.parametrize(
    ("in_session", "had_session", "current", "charging", "shown"),
    [
        (True, False, S.PREPARING, S.CHARGING, S.CHARGING),
        (True, False, S.AVAILABLE, None, S.PREPARING),  # no charging state known yet
        (True, True, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EV),
        (False, True, S.CHARGING, None, S.FINISHING),
        (False, True, S.SUSPENDED_EVSE, None, S.FINISHING),
        (False, True, S.PREPARING, None, S.PREPARING),  # a session that never charged
        (False, False, S.CHARGING, None, S.PREPARING),
        (False, False, None, S.CHARGING, S.PREPARING),  # a state without a session is moot
    ],
)
def test_occupied_status(
    in_session: bool, had_session: bool, current: S | None, charging: S | None, shown: S
) -> None:
    assert occupied_status(in_session, had_session, current, charging) is shown
