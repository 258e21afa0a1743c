"""The MQTT edge shared by the spacecraft mock and the ground service.

Broker URLs with credentials that never reach a log, MQTT 5 persistent sessions with manual
acknowledgement (so a QoS 1 message is acknowledged only once it is safely stored), the fallback
to MQTT 3.1.1 for brokers that speak nothing newer (the embedded amqtt broker), and reconnection
with exponential backoff. `mission/` stays free of network code; this package is where it lives.

It is also the one place that reaches into aiomqtt's and paho's private parts (manual
acknowledgement and the incoming queue), each for a measured reason given where it is done.
"""

from mqtt_io.client import (
    BrokerUrl,
    ClientOptions,
    MessageReader,
    ReadGate,
    acknowledge,
    backoff_delays,
    detect_protocol,
    make_client,
    raise_if_cancelling,
)

__all__ = [
    "BrokerUrl",
    "ClientOptions",
    "MessageReader",
    "ReadGate",
    "acknowledge",
    "backoff_delays",
    "detect_protocol",
    "make_client",
    "raise_if_cancelling",
]
