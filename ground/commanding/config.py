"""Settings of the commanding service, built from the ground's settings (or by hand in tests).

Besides what ``GroundSettings`` holds (broker, client id), the command service reads its own
variables with the prefix ``LUPEX_GROUND_COMMAND_`` (pydantic-settings, built in the lifespan):

==============================================  =======  =======================================
``LUPEX_GROUND_COMMAND_TIMEOUT_MARGIN_S``       10       mission seconds added to every deadline
``LUPEX_GROUND_COMMAND_TIMEOUT_WALL_MARGIN_S``  5        wall seconds added (× the speed factor)
``LUPEX_GROUND_COMMAND_TICK_S``                 0.05     wall seconds between two queue checks
``LUPEX_GROUND_COMMAND_TC_MODE``                ad       ``ad``: Type-AD frames under COP-1
                                                         (FOP-1, retransmission); ``bd``: bypass
``LUPEX_GROUND_COMMAND_FOP_WINDOW``             10       FOP sliding window K (frames outstanding)
``LUPEX_GROUND_COMMAND_FOP_T1_S``               10       timer T1, mission seconds (plus the
                                                         wall margin × the speed factor)
``LUPEX_GROUND_COMMAND_FOP_T1_WALL_MARGIN_S``   1        wall seconds added to T1 (× the speed)
``LUPEX_GROUND_COMMAND_FOP_TRANSMISSION_LIMIT`` 3        transmissions of a frame before the alert
``LUPEX_GROUND_COMMAND_FOP_TIMEOUT_TYPE``       0        0: alert at the limit; 1: suspend
``LUPEX_GROUND_COMMAND_COP1_AUTO_INITIATE``     true     initiate AD from the first CLCW received
==============================================  =======  =======================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ground.commanding.fop import FopParameters, TimeoutType
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
    tc_mode: Literal["ad", "bd"] = Field("ad", description="Type-AD under COP-1, or bypass.")
    fop_window: int = Field(10, ge=1, le=255, description="FOP sliding window K.")
    fop_t1_s: float = Field(10.0, gt=0, description="Timer T1 in mission seconds.")
    fop_t1_wall_margin_s: float = Field(
        1.0, ge=0, le=60, description="Wall seconds added to T1, times the speed factor."
    )
    fop_transmission_limit: int = Field(3, ge=1, le=100, description="Transmissions per frame.")
    fop_timeout_type: Literal[0, 1] = Field(0, description="0: alert; 1: suspend at the limit.")
    cop1_auto_initiate: bool = Field(True, description="Initiate AD from the first CLCW.")


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
    tc_mode: str = "ad"
    """``ad``: Type-AD frames under COP-1 (the FOP-1 retransmits); ``bd``: Type-BD (bypass)."""
    fop: FopParameters = field(default_factory=FopParameters)
    fop_t1_wall_margin_s: float = 1.0
    """Wall seconds added to T1, converted by the speed factor: what runs on the wall clock
    (broker, ingest batching, the ground's polling) is not taken for a lost frame."""
    cop1_auto_initiate: bool = True
    """Initiate AD (without CLCW check, V(S) from the FARM's N(R)) when the first CLCW of a
    vehicle arrives, so that commanding works from the start; an alert still stops it until an
    operator initiates AD again."""

    @classmethod
    def from_settings(cls, settings: GroundSettings) -> CommandingConfig:
        own = CommandingSettings()
        return cls(
            broker=settings.broker(),
            client_id=f"{settings.mqtt_client_id}-cmd",
            tick_s=own.tick_s,
            timeouts=TimeoutPolicy(own.timeout_margin_s, own.timeout_wall_margin_s),
            tc_mode=own.tc_mode,
            fop=FopParameters(
                window=own.fop_window,
                t1_s=own.fop_t1_s,
                transmission_limit=own.fop_transmission_limit,
                timeout_type=TimeoutType(own.fop_timeout_type),
            ),
            fop_t1_wall_margin_s=own.fop_t1_wall_margin_s,
            cop1_auto_initiate=own.cop1_auto_initiate,
        )
