"""What is changing the model right now, as a Home Assistant context.

A cause is one frame from a charger or one call of our actions. Entities write their states
under its context, so everything one cause changes shares one context (and HA does not make
a new context per state: each is a reference cycle, context -> its first event -> the state
-> context, that only the garbage collector can free). A cause is closed when its frame or
call is done, so a task it started (an automation it triggered) does not inherit it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from homeassistant.core import Context


@dataclass(frozen=True, slots=True)
class Cause:
    """A frame from a charger (from_call False) or a call of an action."""

    context: Context
    from_call: bool


class _Open:
    """The cause while its frame or call is handled (None once it is done)."""

    __slots__ = ("cause",)

    def __init__(self, cause: Cause) -> None:
        self.cause: Cause | None = cause


_OPEN: ContextVar[_Open | None] = ContextVar("ocpp_central_cause", default=None)


def current_cause() -> Cause | None:
    """The cause being handled in this task, if any."""
    open_cause = _OPEN.get()
    return open_cause.cause if open_cause is not None else None


@contextmanager
def update_cause(context: Context, *, from_call: bool) -> Iterator[None]:
    """Handle a frame or an action call under `context`."""
    open_cause = _Open(Cause(context, from_call))
    token = _OPEN.set(open_cause)
    try:
        yield
    finally:
        open_cause.cause = None
        _OPEN.reset(token)
