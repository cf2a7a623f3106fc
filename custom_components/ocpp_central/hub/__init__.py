"""The hub: one central system's parts in Home Assistant (admission, preparation, persistence,
the port its chargers' protocol handlers talk through). central.py composes them."""
