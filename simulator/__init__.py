"""OCPP charger simulator and benchmark for the `ocpp_central` integration.

`python -m simulator` (or `scripts/simulate`) runs simulated chargers against a central
system; `python -m simulator.bench` (or `scripts/bench`) measures the integration inside a
real Home Assistant against a bare `ocpp`-library central system; `python -m
simulator.screenshots` (or `scripts/screenshots`) remakes the pictures in docs/images/.

Two kinds of chargers: the autonomous ones (base.py, charger16.py, charger201.py) run
sessions by themselves, as a real charger does; the scripted ones (scripted.py,
scripted16.py, scripted201.py) do only what a test tells them and record what the central
system sent them. The tests use both (tests/charger.py and tests/charger201.py name the
scripted ones).

This package is a development tool: it is not part of the integration and is never
installed into Home Assistant.
"""
