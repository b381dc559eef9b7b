"""run.json checked field by field before a report, a comparison or a resume reads it: every value the
tools read has its type and range, so no value of any type ends in a traceback.

    problem = run_problem(data)   # None, or one line naming the field: "strategies.baseline.ready_s: ..."

The points' and strategies' fields take their types from the records' own dataclasses (records.py),
so a field added there is checked here without a second table.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterator, get_args, get_type_hints

from bench.config.errors import shown
from bench.reporting.environment_keys import ENVIRONMENT_KEYS, lookup
from bench.reporting.records import SAMPLE_FIELDS, PointRecord, StrategyRecord

# every count, length, time and size here is far below it; above it a float64 no longer holds each
# integer, and pandas' int64 columns overflow a little later (a 30-digit count was an OverflowError)
MAX_NUMBER = 2 ** 53
RUN_STATUSES = ("running", "complete", "interrupted", "failed")
POINT_STATUSES = ("ok", "error", "skipped")
COUNTED_FROM = 5  # the format version whose points carry `samples` and `samples_sha256` (results_io.py)
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
NONE = type(None)
KIND_NAMES = {str: "text", int: "an integer", float: "a number", bool: "true or false", dict: "an object",
              list: "a list", NONE: "null"}
# run.json's own fields (not the records'): required ones first
REQUIRED = {"name": (str,), "status": (str,), "started": (str,), "config": (dict,), "environment": (dict,),
            "strategies": (dict,), "points": (list,)}
# the environment's changes a resume was told to accept (`run --resume-anyway`): per changed key, when (the
# resume's time, as in `resumed`), the value the run started with ("old") and the new one
ENVIRONMENT_CHANGES = "environment_changes"
CHANGE_FIELDS = {"resumed": (str,), "key": (str,)}
OPTIONAL = {"finished": (str, NONE), "failure": (str,), "resumed": (list,), ENVIRONMENT_CHANGES: (list,),
            "roofline": (dict,)}
# environment_keys' JSON type names as the types fits() checks
ENVIRONMENT_KINDS = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "object": dict}
# what the floor (bench.measuring.floor) reads of the model's shape and of the measured ceilings
SHAPE_FIELDS = {"params": (int,), "embedding_params": (int,), "hidden_size": (int,), "layers": (int,),
                "bytes_per_param": (float,)}
SHAPE_OPTIONAL = {"lm_head_params": (int,), "tied_embeddings": (bool,)}
CEILING_FIELDS = {"copy_bytes_per_s": (float,), "matmul_flops_per_s": (float,), "dtype": (str,)}
CEILING_OPTIONAL = {"tensor_parallel": (int,), "allreduce_method": (str,), "allreduce_ms": (dict,)}


def record_kinds(cls: type) -> dict[str, tuple]:
    """Each stored field of a record dataclass and the types it may hold (`float | None` -> (float, None))."""
    hints = get_type_hints(cls)
    return {f.name: get_args(hints[f.name]) or (hints[f.name],) for f in dataclasses.fields(cls)
            if f.name not in SAMPLE_FIELDS}  # the samples live in samples.csv


POINT_KINDS = record_kinds(PointRecord)
STRATEGY_KINDS = record_kinds(StrategyRecord)


def fits(value: Any, kind: type) -> bool:
    """value is of kind, numbers non-negative and below MAX_NUMBER (never a bool for a number; NaN never)."""
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind in (int, float) and isinstance(value, int):
        return 0 <= value < MAX_NUMBER
    if kind is float:
        return isinstance(value, float) and 0 <= value < MAX_NUMBER  # NaN compares false, so it fails too
    return isinstance(value, kind)


def kind_problem(where: str, value: Any, kinds: tuple) -> str | None:
    """`where: expected ..., got ...` unless value fits one of kinds."""
    if any(fits(value, kind) for kind in kinds):
        return None
    ranged = " (0 to 2**53)" if {int, float} & set(kinds) else ""
    return f"{where}: expected {' or '.join(KIND_NAMES[k] for k in kinds)}{ranged}, got {shown(value)}"


def fields_problems(prefix: str, data: dict, required: dict, optional: dict | None = None) -> Iterator[str]:
    """A problem per field of `required` missing or ill-typed, and of `optional` present and ill-typed."""
    for key, kinds in required.items():
        yield f"{prefix}{key}: missing" if key not in data else kind_problem(f"{prefix}{key}", data[key], kinds)
    for key, kinds in (optional or {}).items():
        if key in data:
            yield kind_problem(f"{prefix}{key}", data[key], kinds)


def run_problem(data: dict) -> str | None:
    """The first reason run.json can't be read, naming the field, or None."""
    return next(filter(None, run_problems(data)), None)


