"""A throwaway PostgreSQL cluster for the tests (``initdb`` + ``pg_ctl`` on a free port).

``initdb`` refuses to run as root, and CI runs as root: there the cluster is created and run as
the ``postgres`` user (``runuser -u postgres --``) in a temporary folder handed over to it. Trust
authentication, fsync off: the data is thrown away with the folder.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import psycopg
from psycopg import sql

from tests.support import ServiceUnavailableError
from tests.support.ports import free_port
from tests.support.timeouts import timeout

HOST: Final = "127.0.0.1"
SUPERUSER: Final = "postgres"
OS_USER_WHEN_ROOT: Final = "postgres"
DEFAULT_BINDIR: Final = Path("/usr/lib/postgresql/15/bin")

_DATABASE_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Settings for a disposable cluster: nothing here needs to survive a crash.
_SERVER_SETTINGS: Final = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    f"listen_addresses={HOST}",
)


def _has_server_tools(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl"))


def postgres_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``.

    ``LUPEX_PG_BINDIR`` if set, else Debian's PostgreSQL 15, else the newest Debian version,
    else ``PATH``.
    """
    if configured := os.environ.get("LUPEX_PG_BINDIR"):
        if not _has_server_tools(Path(configured)):
            msg = f"LUPEX_PG_BINDIR={configured} holds no executable initdb and pg_ctl"
            raise ServiceUnavailableError(msg)
        return Path(configured)
    candidates = [DEFAULT_BINDIR, *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if _has_server_tools(bindir):
            return bindir
    msg = (
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
        "'postgresql' (.ci/run does) or point LUPEX_PG_BINDIR at their folder"
    )
    raise ServiceUnavailableError(msg)


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, listening on a free port of 127.0.0.1.

    ``url`` is a psycopg connection string for the ``postgres`` superuser and database; use
    ``create_database(name)`` to give a test its own database. Use it as a context manager, or
    call ``close()``.
    """

    def __init__(self) -> None:
        self.bindir: Final = postgres_bindir()
        self.host: Final = HOST
        self.port: int = free_port(HOST)
        self._as_root = os.geteuid() == 0
        self._run_as: list[str] = []
        owner: pwd.struct_passwd | None = None
        if self._as_root:
            try:
                owner = pwd.getpwnam(OS_USER_WHEN_ROOT)
            except KeyError:
                msg = (
                    f"running as root, but there is no '{OS_USER_WHEN_ROOT}' user to run "
                    "initdb as: install the Debian package 'postgresql' (.ci/run does)"
                )
                raise ServiceUnavailableError(msg) from None
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            self._run_as = [runuser, "-u", OS_USER_WHEN_ROOT, "--"]
        self.workdir: Final = Path(tempfile.mkdtemp(prefix="lupex-postgres-"))
        self.data_dir: Final = self.workdir / "data"
        self.socket_dir: Final = self.workdir / "socket"
        self.log_path: Final = self.workdir / "postgres.log"
        self.socket_dir.mkdir()
        if owner is not None:
            for path in (self.workdir, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._running = False

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/postgres``."""
        return self.database_url(SUPERUSER)

    def database_url(self, name: str) -> str:
        """The connection string of database ``name`` on this cluster."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{name}"

    def _run(self, *args: str | Path, timeout_units: float = 60) -> None:
        command = [*self._run_as, *(str(arg) for arg in args)]
        # cwd: the postgres user may not be allowed into the caller's working directory.
        result = subprocess.run(
            command,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout(timeout_units),
            check=False,
        )
        if result.returncode != 0:
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            msg = (
                f"{shlex.join(command)} failed with status {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{log}"
            )
            raise ServiceUnavailableError(msg)

    def start(self) -> None:
        """Create the cluster (first time) and start the server; returns once it accepts."""
        if self._running:
            msg = "the cluster is already running"
            raise RuntimeError(msg)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                self.bindir / "initdb",
                "--pgdata",
                self.data_dir,
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
        for attempt in range(3):
            if attempt:
                self.port = free_port(HOST)  # taken since free_port(): try another one
            try:
                self._pg_ctl_start()
            except ServiceUnavailableError:
                if attempt == 2 or "could not bind" not in self._log_text():
                    raise
            else:
                self._running = True
                return

    def _pg_ctl_start(self) -> None:
        options = ["-p", str(self.port), "-k", str(self.socket_dir)]
        for setting in _SERVER_SETTINGS:
            options += ["-c", setting]
        seconds = str(max(1, round(timeout(30))))
        # pg_ctl -w polls the server until it accepts connections (or gives up after -t s).
        self._run(
            self.bindir / "pg_ctl",
            "start",
            "--pgdata",
            self.data_dir,
            "--log",
            self.log_path,
            "--wait",
            "--timeout",
            seconds,
            "-o",
            shlex.join(options),
            timeout_units=60,
        )

    def _log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def create_database(self, name: str) -> str:
        """Create database ``name`` (lower-case identifier); return its connection string."""
        if _DATABASE_NAME.fullmatch(name) is None:
            msg = f"database name {name!r} must match {_DATABASE_NAME.pattern}"
            raise ValueError(msg)
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and wait for it."""
        if not self._running:
            return
        self._running = False
        self._run(self.bindir / "pg_ctl", "stop", "--pgdata", self.data_dir, "-m", "fast", "-w")

    def close(self) -> None:
        """Stop the server and delete the cluster."""
        try:
            self.stop()
        finally:
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
