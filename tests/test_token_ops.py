"""TorchScript sampling and preprocessing equal their eager versions."""
from __future__ import annotations

import torch

from strategies.token_ops import pad_or_truncate, sample_next_token, script_or_eager


def scripted(fn):
    notes: list[str] = []
    out = script_or_eager(fn, notes)
    return out, notes


def test_greedy_sampling_scripted_equals_eager_for_every_shape():
    jit, notes = scripted(sample_next_token)
    torch.manual_seed(0)
    for shape in [(1, 5, 50), (5, 50), (50,)]:
        logits = torch.randn(shape)
        eager = sample_next_token(logits, 0.7, False)
        assert torch.equal(jit(logits, 0.7, False), eager)
        assert eager.item() == int(logits.reshape(-1, 50)[-1].argmax())
    assert notes == [] or "TorchScript refused" in notes[0]


def test_temperature_sampling_with_a_fixed_seed():
    jit, _ = scripted(sample_next_token)
    logits = torch.randn(1, 3, 1000)
    draws = []
    for fn in (sample_next_token, jit):
        torch.manual_seed(1234)
        draws.append([fn(logits, 0.7, True).item() for _ in range(20)])
    assert draws[0] == draws[1]
    assert len(set(draws[0])) > 1  # really sampling, not argmax


def test_pad_and_truncate():
    jit, _ = scripted(pad_or_truncate)
    ids = torch.tensor([[5, 6, 7]])
    for fn in (pad_or_truncate, jit):
        assert fn(ids, 5, 0).tolist() == [[5, 6, 7, 0, 0]]
        assert fn(ids, 2, 0).tolist() == [[5, 6]]
        assert fn(ids, 3, 0) is ids or fn(ids, 3, 0).tolist() == [[5, 6, 7]]


def test_refused_script_falls_back_with_a_note():
    notes: list[str] = []
    fn = script_or_eager(lambda x: x, notes)  # a lambda has no source TorchScript can read
    assert fn(3) == 3 and "TorchScript refused" in notes[0]
