"""OCPP-J on the wire, below both the charger's handlers and the upstream link: the
connection (framing, calls and their answers), validation against the schemas, the
websocket server, and which actions each side sends. No Home Assistant here."""
