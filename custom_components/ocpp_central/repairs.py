"""Repair issues: a configuration change that needs a reboot, with a fix that resets the charger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant import data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import voluptuous as vol

from .const import DOMAIN

if TYPE_CHECKING:
    from .parts import CentralView


def reboot_issue_id(charger_id: str) -> str:
    """Issue id of a charger's pending reboot."""
    return f"reboot_required_{charger_id}"


@callback
def async_create_reboot_issue(
    hass: HomeAssistant, central: CentralView, charger_id: str, key: str
) -> None:
    """Tell the user a configuration change waits for a reboot, and offer one."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        reboot_issue_id(charger_id),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="reboot_required",
        translation_placeholders={"charger_id": charger_id, "key": key},
        data={"entry_id": central.entry.entry_id, "charger_id": charger_id, "key": key},
    )


@callback
def async_delete_reboot_issue(hass: HomeAssistant, charger_id: str) -> None:
    """The charger rebooted: nothing waits anymore."""
    ir.async_delete_issue(hass, DOMAIN, reboot_issue_id(charger_id))


def auth_issue_id(charger_id: str) -> str:
    """Issue id of a charger failing authentication."""
    return f"auth_failed_{charger_id}"


@callback
def async_create_auth_issue(hass: HomeAssistant, charger_id: str, address: str) -> None:
    """A charger keeps connecting with a wrong or missing password."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        auth_issue_id(charger_id),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="auth_failed",
        translation_placeholders={"charger_id": charger_id, "address": address},
    )


@callback
def async_delete_auth_issue(hass: HomeAssistant, charger_id: str) -> None:
    """The charger authenticated."""
    ir.async_delete_issue(hass, DOMAIN, auth_issue_id(charger_id))


# Smart charging's issues about a charger and its limits (the kind is the translation key):
# it keeps drawing more than its limit, or it refused limits several times in a row.
LIMITS_IGNORED = "ignores_limits"
LIMITS_REFUSED = "limits_refused"


def limits_issue_id(kind: str, charger_id: str) -> str:
    """Issue id of one kind of limits issue for a charger."""
    return f"{kind}_{charger_id}"


@callback
def async_create_limits_issue(
    hass: HomeAssistant, kind: str, charger_id: str, placeholders: dict[str, str]
) -> None:
    """Tell the user a charger doesn't take smart charging's limits (the others get less)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        limits_issue_id(kind, charger_id),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=kind,
        translation_placeholders={"charger_id": charger_id, **placeholders},
    )


@callback
def async_delete_limits_issue(hass: HomeAssistant, kind: str, charger_id: str) -> None:
    """The charger takes its limits (again)."""
    ir.async_delete_issue(hass, DOMAIN, limits_issue_id(kind, charger_id))


class RebootRepairFlow(RepairsFlow):
    """Confirm, then soft-reset the charger."""

    def __init__(self, entry_id: str, charger_id: str, key: str) -> None:
        """Initialize."""
        self._entry_id = entry_id
        self._charger_id = charger_id
        self._key = key

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Reset the charger once the user confirms."""
        placeholders = {"charger_id": self._charger_id, "key": self._key}
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", data_schema=vol.Schema({}), description_placeholders=placeholders
            )
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        central: CentralView = entry.runtime_data
        try:
            accepted: bool = await central.run_command(
                self._charger_id, lambda session: session.reset(False)
            )
        except HomeAssistantError:
            return self.async_abort(reason="reset_failed", description_placeholders=placeholders)
        if not accepted:
            return self.async_abort(reason="reset_failed", description_placeholders=placeholders)
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Create the fix flow of an issue."""
    assert data is not None
    return RebootRepairFlow(
        str(data["entry_id"]), str(data["charger_id"]), str(data.get("key", ""))
    )
