"""Processing of decoded telemetry: limits, alarms, events, staleness, latest values, links, the
mission clock, and the ``GroundState`` the API and the stream read."""
