"""Home Assistant-free core: the model and the rules, as plain Python."""
