"""compose.yaml: valid, and every service runs a real `lupex` subcommand with valid options.

There is no Docker engine on the machines this is developed on, so the compose file is checked
with Debian's docker-compose (`docker-compose config`, offline) and its commands are parsed by the
very CLI the containers run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
import yaml

from lupex.cli import app
from lupex.mosquitto import SHIPPED_ACL_FILE, SHIPPED_CONFIG, SHIPPED_PASSWORD_FILE

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
PYTHON_SERVICES = ("ground", "spacecraft", "dashboard")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    assert binary, (
        "docker-compose is not installed (Debian package docker-compose; .ci/run installs it)"
    )
    out = subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    resolved = yaml.safe_load(out.stdout)
    assert isinstance(resolved, dict)
    return resolved


def test_services_are_all_there(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {"mosquitto", "postgres", *PYTHON_SERVICES}


@pytest.mark.parametrize("service", PYTHON_SERVICES)
def test_command_is_a_real_lupex_subcommand_with_valid_options(
    config: dict[str, Any], service: str
) -> None:
    argv = [str(a) for a in config["services"][service]["command"]]
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    name, args = argv[0], argv[1:]
    assert name in group.commands, f"{service}: 'lupex {name}' is not a subcommand"
    command = group.commands[name]
    # Parses and converts every option (types, ranges, choices) exactly as at run time,
    # without running the command.
    with command.make_context(name, list(args)) as ctx:
        given = {
            p.name for p in command.params if ctx.get_parameter_source(p.name or "") is not None
        }
        assert given


def test_python_services_share_one_image_and_have_healthchecks(config: dict[str, Any]) -> None:
    images = {config["services"][s]["image"] for s in PYTHON_SERVICES}
    assert len(images) == 1
    for name, service in config["services"].items():
        if name != "spacecraft":  # a publisher with no port; it waits for a healthy ground
            assert "healthcheck" in service, name
        for dep in service.get("depends_on", {}).values():
            assert dep["condition"] == "service_healthy"


def test_mosquitto_uses_the_shipped_configuration(config: dict[str, Any]) -> None:
    # docker-compose 1.29 prints short syntax (source:target:mode); newer ones the long one.
    volumes = [_volume(v) for v in config["services"]["mosquitto"]["volumes"]]
    sources = {Path(v["source"]).resolve(): v["target"] for v in volumes if v["type"] == "bind"}
    assert sources[SHIPPED_CONFIG.resolve()] == "/mosquitto/config/mosquitto.conf"
    assert sources[SHIPPED_PASSWORD_FILE.resolve()] == "/mosquitto/config/passwd"
    assert sources[SHIPPED_ACL_FILE.resolve()] == "/mosquitto/config/acl"
    # The paths inside the shipped file are those mounted here.
    text = SHIPPED_CONFIG.read_text()
    assert "password_file /mosquitto/config/passwd" in text
    assert "acl_file /mosquitto/config/acl" in text
    assert "persistence_location /mosquitto/data/" in text
    assert any(v["target"] == "/mosquitto/data" for v in volumes if v["type"] == "volume")


def _volume(spec: str | dict[str, str]) -> dict[str, str]:
    if isinstance(spec, dict):
        return spec
    source, target = spec.split(":")[:2]
    return {"source": source, "target": target, "type": "bind" if "/" in source else "volume"}


def _port(spec: str | dict[str, str]) -> dict[str, str]:
    if isinstance(spec, dict):
        return spec
    host_ip, published, target = spec.split("/")[0].split(":")
    return {"host_ip": host_ip, "published": published, "target": target}


def test_only_dashboard_and_api_are_published_on_localhost(config: dict[str, Any]) -> None:
    published = {
        name: service["ports"] for name, service in config["services"].items() if "ports" in service
    }
    assert set(published) == {"ground", "dashboard"}
    readme = (ROOT / "README.md").read_text()
    for ports in published.values():
        for spec in ports:
            port = _port(spec)
            assert port["host_ip"] == "127.0.0.1"
            assert f"http://127.0.0.1:{port['published']}" in readme, (
                f"README does not mention the published port {port['published']}"
            )


def test_env_example_covers_every_variable_compose_uses() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    example = (ROOT / ".env.example").read_text()
    defined = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert used <= defined, f"missing from .env.example: {sorted(used - defined)}"
