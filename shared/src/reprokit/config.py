"""Typed dataclass configs with named profiles and a strict command line.

A project declares its hyperparameters as (nested) dataclasses whose fields come from
:func:`param`, builds one instance per profile (``smoke``, ``cpu``, ``paper``) and calls
:func:`parse`::

    @dataclass
    class Train:
        lr: float = param(3e-4, "Adam learning rate", gt=0)
        steps: int = param(1000, "optimisation steps", ge=1)

    @dataclass
    class Config:
        seed: int = param(0, "first seed")
        model: Literal["mlp", "cnn"] = param("mlp", "backbone")
        train: Train = field(default_factory=Train)

    profile, cfg = parse({"smoke": smoke(), "cpu": Config(), "paper": paper()}, prog="x.reproduce")

Command line: ``--profile NAME``, ``--key value`` / ``--key=value``, ``--section.key value``,
``--help`` (every field with its default in the chosen profile). Any mistake (unknown key,
wrong type, out-of-range value, invalid choice, unknown profile) prints exactly one line to
stderr and exits with status 2; :func:`override` applies the same validation in code and raises
:class:`ConfigError`.

Supported field types: ``int``, ``float``, ``bool`` (true/false/1/0/yes/no), ``str``,
``pathlib.Path``, ``Literal[...]``, ``tuple[T, ...]``, ``tuple[T1, T2]``, ``list[T]``,
``T | None`` (``none``/``null`` on the command line) and nested dataclass sections.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import difflib
import math
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from reprokit.errors import UserError

__all__ = ["ConfigError", "field_info", "override", "param", "parse", "to_dict", "validate"]

_META = "reprokit"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_NONE = {"none", "null"}


class ConfigError(UserError):
    """A configuration mistake, described in one line that names the key and the valid values."""


def param(
    default: Any,
    help: str = "",
    *,
    choices: Sequence[Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    nonempty: bool = False,
) -> Any:
    """A documented dataclass field with optional validation.

    Args:
        default: default value (lists/dicts/sets are copied per instance).
        help: one line shown by ``--help``.
        choices: allowed values (``Literal[...]`` types get their choices automatically).
        ge, gt, le, lt: numeric bounds (for tuples, every element is checked).
        nonempty: a tuple/list field must hold at least one element (seeds, methods, splits).

    Every float must be finite (``nan``/``inf`` are refused), bounds or not.
    """
    meta = {
        _META: {"help": help, "choices": tuple(choices) if choices else None, "nonempty": nonempty}
        | {"ge": ge, "gt": gt, "le": le, "lt": lt}
    }
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


# --------------------------------------------------------------------------- field table


@dataclasses.dataclass(frozen=True)
class _Field:
    key: str  # dotted path, e.g. "train.lr"
    type: Any
    help: str
    choices: tuple[Any, ...] | None
    bounds: dict[str, float | None]
    nonempty: bool = False


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # a class defined in a function with postponed annotations
        return {f.name: f.type for f in dataclasses.fields(cls)}


def _fields(cfg: Any, prefix: str = "") -> dict[str, _Field]:
    """Flatten a (nested) dataclass instance into {dotted key: _Field}; sections recurse."""
    out: dict[str, _Field] = {}
    hints = _hints(type(cfg))
    for f in dataclasses.fields(cfg):
        key = prefix + f.name
        value = getattr(cfg, f.name)
        tp = hints.get(f.name, f.type)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.update(_fields(value, key + "."))
            continue
        meta = f.metadata.get(_META, {})
        choices = meta.get("choices")
        base = _strip_optional(tp)[0]
        if choices is None and typing.get_origin(base) is Literal:
            choices = typing.get_args(base)
        bounds = {k: meta.get(k) for k in ("ge", "gt", "le", "lt")}
        out[key] = _Field(
            key, tp, meta.get("help", ""), choices, bounds, meta.get("nonempty", False)
        )
    return out


def field_info(cfg: Any) -> dict[str, dict[str, Any]]:
    """{dotted key: {"type", "help", "choices", "default"}} for every leaf field of ``cfg``."""
    return {
        k: {
            "type": _type_name(f.type),
            "help": f.help,
            "choices": f.choices,
            "default": _get(cfg, k),
        }
        for k, f in _fields(cfg).items()
    }


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # noqa: UP007
    return tp, False


def _type_name(tp: Any) -> str:
    base, optional = _strip_optional(tp)
    origin = typing.get_origin(base)
    if origin is Literal:
        name = "{" + ",".join(str(a) for a in typing.get_args(base)) + "}"
    elif origin in (tuple, list):
        args = typing.get_args(base)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            name = f"{_type_name(args[0])},..."
        elif origin is tuple:
            name = ",".join(_type_name(a) for a in args)
        else:
            name = f"{_type_name(args[0]) if args else 'str'},..."
    elif isinstance(base, type):
        name = {Path: "path"}.get(base, base.__name__)
    else:
        name = str(base)
    return name + ("|none" if optional else "")


# --------------------------------------------------------------------------- conversion


def _convert(key: str, value: Any, tp: Any) -> Any:
    """Convert a string (from argv) or a Python value to ``tp``; ConfigError when impossible."""
    base, optional = _strip_optional(tp)
    if value is None or (optional and isinstance(value, str) and value.lower() in _NONE):
        if optional or tp is Any:
            return None
        raise ConfigError(f"--{key}: None is not allowed (expected {_type_name(tp)})")
    origin = typing.get_origin(base)
    if origin is Literal:
        allowed = typing.get_args(base)
        for a in allowed:
            if value == a or (isinstance(value, str) and value == str(a)):
                return a
        raise ConfigError(f"--{key}: invalid choice {value!r} (choose from {_fmt(allowed)})")
    if origin in (tuple, list):
        return _convert_seq(key, value, base, origin)
    if base is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"--{key}: expected a boolean (true/false/1/0), got {value!r}")
    if base is int:
        if isinstance(value, bool):
            raise ConfigError(f"--{key}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                try:
                    f = float(value)
                except ValueError:
                    f = math.nan
                if math.isfinite(f) and f.is_integer():
                    return int(f)
        raise ConfigError(f"--{key}: expected an integer, got {value!r}")
    if base is float:
        if isinstance(value, bool):
            raise ConfigError(f"--{key}: expected a float, got {value!r}")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if hasattr(value, "item"):  # numpy scalar
            return float(value.item())
        raise ConfigError(f"--{key}: expected a float, got {value!r}")
    if base is str:
        if isinstance(value, str):
            return value
        if isinstance(value, Path):
            return str(value)
        raise ConfigError(f"--{key}: expected a string, got {value!r}")
    if base is Path:
        if isinstance(value, str | Path):
            return Path(value).expanduser()
        raise ConfigError(f"--{key}: expected a path, got {value!r}")
    if base is Any:
        return value
    if typing.get_origin(base) in (typing.Union, types.UnionType):
        for alt in typing.get_args(base):
            try:
                return _convert(key, value, alt)
            except ConfigError:
                continue
        raise ConfigError(f"--{key}: expected {_type_name(tp)}, got {value!r}")
    if isinstance(base, type) and isinstance(value, base):
        return value
    raise ConfigError(f"--{key}: unsupported field type {_type_name(tp)}")


def _convert_seq(key: str, value: Any, base: Any, origin: type) -> Any:
    if isinstance(value, str):
        text = value.strip().strip("[]()")
        items: list[Any] = [s.strip() for s in text.split(",") if s.strip()] if text else []
    elif isinstance(value, list | tuple):
        items = list(value)
    elif hasattr(value, "tolist"):
        items = list(value.tolist())
    else:
        raise ConfigError(f"--{key}: expected a sequence ({_type_name(base)}), got {value!r}")
    args = typing.get_args(base)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(items) != len(args):
            raise ConfigError(
                f"--{key}: expected {len(args)} values ({_type_name(base)}), got {len(items)}"
            )
        return tuple(_convert(key, v, a) for v, a in zip(items, args))
    elem = args[0] if args else Any
    out = [_convert(key, v, elem) for v in items]
    return tuple(out) if origin is tuple else out


def _fmt(values: Sequence[Any]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def _check(f: _Field, value: Any) -> None:
    """Validate choices and numeric bounds of a converted value."""
    if value is None:
        return
    elems = value if isinstance(value, tuple | list) else (value,)
    if f.nonempty and not elems:
        raise ConfigError(f"--{f.key}: must not be empty")
    for v in elems:
        if f.choices is not None and v not in f.choices:
            raise ConfigError(f"--{f.key}: invalid choice {v!r} (choose from {_fmt(f.choices)})")
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        b = f.bounds
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"--{f.key}: must be a finite number, got {v!r}")
        for bound, ok in (
            (b["ge"], lambda x, y: x >= y),
            (b["gt"], lambda x, y: x > y),
            (b["le"], lambda x, y: x <= y),
            (b["lt"], lambda x, y: x < y),
        ):
            if bound is not None and not ok(v, bound):
                raise ConfigError(f"--{f.key}: must be {_range(b)}, got {v!r}")


def _range(b: Mapping[str, float | None]) -> str:
    parts = [f"{op} {b[k]}" for k, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))]
    return " and ".join(p for p, k in zip(parts, ("ge", "gt", "le", "lt")) if b[k] is not None)


def _get(cfg: Any, key: str) -> Any:
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _set(cfg: Any, key: str, value: Any) -> None:
    *head, last = key.split(".")
    for part in head:
        cfg = getattr(cfg, part)
    setattr(cfg, last, value)


def _unknown(key: str, valid: Sequence[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    if not close:  # "lrr" -> "train.lr": match on the last component too
        leaves = {v: v.rsplit(".", 1)[-1] for v in valid}
        near = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(leaves.values()), n=3)
        close = [v for v, leaf in leaves.items() if leaf in near][:3]
    hint = f" (did you mean {', '.join('--' + c for c in close)}?)" if close else ""
    return ConfigError(
        f"unknown option --{key}{hint}; valid keys: {', '.join('--' + v for v in valid)}"
    )


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in mapping.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + str(k)] = v
    return out


def override(cfg: Any, mapping: Mapping[str, Any]) -> Any:
    """A validated copy of ``cfg`` with ``mapping`` applied.

    ``mapping`` uses dotted keys (``{"train.lr": 1e-3}``) or nested dicts
    (``{"train": {"lr": 1e-3}}``, e.g. a ``to_dict`` from a checkpoint); values may be Python
    values or command-line strings. Raises :class:`ConfigError` with a one-line message.
    ``cfg`` itself is not modified.
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise ConfigError(f"override expects a dataclass instance, got {type(cfg).__name__}")
    new = copy.deepcopy(cfg)
    table = _fields(new)
    for key, raw in _flatten(mapping).items():
        if key not in table:
            raise _unknown(key, list(table))
        f = table[key]
        value = _convert(key, raw, f.type)
        _check(f, value)
        _set(new, key, value)
    return new


