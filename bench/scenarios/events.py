"""What a worker tells the runner, one typed event per JSON line of its result pipe (torch-free).

    line = encode(PointEvent(point))     # the worker
    event = decode(line)                 # the runner: EventError (one line) for anything else

Each kind is a dataclass; encode and decode are the only places that know the wire form. The
decoder refuses an unknown kind, a field its dataclass does not have, a missing field and a value
of the wrong type, so a worker of another version or a stray print can never be filed as a point.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass
from typing import Callable, Union

from bench.config.errors import shown
from bench.reporting.load_records import LoadLevelRecord, LoadRow, LoadRunRecord
from bench.reporting.records import PointRecord, StrategyRecord

class EventError(ValueError):
    """A line that is not an event this runner knows, phrased as one line."""


@dataclass(frozen=True)
class DeviceEvent:
    """The device a worker runs on (the first one reported is kept)."""
    device: str
    device_name: str | None = None
    capability: str | None = None
    multiprocessors: int | None = None
    device_memory_gb: float | None = None


@dataclass(frozen=True)
class RooflineEvent:
    """The model's shape and the GPU's measured ceilings (or why there are none)."""
    model: dict
    ceilings: dict | None = None
    note: str | None = None


@dataclass(frozen=True)
class StrategyEvent:
    """Fields of the strategy's record in run.json (only those set are filed)."""
    record: StrategyRecord


@dataclass(frozen=True)
class PointEvent:
    """One measured length."""
    point: PointRecord


@dataclass(frozen=True)
class PhaseEvent:
    """What the worker is doing now, for the progress bar."""
    text: str


@dataclass(frozen=True)
class FatalEvent:
    """Why the worker stops."""
    note: str


@dataclass(frozen=True)
class LoadRunEvent:
    """Fields of the (strategy, batching) load run's record (only those set are filed)."""
    record: LoadRunRecord


@dataclass(frozen=True)
class LoadLevelEvent:
    """One finished load level and every request it sent."""
    level: LoadLevelRecord
    rows: tuple[LoadRow, ...]


Event = Union[DeviceEvent, RooflineEvent, StrategyEvent, PointEvent, PhaseEvent, FatalEvent, LoadRunEvent,
              LoadLevelEvent]
Emit = Callable[[Event], None]

KINDS: dict[str, type] = {"device": DeviceEvent, "roofline": RooflineEvent, "strategy": StrategyEvent,
                          "point": PointEvent, "phase": PhaseEvent, "fatal": FatalEvent, "load_run": LoadRunEvent,
                          "load_level": LoadLevelEvent}  # the kind on the wire -> its dataclass
KIND_OF = {cls: kind for kind, cls in KINDS.items()}
# events that carry one record, sent flat (its fields beside "event"): the field and how it is written.
# A strategy's and a load run's records send only the fields set: the runner merges them into what it has
FLAT = {StrategyEvent: ("record", "stored"), PointEvent: ("point", "to_dict"), LoadRunEvent: ("record", "stored")}


def encode(event: Event) -> str:
    """One JSON line (with its newline) for the result pipe."""
    cls = type(event)
    if cls in FLAT:
        field, how = FLAT[cls]
        payload = getattr(getattr(event, field), how)()
    else:
        payload = dataclasses.asdict(event)
    return json.dumps({"event": KIND_OF[cls], **payload}) + "\n"


def decode(line: str) -> Event:
    """The event of one line, or EventError naming what is wrong with it."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"not a JSON event: {exc.msg} in {shown(line)}") from None
    if not isinstance(data, dict):
        raise EventError(f"not a JSON object: {shown(line)}")
    kind = data.pop("event", None)
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventError(f"unknown event kind {kind!r}; known: {', '.join(KINDS)}")
    if cls in FLAT:
        field = FLAT[cls][0]
        return cls(build(hints_of(cls)[field], data, kind))
    return build(cls, data, kind)


@functools.cache
def hints_of(cls: type) -> dict:
    """A dataclass's field annotations, resolved once (a level's thousands of rows share them)."""
    return typing.get_type_hints(cls)


def build(cls: type, payload: dict, where: str):
    """An instance of dataclass `cls` from a JSON object: no unknown field, none missing, every value typed."""
    hints = hints_of(cls)
    fields = dataclasses.fields(cls)
    unknown = [k for k in payload if k not in hints]
    if unknown:
        raise EventError(f"{where}: unknown field {unknown[0]!r}; {cls.__name__} has: "
                         f"{', '.join(f.name for f in fields)}")
    missing = [f.name for f in fields if f.name not in payload
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise EventError(f"{where}: missing field {missing[0]!r} of {cls.__name__}")
    return cls(**{k: typed(v, hints[k], f"{where}.{k}") for k, v in payload.items()})


def typed(value, hint, where: str):
    """`value` as the annotation `hint` wants it (a JSON list as a tuple, an int as a float), or EventError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        arms = [a for a in args if a is not type(None)]
        for arm in arms[:-1]:
            try:
                return typed(value, arm, where)
            except EventError:
                continue
        return typed(value, arms[-1], where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise EventError(f"{where}: expected an object, got {shown(value)}")
        return build(hint, value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise EventError(f"{where}: expected a list, got {shown(value)}")
        return tuple(typed(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
    kind = origin or hint
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise EventError(f"{where}: expected {kind.__name__}, got {shown(value)}")
