"""The REST API and WebSocket of the ground service, mounted under ``/api/v1`` by ``ground.app``.

One module per area, each with an ``APIRouter`` that protects itself with
``ground.security.require(role)``: ``mdb`` (mission database), ``parameters`` (latest, history,
samples, CSV export), ``events`` (events and alarms), ``status`` (links, counters, quarantine,
clock, health), ``stream`` (the WebSocket). ``schemas`` holds the pydantic models, ``errors`` the
error helpers and handlers, ``deps`` the ``GroundServices`` the lifespan builds.
"""
