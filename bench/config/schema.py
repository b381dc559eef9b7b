"""YAML config -> frozen, validated dataclasses, before any model is loaded; imports no torch.

    cfg = load_config("configs/default.yaml")   # raises ConfigError with a one-line message
    cfg = load_config(path, Overrides(settings=(parse_setting("measure.repeats=50"),)))  # the command line's

Every error names the offending key (dotted path), the value (cut if long), and what is allowed.
The file is read by yaml_file.read_yaml; the model's fields are checked by model_file.check_against_model.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.config.errors import ConfigError, shown
from bench.config.load import LoadConfig, parse_load
from bench.config.model_file import check_against_model
from bench.config.names import AUTO_ATTENTION, BASELINE
from bench.config.options import build_options, check_choice, check_int, check_keys, check_path_text, check_seed
from bench.config.overrides import Overrides, apply_overrides
from bench.config.paths import command_line_path, resolve_paths
from bench.config.presets import PRESETS
from bench.config.yaml_file import read_yaml
from strategies.option_types import OPTION_TYPES

DTYPE_NAMES = ("float16", "bfloat16", "float32")
# auto (SDPA where the model supports it, else eager) and the names transformers' attn_implementation accepts;
# anything else fails the worker as it builds the model
ATTN_IMPLEMENTATIONS = (AUTO_ATTENTION, "eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention")
DEVICES = ("auto", "cuda", "cpu")
SAMPLING_MODES = ("greedy", "temperature")
MAX_PROMPTS_PER_LENGTH = 64  # each prompt's reference logits are kept on disk; 64 bounds that file
# logits are divided by the temperature in float32: below ~1e-37 the divisor rounds to zero and above
# ~1e37 every logit to zero (uniform sampling); 1e-6 and 1e6 are far inside and already greedy or flat
TEMPERATURE_RANGE = (1e-6, 1e6)
# per length: 10**5 requests take hours on a 7B model and pin p99 far below run-to-run noise, so a
# larger warmup or repeats is a typo (10**12 would run for years and fill the disk with samples)
MAX_REQUESTS = 100_000
# one host's GPUs: NVLink hosts hold 8, and tensor parallel beyond one host's NVLink would run its two
# all-reduces a layer over the network, which this harness does not set up
MAX_TENSOR_PARALLEL = 8
# where the references that judge a tensor-parallel run come from: the one-device baseline (same seed,
# same weights), or the tensor-parallel baseline when the model does not fit one device
TP_REFERENCES = ("one-gpu", "tensor-parallel")
# a run name is a folder name: file systems cap those at 255 bytes; 100 leaves room and stays readable
MAX_NAME_BYTES = 100


@dataclass(frozen=True)
class ModelConfig:
    """Exactly one of preset / config / name_or_path says where the model comes from."""
    preset: str | None = None
    config: str | None = None
    name_or_path: str | None = None
    dtype: str = "float16"
    device: str = "auto"
    # transformers' own default: SDPA where the model's class supports it, else eager (GPT-J), named in the notes
    attn_implementation: str = AUTO_ATTENTION
    seed: int = 0  # seeds the random weights, so two runs build the same model
    tensor_parallel: int = 1  # ranks the model is split over: one GPU each (cuda, NCCL) or gloo on the CPU
    tp_reference: str = "one-gpu"  # a tensor-parallel run's judge: see TP_REFERENCES

    def __post_init__(self):
        sources = [k for k in ("preset", "config", "name_or_path") if getattr(self, k) is not None]
        if len(sources) != 1:
            raise ConfigError(f"model: give exactly one of preset, config, name_or_path (got {sources or 'none'})")
        if self.preset is not None:
            check_choice("model.preset", self.preset, PRESETS, "preset")
        for key in ("config", "name_or_path"):
            if getattr(self, key) is not None:
                check_path_text(f"model.{key}", getattr(self, key))
        check_choice("model.dtype", self.dtype, DTYPE_NAMES, "dtype")
        check_choice("model.device", self.device, DEVICES, "device")
        check_choice("model.attn_implementation", self.attn_implementation, ATTN_IMPLEMENTATIONS, "implementation")
        check_seed("model.seed", self.seed)
        check_int("model.tensor_parallel", self.tensor_parallel, minimum=1, maximum=MAX_TENSOR_PARALLEL)
        check_choice("model.tp_reference", self.tp_reference, TP_REFERENCES, "reference")


@dataclass(frozen=True)
class PromptConfig:
    lengths: tuple[int, ...] = (10, 50, 100, 150, 200, 250, 300, 350, 400)  # the design document's lengths
    seed: int = 0
    text: str | None = None  # if set, prompts are this text's tokens, repeated to each length
    # distinct prompts judged per length, and rotated through by the timed requests, so neither a
    # lucky prompt nor a cache keyed on one input can pass the check; 8 judges a point in well
    # under a second at 7B and keeps the baseline's reference file small (8 x vocab fp32 per length)
    per_length: int = 8

    def __post_init__(self):
        if not isinstance(self.lengths, (list, tuple)) or not self.lengths:
            raise ConfigError(f"prompts.lengths: expected a non-empty list of positive integers, "
                              f"got {shown(self.lengths)}")
        for i, n in enumerate(self.lengths):
            check_int(f"prompts.lengths[{i}]", n, minimum=1)
        if len(set(self.lengths)) != len(self.lengths):
            raise ConfigError(f"prompts.lengths: duplicate lengths in {shown(list(self.lengths))}")
        object.__setattr__(self, "lengths", tuple(self.lengths))
        check_seed("prompts.seed", self.seed)
        check_int("prompts.per_length", self.per_length, minimum=1)
        if self.per_length > MAX_PROMPTS_PER_LENGTH:
            raise ConfigError(f"prompts.per_length: expected at most {MAX_PROMPTS_PER_LENGTH}, "
                              f"got {shown(self.per_length)}")
        if self.text is not None and (not isinstance(self.text, str) or not self.text.strip()):
            raise ConfigError("prompts.text: expected a non-empty string")


@dataclass(frozen=True)
class SamplingConfig:
    mode: str = "greedy"
    temperature: float = 0.7  # the design document's temperature
    seed: int = 0

    def __post_init__(self):
        check_choice("sampling.mode", self.mode, SAMPLING_MODES, "mode")
        low, high = TEMPERATURE_RANGE
        if (isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float))
                or not low <= self.temperature <= high):
            raise ConfigError(f"sampling.temperature: expected a number in [{low:g}, {high:g}], got "
                              f"{shown(self.temperature)}; logits are divided by it in float32")
        check_seed("sampling.seed", self.seed)


@dataclass(frozen=True)
class MeasureConfig:
    warmup: int = 5  # enough for allocator and cuBLAS heuristics to settle after the cold request
    repeats: int = 100  # 100 samples make p99 an interpolated order statistic, not just the max
    # the timed requests are split into rounds spread over the strategy's measuring time (every length gets
    # a share in each round), so the intervals see the drift between rounds, not only within one; see
    # bench.scenarios.rounds for how repeats are divided
    rounds: int = 10
    unseen_length: int | None = None  # the cold-start probe's length; None: between the two shortest
    # after a strategy that compiles, start it once more in a new process that finds the compile cache
    # the first one left (a server's restart) and report how soon that one is ready
    restart: bool = True

    def __post_init__(self):
        check_int("measure.warmup", self.warmup, minimum=0, maximum=MAX_REQUESTS)
        check_int("measure.repeats", self.repeats, minimum=1, maximum=MAX_REQUESTS)
        check_int("measure.rounds", self.rounds, minimum=1, maximum=MAX_REQUESTS)  # more than repeats: one each
        if not isinstance(self.restart, bool):
            raise ConfigError(f"measure.restart: expected true or false, got {shown(self.restart)}")
        if self.unseen_length is not None:
            check_int("measure.unseen_length", self.unseen_length, minimum=1)


@dataclass(frozen=True)
class StrategySpec:
    name: str
    options: Any  # the strategy's own frozen options dataclass


@dataclass(frozen=True)
class BenchConfig:
    name: str
    model: ModelConfig
    prompts: PromptConfig = field(default_factory=PromptConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    strategies: tuple[StrategySpec, ...] = ()
    output: str = "results"
    transport: str = "inprocess"  # or "ipc": the design document's generator server + client
    load: LoadConfig | None = None  # TTFT under load, after the sweeps; None: not measured
    out_override: str | None = None  # the CLI's --out: the run folder itself
    raw: dict = field(default_factory=dict, compare=False)  # the YAML as given, stored in run.json

    def out_dir(self) -> Path:
        """The run folder, absolute: workers start in the repository root, so a relative one would move."""
        return (Path(self.out_override) if self.out_override else Path(self.output) / self.name).absolute()

    def strategy_names(self) -> list[str]:
        return [s.name for s in self.strategies]


def _section(raw: dict, key: str, cls: type) -> Any:
    value = raw.get(key, {})
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a mapping, got {shown(value)}")
    check_keys(key, value, [f.name for f in dataclasses.fields(cls)])
    return cls(**value)  # every field has a default, and each checks its own type


def _strategies(raw: Any) -> tuple[StrategySpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("strategies: expected a non-empty list of {name: ..., options: {...}} entries")
    specs = []
    for i, entry in enumerate(raw):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise ConfigError(f"strategies[{i}]: expected a name or a mapping, got {shown(entry)}")
        check_keys(f"strategies[{i}]", entry, ["name", "options"])
        name = entry.get("name")
        check_choice(f"strategies[{i}].name", name, OPTION_TYPES, "strategy")
        options = entry.get("options")
        options = build_options(OPTION_TYPES[name], {} if options is None else options, f"strategies[{i}].options")
        specs.append(StrategySpec(name, options))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError(f"strategies: each strategy may appear once, got {names}")
    if BASELINE not in names:
        # speed-up and correctness are measured against the baseline, so it always runs first
        specs.insert(0, StrategySpec(BASELINE, build_options(OPTION_TYPES[BASELINE], {}, "baseline")))
    else:
        specs.sort(key=lambda s: s.name != BASELINE)
    return tuple(specs)


TOP_KEYS = ("name", "model", "prompts", "sampling", "measure", "strategies", "output", "transport", "tags", "load")
TRANSPORTS = ("inprocess", "ipc")


def parse_config(raw: Any, source: str = "config") -> BenchConfig:
    """Validate a parsed YAML document into a BenchConfig, with every check that needs no torch."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(raw).__name__}")
    check_keys("config", raw, TOP_KEYS)
    name = raw.get("name")
    check_run_name(name)
    if "model" not in raw:
        raise ConfigError("model: missing; give one of preset, config, name_or_path")
    output = raw.get("output", "results")
    check_path_text("output", output)
    transport = raw.get("transport", "inprocess")
    check_choice("transport", transport, TRANSPORTS, "transport")
    check_tags(raw.get("tags", {}))
    model = _section(raw, "model", ModelConfig)
    prompts = _section(raw, "prompts", PromptConfig)
    if model.tensor_parallel > 1 and transport != "inprocess":
        raise ConfigError(f"transport: {shown(transport)} runs one generator process; model.tensor_parallel > 1 "
                          "needs transport: inprocess")
    if prompts.text is not None and model.name_or_path is None:
        raise ConfigError("prompts.text: needs a tokenizer, so model.name_or_path; presets and config: have none")
    sampling = _section(raw, "sampling", SamplingConfig)
    strategies = _strategies(raw.get("strategies"))
    cfg = BenchConfig(
        name=name,
        model=model,
        prompts=prompts,
        sampling=sampling,
        measure=_section(raw, "measure", MeasureConfig),
        strategies=strategies,
        output=output,
        transport=transport,
        load=parse_load(raw.get("load"), [s.name for s in strategies], prompts.lengths, sampling.mode,
                        model.tensor_parallel),
        raw=raw,
    )
    check_folders(cfg)
    check_against_model(cfg)
    check_lock_step(cfg)
    return cfg