def validate(cfg: Any) -> Any:
    """Check every field of ``cfg`` (types, choices, bounds); return it or raise ConfigError."""
    for key, f in _fields(cfg).items():
        current = _get(cfg, key)
        if current is None:  # a None default means "not set" (e.g. an optional data path)
            continue
        value = _convert(key, current, f.type)
        _check(f, value)
        _set(cfg, key, value)
    return cfg


def _jsonable(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _jsonable(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, tuple | list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


def to_dict(cfg: Any) -> dict[str, Any]:
    """Nested JSON-ready dict of a config (Paths as strings, tuples as lists)."""
    return _jsonable(cfg)


# --------------------------------------------------------------------------- command line


def _tokenize(argv: Sequence[str], table: Mapping[str, _Field]) -> list[tuple[str, Any]]:
    """``--key value`` / ``--key=value`` / ``--flag`` pairs; tuples take several tokens."""
    pairs: list[tuple[str, Any]] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if not tok.startswith("--") or tok == "--":
            raise ConfigError(f"unexpected argument {tok!r}; options look like --key value")
        key, eq, val = tok[2:].partition("=")
        key = key.replace("-", "_") if key.replace("-", "_") in table else key
        i += 1
        if eq:
            pairs.append((key, val))
            continue
        f = table.get(key)
        nxt = argv[i] if i < len(argv) else None
        if f is not None and _strip_optional(f.type)[0] is bool:
            if nxt is not None and not nxt.startswith("--"):
                pairs.append((key, nxt))
                i += 1
            else:  # a bare --flag means true
                pairs.append((key, "true"))
            continue
        is_seq = f is not None and typing.get_origin(_strip_optional(f.type)[0]) in (tuple, list)
        if is_seq:  # --seeds 0 1 2  or  --seeds 0,1,2
            vals = []
            while i < len(argv) and not argv[i].startswith("--"):
                vals.append(argv[i])
                i += 1
            pairs.append((key, ",".join(vals)))
            continue
        if f is None:  # unknown key: reported by the caller with suggestions
            pairs.append((key, None))
            if nxt is not None and not nxt.startswith("--"):
                i += 1
            continue
        if nxt is None or nxt.startswith("--"):
            raise ConfigError(f"--{key}: expected a value ({_type_name(f.type)})")
        pairs.append((key, nxt))  # may start with "-": --lr -1e-3
        i += 1
    return pairs


def _help_text(prog: str, profile: str, default: str, names: Sequence[str], cfg: Any) -> str:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=f"Showing defaults of profile {profile!r}. Override any field with "
        "--key value (nested: --section.key value).",
        add_help=False,
        allow_abbrev=False,
        formatter_class=lambda prog: argparse.HelpFormatter(prog, max_help_position=36, width=100),
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this message and exit")
    parser.add_argument(
        "--profile",
        choices=list(names),
        help=f"named configuration (default: {default}; shown: {profile})",
    )
    groups: dict[str, Any] = {}
    for key, f in _fields(cfg).items():
        section = key.rsplit(".", 1)[0] if "." in key else ""
        if section not in groups:
            groups[section] = parser.add_argument_group(section or "config")
        extra = [f"default: {_jsonable(_get(cfg, key))!r}"]
        if f.choices is not None:
            extra.append(f"choices: {_fmt(f.choices)}")
        if any(v is not None for v in f.bounds.values()):
            extra.append(_range(f.bounds))
        text = (f.help + " " if f.help else "") + f"({'; '.join(extra)})"
        groups[section].add_argument(
            f"--{key}", metavar=_type_name(f.type), help=text.replace("%", "%%")
        )
    return parser.format_help()


def _fail(prog: str, message: str) -> typing.NoReturn:
    line = " ".join(str(message).split())  # exactly one line
    print(f"{prog}: error: {line}", file=sys.stderr)
    raise SystemExit(2)


def parse(
    profiles: Mapping[str, Any | Callable[[], Any]],
    argv: Sequence[str] | None = None,
    prog: str | None = None,
    default_profile: str = "cpu",
) -> tuple[str, Any]:
    """Choose a profile and apply ``--key value`` overrides; returns ``(profile, cfg)``.

    ``profiles`` maps a name to a config instance (or a zero-argument factory). ``argv``
    defaults to ``sys.argv[1:]``. ``--help`` prints every field with its default in the chosen
    profile and exits 0; any mistake prints one line ``prog: error: ...`` on stderr and exits 2.
    The returned config is a fresh copy; the instances in ``profiles`` are never modified.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = prog or Path(sys.argv[0]).name
    names = list(profiles)
    try:
        profile = default_profile if default_profile in profiles else names[0]
        default = profile
        rest: list[str] = []
        want_help = False
        i = 0
        while i < len(argv):
            tok = argv[i]
            if tok in ("-h", "--help"):
                want_help = True
            elif tok == "--profile" or tok.startswith("--profile="):
                if "=" in tok:
                    profile = tok.split("=", 1)[1]
                elif i + 1 < len(argv):
                    profile = argv[i + 1]
                    i += 1
                else:
                    raise ConfigError(f"--profile: expected a value (choose from {_fmt(names)})")
                if profile not in profiles:
                    raise ConfigError(f"unknown profile {profile!r} (choose from {_fmt(names)})")
            else:
                rest.append(tok)
            i += 1
        base = profiles[profile]
        is_instance = dataclasses.is_dataclass(base) and not isinstance(base, type)
        cfg = copy.deepcopy(base) if is_instance else base()
        if want_help:
            print(_help_text(prog, profile, default, names, cfg), end="")
            raise SystemExit(0)
        table = _fields(cfg)
        pairs = _tokenize(rest, table)
        for key, _ in pairs:
            if key not in table:
                raise _unknown(key, list(table))
        cfg = override(cfg, dict(pairs))
        validate(cfg)
    except ConfigError as e:
        _fail(prog, str(e))
    return profile, cfg
