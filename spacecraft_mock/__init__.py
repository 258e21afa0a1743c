"""The simulated LUPEX world: a deterministic, steppable rover and lander with their on-board
software, faults, scenarios and space link, and an MQTT adapter at its edge (see README.md)."""
