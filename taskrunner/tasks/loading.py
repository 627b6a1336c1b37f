"""The task types a worker runs: the built-in ones plus those of the user's modules."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from taskrunner.errors import ConfigError
from taskrunner.settings import Settings
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.declare import declared_type
from taskrunner.tasks.registry import TaskRegistry, TaskType


def task_registry(settings: Settings, modules: Iterable[str] = ()) -> TaskRegistry:
    """Built-in types plus every type declared in ``settings.task_modules`` and ``modules``.

    Fixed once built: the worker registers one activity per type and its queues accept
    exactly these types. A module that cannot be imported or declares nothing, and a
    name declared twice, are one-line errors.
    """
    return with_bundles(_declared(settings, modules), settings)


def with_bundles(registry: TaskRegistry, settings: Settings) -> TaskRegistry:
    """The registry with ``queue.bundles`` applied: each named type's bundle size."""
    if not settings.queue.bundles:
        return registry
    changed: dict[str, TaskType] = {}
    for name, bundle in settings.queue.bundles.items():
        if name not in registry:
            raise ConfigError(
                f"queue.bundles names task type {name!r}, which no module declares "
                f"(known: {registry.names()})"
            )
        try:
            changed[name] = replace(registry[name], bundle=bundle)
        except ValueError as err:
            raise ConfigError(f"queue.bundles.{name}: {err}") from None
    return TaskRegistry(changed.get(name, registry[name]) for name in registry)


def _declared(settings: Settings, modules: Iterable[str]) -> TaskRegistry:
    names = list(dict.fromkeys([*settings.task_modules, *modules]))
    if not names:
        return BUILTIN_TASK_TYPES
    _extend_path(settings.task_path)
    declared: list[TaskType] = []
    for name in names:
        found = declared_in(_import(name))
        if not found:
            raise ConfigError(
                f"task module {name!r} declares no task type; decorate a function with "
                "@taskrunner.task_type(...)"
            )
        declared += found
    try:
        return BUILTIN_TASK_TYPES.including(*declared)
    except ValueError as err:
        raise ConfigError(f"{err} (in task_modules {names})") from None


def declared_in(module: ModuleType) -> list[TaskType]:
    """The task types a module declares at its top level, in the order they appear."""
    found: dict[str, TaskType] = {}
    for value in vars(module).values():
        task_type = declared_type(value)
        if task_type is not None:
            found.setdefault(task_type.name, task_type)
    return list(found.values())


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ConfigError(
            f"cannot import task module {name!r} ({err}); check task_modules, and task_path "
            "or PYTHONPATH for where it lives"
        ) from None
    except Exception as err:  # the module itself raised while importing
        raise ConfigError(
            f"task module {name!r} failed while importing: {type(err).__name__}: {err}"
        ) from None


def _extend_path(folders: Iterable[Path]) -> None:
    for folder in reversed([str(Path(f).resolve()) for f in folders]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
