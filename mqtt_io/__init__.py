"""The MQTT edge shared by the spacecraft mock and the ground service.

Broker URLs with credentials that never reach a log, MQTT 5 persistent sessions with manual
acknowledgement (so a QoS 1 message is acknowledged only once it is safely stored), the fallback
to MQTT 3.1.1 for brokers that speak nothing newer (the embedded amqtt broker), and reconnection
with exponential backoff. `mission/` stays free of network code; this package is where it lives.
"""

from mqtt_io.client import (
    BrokerUrl,
    ClientOptions,
    acknowledge,
    backoff_delays,
    detect_protocol,
    make_client,
)

__all__ = [
    "BrokerUrl",
    "ClientOptions",
    "acknowledge",
    "backoff_delays",
    "detect_protocol",
    "make_client",
]
