"""The committed ICD matches the database; the `lupex mdb` commands check and generate it."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from lupex.commands.mdb import mdb_app
from mission.mdb import DATA_DIR, load_mdb, render_icd

ICD = Path(__file__).resolve().parents[2] / "docs" / "icd.md"
runner = CliRunner()


def test_committed_icd_matches_the_database() -> None:
    expected = render_icd(load_mdb())
    current = ICD.read_text(encoding="utf-8") if ICD.exists() else ""
    assert current == expected, "docs/icd.md is out of date: run `lupex mdb docs` to regenerate it"


def test_icd_is_deterministic_and_complete() -> None:
    db = load_mdb()
    text = render_icd(db)
    assert text == render_icd(db)
    for name in (*db.packets, *db.parameters, *db.commands, *db.events_by_name):
        assert f"`{name}`" in text, name
    for station in db.stations:
        assert f"| {station} |" in text
    for topic in (
        "lupex/v1/downlink/{station}/{spacecraft}",
        "lupex/v1/link/{station}",
        "lupex/v1/sim/control",
        "lupex/v1/params/{parameter}",
    ):
        assert topic in text
    assert "1115 octets" in text


def test_cli_check_prints_counts() -> None:
    result = runner.invoke(mdb_app, ["check"])
    assert result.exit_code == 0, result.output
    db = load_mdb()
    assert f"parameters       {len(db.parameters)}" in result.output
    assert "rover:" in result.output
    assert "lander:" in result.output


def test_cli_check_fails_on_a_broken_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    packets = data / "packets.yaml"
    packets.write_text(
        packets.read_text(encoding="utf-8").replace("sid: 202", "sid: 101"), encoding="utf-8"
    )
    result = runner.invoke(mdb_app, ["check", "--path", str(data)])
    assert result.exit_code == 1
    assert "duplicate SID 101" in result.output


def test_cli_docs_writes_and_checks(tmp_path: Path) -> None:
    out = tmp_path / "icd.md"
    result = runner.invoke(mdb_app, ["docs", "--output", str(out), "--check"])
    assert result.exit_code == 1
    assert "missing" in result.output
    result = runner.invoke(mdb_app, ["docs", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render_icd(load_mdb())
    result = runner.invoke(mdb_app, ["docs", "--output", str(out), "--check"])
    assert result.exit_code == 0, result.output
    out.write_text(out.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    result = runner.invoke(mdb_app, ["docs", "--output", str(out), "--check"])
    assert result.exit_code == 1
    assert "lupex mdb docs" in result.output
