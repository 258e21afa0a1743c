"""The simulator's MQTT edge: frames, station monitors and status out; uplink and control in.

- TM frames on ``lupex/v1/downlink/{station}/{spacecraft}`` (QoS 1) when they reach the station;
- station monitor JSON, retained, on ``lupex/v1/link/{station}`` (at most every
  ``monitor_min_wall_s`` of wall time per station, at least every few mission seconds at low speed);
- the simulation status, retained, on ``lupex/v1/sim/status`` (every second, after each control
  and as soon as a fault begins or ends);
- TC frames from ``lupex/v1/uplink/+/+`` go to the world at the current mission time; control
  messages from ``lupex/v1/sim/control`` go to the world or the runner.

Everything outgoing passes through an :class:`~spacecraft_mock.outbox.Outbox`; many publishes are
in flight at once (a semaphore bounds them), a frame leaves the outbox only when its PUBACK came,
and after a broker restart the adapter reconnects with backoff and resends what was not confirmed.
The simulation never waits for the broker: it keeps its place in mission time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass, field

import aiomqtt
from pydantic import ValidationError

from mission import topics
from mission.sim_control import (
    ControlAck,
    Pause,
    Resume,
    SetSpeed,
    SpacecraftLinkStatus,
    StationMonitorMessage,
    parse_control,
)
from mqtt_io import BrokerUrl, ClientOptions, backoff_delays, detect_protocol, make_client
from spacecraft_mock.link import StationMonitor
from spacecraft_mock.outbox import Outbox, OutMessage
from spacecraft_mock.runner import RealTimeRunner
from spacecraft_mock.world import StepOutput, iso

log = logging.getLogger("lupex.spacecraft.mqtt")


@dataclass(frozen=True, slots=True)
class AdapterSettings:
    url: BrokerUrl
    client_id: str = "lupex-spacecraft"
    max_inflight: int = 256
    max_outbox_frames: int = 100_000
    status_interval_s: float = 1.0
    monitor_min_wall_s: float = 0.1
    flush_timeout_s: float = 10.0
    protocol: aiomqtt.ProtocolVersion | None = None
    """None: MQTT 5 when the broker speaks it, else 3.1.1."""


@dataclass(slots=True)
class AdapterStats:
    connections: int = 0
    frames_queued: int = 0
    uplink_frames: int = 0
    uplink_refused: int = 0
    control_messages: int = 0
    publish_errors: int = 0
    first_publish_wall: float | None = None
    last_ack_wall: float | None = None
    extra: dict[str, int] = field(default_factory=dict)


def monitor_message(record: StationMonitor) -> StationMonitorMessage:
    return StationMonitorMessage(
        station=record.station,
        time=record.time,
        time_iso=iso(record.time),
        in_view=record.in_view,
        outage=record.outage,
        moon_elevation_deg=round(record.moon_elevation_deg, 4),
        moon_azimuth_deg=round(record.moon_azimuth_deg, 4),
        earth_elevation_site_deg=round(record.earth_elevation_site_deg, 4),
        range_km=round(record.range_km, 3),
        light_time_s=round(record.light_time_s, 6),
        prime=record.prime,
        spacecraft={
            name: SpacecraftLinkStatus(
                ebn0_db=link.ebn0_db,
                carrier_lock=link.carrier_lock,
                bit_lock=link.bit_lock,
                frame_lock=link.frame_lock,
                data_rate_bps=link.data_rate_bps,
                path=link.path,
                prime=link.prime,
            )
            for name, link in record.spacecraft.items()
        },
        uplink_frames=record.uplink_frames,
        uplink_lost=record.uplink_lost,
    )


class MqttAdapter:
    def __init__(self, runner: RealTimeRunner, settings: AdapterSettings) -> None:
        self.runner = runner
        self.world = runner.world
        self.settings = settings
        self.outbox = Outbox(settings.max_outbox_frames)
        self.stats = AdapterStats()
        self.last_control: ControlAck | None = None
        self.connected = asyncio.Event()
        self._last_monitor_wall: dict[str, float] = {}
        self._last_status_wall = -math.inf
        self._fault_changes = 0
        self._protocol = settings.protocol

    # ------------------------------------------------------------------ outgoing
    def _status(self, running: bool = True) -> None:
        status = self.world.status(
            wall_time=time.time(),
            speed=self.runner.speed,
            paused=self.runner.paused,
            lag_s=round(self.runner.lag_s, 3),
            last_control=self.last_control,
            running=running,
        )
        self.outbox.put_latest(topics.SIM_STATUS, status.model_dump_json().encode())
        self._last_status_wall = time.monotonic()

    async def _sink(self, out: StepOutput) -> None:
        for delivery in out.frames:
            self.outbox.put(topics.downlink(delivery.station, delivery.spacecraft), delivery.frame)
        self.stats.frames_queued += len(out.frames)
        now = time.monotonic()
        for record in out.monitors:
            last = self._last_monitor_wall.get(record.station, -math.inf)
            if now - last >= self.settings.monitor_min_wall_s:
                self._last_monitor_wall[record.station] = now
                payload = monitor_message(record).model_dump_json().encode()
                self.outbox.put_latest(topics.link(record.station), payload)
        for event in out.events:
            log.info("link %s at %s: %s", event.kind, iso(event.time), event.detail)
        for line in out.log:
            log.info("%s", line)
        changes = self.world.injector.changes
        if changes != self._fault_changes:
            # A fault began or ended: say so now, not at the next periodic status (at 400× a
            # whole short fault fits between two, and a trainee may detect it first).
            self._fault_changes = changes
            self._status()
        elif now - self._last_status_wall >= self.settings.status_interval_s:
            self._status()

    async def _publish(
        self, client: aiomqtt.Client, message: OutMessage, slots: asyncio.Semaphore
    ) -> None:
        try:
            await client.publish(
                message.topic, message.payload, qos=message.qos, retain=message.retain,
                timeout=math.inf,
            )  # fmt: skip
        except (aiomqtt.MqttError, asyncio.CancelledError):
            self.outbox.requeue(message)
            self.stats.publish_errors += 1
            raise
        else:
            self.outbox.ack(message)
            self.stats.last_ack_wall = time.monotonic()
        finally:
            slots.release()

    async def _publisher(self, client: aiomqtt.Client) -> None:
        slots = asyncio.Semaphore(self.settings.max_inflight)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                await slots.acquire()
                message = await self.outbox.get()
                if self.stats.first_publish_wall is None:
                    self.stats.first_publish_wall = time.monotonic()
                task = asyncio.create_task(self._publish(client, message, slots))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.outbox.requeue_all()

    # ------------------------------------------------------------------ incoming
    def _handle(self, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        payload = message.payload
        data = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        if topic == topics.SIM_CONTROL:
            self._control(bytes(data))
            return
        try:
            station, spacecraft = topics.parse_uplink_topic(topic)
        except ValueError:
            log.warning("ignored a message on %s", topic)
            return
        self.stats.uplink_frames += 1
        if not self.world.receive_uplink(station, spacecraft, bytes(data)):
            self.stats.uplink_refused += 1
            log.info(
                "uplink via %s to %s lost (station not in view or vehicle deaf)",
                station,
                spacecraft,
            )

    def _control(self, payload: bytes) -> None:
        self.stats.control_messages += 1
        now = self.world.t
        try:
            message = parse_control(payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            reason = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
            self.last_control = ControlAck(
                request_id=None, action="invalid", accepted=False, reason=reason, time=now
            )
            log.warning("invalid control message: %s", reason)
            self._status()
            return
        if isinstance(message, SetSpeed):
            self.runner.set_speed(message.speed)
            ack = ControlAck(request_id=message.request_id, action=message.action, accepted=True,
                             reason=f"speed {message.speed:g}", time=now)  # fmt: skip
        elif isinstance(message, Pause | Resume):
            (self.runner.pause if isinstance(message, Pause) else self.runner.resume)()
            ack = ControlAck(
                request_id=message.request_id, action=message.action, accepted=True, time=now
            )
        else:
            ack = self.world.apply_control(message)
        self.last_control = ack
        log.info(
            "control %s: %s %s", ack.action, "accepted" if ack.accepted else "refused", ack.reason
        )
        self._status()

    # ------------------------------------------------------------------ connection
    async def _options(self) -> ClientOptions:
        if self._protocol is None:
            self._protocol = await detect_protocol(self.settings.url)
        return ClientOptions(
            identifier=self.settings.client_id,
            protocol=self._protocol,
            persistent=True,
            max_queued_incoming=10_000,
        )

    async def _connection(self, stop: asyncio.Event, producer: asyncio.Task[None]) -> None:
        """One connection: subscribe, publish and receive until it drops or the run ends."""
        client = make_client(self.settings.url, await self._options())
        # Many publishes in flight at once: paho's own window (20 by default) and aiomqtt's
        # warning threshold for pending calls are raised to the adapter's semaphore size.
        client._client.max_inflight_messages_set(self.settings.max_inflight)
        client.pending_calls_threshold = 4 * self.settings.max_inflight
        async with client:
            self.stats.connections += 1
            self.connected.set()
            log.info(
                "connected to %s (MQTT %s) as %s; speed %g, seed %d",
                self.settings.url, "5" if self._protocol is aiomqtt.ProtocolVersion.V5 else "3.1.1",
                self.settings.client_id, self.runner.speed, self.world.seed,
            )  # fmt: skip
            await client.subscribe(topics.UPLINK_ALL, qos=1)
            await client.subscribe(topics.SIM_CONTROL, qos=1)
            publisher = asyncio.create_task(self._publisher(client))
            receiver = asyncio.create_task(self._receive(client))
            ending = asyncio.create_task(self._until_finished(stop, producer))
            try:
                done, _ = await asyncio.wait(
                    {publisher, receiver, ending}, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    if task is not ending:
                        task.result()  # raises the MqttError that ended the connection
            finally:
                self.connected.clear()
                for task in (publisher, receiver, ending):
                    task.cancel()
                await asyncio.gather(publisher, receiver, ending, return_exceptions=True)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self._handle(message)

    async def _until_finished(self, stop: asyncio.Event, producer: asyncio.Task[None]) -> None:
        """Wait for the end of the run, then for the outbox to drain (bounded)."""
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({producer, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        self._status(running=False)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.outbox.drained(), self.settings.flush_timeout_s)

    async def _produce(self, stop: asyncio.Event) -> None:
        await self.runner.run(self._sink, stop)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run the simulation and the MQTT edge until ``stop`` or the end of the duration."""
        stop = stop or asyncio.Event()
        producer = asyncio.create_task(self._produce(stop))
        delays = backoff_delays()
        give_up_at: float | None = None
        try:
            while True:
                try:
                    await self._connection(stop, producer)
                    return
                except aiomqtt.MqttError as exc:
                    self.outbox.requeue_all()
                    if producer.done():
                        # The run is over while disconnected: keep trying to flush for a while.
                        give_up_at = give_up_at or time.monotonic() + self.settings.flush_timeout_s
                        if self.outbox.empty or time.monotonic() > give_up_at:
                            log.warning("giving up with %d messages unsent", len(self.outbox))
                            return
                    delay = next(delays)
                    log.warning(
                        "MQTT connection to %s lost (%s); reconnecting in %.2f s (%d queued)",
                        self.settings.url, exc, delay, len(self.outbox),
                    )  # fmt: skip
                    await asyncio.sleep(delay)
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await producer
