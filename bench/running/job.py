"""The job record: what a worker or a generator server is asked to run, validated once by the parent.

    job = build_job(cfg)                      # config checks, device, model facts, prompts: once
    worker_job = job.for_strategy("jit-only")
    Job.from_dict(json.loads(json.dumps(worker_job.to_dict())))  # across a process boundary

The receiving process trusts the record: it resolves no device, reads no tokenizer and checks
no lengths. Only the config's typed form is rebuilt from its raw mapping by parse_config (a pure
function: no file, no model), because the strategies' option dataclasses do not travel as JSON.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from bench.config.errors import ConfigError
from bench.config.names import BASELINE
from bench.config.schema import BenchConfig, parse_config


@dataclass(frozen=True)
class ModelFacts:
    """What the harness needs to know of the model without building it."""
    vocab_size: int
    max_positions: int | None
    pad_token_id: int
    layers: int  # decoder layers: the correctness tolerance grows with depth (bench.measuring.correctness)


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
    restart: bool = False  # a second start of a strategy that compiled, finding its compile cache (sweep.run_restart)

    @property
    def is_baseline(self) -> bool:
        return self.strategy == BASELINE

    @property
    def writes_references(self) -> bool:
        """The baseline writes the references, except in a tensor-parallel run judged by the one-device
        baseline: there a one-device pass wrote them first (bench.running.one_gpu_references)."""
        model = self.config.model
        return self.is_baseline and not (model.tensor_parallel > 1 and model.tp_reference == "one-gpu")

    def for_strategy(self, name: str) -> "Job":
        """The same job for another strategy of the config."""
        return dataclasses.replace(self, strategy=name)

    def as_restart(self) -> "Job":
        """This strategy's job started again: ready time and correctness only, no sweep."""
        return dataclasses.replace(self, restart=True)

    def to_dict(self) -> dict:
        """A JSON-ready mapping; Job.from_dict reverses it."""
        return {"config": self.config.raw, "out_override": self.config.out_override, "strategy": self.strategy,
                "run_folder": str(self.run_folder), "device": self.device, "model": dataclasses.asdict(self.model),
                "prompts": {str(n): [list(p) for p in ps] for n, ps in self.prompts.items()},
                "unseen_len": self.unseen_len, "unseen_prompt": list(self.unseen_prompt),
                "prompt_source": dataclasses.asdict(self.prompt_source), "restart": self.restart}

    @classmethod
    def from_dict(cls, data: dict) -> "Job":
        config = dataclasses.replace(parse_config(data["config"]), out_override=data["out_override"])
        return cls(config=config, strategy=data["strategy"], run_folder=Path(data["run_folder"]),
                   device=data["device"], model=ModelFacts(**data["model"]),
                   prompts={int(n): tuple(tuple(p) for p in ps) for n, ps in data["prompts"].items()},
                   unseen_len=data["unseen_len"], unseen_prompt=tuple(data["unseen_prompt"]),
                   prompt_source=source_from_dict(data["prompt_source"]), restart=data["restart"])


def source_from_dict(data: dict) -> PromptSource:
    """PromptSource from its JSON form (lists back to tuples)."""
    text_ids = data["text_ids"]
    return PromptSource(data["seed"], data["vocab_size"], tuple(data["avoid"]),
                        None if text_ids is None else tuple(text_ids))


def unseen_length(cfg: BenchConfig) -> int:
    """The configured probe length, or one between the two shortest that no sweep length takes."""
    n = cfg.measure.unseen_length
    if n is not None:
        return n
    lengths = sorted(cfg.prompts.lengths)
    n = (lengths[0] + lengths[1]) // 2 if len(lengths) > 1 else lengths[0] + 1
    while n in lengths:
        n += 1
    return n


def check_ranks(model, config, device) -> None:
    """A tensor_parallel the model splits into (a hub config is read only here) and a GPU per rank."""
    if model.tensor_parallel == 1:
        return
    from bench.parallel.shardable import unshardable_reason
    from bench.models.build import text_config
    import torch

    text = text_config(config)
    reason = unshardable_reason({key: getattr(text, key, None) for key in
                                 ("model_type", "num_attention_heads", "num_key_value_heads", "intermediate_size")},
                                model.tensor_parallel)
    if reason:
        raise ConfigError(f"model.tensor_parallel: {model.tensor_parallel} refused: {reason}")
    if device.type == "cuda" and torch.cuda.device_count() < model.tensor_parallel:
        raise ConfigError(f"model.tensor_parallel: {model.tensor_parallel} ranks need as many GPUs, "
                          f"{torch.cuda.device_count()} visible")


def build_job(cfg: BenchConfig, strategy: str = BASELINE) -> Job:
    """Validate what the config alone cannot (lengths against the model, the device) and fix the
    prompts, once for the whole run. Raises ConfigError with a one-line message."""
    from bench.models.build import check_lengths, decoder_layers, hf_config, max_positions, resolve_device, text_config
    from bench.models.prompts import pad_token_id, prompt_set, special_token_ids, tokenize_text

    config = hf_config(cfg.model)
    check_lengths(cfg, config)
    device = resolve_device(cfg.model.device)
    check_ranks(cfg.model, config, device)
    tokenizer = None
    if cfg.prompts.text is not None:
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(cfg.model.name_or_path)
    p = cfg.prompts
    vocab = text_config(config).vocab_size
    text_ids = None if p.text is None else tokenize_text(p.text, tokenizer)
    source = PromptSource(p.seed, vocab, tuple(sorted(special_token_ids(config, tokenizer))), text_ids)
    prompts = {n: prompt_set(n, p.per_length, **dataclasses.asdict(source)) for n in p.lengths}
    n = unseen_length(cfg)
    unseen = prompt_set(n, 1, **dataclasses.asdict(source))[0]
    facts = ModelFacts(vocab, max_positions(config), pad_token_id(config), decoder_layers(config))
    return Job(config=cfg, strategy=strategy, run_folder=cfg.out_dir(), device=str(device), model=facts,
               prompts={k: tuple(tuple(x) for x in v) for k, v in prompts.items()}, unseen_len=n,
               unseen_prompt=tuple(unseen), prompt_source=source)
