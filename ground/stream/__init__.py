"""The live stream: a hub fed by ingest, one bounded queue per WebSocket client.

- ``protocol``: the JSON messages clients send and receive;
- ``encode``: updates as JSON, parameter values encoded once per batch and shared;
- ``session``: one client's subscription, bounded queue, drop counter and sender;
- ``hub``: the ``LiveSink`` that fans updates out to the sessions.
"""

from ground.stream.hub import StreamHub
from ground.stream.session import ClientSession

__all__ = ["ClientSession", "StreamHub"]
