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
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    DateTimeSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .central import owner_elsewhere
from .const import (
    ATTR_EXPIRY,
    ATTR_ID_TAG,
    ATTR_NAME,
    ATTR_STATUS,
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_ID,
    CONF_ID_TAG_POLICY,
    CONF_LENIENT,
    CONF_MAX_CURRENT,
    CONF_METER_INTERVAL,
    CONF_NEW_CHARGERS,
    CONF_PHASE,
    CONF_PHASES,
    CONF_REQUIRE_PASSWORD,
    CONF_SSL_CAFILE,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_VOLTAGE,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DOMAIN,
    ID_TAG_POLICIES,
    ID_TAG_POLICY_KNOWN,
    NAME,
    NEW_CHARGERS_ASK,
    NEW_CHARGERS_POLICIES,
    SUBENTRY_CHARGER,
)
from .id_tags import IdTag, IdTagStatus
from .limits import DEFAULT_MAX_CURRENT, DEFAULT_PHASES, DEFAULT_VOLTAGE
from .server import create_ssl_context, valid_charger_id
from .smart_charging.options import apply_smart, current_values, smart_schema, validate_smart
from .upstream_options import upstream_data, upstream_fields, validate_upstream, without_upstream

DEFAULT_OPTIONS = {
    CONF_NEW_CHARGERS: NEW_CHARGERS_ASK,
    CONF_ID_TAG_POLICY: ID_TAG_POLICY_KNOWN,
    CONF_REQUIRE_PASSWORD: False,
}
_PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


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
                        vol.Optional(CONF_PASSWORD): _PASSWORD_SELECTOR,
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


class OptionsFlowHandler(OptionsFlow):
    """Policies (applied without a reload) and the id tags that may charge."""

    def __init__(self) -> None:
        """Initialize."""
        self._editing: IdTag | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose what to change; id tags need the central system running."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return await self.async_step_policies()
        menu = ["policies", "smart_charging", "add_id_tag"]
        if self.config_entry.runtime_data.authorization.tags:
            menu += ["edit_id_tag", "remove_id_tag"]
        return self.async_show_menu(step_id="init", menu_options=menu)

    async def async_step_policies(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the policies."""
        if user_input is not None:
            return self.async_create_entry(data={**self.config_entry.options, **user_input})
        schema = vol.Schema(
            {
                vol.Required(CONF_NEW_CHARGERS): SelectSelector(
                    SelectSelectorConfig(
                        options=NEW_CHARGERS_POLICIES,
                        translation_key=CONF_NEW_CHARGERS,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Required(CONF_ID_TAG_POLICY): SelectSelector(
                    SelectSelectorConfig(
                        options=ID_TAG_POLICIES,
                        translation_key=CONF_ID_TAG_POLICY,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Required(CONF_REQUIRE_PASSWORD): bool,
            }
        )
        return self.async_show_form(
            step_id="policies",
            data_schema=self.add_suggested_values_to_schema(
                schema, {**DEFAULT_OPTIONS, **self.config_entry.options}
            ),
        )

    async def async_step_smart_charging(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The site: fuse, meter, safe current, prices. Applied live; empty turns it off."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_smart(self.hass, user_input)
            if not errors:
                return self.async_create_entry(
                    data=apply_smart(self.config_entry.options, user_input)
                )
        return self.async_show_form(
            step_id="smart_charging",
            data_schema=smart_schema(
                user_input if user_input is not None else current_values(self.config_entry.options)
            ),
            errors=errors,
        )

    def _tag_schema(self, tag: IdTag | None) -> vol.Schema:
        fields: dict[Any, Any] = {}
        if tag is None:
            fields[vol.Required(ATTR_ID_TAG)] = vol.All(str, vol.Strip, vol.Length(min=1, max=36))
        fields.update(
            {
                vol.Optional(ATTR_NAME): str,
                vol.Required(ATTR_STATUS, default=IdTagStatus.ACCEPTED.value): SelectSelector(
                    SelectSelectorConfig(
                        options=[status.value for status in IdTagStatus],
                        translation_key="id_tag_status",
                    )
                ),
                vol.Optional(ATTR_EXPIRY): DateTimeSelector(),
                vol.Optional("parent"): str,
            }
        )
        schema = vol.Schema(fields)
        if tag is None:
            return schema
        return self.add_suggested_values_to_schema(
            schema,
            {
                ATTR_NAME: tag.name,
                ATTR_STATUS: tag.status.value,
                ATTR_EXPIRY: tag.expiry.isoformat() if tag.expiry else None,
                "parent": tag.parent,
            },
        )

    def _save_tag(self, id_tag: str, user_input: dict[str, Any]) -> ConfigFlowResult:
        expiry = (
            dt_util.parse_datetime(user_input[ATTR_EXPIRY]) if user_input.get(ATTR_EXPIRY) else None
        )
        if expiry is not None and expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=dt_util.get_default_time_zone())
        self.config_entry.runtime_data.authorization.add(
            IdTag(
                id_tag=id_tag,
                name=user_input.get(ATTR_NAME) or None,
                status=IdTagStatus(user_input[ATTR_STATUS]),
                expiry=expiry,
                parent=user_input.get("parent") or None,
            )
        )
        # Id tags live in the integration's storage; the options stay as they are.
        return self.async_create_entry(data=dict(self.config_entry.options))

    async def async_step_add_id_tag(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add an RFID card or app token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[ATTR_ID_TAG].upper() in self.config_entry.runtime_data.authorization.tags:
                errors[ATTR_ID_TAG] = "id_tag_exists"
            else:
                return self._save_tag(user_input[ATTR_ID_TAG], user_input)
        return self.async_show_form(
            step_id="add_id_tag", data_schema=self._tag_schema(None), errors=errors
        )

    async def async_step_edit_id_tag(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the id tag to change."""
        tags = self.config_entry.runtime_data.authorization.tags
        if user_input is not None:
            self._editing = tags[user_input[ATTR_ID_TAG]]
            return await self.async_step_edit_id_tag_details()
        return self.async_show_form(
            step_id="edit_id_tag",
            data_schema=vol.Schema(
                {vol.Required(ATTR_ID_TAG): _tag_selector(tags, multiple=False)}
            ),
        )

    async def async_step_edit_id_tag_details(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change name, status, expiry or parent of an id tag."""
        assert self._editing is not None
        if user_input is not None:
            return self._save_tag(self._editing.id_tag, user_input)
        return self.async_show_form(
            step_id="edit_id_tag_details",
            data_schema=self._tag_schema(self._editing),
            description_placeholders={"id_tag": self._editing.id_tag},
        )

    async def async_step_remove_id_tag(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Forget id tags."""
        central = self.config_entry.runtime_data
        if user_input is not None:
            for key in user_input[ATTR_ID_TAG]:
                central.authorization.remove(central.authorization.tags[key].id_tag)
            return self.async_create_entry(data=dict(self.config_entry.options))
        return self.async_show_form(
            step_id="remove_id_tag",
            data_schema=vol.Schema(
                {
                    vol.Required(ATTR_ID_TAG): _tag_selector(
                        central.authorization.tags, multiple=True
                    )
                }
            ),
        )


def _tag_selector(tags: dict[str, IdTag], *, multiple: bool) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(
                    value=key, label=f"{tag.id_tag} ({tag.name})" if tag.name else tag.id_tag
                )
                for key, tag in sorted(tags.items())
            ],
            multiple=multiple,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


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
                    vol.Optional(CONF_PASSWORD): _PASSWORD_SELECTOR,
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
                    ): _PASSWORD_SELECTOR,
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
