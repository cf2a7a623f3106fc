"""OCPP charger simulator and benchmark for the `ocpp_central` integration.

`python -m simulator` (or `scripts/simulate`) runs simulated chargers against a central
system; `python -m simulator.bench` (or `scripts/bench`) measures the integration inside a
real Home Assistant against a bare `ocpp`-library central system; `python -m
simulator.screenshots` (or `scripts/screenshots`) remakes the pictures in docs/images/.

This package is a development tool: it is not part of the integration and is never
installed into Home Assistant.
"""
