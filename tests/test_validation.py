"""Compiled schema checks agree with the `ocpp` library's validation.

validation.validate() lets a compiled validator (fastjsonschema) accept valid payloads
without the library's jsonschema walk; anything the compiled check rejects goes to the
library. So it must never accept what the library rejects: every mutation of real payloads
below is checked both ways.
"""

from __future__ import annotations

import copy
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallResult, _validate_payload as validate_payload
import pytest

from custom_components.ocpp_central.wire.validation import _fast_check, validate

_METER_16 = {
    "timestamp": "2026-01-01T00:00:00Z",
    "sampledValue": [
        {
            "value": "1500",
            "context": "Sample.Periodic",
            "measurand": "Energy.Active.Import.Register",
            "location": "Outlet",
            "unit": "Wh",
        },
        {"value": "7.2", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
    ],
}
_METER_201 = {
    "timestamp": "2026-01-01T00:00:00Z",
    "sampledValue": [
        {
            "value": 1500,
            "context": "Sample.Periodic",
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh", "multiplier": 0},
        },
        {"value": 7.2, "measurand": "Current.Import", "phase": "L1"},
    ],
}

SAMPLES: list[tuple[str, Call | CallResult]] = [
    (
        "1.6",
        Call(
            "1",
            "BootNotification",
            {
                "chargePointVendor": "Acme",
                "chargePointModel": "W11",
                "chargePointSerialNumber": "SN1",
                "firmwareVersion": "1.0",
            },
        ),
    ),
    (
        "1.6",
        Call(
            "1",
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Charging",
                "timestamp": "2026-01-01T00:00:00Z",
                "info": "x",
            },
        ),
    ),
    (
        "1.6",
        Call("1", "MeterValues", {"connectorId": 1, "transactionId": 3, "meterValue": [_METER_16]}),
    ),
    (
        "1.6",
        Call(
            "1",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG",
                "meterStart": 10,
                "timestamp": "2026-01-01T00:00:00Z",
                "reservationId": 2,
            },
        ),
    ),
    (
        "1.6",
        Call(
            "1",
            "StopTransaction",
            {
                "transactionId": 1,
                "meterStop": 20,
                "timestamp": "2026-01-01T00:00:00Z",
                "reason": "Local",
                "idTag": "TAG",
                "transactionData": [_METER_16],
            },
        ),
    ),
    ("1.6", Call("1", "Authorize", {"idTag": "TAG"})),
    ("1.6", Call("1", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "10"})),
    (
        "1.6",
        CallResult(
            "1",
            {
                "configurationKey": [{"key": "A", "readonly": True, "value": "1"}],
                "unknownKey": ["B"],
            },
            "GetConfiguration",
        ),
    ),
    ("1.6", CallResult("1", {"status": "Accepted"}, "RemoteStartTransaction")),
    (
        "2.0.1",
        Call(
            "1",
            "BootNotification",
            {
                "chargingStation": {"vendorName": "Acme", "model": "S22", "serialNumber": "1"},
                "reason": "PowerUp",
            },
        ),
    ),
    (
        "2.0.1",
        Call(
            "1",
            "StatusNotification",
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "connectorStatus": "Occupied",
                "evseId": 1,
                "connectorId": 1,
            },
        ),
    ),
    (
        "2.0.1",
        Call(
            "1",
            "TransactionEvent",
            {
                "eventType": "Updated",
                "timestamp": "2026-01-01T00:00:00Z",
                "triggerReason": "MeterValuePeriodic",
                "seqNo": 2,
                "transactionInfo": {"transactionId": "abc", "chargingState": "Charging"},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": "T", "type": "ISO14443"},
                "meterValue": [_METER_201],
            },
        ),
    ),
    (
        "2.0.1",
        Call(
            "1",
            "NotifyReport",
            {
                "requestId": 1,
                "generatedAt": "2026-01-01T00:00:00Z",
                "seqNo": 0,
                "tbc": False,
                "reportData": [
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                        "variableAttribute": [
                            {"type": "Actual", "value": "11000", "mutability": "ReadOnly"}
                        ],
                        "variableCharacteristics": {
                            "dataType": "integer",
                            "supportsMonitoring": False,
                        },
                    }
                ],
            },
        ),
    ),
    (
        "2.0.1",
        CallResult(
            "1",
            {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "1",
                        "component": {"name": "C"},
                        "variable": {"name": "V"},
                    }
                ]
            },
            "GetVariables",
        ),
    ),
    ("2.1", Call("1", "MeterValues", {"evseId": 1, "meterValue": [_METER_201]})),
]

_REPLACEMENTS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**40,
    1.5,
    "",
    "x",
    "Accepted",
    "y" * 600,
    [],
    [{}],
    {},
    {"a": 1},
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _mutations(payload: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for path in _paths(payload):
        for replacement in _REPLACEMENTS:
            mutated = copy.deepcopy(payload)
            if not path:
                out.append(replacement)
                continue
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = copy.deepcopy(replacement)
            out.append(mutated)
        if path:
            mutated = copy.deepcopy(payload)
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            del parent[path[-1]]
            out.append(mutated)
        target = payload
        for step in path:
            target = target[step]
        if isinstance(target, dict):
            mutated = copy.deepcopy(payload)
            parent = mutated
            for step in path:
                parent = parent[step]
            parent["unexpectedField"] = 1
            out.append(mutated)
    return out


def _library_accepts(msg: Call | CallResult, version: str) -> bool:
    try:
        validate_payload(msg, version)
    except OCPPError:
        return False
    return True


@pytest.mark.parametrize(
    ("version", "sample"), SAMPLES, ids=[f"{v}-{m.action}-{m.message_type_id}" for v, m in SAMPLES]
)
def test_compiled_check_never_accepts_what_the_library_rejects(
    version: str, sample: Call | CallResult
) -> None:
    assert _library_accepts(sample, version), "the sample itself must be valid"
    check = _fast_check(sample, version)
    assert check is not None
    for payload in _mutations(sample.payload):
        msg = copy.copy(sample)
        msg.payload = payload
        try:
            check(copy.deepcopy(payload))
        except Exception:
            fast = False
        else:
            fast = True
        if fast:
            assert _library_accepts(msg, version), payload
        # The combined check decides exactly as the library.
        try:
            validate(msg, version)
        except OCPPError as err:
            with pytest.raises(OCPPError) as expected:
                validate_payload(copy.copy(msg), version)
            assert (err.code, str(err.description)) == (
                expected.value.code,
                str(expected.value.description),
            )
        else:
            assert _library_accepts(msg, version)


def test_decimal_schemas_stay_on_the_library_path() -> None:
    msg = Call("1", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {}})
    assert _fast_check(msg, "1.6") is None
    assert (
        _fast_check(CallResult("1", {"status": "Rejected"}, "GetCompositeSchedule"), "1.6") is None
    )
