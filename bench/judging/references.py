"""The baseline's answers that judge every other strategy of a run: reference.pt in the run folder.

Written by the baseline's worker, read by the later workers, deleted when a run starts over: all
here. One entry per prompt ("<length>/<prompt index>", and "unseen-<length>" for the cold-start
probe): the baseline's token and its next-token logits ([V] fp32 on the host; None where the
logits stay in a server). Per length also the answers of the baseline's timed requests
("<length>/timed"), each request having a prompt of its own: its token and, where its logits came
back, their TOP_K best values and ids and its largest |logit| (bench.judging.top_answer), so the
file stays small: 9 lengths x 110 requests add 0.27 MB (0.72 MB at 300), while the judged prompts'
full logits take 9.6 MB at a 32000 vocabulary, 44.7 MB at 152064 (torch.save, measured). Files
written before the values were kept hold tokens alone: those are judged by equal tokens.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from bench.judging.top_answer import TopAnswer

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
        self.decoded: dict[int, dict[int, TopAnswer] | None] = {}  # timed_answers, decoded once per length
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

    def put_timed(self, prompt_len: int, first_index: int, answers: list[TopAnswer]) -> None:
        """Keep the baseline's answers to a length's timed requests: answers[j] answered request first_index + j."""
        if not self.writing:
            raise RuntimeError("only the baseline writes references")
        entry = {"first": first_index, "tokens": [a.token for a in answers]}
        if answers and all(a.has_values for a in answers):
            entry.update(top_ids=torch.stack([a.top_ids for a in answers]),  # [R, k] int32
                         top_values=torch.stack([a.top_values for a in answers]),  # [R, k] fp32
                         max_abs=torch.tensor([a.max_abs for a in answers], dtype=torch.float32))  # [R]
        self.data[timed_key(prompt_len)] = entry

    def timed_answers(self, prompt_len: int) -> dict[int, TopAnswer] | None:
        """The baseline's answers to the timed requests at `prompt_len` by request index, or None (no baseline's)."""
        if prompt_len not in self.decoded:
            entry = self.data.get(timed_key(prompt_len))
            self.decoded[prompt_len] = None if entry is None else {
                entry["first"] + j: (TopAnswer(t) if "top_ids" not in entry else TopAnswer(
                    t, entry["top_ids"][j], entry["top_values"][j], float(entry["max_abs"][j])))
                for j, t in enumerate(entry["tokens"])}
        return self.decoded[prompt_len]

    def timed_answer(self, prompt_len: int, index: int) -> TopAnswer | None:
        """The baseline's answer to timed request `index` (counting the warm-up) at `prompt_len`, or None."""
        return (self.timed_answers(prompt_len) or {}).get(index)

    def save(self) -> None:
        if self.writing:
            torch.save(self.data, self.path)

    def stamp(self, identity: dict) -> None:
        """Say what the answers are made for (the model, its seed, the prompts: reference_check.py)."""
        if not self.writing:
            raise RuntimeError("only the baseline writes references")
        self.data[IDENTITY_KEY] = dict(identity)


def discard_references(run_folder: Path) -> None:
    """A run that starts over: a stale reference must never judge it."""
    (Path(run_folder) / REFERENCE_FILE).unlink(missing_ok=True)
