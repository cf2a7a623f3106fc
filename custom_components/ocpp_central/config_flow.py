"""Config flow: the server, its options, discovered chargers and charger subentries."""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    TextSelector,
)
import voluptuous as vol

from .central import owner_elsewhere
from .const import (
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_SSL_CAFILE,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DOMAIN,
    NAME,
    SUBENTRY_CHARGER,
)
from .options_flow import DEFAULT_OPTIONS, PASSWORD_SELECTOR, OptionsFlowHandler
from .subentry_flow import ChargerSubentryFlow
from .wire.server import create_ssl_context


def _server_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): vol.All(
                vol.Coerce(int), vol.Range(min=0, max=65535)
            ),
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, DEFAULT_HOST)): str,
            vol.Optional(
                CONF_SSL_CERTFILE,
                description={"suggested_value": defaults.get(CONF_SSL_CERTFILE)},
            ): TextSelector(),
            vol.Optional(
                CONF_SSL_KEYFILE,
                description={"suggested_value": defaults.get(CONF_SSL_KEYFILE)},
            ): TextSelector(),
            vol.Optional(
                CONF_SSL_CAFILE,
                description={"suggested_value": defaults.get(CONF_SSL_CAFILE)},
            ): TextSelector(),
        }
    )


def _try_bind(host: str, port: int) -> None:
    """Bind and release the port, as the server will (raises OSError)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)


async def _validate_server(
    hass: HomeAssistant, data: dict[str, Any], *, check_port: bool, own_port: bool = False
) -> dict[str, str]:
    """Check the port can be bound and the certificate loads; return form errors.

    `own_port`: our running server holds this port, so it being in use is expected.
    """
    errors: dict[str, str] = {}
    if check_port:
        try:
            await hass.async_add_executor_job(_try_bind, data[CONF_HOST], data[CONF_PORT])
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                errors[CONF_PORT] = "cannot_bind"
            elif not own_port:
                errors[CONF_PORT] = "port_in_use"
    certfile, keyfile = data.get(CONF_SSL_CERTFILE), data.get(CONF_SSL_KEYFILE)
    cafile = data.get(CONF_SSL_CAFILE)
    if (keyfile or cafile) and not certfile:
        errors[CONF_SSL_CERTFILE] = "cert_required"
    elif certfile:
        try:
            await hass.async_add_executor_job(create_ssl_context, certfile, keyfile)
        except (OSError, ssl.SSLError):
            errors[CONF_SSL_CERTFILE] = "invalid_cert"
        else:
            try:
                await hass.async_add_executor_job(create_ssl_context, certfile, keyfile, cafile)
            except (OSError, ssl.SSLError):
                errors[CONF_SSL_CAFILE] = "invalid_ca"
    return errors


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional fields; an empty host means every interface."""
    cleaned = {key: value for key, value in data.items() if value not in (None, "")}
    cleaned.setdefault(CONF_HOST, DEFAULT_HOST)
    return cleaned


class OcppCentralConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a central system; approve chargers it discovers."""

    VERSION = 1

    def __init__(self) -> None:
        """Initialize."""
        self._discovery: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlowHandler:
        """Options: new-charger and id-tag policies."""
        return OptionsFlowHandler()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Chargers are subentries."""
        return {SUBENTRY_CHARGER: ChargerSubentryFlow}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the server settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _clean(user_input)
            self._async_abort_entries_match({CONF_PORT: user_input[CONF_PORT]})
            errors = await _validate_server(self.hass, user_input, check_port=True)
            if not errors:
                return self.async_create_entry(
                    title=NAME, data=user_input, options=dict(DEFAULT_OPTIONS)
                )
        return self.async_show_form(
            step_id="user", data_schema=_server_schema(user_input or {}), errors=errors
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the server settings (the entry reloads to apply them)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _clean(user_input)
            port_changed = user_input[CONF_PORT] != entry.data.get(CONF_PORT)
            moved = port_changed or user_input[CONF_HOST] != entry.data.get(CONF_HOST)
            if port_changed:  # the same port would match this very entry
                self._async_abort_entries_match({CONF_PORT: user_input[CONF_PORT]})
            # Our own server holds the current port: unchanged, it needs no check; on a new
            # address only a failure other than "in use" (by us) counts.
            errors = await _validate_server(
                self.hass,
                user_input,
                check_port=moved,
                own_port=not port_changed and entry.state is ConfigEntryState.LOADED,
            )
            if not errors:
                self.hass.config_entries.async_update_entry(entry, data=user_input)
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_server_schema(user_input or dict(entry.data)),
            errors=errors,
        )

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """An unknown charger booted and the policy is to ask."""
        charger_id = discovery_info[CONF_CHARGER_ID]
        await self.async_set_unique_id(charger_id)
        self._abort_if_unique_id_configured()
        self._discovery = discovery_info
        self.context["title_placeholders"] = {
            "charger_id": charger_id,
            "vendor": discovery_info.get("vendor") or "?",
            "model": discovery_info.get("model") or "?",
        }
        return await self.async_step_approve()

    async def async_step_approve(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user approve the charger."""
        charger_id: str = self._discovery[CONF_CHARGER_ID]
        if user_input is None:
            return self.async_show_form(
                step_id="approve",
                data_schema=vol.Schema(
                    {
                        vol.Optional(CONF_NAME, default=charger_id): str,
                        vol.Optional(CONF_PASSWORD): PASSWORD_SELECTOR,
                        # Ticked when the charger's boot already broke the schema.
                        vol.Required(
                            CONF_LENIENT, default=bool(self._discovery.get(CONF_LENIENT))
                        ): bool,
                    }
                ),
                description_placeholders=self.context["title_placeholders"],
            )
        entry = self.hass.config_entries.async_get_entry(self._discovery["entry_id"])
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        if charger_id in entry.runtime_data.chargers:
            return self.async_abort(reason="already_configured")
        if (owner := owner_elsewhere(self.hass, entry.entry_id, charger_id)) is not None:
            return self.async_abort(
                reason="charger_in_other_entry",
                description_placeholders={"charger_id": charger_id, "entry": owner.title},
            )
        entry.runtime_data.approve_charger(
            charger_id,
            user_input.get(CONF_NAME) or charger_id,
            password=user_input.get(CONF_PASSWORD) or None,
            lenient=user_input[CONF_LENIENT],
            flow_id=self.flow_id,
        )
        return self.async_abort(
            reason="charger_approved", description_placeholders={"charger_id": charger_id}
        )
