"""Shared objects of the simulator tests (loading them once keeps the suite fast)."""

from __future__ import annotations

import pytest

from mission.faults import FaultCatalogue, load_faults
from mission.mdb import MissionDatabase, load_mdb
from mission.scenarios import Scenario, load_scenarios


@pytest.fixture(scope="session")
def mdb() -> MissionDatabase:
    return load_mdb()


@pytest.fixture(scope="session")
def catalogue() -> FaultCatalogue:
    return load_faults()


@pytest.fixture(scope="session")
def scenarios(mdb: MissionDatabase, catalogue: FaultCatalogue) -> dict[str, Scenario]:
    return load_scenarios(mdb=mdb, faults=catalogue)
