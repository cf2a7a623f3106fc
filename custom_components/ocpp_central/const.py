"""Constants for the OCPP Central System integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "ocpp_central"
NAME: Final = "OCPP Central System"

# Server settings (config entry data).
CONF_SSL_CERTFILE: Final = "ssl_certfile"
CONF_SSL_KEYFILE: Final = "ssl_keyfile"
CONF_SSL_CAFILE: Final = "ssl_cafile"
DEFAULT_HOST: Final = "0.0.0.0"
DEFAULT_PORT: Final = 9000

# Entry options.
CONF_NEW_CHARGERS: Final = "new_chargers"
NEW_CHARGERS_ASK: Final = "ask"
NEW_CHARGERS_ACCEPT: Final = "accept"
NEW_CHARGERS_REJECT: Final = "reject"
NEW_CHARGERS_POLICIES: Final = [NEW_CHARGERS_ASK, NEW_CHARGERS_ACCEPT, NEW_CHARGERS_REJECT]

CONF_REQUIRE_PASSWORD: Final = "require_password"

CONF_ID_TAG_POLICY: Final = "id_tag_policy"
ID_TAG_POLICY_KNOWN: Final = "known"
ID_TAG_POLICY_ACCEPT_ALL: Final = "accept_all"
ID_TAG_POLICIES: Final = [ID_TAG_POLICY_KNOWN, ID_TAG_POLICY_ACCEPT_ALL]

# The site's electricity price (entry options; the options flow's smart_charging step). One
# price source (a sensor or HA core's Nord Pool), a surcharge per kWh added to its prices, or
# a fixed price per kWh used when there is no price source.
CONF_PRICE_SENSOR: Final = "price_sensor"
CONF_NORDPOOL_ENTRY: Final = "nordpool_entry"
CONF_PRICE_SURCHARGE: Final = "price_surcharge"
CONF_FIXED_PRICE: Final = "fixed_price"

# Charger subentries.
SUBENTRY_CHARGER: Final = "charger"
CONF_CHARGER_ID: Final = "charger_id"
CONF_LENIENT: Final = "lenient"
CONF_MAX_CURRENT: Final = "max_current"
CONF_PHASES: Final = "phases"
CONF_VOLTAGE: Final = "voltage"
CONF_METER_INTERVAL: Final = "meter_interval"
# Which supply phase a single-phase charger is on (L1/L2/L3), and the car's battery (kWh).
CONF_PHASE: Final = "phase"
CONF_BATTERY_CAPACITY: Final = "battery_capacity"

# Smart charging (entry options, the options flow's "smart_charging" step).
CONF_MAIN_FUSE: Final = "main_fuse"
CONF_SUPPLY_PHASES: Final = "supply_phases"
CONF_GRID_CURRENT_SENSORS: Final = "grid_current_sensors"
CONF_GRID_POWER_SENSOR: Final = "grid_power_sensor"
CONF_GRID_EXPORT_POSITIVE: Final = "grid_export_positive"
CONF_SAFE_CURRENT: Final = "safe_current"
# ... and the price fields above.
SMART_CHARGING_FIELDS: Final = (
    CONF_MAIN_FUSE,
    CONF_SUPPLY_PHASES,
    CONF_GRID_CURRENT_SENSORS,
    CONF_GRID_POWER_SENSOR,
    CONF_GRID_EXPORT_POSITIVE,
    CONF_SAFE_CURRENT,
    CONF_PRICE_SENSOR,
    CONF_NORDPOOL_ENTRY,
    CONF_PRICE_SURCHARGE,
    CONF_FIXED_PRICE,
)

# A second central system the charger is forwarded to (docs/upstream.md).
CONF_UPSTREAM_URL: Final = "upstream_url"
CONF_UPSTREAM_ID: Final = "upstream_id"
CONF_UPSTREAM_PASSWORD: Final = "upstream_password"
CONF_UPSTREAM_MODE: Final = "upstream_mode"
UPSTREAM_MODES: Final = ["observe", "shared", "billing"]
DEFAULT_UPSTREAM_MODE: Final = "shared"
UPSTREAM_FIELDS: Final = (
    CONF_UPSTREAM_URL,
    CONF_UPSTREAM_ID,
    CONF_UPSTREAM_PASSWORD,
    CONF_UPSTREAM_MODE,
)

# The id tag sent with a remote start when the user gives none (OCPP 1.6 idToken max 20).
DEFAULT_REMOTE_ID_TAG: Final = "HomeAssistant"
ID_TAG_MAX_LENGTH: Final = 20

# Protocol timing.
HEARTBEAT_INTERVAL: Final = 300
PENDING_RETRY_INTERVAL: Final = 30
CALL_TIMEOUT: Final = 30.0
PING_INTERVAL: Final = 30.0
MAX_FRAME_BYTES: Final = 256 * 1024

# Events.
EVENT_TRANSACTION_STARTED: Final = f"{DOMAIN}_transaction_started"
EVENT_TRANSACTION_STOPPED: Final = f"{DOMAIN}_transaction_stopped"
EVENT_ID_TAG: Final = f"{DOMAIN}_id_tag"
EVENT_ERROR: Final = f"{DOMAIN}_error"
EVENT_SECURITY: Final = f"{DOMAIN}_security_event"

# Services.
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_CONNECTOR_ID: Final = "connector_id"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_EXPIRY: Final = "expiry"
ATTR_ID_TAG: Final = "id_tag"
ATTR_NAME: Final = "name"
ATTR_STATUS: Final = "status"

SERVICE_START_CHARGING: Final = "start_charging"
SERVICE_STOP_CHARGING: Final = "stop_charging"
SERVICE_ADD_ID_TAG: Final = "add_id_tag"
SERVICE_REMOVE_ID_TAG: Final = "remove_id_tag"
SERVICE_GET_SESSIONS: Final = "get_sessions"

STORAGE_VERSION: Final = 1
