"""Settings errors as one line, naming the setting as the user wrote it.

A bad value is named by the environment variable that sets it. An unknown key is
named where it was written (``health.cpu_treshold`` in the TOML file, or the
variable ``TASKRUNNER_HEALTH__CPU_TRESHOLD``) with the nearest valid name.

Every settings model forbids extra keys, so pydantic refuses an unknown key at
any level of the TOML file and in nested variables. pydantic-settings skips a
top-level variable that is no field (``TASKRUNNER_BOGUS``): :func:`unknown_variables`
reports those as the same pydantic error, so one formatter describes them all.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Iterator, Sequence
from functools import partial
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails

from taskrunner.errors import EXTRA_KEY, field_path, one_line

ENV_PREFIX = "TASKRUNNER_"
"""Prefix of every settings variable."""
NESTED = "__"
"""Separates a section from its key in a variable's name."""
SECRET_NAME_SUFFIX = "_env"
"""A setting ending so names an environment variable read at send time (a secret)."""

Loc = Sequence[str | int]


def describe(err: ValidationError, model: type[BaseModel], known: Collection[str] = ()) -> str:
    """One line naming the first bad setting and why; an unknown one with the nearest name.

    Args:
        err: What pydantic refused.
        model: The settings model the error's locations start from.
        known: Variables that are not settings but may be set (shown when one is mistyped).
    """
    if err.errors()[0]["type"] != EXTRA_KEY:
        name = partial(env_name, model)
        return "invalid setting " + one_line(err, name, first_only=True, show_input=True)
    env = environment()
    where = partial(_where, model, env)
    why = partial(_suggest, model, env, sorted(known))
    return "unknown setting " + one_line(err, where, first_only=True, why=why)


def env_name(model: type[BaseModel], loc: Loc) -> str:
    """A setting's location as the environment variable that sets it (a list's items share one)."""
    parts = [p for p in _walk(model, loc)[0] if isinstance(p, str)]
    return ENV_PREFIX + NESTED.join(parts).upper() if parts else "settings"


def environment() -> dict[str, str]:
    """``TASKRUNNER_`` variables by upper-case name (settings read them case-insensitively)."""
    return {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}


def secret_variables(settings: BaseModel) -> set[str]:
    """The value of every ``*_env`` setting: variables the runner reads that are not settings."""
    return {name.upper() for name in _named_by_env(settings.model_dump())}


def unknown_variables(model: type[BaseModel], known: Collection[str]) -> ValidationError | None:
    """``TASKRUNNER_`` variables that are neither settings nor ``known``, as pydantic's error."""
    env = environment()
    unknown = sorted(n for n in env if n not in known and not _sets_a_field(model, n))
    if not unknown:
        return None
    errors = [
        InitErrorDetails(
            type=EXTRA_KEY, loc=(name.removeprefix(ENV_PREFIX).lower(),), input=env[name]
        )
        for name in unknown
    ]
    return ValidationError.from_exception_data(model.__name__, errors)


def _sets_a_field(model: type[BaseModel], name: str) -> bool:
    # A nested variable reaches pydantic (which refuses unknown keys) only under a
    # section; under a plain value such as TASKRUNNER_TIMEZONE__X it would be dropped.
    top, nested, _ = name.removeprefix(ENV_PREFIX).lower().partition(NESTED)
    if top not in model.model_fields:
        return False
    reached = _walk(model, (top,))[1]
    return not nested or _is_model(reached) or get_origin(reached) is dict


def _where(model: type[BaseModel], env: dict[str, str], loc: Loc) -> str:
    """An unknown key as the variable holding it, or its dotted path in the TOML file."""
    written = _walk(model, loc)[0]
    for end in range(len(written), 0, -1):
        variable = _variable(written[:end])
        if variable in env:
            return variable if end == len(written) else f"{field_path(written)} (in {variable})"
    return field_path(written)


