"""The baseline's answers that judge every other strategy of a run: reference.pt in the run folder.

Written by the baseline's worker, read by the later workers, deleted when a run starts over: all
here. One entry per prompt ("<length>/<prompt index>", and "unseen-<length>" for the cold-start
probe): the baseline's token and its next-token logits ([V] fp32 on the host; None where the
logits stay in a server). Per length also the tokens of the baseline's timed requests
("<length>/timed", tokens only, so the file stays small), each request having a prompt of its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

REFERENCE_FILE = "reference.pt"
IDENTITY_KEY = "identity"  # what the answers were made for (reference_check.reference_identity): a resume compares it


@dataclass(frozen=True)
class Reference:
    token: int
    logits: torch.Tensor | None


def prompt_key(prompt_len: int, index: int) -> str:
    return f"{prompt_len}/{index}"


def timed_key(prompt_len: int) -> str:
    return f"{prompt_len}/timed"


def unseen_key(prompt_len: int) -> str:
    return f"unseen-{prompt_len}"  # kept apart from the sweep's lengths


class References:
    """The run's references; the baseline writes them (`writing`), every other strategy reads them."""

    def __init__(self, run_folder: Path, writing: bool):
        self.path = Path(run_folder) / REFERENCE_FILE
        self.writing = writing
        self.data: dict = {}
        if not writing and self.path.exists():
            self.data = torch.load(self.path, weights_only=True)  # tensors, ints and dicts only

    def get(self, key: str) -> Reference | None:
        entry = self.data.get(key)
        return None if entry is None else Reference(entry["token"], entry["logits"])

    def put(self, key: str, token: int, logits: torch.Tensor | None) -> None:
        """Keep the baseline's answer (call save() to write the file)."""
        if not self.writing:
            raise RuntimeError("only the baseline writes references")
        self.data[key] = {"token": token, "logits": logits}

    def put_tokens(self, key: str, first_index: int, tokens: list[int]) -> None:
        """Keep the baseline's tokens of a length's timed requests: tokens[j] answered request first_index + j."""
        if not self.writing:
            raise RuntimeError("only the baseline writes references")
        self.data[key] = {"first": first_index, "tokens": list(tokens)}

    def get_tokens(self, key: str) -> dict[int, int] | None:
        """The baseline's timed tokens under `key` by request index, or None (no baseline's)."""
        entry = self.data.get(key)
        return None if entry is None else {entry["first"] + j: t for j, t in enumerate(entry["tokens"])}

    def save(self) -> None:
        if self.writing:
            torch.save(self.data, self.path)

    def stamp(self, identity: dict) -> None:
        """Say what the answers are made for (the model, its seed, the prompts: reference_check.py)."""
        if not self.writing:
            raise RuntimeError("only the baseline writes references")
        self.data[IDENTITY_KEY] = dict(identity)


def has_references(run_folder: Path) -> bool:
    return (Path(run_folder) / REFERENCE_FILE).exists()


def discard_references(run_folder: Path) -> None:
    """A run that starts over: a stale reference must never judge it."""
    (Path(run_folder) / REFERENCE_FILE).unlink(missing_ok=True)
