"""Sharing the solar surplus among the sessions in `solar` and `min_solar` mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .fill import EPSILON, Claim, water_fill

_SURPLUS = "surplus"


@dataclass(frozen=True, slots=True)
class SolarClaim:
    """One solar session: its minimum, what it would use now, its cap, its phase count."""

    always_minimum: bool  # min_solar: the minimum even without surplus
    minimum: float  # A
    demand: float  # A, at most `cap`
    cap: float  # A
    phases: int


def solar_shares(
    claims: Sequence[SolarClaim], surplus: float, voltage: float
) -> list[float | None]:
    """Each claim's current from the surplus (W); None for a solar session it cannot start.

    `claims` come oldest first. The min_solar sessions' minimums are taken first (they draw
    them anyway), then solar sessions start in order while the surplus covers their minimum.
    Above the minimums, the surplus is shared fairly in watts: a three-phase session costs
    three times the watts per ampere of a single-phase one.
    """
    order = sorted(range(len(claims)), key=lambda i: not claims[i].always_minimum)
    members: list[int] = []
    used = 0.0
    for i in order:
        claim = claims[i]
        minimum_watts = claim.minimum * voltage * claim.phases
        if not claim.always_minimum and used + minimum_watts > surplus + EPSILON:
            continue
        used += minimum_watts
        members.append(i)
    capacity = {_SURPLUS: surplus}

    def weights(i: int) -> dict[str, float]:
        return {_SURPLUS: voltage * claims[i].phases}

    # First what each would use now, then the rest to those whose car may want more.
    first = water_fill(
        [Claim(claims[i].minimum, claims[i].demand, weights(i)) for i in members], capacity
    )
    second = water_fill(
        [Claim(v, claims[i].cap, weights(i)) for i, v in zip(members, first, strict=True)],
        capacity,
    )
    shares: list[float | None] = [None] * len(claims)
    for i, share in zip(members, second, strict=True):
        shares[i] = share
    return shares
