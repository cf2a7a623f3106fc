"""Smart charging in Home Assistant: the site settings, the grid meter, the regulation loop.

The decisions themselves are pure functions in `core.smart`; this package feeds them from
the model and the grid sensors, sends the limits they produce and keeps what must survive a
restart. What it keeps per connector lives with the model (core/smart/state.py).
"""