def check_tags(tags: Any) -> None:
    """tags: a mapping of text keys to text values (user labels stored with the run, e.g. driver: new)."""
    if not isinstance(tags, dict) or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in tags.items()):
        raise ConfigError(f"tags: expected a mapping of text keys to text values, got {shown(tags)}")


def check_lock_step(cfg: BenchConfig) -> None:
    """Under tensor parallel no strategy captures in a background thread: its collectives would run when
    the thread likes, while every rank's all-reduces must meet in the same order."""
    if cfg.model.tensor_parallel == 1:
        return
    for i, spec in enumerate(cfg.strategies):
        if getattr(spec.options, "background", None):
            raise ConfigError(f"strategies[{i}].options.background: not with model.tensor_parallel > 1 (a capture "
                              "thread's all-reduces would run out of the ranks' lock-step)")


def check_run_name(name: Any) -> None:
    """A run name is one folder name: printable, no '/', not hidden, at most MAX_NAME_BYTES in UTF-8."""
    usable = (isinstance(name, str) and name and name.isprintable() and "/" not in name
              and not name.startswith(".") and len(name.encode("utf-8", "replace")) <= MAX_NAME_BYTES)
    if not usable:
        raise ConfigError(f"name: expected a run name usable as a folder name (printable, no '/', not starting "
                          f"with '.', at most {MAX_NAME_BYTES} bytes), got {shown(name)}")


def check_folders(cfg: BenchConfig) -> None:
    """The output folder and the run folder are folders or do not exist yet, never files."""
    key = "--out" if cfg.out_override else "output"
    for path in (Path(cfg.out_override),) if cfg.out_override else (Path(cfg.output), cfg.out_dir()):
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{key}: {shown(str(path))} is an existing file, not a folder")


def load_config(path: str | Path, overrides: Overrides | None = None) -> BenchConfig:
    """Read a YAML config file, make the command line's overrides on its raw mapping, then validate;
    every problem is a one-line ConfigError. Relative paths read against the config's folder, those
    given on the command line against the working directory."""
    overrides = overrides or Overrides()
    settings = tuple((keys, command_line_path(keys, value)) for keys, value in overrides.settings)
    raw = apply_overrides(resolve_paths(read_yaml(path), Path(path).parent),
                          dataclasses.replace(overrides, settings=settings))
    cfg = parse_config(raw, str(path))
    if overrides.out is None:
        return cfg
    check_path_text("--out", overrides.out)
    cfg = dataclasses.replace(cfg, out_override=overrides.out)
    check_folders(cfg)
    return cfg
