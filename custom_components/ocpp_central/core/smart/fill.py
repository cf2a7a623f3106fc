"""Water-filling: share limited resources fairly among claims that each have a floor and a cap.

Every claim starts at its floor. A common level then rises; each claim follows it (never below
its floor, never above its cap) until the claim reaches its cap or one of the resources it uses
is full. The result is max-min fair: no claim could get more without taking from a claim that
has less. A claim that wants less than the level leaves the rest to the others.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
import math

EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Claim[R: Hashable]:
    """What one claimant may get: between `floor` and `cap`, using `weights` per unit."""

    floor: float
    cap: float
    # Resource -> how much of it one unit of this claim uses (1 per phase for a current).
    weights: Mapping[R, float] = field(default_factory=dict)


def water_fill[R: Hashable](claims: Sequence[Claim[R]], capacity: Mapping[R, float]) -> list[float]:
    """Each claim's share. Resources absent from `capacity` are unlimited.

    Floors are granted as given: the caller admits claims so that their floors fit. When they
    do not, the resources they overfill stay where the floors put them.
    """
    value = [c.floor for c in claims]
    frozen = [c.cap <= c.floor + EPSILON for c in claims]
    used = {r: 0.0 for r in capacity}
    for c, v in zip(claims, value, strict=True):
        for r, w in c.weights.items():
            if r in used:
                used[r] += w * v
    level = -math.inf
    # Each round ends at an event (a claim joins the level, reaches its cap, or a resource
    # fills), so there are at most two rounds per claim, plus the first.
    for _ in range(2 * len(claims) + 2):
        active = [i for i, done in enumerate(frozen) if not done]
        if not active:
            break
        rising = [i for i in active if claims[i].floor <= level + EPSILON]
        events = [claims[i].floor for i in active if i not in rising]
        events += [claims[i].cap for i in rising]
        slopes = {r: sum(claims[i].weights.get(r, 0.0) for i in rising) for r in capacity}
        events += [
            level + (capacity[r] - used[r]) / slope for r, slope in slopes.items() if slope > 0
        ]
        target = max(min(events), level)
        for i in rising:
            step = min(target, claims[i].cap) - value[i]
            value[i] += step
            for r, w in claims[i].weights.items():
                if r in used:
                    used[r] += w * step
        level = target
        for i in rising:
            if value[i] >= claims[i].cap - EPSILON:
                frozen[i] = True
        for r, amount in used.items():
            if amount >= capacity[r] - EPSILON:
                for i in active:
                    if claims[i].weights.get(r, 0.0) > 0:
                        frozen[i] = True
    return value
