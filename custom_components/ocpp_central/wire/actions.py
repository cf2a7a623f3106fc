"""Which OCPP actions a charger sends, per version (free of Home Assistant).

The charger's protocol handlers use these lists (an action a charger may send but we do not
handle is NotSupported, not unknown); the upstream link uses them the other way round: every
other action of a version is a command the backend may send to the charger.
"""

from __future__ import annotations

from typing import Final

CHARGER_ACTIONS_16: Final = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)
CHARGER_ACTIONS_201: Final = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)
CHARGER_ACTIONS_21: Final = CHARGER_ACTIONS_201 | {
    "BatterySwap",
    "ClosePeriodicEventStream",
    "GetCertificateChainStatus",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyPriorityCharging",
    "NotifySettlement",
    "OpenPeriodicEventStream",
    "PullDynamicScheduleUpdate",
    "ReportDERControl",
    "VatNumberValidation",
}
# Charger-sent actions by OCPP version (DataTransfer goes both ways: it is in each).
CHARGER_ACTIONS: Final[dict[str, frozenset[str]]] = {
    "1.6": CHARGER_ACTIONS_16,
    "2.0.1": CHARGER_ACTIONS_201,
    "2.1": CHARGER_ACTIONS_21,
}
