"""The ``passes`` command, run through a small local Typer app."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import typer
from typer.testing import CliRunner

from lupex.commands.passes import passes
from mission.geometry import predict_passes

START = "2028-03-05T12:00:00Z"
START_S = datetime(2028, 3, 5, 12, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("passes")(passes)

    @app.callback()
    def main() -> None:
        """Keep ``passes`` a subcommand, as in the real CLI."""

    return app


def _parse(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_json_output_matches_the_prediction(app: typer.Typer) -> None:
    result = CliRunner().invoke(
        app, ["passes", "--station", "dss43", "--start", START, "--hours", "24", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    expected = predict_passes(START_S, 24.0, ["dss43"])
    assert document["station"] == "dss43"
    assert document["start"] == "2028-03-05T12:00:00.000Z"
    assert len(document["passes"]) == len(expected) > 0
    for row, p in zip(document["passes"], expected, strict=True):
        assert row["station"] == "dss43"
        assert row["aos"].endswith("Z")
        assert row["los"].endswith("Z")
        assert _parse(row["aos"]) == pytest.approx(p.aos, abs=0.001)
        assert _parse(row["los"]) == pytest.approx(p.los, abs=0.001)
        assert row["aos_cause"] == p.aos_cause.value
        assert row["max_elevation_deg"] == pytest.approx(p.max_elevation_deg, abs=0.001)


def test_table_output(app: typer.Typer) -> None:
    result = CliRunner().invoke(
        app, ["passes", "--station", "all", "--start", "2028-03-05T12:00:00", "--hours", "24"]
    )
    assert result.exit_code == 0, result.output
    for station_id in ("dss43", "malargue", "usuda"):
        assert station_id in result.stdout
    assert "site_earth_mask" in result.stdout  # the Earth sets at the site in this window


def test_unknown_station_exits_2_listing_valid_ids(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["passes", "--station", "dss99", "--start", START])
    assert result.exit_code == 2
    assert "dss99" in result.stderr
    for station_id in ("misasa", "byalalu", "new_norcia", "dss63"):
        assert station_id in result.stderr


def test_bad_start_and_hours_exit_2(app: typer.Typer) -> None:
    bad_start = CliRunner().invoke(
        app, ["passes", "--station", "dss14", "--start", "yesterday-ish"]
    )
    assert bad_start.exit_code == 2
    assert "ISO 8601" in bad_start.stderr
    bad_hours = CliRunner().invoke(
        app, ["passes", "--station", "dss14", "--start", START, "--hours", "0"]
    )
    assert bad_hours.exit_code == 2
