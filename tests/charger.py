"""The scripted OCPP 1.6 test charger lives in the simulator package (simulator/scripted16.py),
with the simulator's other chargers; this module keeps the tests' import path."""

from simulator.scripted16 import SimCharger, connected_charger

__all__ = ["SimCharger", "connected_charger"]