def run_problems(data: dict) -> Iterator[str | None]:
    yield from fields_problems("", data, REQUIRED, OPTIONAL)
    if data["status"] not in RUN_STATUSES:
        yield f"status: {shown(data['status'])} is not one of {', '.join(RUN_STATUSES)}"
    yield from (kind_problem(f"resumed[{i}]", when, (str,)) for i, when in enumerate(data.get("resumed", [])))
    for i, change in enumerate(data.get(ENVIRONMENT_CHANGES, [])):
        where = f"{ENVIRONMENT_CHANGES}[{i}]"
        yield kind_problem(where, change, (dict,)) or next(filter(None, fields_problems(f"{where}.", change,
                                                                                        CHANGE_FIELDS)), None)
    yield from config_problems(data["config"])
    yield from environment_problems(data["environment"])
    for name, record in data["strategies"].items():
        yield kind_problem(f"strategies.{name}", record, (dict,)) or next(
            filter(None, fields_problems(f"strategies.{name}.", record, {}, STRATEGY_KINDS)), None)
    seen: set[tuple[str, int]] = set()
    for i, point in enumerate(data["points"]):
        yield point_problem(f"points[{i}]", point, data["format_version"] >= COUNTED_FROM)
        if isinstance(point, dict):
            key = (point["strategy"], point["prompt_len"])
            if key in seen:
                yield f"points[{i}]: a second point for {key[0]} @ {key[1]}"
            seen.add(key)
    if "roofline" in data:
        yield from roofline_problems(data["roofline"])


def config_problems(config: dict) -> Iterator[str | None]:
    """The parts of the stored config the tools read: the model's names, the tags, measure.repeats and
    measure.rounds."""
    yield from fields_problems("config.", config, {}, {"model": (dict,), "tags": (dict,), "measure": (dict, NONE)})
    measure = config.get("measure")
    for key in ("repeats", "rounds"):
        if isinstance(measure, dict) and key in measure:
            yield kind_problem(f"config.measure.{key}", measure[key], (int,)) or (
                f"config.measure.{key}: expected a positive integer, got 0" if measure[key] == 0 else None)


def environment_problems(env: dict) -> Iterator[str | None]:
    """Every key of the environment table (environment_keys.py) of its type or null; device an object."""
    yield from fields_problems("environment.", env, {}, {"device": (dict,)})
    for key in ENVIRONMENT_KEYS:
        yield kind_problem(f"environment.{key.name}", lookup(env, key.name), (ENVIRONMENT_KINDS[key.kind], NONE))


def point_problem(where: str, point: Any, counted: bool) -> str | None:
    """Why a stored point can't be read, or None. counted: it must say how many sample rows it has."""
    if not isinstance(point, dict):
        return f"{where}: expected an object, got {type(point).__name__}"
    required = {"strategy": (str,), "prompt_len": (int,), "status": (str,)}
    counts = {"samples": (int,), "samples_sha256": (str,)}
    problem = next(filter(None, fields_problems(f"{where}.", point, {**required, **(counts if counted else {})},
                                                {**POINT_KINDS, **counts})), None)
    if problem:
        return problem
    if point["prompt_len"] < 1:
        return f"{where}.prompt_len: 0 is not a length"
    if point["status"] not in POINT_STATUSES:
        return f"{where}.status: {shown(point['status'])} is not one of {', '.join(POINT_STATUSES)}"
    if "samples" in point and (point["samples"] > 0) != (point["status"] == "ok"):
        return f"{where}.samples: {point['samples']} for a point whose status is {point['status']!r}"
    if "samples_sha256" in point and not SHA256_HEX.fullmatch(point["samples_sha256"]):
        return f"{where}.samples_sha256: expected 64 hexadecimal digits, got {shown(point['samples_sha256'])}"
    return None


def roofline_problems(roofline: dict) -> Iterator[str | None]:
    """What the floor and the roofline line read: the shape and the ceilings, when ceilings were measured."""
    yield from fields_problems("roofline.", roofline, {}, {"note": (str,), "model": (dict,), "ceilings": (dict,)})
    if "ceilings" not in roofline or not isinstance(roofline["ceilings"], dict):
        return
    shape, ceilings = roofline.get("model"), roofline["ceilings"]
    yield kind_problem("roofline.model", shape, (dict,))
    if isinstance(shape, dict):
        yield from fields_problems("roofline.model.", shape, SHAPE_FIELDS, SHAPE_OPTIONAL)
    yield from fields_problems("roofline.ceilings.", ceilings, CEILING_FIELDS, CEILING_OPTIONAL)
    for key in ("copy_bytes_per_s", "matmul_flops_per_s", "tensor_parallel"):
        if ceilings.get(key) == 0:
            yield f"roofline.ceilings.{key}: 0 (the floor divides by it)"
    if ceilings.get("tensor_parallel", 1) > 1 and "allreduce_ms" not in ceilings:
        yield "roofline.ceilings.allreduce_ms: missing (tensor_parallel is above 1)"
    for n, ms in (ceilings.get("allreduce_ms") or {}).items():
        yield kind_problem(f"roofline.ceilings.allreduce_ms.{n}", ms, (float,))
