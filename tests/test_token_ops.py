"""Sampling against its definition (argmax; softmax(logits / T)); TorchScript equals eager."""
from __future__ import annotations

import warnings

import pytest
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
    assert notes == [] or "TorchScript refused" in notes[0] or "TorchScript is deprecated" in notes[0]


DRAWS = 4000  # the frequency of a p=0.5 token then has std 0.008: a 0.03 bound is ~4 std


@pytest.mark.parametrize("scripted_version", [False, True], ids=["eager", "scripted"])
def test_temperature_sampling_follows_softmax_of_logits_over_t(scripted_version):
    fn = scripted(sample_next_token)[0] if scripted_version else sample_next_token
    last = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    logits = torch.stack([last.flip(0), last.flip(0), last]).unsqueeze(0)  # [1, 3, V]: only the last counts
    expected = torch.softmax(last / 0.7, dim=-1)  # p = 0.70, 0.17, 0.08, 0.04, 0.01 (x 0.7 would give 0.45 first)
    torch.manual_seed(1234)
    draws = torch.tensor([fn(logits, 0.7, True).item() for _ in range(DRAWS)])
    frequencies = torch.bincount(draws, minlength=5).float() / DRAWS
    assert (frequencies - expected).abs().max() < 0.03, frequencies


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


def test_scripted_sampling_draws_what_eager_draws_under_the_same_seed():
    """The baseline samples eagerly and the jit strategies scripted: the same seed, the same token."""
    jit, _ = scripted(sample_next_token)
    logits = torch.randn(1, 3, 1000, generator=torch.Generator().manual_seed(0))
    draws = []
    for fn in (sample_next_token, jit):
        torch.manual_seed(1234)
        draws.append([fn(logits, 0.7, True).item() for _ in range(20)])
    assert draws[0] == draws[1]


def warning_script(category: type[Warning], message: str):
    """torch.jit.script as a torch that warns of `category` at every call."""
    real = torch.jit.script

    def script(fn):
        warnings.warn(message, category)
        return real(fn)
    return script


DEPRECATED = "`torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`."  # torch 2.13's


def test_a_deprecation_while_scripting_is_one_note_and_no_warning(monkeypatch):
    monkeypatch.setattr(torch.jit, "script", warning_script(DeprecationWarning, DEPRECATED))
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        scripted = [script_or_eager(fn, notes) for fn in (sample_next_token, pad_or_truncate)]
    assert not escaped
    assert len(notes) == 1 and notes[0].startswith(f"TorchScript is deprecated in torch {torch.__version__}")
    assert all(fn is not original for fn, original in zip(scripted, (sample_next_token, pad_or_truncate)))


def test_the_note_is_made_where_python_hides_the_deprecation(monkeypatch):
    """Outside pytest, Python's default filters ignore a DeprecationWarning raised in a library like torch."""
    monkeypatch.setattr(torch.jit, "script", warning_script(DeprecationWarning, DEPRECATED))
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        script_or_eager(sample_next_token, notes)
    assert len(notes) == 1 and notes[0].startswith("TorchScript is deprecated")


def test_another_warning_while_scripting_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(torch.jit, "script", warning_script(UserWarning, "something else"))
    notes: list[str] = []
    with pytest.warns(UserWarning, match="something else"):
        script_or_eager(sample_next_token, notes)
    assert not any("something else" in note or "refused" in note for note in notes)  # not a note, not a refusal