def _suggest(
    model: type[BaseModel], env: dict[str, str], known: list[str], problem: ErrorDetails
) -> str:
    """The nearest valid name to an unknown key, in the form the user wrote the key."""
    written = _walk(model, problem["loc"])[0]
    parent = _walk(model, problem["loc"][:-1])[1]
    as_variable = _variable(written) in env
    valid = {name: (name,) for name in parent.model_fields} if _is_model(parent) else {}
    top_variable = as_variable and len(written) == 1
    if top_variable:  # a mistyped secret's or settings file's variable
        valid |= {
            n.removeprefix(ENV_PREFIX).lower(): (n,) for n in known if n.startswith(ENV_PREFIX)
        }
    # A key one section too high (a forgotten TOML table header) is found in its section.
    for names in (valid, _section_keys(parent)):
        close = difflib.get_close_matches(str(written[-1]), list(names), n=1)
        if close:
            parts = names[close[0]]
            if parts[0] in known:
                return f"did you mean {parts[0]}?"
            spelled = _variable([*written[:-1], *parts]) if as_variable else ".".join(parts)
            return f"did you mean {spelled}?"
    if top_variable:
        others = ", ".join(known)
        return f"not a setting nor a variable the runner reads ({others}; a *_env setting adds one)"
    return f"valid keys here: {', '.join(valid)}" if valid else "no such key"


def _section_keys(parent: Any) -> dict[str, tuple[str, str]]:
    """Keys of ``parent``'s sections that only one section has, as ``(section, key)``."""
    found: dict[str, list[tuple[str, str]]] = {}
    for section, field in parent.model_fields.items() if _is_model(parent) else ():
        inner = _unwrap(field.annotation)
        for key in inner.model_fields if _is_model(inner) else ():
            found.setdefault(key, []).append((section, key))
    return {key: places[0] for key, places in found.items() if len(places) == 1}


def _variable(written: Loc) -> str | None:
    """The variable that sets ``written``; None inside a list (a list is set as a whole)."""
    if any(isinstance(p, int) for p in written):
        return None
    return ENV_PREFIX + NESTED.join(str(p) for p in written).upper()


def _walk(model: type[BaseModel], loc: Loc) -> tuple[list[str | int], Any]:
    """Follow an error location from ``model``: the parts a user writes, and the type reached.

    pydantic puts a tagged union's tag (a probe's ``kind``) in the location; the
    user never writes it there, so it is dropped. The type is None off the models.
    """
    node: Any = model
    written: list[str | int] = []
    for part in loc:
        node = _unwrap(node)
        member = _tagged_member(node, part)
        if member is not None:
            node = member
            continue
        written.append(part)
        if _is_model(node):
            field = node.model_fields.get(str(part))
            node = field.annotation if field else None
        elif get_origin(node) is list and isinstance(part, int):
            node = get_args(node)[0]
        elif get_origin(node) is dict:
            node = get_args(node)[1]
        else:
            node = None
    return written, _unwrap(node)


def _unwrap(node: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` as ``X``."""
    while True:
        if get_origin(node) is Annotated:
            node = get_args(node)[0]
            continue
        members = [a for a in get_args(node) if a is not type(None)]
        if _is_union(node) and len(members) == 1:
            node = members[0]
            continue
        return node


def _tagged_member(node: Any, tag: str | int) -> type[BaseModel] | None:
    """The member of a tagged union whose tag (a ``Literal`` field) is ``tag``."""
    if not _is_union(node):
        return None
    for member in get_args(node):
        if _is_model(member) and any(
            get_origin(f.annotation) is Literal and get_args(f.annotation) == (tag,)
            for f in member.model_fields.values()
        ):
            return member
    return None


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _is_union(node: Any) -> bool:
    return get_origin(node) in (Union, UnionType)


def _named_by_env(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).endswith(SECRET_NAME_SUFFIX) and isinstance(value, str):
                yield value
            else:
                yield from _named_by_env(value)
    elif isinstance(data, list):
        for item in data:
            yield from _named_by_env(item)
