"""The Strategy interface and its registry.

A strategy turns a prompt (host-side token ids) into the first token id, and hands over the
logits that very call computed, which the harness judges after the timer stops. It never times
itself: the runner times `compile_for`, `capture_for` and `first_token` from outside.
A new strategy is one file: subclass Strategy, decorate with @register, import it in
strategies/__init__.py.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from strategies.options import NoOptions
from strategies.token_ops import pad_batch, sample_next_token, sample_rows

REGISTRY: dict[str, type["Strategy"]] = {}


def register(cls: type["Strategy"]) -> type["Strategy"]:
    """Class decorator: make a strategy known to the runner under `cls.name`."""
    if cls.name in REGISTRY:
        raise ValueError(f"strategy {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


@dataclass(frozen=True)
class FirstToken:
    """What one call of first_token returns: the token, and the logits that same call computed
    (not a second forward), so what is judged is what was timed."""
    token: int  # a host int: reading it waited for the device
    logits: torch.Tensor  # [V] on the device, no copy made; a graph's static buffer: read it before the next call


def right_padded(batch: list[list[int]], pad_token_id: int, pad=pad_batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The prompts right-padded to the longest, ids [B, S] on the host, and each one's last real position [B].
    pad: pad_batch, or a scripted version of it."""
    rows = [torch.tensor(ids, dtype=torch.long) for ids in batch]
    return pad(rows, max(map(len, batch)), pad_token_id), torch.tensor([len(ids) - 1 for ids in batch])


@dataclass(frozen=True)
class StrategyContext:
    """What a strategy learns about the run at setup."""
    device: torch.device
    dtype: torch.dtype
    lengths: tuple[int, ...]  # the run's prompt lengths
    vocab_size: int
    pad_token_id: int
    sampling_mode: str  # "greedy" or "temperature"
    temperature: float


class Strategy(abc.ABC):
    name: ClassVar[str]
    summary: ClassVar[str]  # one line for `python -m bench strategies`
    options_type: ClassVar[type] = NoOptions

    def __init__(self, options: Any):
        self.options = options
        self.notes: list[str] = []  # facts a reader of the results must see (fallbacks, refusals)

    @classmethod
    def unavailable_reason(cls, device: torch.device) -> str | None:
        """Why this strategy cannot run on `device`, or None if it can."""
        return None

    @classmethod
    def compiles(cls, options: Any) -> bool:
        """Whether setup or preparation with these options JIT-compiles (a restart may then find a cache)."""
        return False

    @classmethod
    def captures(cls, options: Any) -> bool:
        """Whether preparation with these options captures CUDA graphs (capture_for does work)."""
        return False

    @classmethod
    def refusal_reason(cls, model_config: Any) -> str | None:
        """Why this strategy refuses the model its transformers `model_config` describes, or None.
        Asked before the model loads; a refused strategy's points are recorded as skipped with the reason."""
        return None

    @abc.abstractmethod
    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        """Take the model once; cheap preparation that applies to every length."""

    def compile_for(self, prompt_len: int) -> bool:
        """JIT-compile for this length; True if anything was compiled. Timed as JIT compile."""
        return False

    def capture_for(self, prompt_len: int) -> bool:
        """Capture graphs for this length; True if anything was captured. Timed as graph capture."""
        return False

    @abc.abstractmethod
    def logits(self, input_ids: list[int]) -> torch.Tensor:
        """The next-token logits of the prompt, on the strategy's own path: [vocab] on the device."""

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        """Pick the next token from `logits` ([..., vocab]); a 1-element tensor on the device.
        Eager greedy or temperature sampling, as configured (self.ctx is set by setup)."""
        return sample_next_token(logits, self.ctx.temperature, self.ctx.sampling_mode == "temperature")

    def first_token(self, input_ids: list[int]) -> FirstToken:
        """Host token ids -> the first generated token id as a host int (what TTFT measures), with
        the logits this call sampled it from."""
        logits = self.logits(input_ids)
        return FirstToken(int(self.sample(logits).item()), logits.reshape(-1, logits.shape[-1])[-1])

    def sample_rows(self, logits: torch.Tensor) -> torch.Tensor:
        """Pick each row's next token from logits [B, V]; [B] on the device. Eager, as configured."""
        return sample_rows(logits, self.ctx.temperature, self.ctx.sampling_mode == "temperature")

    def first_tokens(self, batch: list[list[int]]) -> list[FirstToken]:
        """Each prompt's first token, with the logits ([V] on the device) its own row of this call computed.
        This default answers the prompts one by one; every answer's logits but the last are copied on the
        device, since a strategy may overwrite its output buffer at its next call (a graph, cudagraph trees)."""
        answers = []
        for row, input_ids in enumerate(batch):
            answer = self.first_token(input_ids)
            last = row == len(batch) - 1
            answers.append(answer if last else FirstToken(answer.token, answer.logits.clone()))
        return answers

    def answers_of_rows(self, logits: torch.Tensor) -> list[FirstToken]:
        """One answer per row of logits [B, V] computed by one forward: the tokens sampled from them, read
        to the host in one wait, each with its row's logits (a view, no copy)."""
        tokens = self.sample_rows(logits).tolist()
        return [FirstToken(token, logits[row]) for row, token in enumerate(tokens)]

    def stats(self) -> dict[str, Any]:
        """Counters worth keeping in run.json (graphs captured, evicted, memory held...)."""
        return {}

    def graph_memory_bytes(self) -> int:
        """Device memory held by captured graphs now (0 for strategies without graphs)."""
        return 0

    def close(self) -> None:
        """Release what setup and preparation took."""
