"""Loading frozen config dataclasses from `FACEREC_*` variables and CLI flags."""

from __future__ import annotations

import argparse
import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_name(field_name: str) -> str:
    """The environment variable that sets a config field."""
    return "FACEREC_" + field_name.upper()


def _base_type(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0]
    return tp


def _parse(name: str, raw: str, tp: Any) -> Any:
    tp = _base_type(tp)
    try:
        if tp is bool:
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if tp is Path:
            return Path(raw).expanduser()
        return tp(raw)
    except ValueError:
        raise SystemExit(f"invalid value for {name}: {raw!r}") from None


def load(
    cls: type[T],
    flags: argparse.Namespace | None = None,
    environ: Mapping[str, str] | None = None,
) -> T:
    """Builds `cls` from defaults, then `FACEREC_*` variables, then flags (flags win).

    A flag counts as given when its attribute on `flags` is not None.
    """
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        var = env_name(f.name)
        if var in environ:
            values[f.name] = _parse(var, environ[var], hints[f.name])
        flag = getattr(flags, f.name, None) if flags is not None else None
        if flag is not None:
            values[f.name] = flag
    return cls(**values)


def add_flags(parser: argparse.ArgumentParser, cls: type, only: tuple[str, ...]) -> None:
    """Adds `--field-name` flags for the named fields, defaulting to None (unset)."""
    hints = typing.get_type_hints(cls)
    docs = getattr(cls, "__field_docs__", {})
    for name in only:
        tp = _base_type(hints[name])
        flag = "--" + name.replace("_", "-")
        found = next(f for f in dataclasses.fields(cls) if f.name == name)
        has_factory = found.default_factory is not dataclasses.MISSING
        default = found.default_factory() if has_factory else found.default
        help_text = f"{docs.get(name, '')} [{env_name(name)}; default: {default}]"
        if tp is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            parser.add_argument(flag, type=tp, default=None, help=help_text)
