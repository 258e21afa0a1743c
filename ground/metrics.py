"""Prometheus metrics of the ground service, in one registry per service instance.

Names follow Prometheus conventions (``_total`` for counters). One ``GroundMetrics`` is created by
``create_app`` and handed to every stage; `/metrics` renders its registry.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class GroundMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.frames = Counter(
            "lupex_frames_total", "TM frames received", ["station", "spacecraft"], registry=r
        )
        self.frames_duplicate = Counter(
            "lupex_frames_duplicate_total", "Redelivered frames dropped", ["station"], registry=r
        )
        self.frame_gaps = Counter(
            "lupex_frame_gaps_total", "Frames missing by frame count", ["spacecraft"], registry=r
        )
        self.packets = Counter(
            "lupex_packets_total", "TM packets decoded", ["spacecraft", "apid"], registry=r
        )
        self.packet_gaps = Counter(
            "lupex_packet_gaps_total", "Packets missing by sequence count", ["apid"], registry=r
        )
        self.samples = Counter("lupex_samples_total", "Parameter samples decoded", registry=r)
        self.errors = Counter(
            "lupex_ingest_errors_total", "Malformed input by reason", ["reason"], registry=r
        )
        self.skipped_octets = Counter(
            "lupex_skipped_octets_total", "Octets not placed in a packet", ["reason"], registry=r
        )
        self.events = Counter("lupex_events_total", "PUS events received", ["severity"], registry=r)
        self.alarms_raised = Counter(
            "lupex_alarms_raised_total", "Alarms raised", ["level"], registry=r
        )
        self.queue_depth = Gauge(
            "lupex_queue_depth", "Items waiting in an internal queue", ["queue"], registry=r
        )
        self.ws_clients = Gauge("lupex_ws_clients", "Connected WebSocket clients", registry=r)
        self.ws_dropped = Counter(
            "lupex_ws_dropped_total", "Stream messages dropped for slow clients", registry=r
        )
        self.ws_sent = Counter("lupex_ws_messages_total", "Stream messages sent", registry=r)
        self.batch_seconds = Histogram(
            "lupex_ingest_batch_seconds",
            "Time to process one ingest batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.archive_seconds = Histogram(
            "lupex_archive_write_seconds",
            "Time to commit one archive batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.commands = Counter(
            "lupex_commands_total", "Commands by final stage", ["stage"], registry=r
        )
        self.cop1_frames = Counter(
            "lupex_cop1_frames_total",
            "TC frames sent by the FOP-1, by vehicle and kind (ad, ad_retransmission, bc)",
            ["vehicle", "kind"],
            registry=r,
        )
        self.cop1_alerts = Counter(
            "lupex_cop1_alerts_total", "FOP-1 alerts (AD service stopped)", ["vehicle"], registry=r
        )
        self.mqtt_reconnects = Counter(
            "lupex_mqtt_reconnects_total", "Reconnections to the broker", registry=r
        )
