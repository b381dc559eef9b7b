"""The design document's dynamic operations: sampling and pad/truncate preprocessing.

Written in the TorchScript subset so the same source runs eagerly (baseline, cuda-graph)
and scripted (jit-only, jit+cuda); `script_or_eager` gives the scripted version when the
installed torch still supports TorchScript, and says in the strategy's notes when torch
deprecates it (torch 2.13 warns at every torch.jit.script).
"""
from __future__ import annotations

import warnings
from typing import Callable, List

import torch


def sample_next_token(logits: torch.Tensor, temperature: float, do_sample: bool) -> torch.Tensor:
    """Greedy or temperature sampling of the last position's logits; returns [1] token ids."""
    # logits: [B, S, V], [S, V] or [V]; the design document's shape handling
    if logits.dim() == 3:
        next_token_logits = logits[0, -1, :]
    elif logits.dim() == 2:
        next_token_logits = logits[-1, :]
    else:
        vocab_size = logits.size(-1)
        next_token_logits = logits.view(-1)[-vocab_size:]
    if do_sample:
        probs = torch.softmax(next_token_logits.float() / temperature, dim=-1)
        return torch.multinomial(probs, 1)
    return torch.argmax(next_token_logits).unsqueeze(0)


def pad_or_truncate(input_ids: torch.Tensor, target_len: int, pad_token_id: int) -> torch.Tensor:
    """Right-pad with pad_token_id or truncate input_ids [B, S] to [B, target_len]."""
    current_len = input_ids.size(1)
    if current_len > target_len:
        return input_ids[:, :target_len]
    if current_len < target_len:
        padding = torch.full((input_ids.size(0), target_len - current_len), pad_token_id,
                             device=input_ids.device, dtype=input_ids.dtype)
        return torch.cat([input_ids, padding], dim=1)
    return input_ids


def sample_rows(logits: torch.Tensor, temperature: float, do_sample: bool) -> torch.Tensor:
    """Greedy or temperature sampling of each row of logits [B, V], one prompt a row; returns [B] token ids."""
    if do_sample:
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        return torch.multinomial(probs, 1).view(-1)
    return torch.argmax(logits, dim=-1)


def pad_batch(rows: List[torch.Tensor], target_len: int, pad_token_id: int) -> torch.Tensor:
    """Right-pad (or truncate) each prompt's ids ([S_i]) to target_len and stack them: [B, target_len].
    Right padding keeps each row's causal logits exact: its real positions never attend to later ones."""
    return torch.cat([pad_or_truncate(row.unsqueeze(0), target_len, pad_token_id) for row in rows], dim=0)


def script_or_eager(fn: Callable, notes: list[str]) -> Callable:
    """torch.jit.script(fn), or fn itself with a note saying why TorchScript was not used. A deprecation
    torch warns of while scripting becomes one note (however many functions a strategy scripts), not a warning."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # the default filters hide a DeprecationWarning raised inside torch
            scripted = torch.jit.script(fn)
        for warning in caught:
            if issubclass(warning.category, DeprecationWarning) and "torch.jit" in str(warning.message):
                note = (f"TorchScript is deprecated in torch {torch.__version__} (torch.jit.script warns); the "
                        "design document's pre/post-processing still runs scripted")
                if note not in notes:
                    notes.append(note)
            else:  # someone else's warning: as if not caught
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return scripted
    except Exception as exc:  # TorchScript is deprecated; a torch that refuses it must not end the run
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        notes.append(f"TorchScript refused {fn.__name__} ({first_line}); it runs eagerly")
        return fn
