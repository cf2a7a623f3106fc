"""The session history for administrators: the `get_sessions` action and the CSV export.

Both take the same filters (session_query) and read the same ledgers. Both are for
administrators only: the history says who charged when (a household's movements).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from http import HTTPStatus
import io
from typing import Any

from aiohttp import web
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import ATTR_DEVICE_ID, ATTR_ID_TAG, SERVICE_GET_SESSIONS
from .core.ledger import totals
from .core.ledger_csv import CSV_COLUMNS, csv_row
from .service_helpers import register
from .session_query import SessionQuery, build_query, each_in_turn, session_data, when

_ID_TAG = vol.All(cv.string, vol.Length(min=1, max=36))

GET_SESSIONS_SCHEMA = vol.Schema(
    {
        vol.Required("start"): when,
        vol.Required("end"): when,
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_ID_TAG): _ID_TAG,
    }
)
CSV_URL = "/api/ocpp_central/sessions.csv"
# A byte order mark first: Excel on Windows reads a CSV without one as the local ANSI code
# page, which garbles names such as "Åsa". Other spreadsheets and Python's "utf-8-sig" skip it.
UTF8_BOM = "\ufeff"


async def sessions_response(query: SessionQuery) -> dict[str, Any]:
    """The sessions and their totals, as `get_sessions` returns them."""
    records = query.sessions()
    tz = dt_util.get_default_time_zone()
    return {
        "sessions": await each_in_turn(records, lambda record: session_data(record, tz)),
        "totals": totals(records).as_dict(),
    }


def _csv_text(rows: list[list[str]]) -> str:
    """The export's text: the header and the rows (core.ledger_csv's format), after a BOM."""
    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = csv.writer(out, dialect="excel")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


async def _get_sessions(call: ServiceCall) -> ServiceResponse:
    query = build_query(
        call.hass,
        call.data["start"],
        call.data["end"],
        call.data.get(ATTR_DEVICE_ID),
        call.data.get(ATTR_ID_TAG),
    )
    return await sessions_response(query)


class SessionsCsvView(HomeAssistantView):
    """GET /api/ocpp_central/sessions.csv?start=…&end=…&device_id=…&id_tag=… (admins)."""

    url = CSV_URL
    name = "api:ocpp_central:sessions_csv"
    requires_auth = True

    async def get(self, request: web.Request) -> web.Response:
        """The sessions as CSV (see docs/sessions.md for the columns).

        Without a valid token HA's auth answers 401. A signed-in user who is not an
        administrator gets 403: raising Unauthorized (HA's require_admin) would answer 401,
        which HA counts as a failed login (a notification, and towards an IP ban).
        """
        if not request[KEY_HASS_USER].is_admin:
            return self.json_message("Administrators only", HTTPStatus.FORBIDDEN)
        hass: HomeAssistant = request.app[KEY_HASS]
        try:
            start, end = (_query_time(request, key) for key in ("start", "end"))
            id_tag = request.query.get(ATTR_ID_TAG)
            if id_tag is not None:
                id_tag = _ID_TAG(id_tag)
            query = build_query(hass, start, end, request.query.get(ATTR_DEVICE_ID), id_tag)
        except vol.Invalid as err:
            return self.json_message(str(err), HTTPStatus.BAD_REQUEST)
        except ServiceValidationError as err:
            return self.json_message(str(err), HTTPStatus.BAD_REQUEST, err.translation_key)
        tz = dt_util.get_default_time_zone()
        rows = await each_in_turn(query.sessions(), lambda record: csv_row(record, tz))
        text = await hass.async_add_executor_job(_csv_text, rows)
        return web.Response(
            body=text.encode(),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_file_name(start, end)}"'},
        )


def _query_time(request: web.Request, key: str) -> date | datetime | None:
    value = request.query.get(key)
    if value is None or value == "":
        return None
    try:
        return when(value)
    except vol.Invalid as err:
        raise vol.Invalid(f"{key}: {err}") from err


def _file_name(start: date | datetime | None, end: date | datetime | None) -> str:
    """ocpp_sessions[_<start>][_<end>].csv, with the dates of the range."""
    parts = ["ocpp_sessions"]
    parts.extend(value.strftime("%Y-%m-%d") for value in (start, end) if value is not None)
    return "_".join(parts) + ".csv"


@callback
def async_setup_session_services(hass: HomeAssistant) -> None:
    """Register `get_sessions` and the CSV export."""
    # For administrators: get_sessions is in services.ADMIN_ACTIONS.
    register(hass, SERVICE_GET_SESSIONS, _get_sessions, GET_SESSIONS_SCHEMA, SupportsResponse.ONLY)
    hass.http.register_view(SessionsCsvView())
