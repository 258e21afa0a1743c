"""Every example the OpenAPI schema shows is a valid instance of its model."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import BaseModel

from ground.api import schemas, schemas_commanding


def _models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in (schemas, schemas_commanding):
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseModel)
                and obj.__module__ == module.__name__
            ):
                found[name] = obj
    return list(found.values())


MODELS = _models()


def test_the_api_models_are_found() -> None:
    names = {m.__name__ for m in MODELS}
    assert {"CommandOut", "PassOut", "DebriefOut", "ScenarioOut", "ErrorMessage"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_example_validates(model: type[BaseModel]) -> None:
    extra: Any = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if model.__name__.endswith(("Request", "Body")) or examples is None:
        schema = model.model_json_schema()
        assert schema.get("examples") or schema.get("example"), model.__name__
        return
    for example in examples:
        model.model_validate(example)
