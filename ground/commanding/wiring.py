"""How the command link, the link tracking and the training service plug into ``create_app``.

Each service is created once per application, on first use, from the running parts
(``GroundServices``), and kept in ``GroundServices.extras``; the routers and the background tasks
reach the same instance. Wire them with::

    from ground.commanding.wiring import EXTRA_SERVICES, extra_routers
    create_app(settings, extra_routers=extra_routers(), extra_services=EXTRA_SERVICES)

or add the routers (``ground.api.commands``, ``ground.api.passes``, ``ground.api.training``) and
the three ``run_*`` coroutines to ``ground.app`` directly.

The link predictor (``mission.geometry``) is shared: one geometry table and one pass cache serve
the queue's release decisions, the carrier tracking and the ``/passes`` endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ground.commanding.config import CommandingConfig
from ground.commanding.service import CommandService
from ground.links.predict import LinkPredictor
from ground.links.service import LinkService
from ground.training.service import TrainingConfig, TrainingService

if TYPE_CHECKING:
    from fastapi import APIRouter

    from ground.api.deps import GroundServices

PREDICTOR_KEY: Final = "link_predictor"
LINKS_KEY: Final = "links"
COMMANDS_KEY: Final = "commands"
TRAINING_KEY: Final = "training"


def predictor_of(services: GroundServices) -> LinkPredictor:
    found = services.extras.get(PREDICTOR_KEY)
    if not isinstance(found, LinkPredictor):
        found = LinkPredictor()
        services.extras[PREDICTOR_KEY] = found
    return found


def link_service_of(services: GroundServices) -> LinkService:
    found = services.extras.get(LINKS_KEY)
    if not isinstance(found, LinkService):
        settings = services.settings
        found = LinkService(
            services.state,
            services.hub,
            services.archive,
            broker=settings.broker(),
            client_id=f"{settings.mqtt_client_id}-links",
            vehicles=services.mdb.vehicles,
            predictor=predictor_of(services),
        )
        services.extras[LINKS_KEY] = found
    return found


def command_service_of(services: GroundServices) -> CommandService:
    found = services.extras.get(COMMANDS_KEY)
    if not isinstance(found, CommandService):
        found = CommandService(
            CommandingConfig.from_settings(services.settings),
            services.mdb,
            services.archive,
            services.state,
            services.hub,
            services.metrics,
            predictor=predictor_of(services),
            carrier_of=link_service_of(services).carrier,
            monitor_flags=link_service_of(services).monitor_flags,
        )
        services.extras[COMMANDS_KEY] = found
    return found


def training_service_of(services: GroundServices) -> TrainingService:
    found = services.extras.get(TRAINING_KEY)
    if not isinstance(found, TrainingService):
        found = TrainingService(
            TrainingConfig.from_settings(services.settings),
            services.state,
            services.archive,
            commands=command_service_of(services),
        )
        services.extras[TRAINING_KEY] = found
    return found


async def run_links(services: GroundServices) -> None:
    await link_service_of(services).run()


async def run_commanding(services: GroundServices) -> None:
    await command_service_of(services).run()


async def run_training(services: GroundServices) -> None:
    await training_service_of(services).run()


EXTRA_SERVICES: Final = (
    ("links", run_links),
    ("commanding", run_commanding),
    ("training", run_training),
)


def extra_routers() -> list[APIRouter]:
    """The commanding, passes/links and training routers (mounted under ``/api/v1``)."""
    from ground.api import commands, passes, training  # noqa: PLC0415 - they import this module

    return [commands.router, passes.router, training.router]
