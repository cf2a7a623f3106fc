"""The upstream part of a charger's settings form: its fields, their checks, what is stored.

Leaving the URL empty means no upstream; the other upstream fields are then not stored.
"""

from __future__ import annotations

from collections.abc import Mapping
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_UPSTREAM_ID,
    CONF_UPSTREAM_MODE,
    CONF_UPSTREAM_PASSWORD,
    CONF_UPSTREAM_URL,
    DEFAULT_UPSTREAM_MODE,
    UPSTREAM_FIELDS,
    UPSTREAM_MODES,
)
from .upstream import UpstreamSettings

_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_MODE_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=UPSTREAM_MODES, mode=SelectSelectorMode.DROPDOWN, translation_key="upstream_mode"
    )
)


def upstream_fields(values: Mapping[str, Any]) -> dict[Any, Any]:
    """The form's upstream fields, filled in from `values` (stored data or the last input)."""

    def suggested(key: str) -> dict[str, Any]:
        return {"suggested_value": values.get(key)}

    return {
        vol.Optional(CONF_UPSTREAM_URL, description=suggested(CONF_UPSTREAM_URL)): _URL_SELECTOR,
        vol.Optional(CONF_UPSTREAM_ID, description=suggested(CONF_UPSTREAM_ID)): str,
        vol.Optional(
            CONF_UPSTREAM_PASSWORD, description=suggested(CONF_UPSTREAM_PASSWORD)
        ): _PASSWORD_SELECTOR,
        vol.Required(
            CONF_UPSTREAM_MODE, default=values.get(CONF_UPSTREAM_MODE, DEFAULT_UPSTREAM_MODE)
        ): _MODE_SELECTOR,
    }


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def validate_upstream(
    user_input: Mapping[str, Any], charger_id: str, own_port: int | None
) -> dict[str, str]:
    """Errors by field (translation keys under config_subentries.charger.error).

    `own_port`: the port this central system listens on; a URL on this machine and that
    port would connect the charger to Home Assistant itself, and take its place.
    """
    url = str(user_input.get(CONF_UPSTREAM_URL) or "").strip()
    if not url:
        return {}
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return {CONF_UPSTREAM_URL: "invalid_upstream_url"}
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return {CONF_UPSTREAM_URL: "invalid_upstream_url"}
    if parts.username is not None or parts.password is not None:
        return {CONF_UPSTREAM_URL: "upstream_url_credentials"}
    port = port or (443 if parts.scheme == "wss" else 80)
    if own_port is not None and port == own_port and _is_loopback(parts.hostname):
        return {CONF_UPSTREAM_URL: "upstream_is_this_server"}
    upstream_id = str(user_input.get(CONF_UPSTREAM_ID) or "").strip() or charger_id
    if len(upstream_id) > 48 or not upstream_id.isprintable():
        return {CONF_UPSTREAM_ID: "invalid_upstream_id"}
    try:
        UpstreamSettings(url, upstream_id, "1.6")
    except ValueError:  # what the checks above let through, if anything
        return {CONF_UPSTREAM_URL: "invalid_upstream_url"}
    return {}


def upstream_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """What a checked form stores: the upstream fields given, none without a URL."""
    url = str(user_input.get(CONF_UPSTREAM_URL) or "").strip()
    if not url:
        return {}
    data: dict[str, Any] = {
        CONF_UPSTREAM_URL: url,
        CONF_UPSTREAM_MODE: user_input.get(CONF_UPSTREAM_MODE) or DEFAULT_UPSTREAM_MODE,
    }
    if upstream_id := str(user_input.get(CONF_UPSTREAM_ID) or "").strip():
        data[CONF_UPSTREAM_ID] = upstream_id
    if password := user_input.get(CONF_UPSTREAM_PASSWORD):
        data[CONF_UPSTREAM_PASSWORD] = password
    return data


def without_upstream(data: Mapping[str, Any]) -> dict[str, Any]:
    """Form input or stored data without its upstream fields."""
    return {k: v for k, v in data.items() if k not in UPSTREAM_FIELDS}
