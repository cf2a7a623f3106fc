"""The scripted OCPP 2.0.1/2.1 test station lives in the simulator package
(simulator/scripted201.py); this module keeps the tests' import path."""

from simulator.scripted201 import DEFAULT_ANSWERS, SimStation, connected_station

__all__ = ["DEFAULT_ANSWERS", "SimStation", "connected_station"]
