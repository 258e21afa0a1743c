"""Settings of the dashboard (environment variables with the prefix ``LUPEX_DASHBOARD_``).

``lupex dashboard --api URL --token TOKEN`` passes its options to the Streamlit process through
these variables; the app builds :class:`DashboardSettings` once per server process (never at
import). The token is a ``SecretStr``: it is never logged and only shown masked.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """Where the ground service is, how to authenticate and how much live data to keep."""

    model_config = SettingsConfigDict(
        env_prefix="LUPEX_DASHBOARD_", extra="ignore", hide_input_in_errors=True
    )

    api: str = Field(
        "http://127.0.0.1:8000", description="Base URL of the ground service (no /api/v1)."
    )
    token: SecretStr | None = Field(None, description="Bearer token for the ground's API.")
    timeout_s: float = Field(5.0, gt=0, le=120, description="Timeout of one REST request.")
    refresh_s: float = Field(
        2.0, ge=0.5, le=60, description="Period of the live parts of each page (fragments)."
    )
    live_capacity: int = Field(
        1200, ge=10, le=100_000, description="Samples kept per parameter for the live plots."
    )
    live_max_parameters: int = Field(
        2000, ge=1, le=100_000, description="Most parameters with a live ring buffer."
    )
    live_patterns: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Parameter names or patterns the live stream subscribes to.",
    )
    events_capacity: int = Field(300, ge=10, le=100_000, description="Live events kept.")
    commands_capacity: int = Field(200, ge=10, le=100_000, description="Live commands kept.")
    alarms_capacity: int = Field(500, ge=10, le=100_000, description="Live alarms kept.")
    reconnect_max_s: float = Field(
        30.0, ge=0.1, le=600, description="Longest wait between two WebSocket reconnections."
    )

    @field_validator("api")
    @classmethod
    def _strip_api(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            msg = "api must be an http:// or https:// URL"
            raise ValueError(msg)
        return value.removesuffix("/api/v1")

    @property
    def stream_url(self) -> str:
        """The WebSocket URL of the ground's live stream."""
        scheme, rest = self.api.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/v1/stream"

    def token_value(self) -> str | None:
        return None if self.token is None else self.token.get_secret_value()


def mask_token(token: str | None) -> str:
    """A token as it may be shown: its first four characters, or "none"."""
    if not token:
        return "none"
    if len(token) <= 8:
        return "•" * 6
    return f"{token[:4]}…({len(token)} chars)"
