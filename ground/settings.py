"""Settings of the ground service (pydantic-settings, environment prefix ``LUPEX_GROUND_``).

Build ``GroundSettings()`` in ``main()`` or in a test, never at import: importing this module reads
nothing from the environment. Every field can be set by an environment variable named
``LUPEX_GROUND_<FIELD>`` (``LUPEX_GROUND_DB_URL``, ``LUPEX_GROUND_MQTT_PASSWORD``, ...); the
``lupex ground`` command line overrides the environment.

Credentials are ``SecretStr``: they never appear in ``repr``, in logs or in ``model_dump`` output
unless unwrapped with ``get_secret_value()``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ground.ingest.config import (
    DEFAULT_BATCH_MAX_DELAY_S,
    DEFAULT_BATCH_MAX_FRAMES,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_RECEIVE_MAXIMUM,
)
from ground.security import Role
from mission.topics import DOWNLINK_ALL
from mqtt_io import BrokerUrl

ENV_PREFIX: Final = "LUPEX_GROUND_"
DEFAULT_DB_URL: Final = "sqlite:///var/lupex/archive.db"
DEFAULT_BROKER_URL: Final = "mqtt://127.0.0.1:1883"

LogFormat = Literal["auto", "json", "human"]


class GroundSettings(BaseSettings):
    """Everything the ground service needs to start; each field is ``LUPEX_GROUND_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        validate_default=True,
        hide_input_in_errors=True,  # a bad token table must not be echoed in an error message
    )

    # --- MQTT -------------------------------------------------------------------------------------
    broker_url: str = Field(
        DEFAULT_BROKER_URL,
        description="MQTT broker, mqtt://host:port (credentials in the URL are accepted, but "
        "prefer LUPEX_GROUND_MQTT_USERNAME/PASSWORD).",
    )
    mqtt_username: str = Field("ground", description="MQTT user of the ground service.")
    mqtt_password: SecretStr = Field(
        SecretStr("lupex-ground-demo"),
        description="MQTT password (the demo password of deploy/mosquitto/passwd by default).",
    )
    mqtt_client_id: str = Field(
        "lupex-ground",
        description="MQTT client id; it names the persistent session, so give each ground "
        "instance its own.",
    )
    share_group: str | None = Field(
        None,
        description="MQTT 5 shared-subscription group: ground instances with the same group "
        "split the downlink between them ($share/<group>/lupex/v1/downlink/+/+).",
    )
    topic_filter: str = Field(
        DOWNLINK_ALL,
        description="The downlink topics this instance takes, e.g. lupex/v1/downlink/+/rover "
        "(one vehicle per instance). Prefer it to share_group: a packet split across two frames "
        "needs both frames in the same instance, which a share group does not guarantee.",
    )
    persistent_session: bool = Field(
        True, description="Keep the MQTT session (and the broker's queue) across restarts."
    )

    # --- Archive and mission database -------------------------------------------------------------
    db_url: str = Field(
        DEFAULT_DB_URL,
        description="Archive: sqlite:///path/to/file.db or postgresql://user@host:port/db.",
    )
    mdb_dir: Path | None = Field(
        None, description="Folder of the mission database YAML files (default: the shipped one)."
    )

    # --- HTTP -------------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the HTTP/WebSocket server binds.")
    port: int = Field(8000, ge=0, le=65535, description="HTTP/WebSocket port.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins allowed by CORS, as JSON (e.g. ["http://localhost:8501"]); none by '
        "default (the dashboard calls the API from its server, not from the browser).",
    )

    # --- Access tokens ----------------------------------------------------------------------------
    tokens: SecretStr | None = Field(
        None,
        description='Bearer tokens and their roles as JSON, {"<token>": "viewer"|"operator"|'
        '"instructor"}. Combined with the three single-token variables below.',
    )
    viewer_token: SecretStr | None = Field(None, description="A token with the viewer role.")
    operator_token: SecretStr | None = Field(None, description="A token with the operator role.")
    instructor_token: SecretStr | None = Field(
        None, description="A token with the instructor role."
    )

    # --- Ingest -----------------------------------------------------------------------------------
    ingest_queue_size: int = Field(
        DEFAULT_QUEUE_SIZE,
        ge=1,
        description="Frames waiting between the MQTT receiver and the decoder.",
    )
    mqtt_receive_maximum: int = Field(
        DEFAULT_RECEIVE_MAXIMUM,
        ge=1,
        le=65535,
        description="MQTT 5 Receive Maximum: unacknowledged frames in flight.",
    )
    batch_max_frames: int = Field(
        DEFAULT_BATCH_MAX_FRAMES, ge=1, description="Most frames decoded and archived as one batch."
    )
    batch_max_delay_s: float = Field(
        DEFAULT_BATCH_MAX_DELAY_S,
        gt=0,
        le=5.0,
        description="Longest wait to fill a batch before processing it.",
    )

    gil_switch_interval_s: float = Field(
        0.0005,
        gt=0,
        le=0.1,
        description="Python's thread switch interval in the ground process: how soon the event "
        "loop gets the GIL back from the decoding thread (sys.setswitchinterval).",
    )

    # --- Live stream ------------------------------------------------------------------------------
    stream_queue_size: int = Field(
        256,
        ge=1,
        description="Messages waiting for one WebSocket client; beyond it the oldest are dropped "
        "and counted.",
    )
    stream_queue_values: int = Field(
        100_000,
        ge=1,
        description="Values (and alarm, event... rows) waiting for one WebSocket client: the "
        "bound in memory whatever the batch sizes; beyond it the oldest are dropped and counted.",
    )
    stream_min_interval_s: float = Field(
        0.005,
        ge=0,
        le=5.0,
        description="Shortest time between two data messages to one client: updates arriving "
        "meanwhile are coalesced into the next message.",
    )
    stream_max_values: int = Field(
        5000, ge=1, description="Most parameter values in one WebSocket message."
    )

    metrics_public: bool = Field(
        True,
        description="Serve /metrics without a token (Prometheus scrapers rarely carry one; the "
        "metrics are counts, never telemetry values). false: the viewer role is needed.",
    )

    # --- API limits -------------------------------------------------------------------------------
    max_buckets: int = Field(10_000, ge=1, description="Most buckets of one history query.")
    max_samples: int = Field(100_000, ge=1, description="Most raw samples returned by one query.")

    shutdown_grace_s: float = Field(
        15.0,
        gt=0,
        le=300,
        description="Longest wait for the background services to stop at shutdown.",
    )

    # --- Logging ----------------------------------------------------------------------------------
    log_format: LogFormat = Field(
        "auto", description="json, human, or auto: human on a terminal, JSON otherwise."
    )
    log_level: str = Field("INFO", description="Log level of the service (DEBUG, INFO, ...).")

    @field_validator("topic_filter")
    @classmethod
    def _downlink_filter(cls, value: str) -> str:
        prefix = DOWNLINK_ALL.removesuffix("+/+")
        levels = value.split("/")
        if not value.startswith(prefix) or len(levels) != len(DOWNLINK_ALL.split("/")):
            msg = f"must be a downlink topic filter {prefix}<station>/<spacecraft> ('+' for any)"
            raise ValueError(msg)
        if any(("+" in level or "#" in level) and level != "+" for level in levels):
            msg = "'+' must stand alone in a topic level, and '#' is not allowed here"
            raise ValueError(msg)
        return value

    @field_validator("tokens")
    @classmethod
    def _check_token_table(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_token_table(value.get_secret_value())
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"):
            msg = f"log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {value!r}"
            raise ValueError(msg)
        return level

    @field_validator("broker_url")
    @classmethod
    def _check_broker(cls, value: str) -> str:
        BrokerUrl.parse(value)  # raises ValueError naming what is wrong (password redacted)
        return value

    # --- derived values ---------------------------------------------------------------------------
    def broker(self) -> BrokerUrl:
        """The broker URL with the settings' credentials (which override those in the URL)."""
        return BrokerUrl.parse(
            self.broker_url,
            username=self.mqtt_username,
            password=self.mqtt_password.get_secret_value(),
        )

    def token_roles(self) -> dict[str, Role | str]:
        """Every configured token and its role, ``Role`` or ``"role:name"`` (see ``TokenStore``).

        Empty: nobody can call the API (only the liveness probe and the metrics answer).
        """
        table: dict[str, Role | str] = {}
        if self.tokens is not None:
            table.update(parse_token_table(self.tokens.get_secret_value()))
        for secret, role in (
            (self.viewer_token, Role.VIEWER),
            (self.operator_token, Role.OPERATOR),
            (self.instructor_token, Role.INSTRUCTOR),
        ):
            if secret is not None and secret.get_secret_value():
                table[secret.get_secret_value()] = role
        return table

    def json_logs(self) -> bool:
        """Whether to log JSON lines (``auto``: when stderr is not a terminal)."""
        if self.log_format == "auto":
            return not sys.stderr.isatty()
        return self.log_format == "json"

    def redacted_db_url(self) -> str:
        """The archive URL with any password replaced by ``***``."""
        return redact_url(self.db_url)


def parse_token_table(text: str) -> dict[str, str]:
    """``{"token": "role"}`` or ``{"token": "role:name"}``, checked; errors never quote a token."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"tokens must be a JSON object {{token: role}} (JSON error at position {exc.pos})"
        raise ValueError(msg) from None
    if not isinstance(raw, Mapping):
        msg = f"tokens must be a JSON object {{token: role}}, not a {type(raw).__name__}"
        raise ValueError(msg)
    table: dict[str, str] = {}
    for index, (token, spec) in enumerate(raw.items()):
        if not isinstance(token, str) or not token:
            msg = f"tokens: entry {index} has an empty token"
            raise ValueError(msg)
        role, _, name = spec.partition(":") if isinstance(spec, str) else (spec, "", "")
        try:
            label = Role.parse(role).label
        except ValueError:
            msg = (
                f"tokens: entry {index} has role {role!r}; "
                f"expected one of {', '.join(r.label for r in Role)}"
            )
            raise ValueError(msg) from None
        table[token] = f"{label}:{name.strip()}" if name.strip() else label
    return table


def redact_url(url: str) -> str:
    """``scheme://user:secret@host/...`` → ``scheme://user:***@host/...``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, at, location = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}{at}{location}"
