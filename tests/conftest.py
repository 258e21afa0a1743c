"""Suite-wide fixtures: real services on free ports, unique names, and the CI skip policy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support import SkipPolicy
from tests.support.mosquitto import MosquittoServer
from tests.support.postgres import PostgresServer


def pytest_configure(config: pytest.Config) -> None:
    # With CI=true a skipped test fails the run (docs/conventions.md, "Tests").
    config.pluginmanager.register(SkipPolicy(), "lupex-skip-policy")


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[MosquittoServer]:
    """A Mosquitto broker started from deploy/mosquitto, shared by the session.

    Tests that stop or restart a broker start their own ``MosquittoServer`` instead.
    """
    with MosquittoServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster shared by the session; see ``create_database``."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def unique_id() -> str:
    """A name no other test uses: a valid topic level, client id, share group or database name."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def topic_prefix(unique_id: str) -> str:
    """A topic prefix of this test's own, for brokers without the shipped ACL.

    The shipped ACL only allows the ``lupex/v1`` scheme: against it, use ``unique_id`` as the
    station (``mission.topics.downlink(unique_id, "rover")``) to keep tests apart.
    """
    return f"lupex-test/{unique_id}"
