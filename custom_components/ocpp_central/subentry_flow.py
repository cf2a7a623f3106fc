"""Charger subentry flow: a charger added by id before it connects, or its settings changed."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME, CONF_PASSWORD, CONF_PORT
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from .central import owner_elsewhere
from .const import (
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_MAX_CURRENT,
    CONF_METER_INTERVAL,
    CONF_PHASE,
    CONF_PHASES,
    CONF_VOLTAGE,
)
from .core.limits import DEFAULT_MAX_CURRENT, DEFAULT_PHASES, DEFAULT_VOLTAGE
from .options_flow import PASSWORD_SELECTOR
from .upstream_options import upstream_data, upstream_fields, validate_upstream, without_upstream
from .wire.server import valid_charger_id


class ChargerSubentryFlow(ConfigSubentryFlow):
    """Add a charger by id before it connects, or change a charger's settings."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the charger id."""
        errors: dict[str, str] = {}
        if user_input is not None:
            charger_id = user_input[CONF_CHARGER_ID].strip()
            if not valid_charger_id(charger_id):
                errors[CONF_CHARGER_ID] = "invalid_charger_id"
            elif any(sub.unique_id == charger_id for sub in self._get_entry().subentries.values()):
                errors[CONF_CHARGER_ID] = "charger_exists"
            elif owner_elsewhere(self.hass, self._get_entry().entry_id, charger_id) is not None:
                errors[CONF_CHARGER_ID] = "charger_in_other_entry"
            else:
                errors = validate_upstream(user_input, charger_id, self._own_port())
            if not errors:
                data = {CONF_CHARGER_ID: charger_id, CONF_LENIENT: user_input[CONF_LENIENT]}
                if password := user_input.get(CONF_PASSWORD):
                    data[CONF_PASSWORD] = password
                data.update(upstream_data(user_input))
                return self.async_create_entry(
                    title=user_input.get(CONF_NAME) or charger_id, data=data, unique_id=charger_id
                )
        values = user_input or {}
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_CHARGER_ID, default=values.get(CONF_CHARGER_ID, "")): str,
                    vol.Optional(CONF_NAME): str,
                    vol.Optional(CONF_PASSWORD): PASSWORD_SELECTOR,
                    vol.Required(CONF_LENIENT, default=values.get(CONF_LENIENT, False)): bool,
                    **upstream_fields(values),
                }
            ),
            errors=errors,
        )

    def _own_port(self) -> int | None:
        """The port this central system listens on (its server knows, when it runs)."""
        entry = self._get_entry()
        if entry.state is ConfigEntryState.LOADED:
            return int(entry.runtime_data.server.port)
        port = entry.data.get(CONF_PORT)
        return int(port) if port else None

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change how the charger is treated."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            charger_id = subentry.data[CONF_CHARGER_ID]
            errors = validate_upstream(user_input, charger_id, self._own_port())
        if user_input is not None and not errors:
            # A cleared optional field is left out of user_input: drop its old value too.
            kept = {
                k: v
                for k, v in without_upstream(subentry.data).items()
                if k not in (CONF_METER_INTERVAL, CONF_PASSWORD, CONF_BATTERY_CAPACITY)
            }
            return self.async_update_and_abort(
                self._get_entry(),
                subentry,
                data={**kept, **without_upstream(user_input), **upstream_data(user_input)},
            )
        data = {**subentry.data, **(user_input or {})}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                {
                    vol.Optional(
                        CONF_PASSWORD, description={"suggested_value": data.get(CONF_PASSWORD)}
                    ): PASSWORD_SELECTOR,
                    vol.Required(CONF_LENIENT, default=data.get(CONF_LENIENT, False)): bool,
                    vol.Required(
                        CONF_MAX_CURRENT, default=data.get(CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT)
                    ): vol.All(vol.Coerce(float), vol.Range(min=1, max=1000)),
                    vol.Required(
                        CONF_PHASES, default=data.get(CONF_PHASES, DEFAULT_PHASES)
                    ): vol.All(vol.Coerce(int), vol.In([1, 2, 3])),
                    vol.Required(CONF_PHASE, default=data.get(CONF_PHASE, "L1")): SelectSelector(
                        SelectSelectorConfig(
                            options=["L1", "L2", "L3"], mode=SelectSelectorMode.DROPDOWN
                        )
                    ),
                    vol.Required(
                        CONF_VOLTAGE, default=data.get(CONF_VOLTAGE, DEFAULT_VOLTAGE)
                    ): vol.All(vol.Coerce(float), vol.Range(min=100, max=1000)),
                    vol.Optional(
                        CONF_METER_INTERVAL,
                        description={"suggested_value": data.get(CONF_METER_INTERVAL)},
                    ): vol.All(vol.Coerce(int), vol.Range(min=0, max=3600)),
                    vol.Optional(
                        CONF_BATTERY_CAPACITY,
                        description={"suggested_value": data.get(CONF_BATTERY_CAPACITY)},
                    ): NumberSelector(
                        NumberSelectorConfig(
                            min=1,
                            max=500,
                            step=0.1,
                            unit_of_measurement="kWh",
                            mode=NumberSelectorMode.BOX,
                        )
                    ),
                    **upstream_fields(data),
                }
            ),
            errors=errors,
        )
