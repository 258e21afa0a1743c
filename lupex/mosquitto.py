"""Run Mosquitto from the shipped configuration (deploy/mosquitto) on a chosen port.

The demo and the test suite derive their broker configuration from the same shipped file, so what
is tested is what is shipped: ``derive_config`` copies ``deploy/mosquitto/mosquitto.conf`` line by
line and replaces only what must differ on a given machine (see ``REPLACED_DIRECTIVES``). The
shipped password file and ACL are used as they are.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
SHIPPED_DIR: Final = REPO_ROOT / "deploy" / "mosquitto"
SHIPPED_CONFIG: Final = SHIPPED_DIR / "mosquitto.conf"
SHIPPED_PASSWORD_FILE: Final = SHIPPED_DIR / "passwd"
SHIPPED_ACL_FILE: Final = SHIPPED_DIR / "acl"

HOST: Final = "127.0.0.1"

REPLACED_DIRECTIVES: Final = frozenset(
    {"listener", "persistence_location", "password_file", "acl_file", "user"}
)
"""Directives ``derive_config`` rewrites; every other line of the shipped file is kept as is."""

DROPPED_DIRECTIVES: Final = frozenset({"include_dir"})
"""Directives left out of the derived file, so that it includes nothing from the machine."""

_REQUIRED_ONCE: Final = ("listener", "persistence_location", "password_file", "acl_file")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user of the shipped password file."""

    username: str
    password: str


DEMO_CREDENTIALS: Final[Mapping[str, Credentials]] = MappingProxyType(
    {
        name: Credentials(name, f"lupex-{name}-demo")
        for name in ("spacecraft", "ground", "instructor", "viewer")
    }
)
"""The demo users of ``deploy/mosquitto/passwd`` and their passwords (see its README)."""


def directives(text: str) -> list[tuple[str, str]]:
    """The ``(name, line)`` pairs of a Mosquitto configuration, comments and blanks left out."""
    result = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            result.append((line.split(maxsplit=1)[0], line))
    return result


def derive_config(
    shipped_text: str,
    *,
    port: int,
    persistence_dir: Path,
    password_file: Path = SHIPPED_PASSWORD_FILE,
    acl_file: Path = SHIPPED_ACL_FILE,
    run_as: str | None = None,
    source: Path = SHIPPED_CONFIG,
) -> str:
    """Rewrite the shipped configuration for a test broker.

    Every directive of ``shipped_text`` is kept, in order, except:

    - ``listener`` becomes ``listener <port> 127.0.0.1`` (Mosquitto 2.0 cannot take port 0);
    - ``persistence_location`` points to ``persistence_dir``;
    - ``password_file`` and ``acl_file`` get absolute paths (by default the shipped files);
    - ``user`` becomes ``run_as`` (appended when the shipped file has none). Started as root,
      Mosquitto switches to the user ``mosquitto``, which may not be able to read a checkout or
      write a temporary folder; ``user root`` keeps it as root. ``None`` keeps the shipped line.
    - ``include_dir`` lines are dropped.

    Raises ``ValueError`` when a directive the tests rely on is missing or repeated, so that the
    shipped file cannot drift away from what the tests check.
    """
    names = [name for name, _ in directives(shipped_text)]
    for name in _REQUIRED_ONCE:
        if names.count(name) != 1:
            msg = f"{source}: expected exactly one '{name}' line, found {names.count(name)}"
            raise ValueError(msg)
    replacements = {
        "listener": f"listener {port} {HOST}",
        "persistence_location": f"persistence_location {persistence_dir}/",
        "password_file": f"password_file {password_file.resolve()}",
        "acl_file": f"acl_file {acl_file.resolve()}",
    }
    if run_as is not None:
        replacements["user"] = f"user {run_as}"
    out = [f"# Derived from {source} by lupex/mosquitto.py."]
    for name, line in directives(shipped_text):
        if name in DROPPED_DIRECTIVES:
            continue
        out.append(replacements.pop(name, line))
    if "user" in replacements:
        out.append(replacements.pop("user"))
    return "\n".join(out) + "\n"


class MosquittoMissingError(RuntimeError):
    """Mosquitto is not installed (or LUPEX_MOSQUITTO points nowhere)."""


def mosquitto_binary() -> str:
    """The Mosquitto executable: ``LUPEX_MOSQUITTO`` if set, else ``PATH``, else ``/usr/sbin``."""
    if configured := os.environ.get("LUPEX_MOSQUITTO"):
        if not os.access(configured, os.X_OK):
            msg = f"LUPEX_MOSQUITTO={configured} is not an executable"
            raise MosquittoMissingError(msg)
        return configured
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    msg = (
        "mosquitto is not installed: install the Debian package 'mosquitto' "
        "(.ci/run does) or point LUPEX_MOSQUITTO at the executable"
    )
    raise MosquittoMissingError(msg)


def demo_password(user: str) -> str:
    """The demo password of a shipped user (documented in deploy/mosquitto/README.md)."""
    return DEMO_CREDENTIALS[user].password
