"""Configuration of the ingest service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from mission.topics import DOWNLINK_ALL
from mqtt_io import BrokerUrl

if TYPE_CHECKING:
    from ground.settings import GroundSettings

DEFAULT_RECEIVE_MAXIMUM: Final = 4000
DEFAULT_QUEUE_SIZE: Final = 20_000
DEFAULT_BATCH_MAX_FRAMES: Final = 1000
DEFAULT_BATCH_MAX_DELAY_S: Final = 0.005
"""The defaults of ``lupex ground`` (``GroundSettings``) and ``python -m ground.ingest`` alike:
the figures in docs/performance.md were measured with these."""
DEFAULT_SESSION_EXPIRY_S: Final = 24 * 3600


@dataclass(frozen=True, kw_only=True)
class IngestConfig:
    """How the ingest service connects, batches and paces itself.

    Flow control and no loss: the broker never has more than ``receive_maximum`` unacknowledged
    QoS 1 frames in flight to us (MQTT 5 Receive Maximum), and a frame is acknowledged only once
    the batch that holds it is committed to the archive. So at most ``receive_maximum`` frames
    are ever inside the service, and the internal queues (``queue_size`` frames, at least
    ``receive_maximum``) cannot overflow.
    """

    broker: BrokerUrl
    client_id: str
    """The MQTT client id; it names the persistent session (one per ground instance)."""
    shared_group: str | None = None
    """Subscribe as ``$share/<group>/...`` so that several instances split the downlink.

    The broker hands each message to one member of the group, frame by frame, with no affinity:
    an instance then sees only some frames of a virtual channel, and packets that span frames
    are cut (counted as skipped octets, with VC gap events). Split by spacecraft or station with
    ``topic_filter`` instead when packets span frames (they do here: TM frames are filled)."""
    topic_filter: str = DOWNLINK_ALL
    """The downlink topics this instance takes, e.g. ``lupex/v1/downlink/+/rover``."""
    receive_maximum: int = DEFAULT_RECEIVE_MAXIMUM
    queue_size: int = DEFAULT_QUEUE_SIZE
    """Frames waiting between the MQTT receiver and the processor (raised to receive_maximum)."""
    batch_max_frames: int = DEFAULT_BATCH_MAX_FRAMES
    batch_max_delay_s: float = DEFAULT_BATCH_MAX_DELAY_S
    session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S
    subscribe_links: bool = True
    """Also subscribe to station monitor data and the sim status (clock)."""
    persistent: bool = True
    """Keep the MQTT session across reconnections and restarts (the no-loss guarantee)."""
    archive_queue_frames: int = DEFAULT_RECEIVE_MAXIMUM
    """Frames of processed batches waiting for the archive writer (backpressure beyond that).
    Counted in frames, not batches: live values go out before a batch waits here, and a bound of
    a few batches made the live stream wait for every commit at low rates, when each batch holds
    a frame or two (bench.latency's p99), while at full rate a few large batches are what keeps
    the decoder efficient. The default, the Receive Maximum, is about what can be in flight
    anyway (a frame is acknowledged once committed)."""
    compact_interval_s: float = 30.0
    """How often the archive compacts its small blocks (0: never)."""
    staleness_interval_s: float = 1.0
    """Wall seconds between two staleness checks."""
    recent_hashes: int = 200_000
    """Frame hashes remembered for deduplication (and loaded from the archive at start)."""
    qos0_allowance: int = 10_000
    """Messages beyond ``receive_maximum`` the receive queue may hold before the ground stops
    reading the socket (``mqtt_io.ReadGate``): QoS 0 messages, MQTT 3.1.1 brokers and Mosquitto
    2.0.11 with a backlog are not bounded by Receive Maximum."""
    keepalive_s: int = 30
    mqtt_timeout_s: float = 10.0
    """How long an MQTT operation (connect, subscribe, disconnect) may take before it fails."""
    archive_url: str | None = None
    """The archive's URL: when given (and not in memory), batches are committed by a process of
    its own that opens this URL (``writer.ProcessWriter``); else on the worker thread with the
    ``Archive`` object the service was given (which it always uses for reading)."""

    @property
    def state_key(self) -> str:
        """Key of this instance's ingest state in the archive."""
        return f"ingest/{self.client_id}"

    @classmethod
    def from_settings(cls, settings: GroundSettings) -> IngestConfig:
        """The ingest part of the ground service's settings."""
        return cls(
            broker=settings.broker(),
            client_id=settings.mqtt_client_id,
            shared_group=settings.share_group,
            topic_filter=settings.topic_filter,
            receive_maximum=settings.mqtt_receive_maximum,
            queue_size=settings.ingest_queue_size,
            batch_max_frames=settings.batch_max_frames,
            batch_max_delay_s=settings.batch_max_delay_s,
            persistent=settings.persistent_session,
            archive_url=settings.db_url,
        )
