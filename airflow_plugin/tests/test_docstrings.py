"""Operators, sensors, notifiers and hooks document each of their parameters by name, never a catch-all ``kwargs``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import pytest

PACKAGES = ("operators", "sensors", "notifiers", "hooks")


def _modules() -> Iterator[str]:
    for package in PACKAGES:
        found = importlib.import_module(f"airgate.{package}")
        for info in pkgutil.iter_modules(found.__path__):
            yield f"airgate.{package}.{info.name}"


MODULES = sorted(_modules())


def _classes(module_name: str) -> Iterator[tuple[str, inspect.Signature, str]]:
    """Each public class defined in the module with an ``__init__`` of its own: its signature and its docstring."""
    module = importlib.import_module(module_name)
    for name, member in vars(module).items():
        own_class = not name.startswith("_") and inspect.isclass(member) and member.__module__ == module_name
        if own_class and "__init__" in vars(member):
            yield name, inspect.signature(member.__init__), inspect.getdoc(member) or ""


def test_every_provider_package_has_modules():
    assert {name.split(".")[1] for name in MODULES} == set(PACKAGES)


@pytest.mark.parametrize("module_name", MODULES)
def test_each_named_parameter_is_documented_and_no_catch_all_is(module_name: str):
    for name, signature, doc in _classes(module_name):
        assert ":param kwargs:" not in doc, name
        named = [
            p.name
            for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        for parameter in named:
            assert f":param {parameter}:" in doc, f"{module_name}.{name}: {parameter}"
