"""Settings of the commanding service, built from the ground's settings (or by hand in tests).

Besides what ``GroundSettings`` holds (broker, client id), the command service reads its own
variables with the prefix ``LUPEX_GROUND_COMMAND_`` (pydantic-settings, built in the lifespan):

==============================================  =======  =======================================
``LUPEX_GROUND_COMMAND_TIMEOUT_MARGIN_S``       10       mission seconds added to every deadline
``LUPEX_GROUND_COMMAND_TIMEOUT_WALL_MARGIN_S``  5        wall seconds added (× the speed factor)
``LUPEX_GROUND_COMMAND_TICK_S``                 0.05     wall seconds between two queue checks
==============================================  =======  =======================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ground.commanding.uplink import GROUND_SOURCE_ID
from ground.commanding.verification import TimeoutPolicy
from mqtt_io import BrokerUrl

if TYPE_CHECKING:
    from ground.settings import GroundSettings


class CommandingSettings(BaseSettings):
    """The command service's own environment variables (see the module docstring)."""

    model_config = SettingsConfigDict(env_prefix="LUPEX_GROUND_COMMAND_", extra="ignore")

    timeout_margin_s: float = Field(10.0, ge=0, description="Mission seconds of margin.")
    timeout_wall_margin_s: float = Field(
        5.0, ge=0, description="Wall seconds of margin, converted by the speed factor."
    )
    tick_s: float = Field(0.05, gt=0, le=5.0, description="Wall seconds between queue checks.")


@dataclass(frozen=True, slots=True)
class CommandingConfig:
    broker: BrokerUrl
    client_id: str = "lupex-ground-cmd"
    """MQTT client id of the uplink (apart from ingest's persistent session)."""
    source_id: int = GROUND_SOURCE_ID
    tick_s: float = 0.05
    """Wall seconds between two looks at the queue and the time-outs."""
    timeouts: TimeoutPolicy = field(default_factory=TimeoutPolicy)
    memory: int = 2_000
    """How many finished commands stay in memory (all of them are in the archive)."""
    restore: bool = True
    """At start, reload unfinished commands from the archive and continue the counters."""

    @classmethod
    def from_settings(cls, settings: GroundSettings) -> CommandingConfig:
        own = CommandingSettings()
        return cls(
            broker=settings.broker(),
            client_id=f"{settings.mqtt_client_id}-cmd",
            tick_s=own.tick_s,
            timeouts=TimeoutPolicy(own.timeout_margin_s, own.timeout_wall_margin_s),
        )
