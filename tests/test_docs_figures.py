"""The mission database counts quoted in the README and docs/operations.md are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

from mission.mdb import load_mdb

ROOT = Path(__file__).resolve().parents[1]


def test_the_counts_in_the_docs_are_those_of_the_mission_database() -> None:
    mdb = load_mdb()
    readme = (ROOT / "README.md").read_text()
    found = re.search(
        r"\((\d+) parameters, (\d+) packets, (\d+) commands, (\d+) events, (\d+) ground stations\)",
        readme,
    )
    assert found, "the README no longer quotes the mission database's counts"
    counts = tuple(int(n) for n in found.groups())
    assert counts == (
        len(mdb.parameters),
        len(mdb.packets),
        len(mdb.commands),
        len(mdb.events),
        len(mdb.stations),
    )
    operations = (ROOT / "docs" / "operations.md").read_text()
    quoted = re.search(r"any of the (\d+) parameters", operations)
    assert quoted
    assert int(quoted.group(1)) == len(mdb.parameters)


def test_the_fault_and_scenario_counts_in_the_readme_are_the_real_ones() -> None:
    from mission.faults import load_faults
    from mission.scenarios import load_scenarios

    readme = (ROOT / "README.md").read_text()
    found = re.search(r"(\d+) injectable faults, (\d+) graded scenarios", readme)
    assert found
    assert int(found.group(1)) == len(load_faults())
    assert int(found.group(2)) == len(load_scenarios())
