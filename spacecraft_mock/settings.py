"""Settings of the spacecraft mock service read from the environment (prefix LUPEX_SPACECRAFT_).

Built in ``main()`` (the CLI), never at import. The password is a ``SecretStr``: it never reaches a
log or a repr. The defaults are the demo broker user of deploy/mosquitto.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SpacecraftSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUPEX_SPACECRAFT_", extra="ignore")

    mqtt_username: str = "spacecraft"
    mqtt_password: SecretStr = SecretStr("lupex-spacecraft-demo")
    mqtt_client_id: str = "lupex-spacecraft"
