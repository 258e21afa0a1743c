"""A real Mosquitto broker for the tests, started from the shipped configuration.

The suite tests the broker configuration users deploy, not one of its own: ``derive_config`` copies
``deploy/mosquitto/mosquitto.conf`` line by line and replaces only what must differ on a test
machine (see ``REPLACED_DIRECTIVES``). The shipped password file and ACL are used as they are.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from lupex.mosquitto import (
    DEMO_CREDENTIALS,
    DROPPED_DIRECTIVES,
    HOST,
    REPLACED_DIRECTIVES,
    SHIPPED_ACL_FILE,
    SHIPPED_CONFIG,
    SHIPPED_DIR,
    SHIPPED_PASSWORD_FILE,
    Credentials,
    MosquittoMissingError,
    derive_config,
    directives,
)
from lupex.mosquitto import mosquitto_binary as _mosquitto_binary
from tests.support import ServiceUnavailableError
from tests.support.ports import accepts_connections, free_port
from tests.support.timeouts import POLL_INTERVAL, timeout

__all__ = [
    "DEMO_CREDENTIALS",
    "DROPPED_DIRECTIVES",
    "REPLACED_DIRECTIVES",
    "SHIPPED_ACL_FILE",
    "SHIPPED_CONFIG",
    "SHIPPED_DIR",
    "SHIPPED_PASSWORD_FILE",
    "Credentials",
    "MosquittoServer",
    "derive_config",
    "directives",
    "mosquitto_binary",
]


def mosquitto_binary() -> str:
    """The Mosquitto executable; a missing one is an error for the tests, never a skip."""
    try:
        return _mosquitto_binary()
    except MosquittoMissingError as exc:
        raise ServiceUnavailableError(str(exc)) from exc


class MosquittoServer:
    """A Mosquitto process on a free port of 127.0.0.1, with its own temporary folder.

    ``start()`` returns once the broker accepts TCP connections. ``restart()`` keeps the port and
    the persistence folder, so a test can prove that sessions and queued messages survive.
    Use it as a context manager, or call ``close()``.
    """

    def __init__(self, *, config: Path = SHIPPED_CONFIG, port: int | None = None) -> None:
        self.binary: Final = mosquitto_binary()
        self.shipped_config: Final = config
        self.host: Final = HOST
        self._fixed_port = port is not None
        self.port: int = port if port is not None else free_port(HOST)
        self.workdir: Final = Path(tempfile.mkdtemp(prefix="lupex-mosquitto-"))
        self.persistence_dir: Final = self.workdir / "data"
        self.persistence_dir.mkdir()
        self.config_path: Final = self.workdir / "mosquitto.conf"
        self.log_path: Final = self.workdir / "mosquitto.log"
        self.credentials: Final = DEMO_CREDENTIALS
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:<port>``."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return None if self._process is None else self._process.pid

    def credential(self, username: str) -> Credentials:
        """The demo credentials of one shipped user."""
        return self.credentials[username]

    def log_text(self) -> str:
        """Everything the broker has logged so far (all its runs)."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def write_config(self) -> str:
        """Write the derived configuration for the current port; return its text."""
        text = derive_config(
            self.shipped_config.read_text(encoding="utf-8"),
            port=self.port,
            persistence_dir=self.persistence_dir,
            password_file=self.shipped_config.parent / "passwd",
            acl_file=self.shipped_config.parent / "acl",
            run_as=pwd.getpwuid(os.geteuid()).pw_name,
            source=self.shipped_config,
        )
        self.config_path.write_text(text, encoding="utf-8")
        return text

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        if self._process is not None:
            msg = "the broker is already running"
            raise RuntimeError(msg)
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            if attempt:
                # The free port was taken between free_port() and the bind: try another one.
                self.port = free_port(HOST)
            self.write_config()
            if self._launch():
                return
        msg = f"mosquitto could not bind a port after {attempts} attempts; see {self.log_path}"
        raise ServiceUnavailableError(msg)

    def _launch(self) -> bool:
        """Start one process; True once it listens, False when its port was taken."""
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout(10)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                process.wait()
                log_tail = self.log_text()[log_offset:]
                if "Address already in use" in log_tail and not self._fixed_port:
                    return False
                msg = (
                    f"mosquitto exited with status {process.returncode} while starting; "
                    f"its log ({self.log_path}):\n{log_tail}"
                )
                raise ServiceUnavailableError(msg)
            if accepts_connections(self.host, self.port):
                self._process = process
                return True
            time.sleep(POLL_INTERVAL)
        process.kill()
        process.wait()
        msg = (
            f"mosquitto did not accept connections on port {self.port} in time; see {self.log_path}"
        )
        raise ServiceUnavailableError(msg)

    def stop(self) -> None:
        """Stop the broker with SIGTERM (it saves its persistence database) and wait."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the broker with SIGKILL (nothing is saved beyond the last autosave)."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
        try:
            process.wait(timeout=timeout(10))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop the broker cleanly and start it again on the same port and persistence folder."""
        self.stop()
        self._fixed_port = True
        self.start()

    def close(self) -> None:
        """Stop the broker and delete its temporary folder."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
