"""Options flow: policies for new chargers and id tags, smart charging, the id tags."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.helpers.selector import (
    DateTimeSelector,
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

from .const import (
    ATTR_EXPIRY,
    ATTR_ID_TAG,
    ATTR_NAME,
    ATTR_STATUS,
    CONF_ID_TAG_POLICY,
    CONF_NEW_CHARGERS,
    CONF_REQUIRE_PASSWORD,
    ID_TAG_POLICIES,
    ID_TAG_POLICY_KNOWN,
    NEW_CHARGERS_ASK,
    NEW_CHARGERS_POLICIES,
)
from .core.id_tags import IdTag, IdTagStatus
from .smart_charging.options import apply_smart, current_values, smart_schema, validate_smart

# What a new central system starts with.
DEFAULT_OPTIONS = {
    CONF_NEW_CHARGERS: NEW_CHARGERS_ASK,
    CONF_ID_TAG_POLICY: ID_TAG_POLICY_KNOWN,
    CONF_REQUIRE_PASSWORD: False,
}
PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


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
