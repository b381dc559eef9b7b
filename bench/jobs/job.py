"""The job record: what a worker or a generator server is asked to run, validated once by the parent.

    job = build_job(cfg)                      # bench.jobs.build: config checks, device, model facts, prompts: once
    worker_job = job.for_strategy("jit-only")   # .for_scenario(LOAD, batching) for a load run
    Job.from_dict(json.loads(json.dumps(worker_job.to_dict())))  # across a process boundary

The receiving process trusts the record: it resolves no device, reads no tokenizer and checks
no lengths. Only the config's typed form is rebuilt from its raw mapping by parse_config (a pure
function: no file, no model), because the strategies' option dataclasses do not travel as JSON.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from bench.config.load import ServerBatching
from bench.config.names import BASELINE
from bench.config.schema import BenchConfig, parse_config

# the scenarios a worker runs (bench/scenarios/): the sweep of every length; a restart of a strategy that
# compiled, finding its compile cache; the load scenario, through a generator server with one batching setting
SWEEP, RESTART, LOAD = "sweep", "restart", "load"


@dataclass(frozen=True)
class ModelFacts:
    """What the harness needs to know of the model without building it."""
    vocab_size: int
    max_positions: int | None
    pad_token_id: int
    layers: int  # decoder layers: the correctness tolerance grows with depth (bench.judging.correctness)


@dataclass(frozen=True)
class PromptSource:
    """What fixes every prompt of the run (bench.models.prompts' stream), so a worker can make each
    request's prompt itself, before its timing starts, instead of receiving them all."""
    seed: int
    vocab_size: int
    avoid: tuple[int, ...]  # synthetic prompts leave out the special tokens
    text_ids: tuple[int, ...] | None  # prompts.text's tokens, or None: synthetic prompts


@dataclass(frozen=True)
class Job:
    config: BenchConfig
    strategy: str
    run_folder: Path
    device: str  # resolved: "cuda" or "cpu", never "auto"
    model: ModelFacts
    prompts: dict[int, tuple[tuple[int, ...], ...]]  # per length, its distinct prompts (prompt 0 first)
    unseen_len: int  # the cold-start probe's length: one nobody prepares
    unseen_prompt: tuple[int, ...]
    prompt_source: PromptSource
    scenario: str = SWEEP
    batching: ServerBatching | None = None  # the load scenario's server setting (one of load.batching)

    @property
    def is_baseline(self) -> bool:
        return self.strategy == BASELINE

    @property
    def writes_references(self) -> bool:
        """The baseline writes the references, except in a tensor-parallel run judged by the one-device
        baseline: there a one-device pass wrote them first (bench.parallel.one_gpu_references)."""
        model = self.config.model
        return self.is_baseline and not (model.tensor_parallel > 1 and model.tp_reference == "one-gpu")

    def for_strategy(self, name: str) -> "Job":
        """The same job for another strategy of the config."""
        return dataclasses.replace(self, strategy=name)

    def for_scenario(self, scenario: str, batching: ServerBatching | None = None) -> "Job":
        """The same strategy's job in another scenario (a load run names its batching setting)."""
        return dataclasses.replace(self, scenario=scenario, batching=batching)

    @property
    def label(self) -> str:
        """How the progress bar and the logs name this job: 'jit+cuda', 'jit+cuda (restart)', 'jit+cuda (load
        batch16)'."""
        if self.scenario == SWEEP:
            return self.strategy
        return f"{self.strategy} ({self.scenario}{'' if self.batching is None else ' ' + self.batching.label})"

    def to_dict(self) -> dict:
        """A JSON-ready mapping; Job.from_dict reverses it."""
        return {"config": self.config.raw, "out_override": self.config.out_override, "strategy": self.strategy,
                "run_folder": str(self.run_folder), "device": self.device, "model": dataclasses.asdict(self.model),
                "prompts": {str(n): [list(p) for p in ps] for n, ps in self.prompts.items()},
                "unseen_len": self.unseen_len, "unseen_prompt": list(self.unseen_prompt),
                "prompt_source": dataclasses.asdict(self.prompt_source), "scenario": self.scenario,
                "batching": None if self.batching is None else dataclasses.asdict(self.batching)}

    @classmethod
    def from_dict(cls, data: dict) -> "Job":
        config = dataclasses.replace(parse_config(data["config"]), out_override=data["out_override"])
        return cls(config=config, strategy=data["strategy"], run_folder=Path(data["run_folder"]),
                   device=data["device"], model=ModelFacts(**data["model"]),
                   prompts={int(n): tuple(tuple(p) for p in ps) for n, ps in data["prompts"].items()},
                   unseen_len=data["unseen_len"], unseen_prompt=tuple(data["unseen_prompt"]),
                   prompt_source=source_from_dict(data["prompt_source"]), scenario=data["scenario"],
                   batching=None if data["batching"] is None else ServerBatching(**data["batching"]))


def source_from_dict(data: dict) -> PromptSource:
    """PromptSource from its JSON form (lists back to tuples)."""
    text_ids = data["text_ids"]
    return PromptSource(data["seed"], data["vocab_size"], tuple(data["avoid"]),
                        None if text_ids is None else tuple(text_ids))
