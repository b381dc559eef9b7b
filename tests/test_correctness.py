"""The correctness check accepts valid reorderings and rejects wrong computations."""
from __future__ import annotations

import torch

from bench.measuring.correctness import compare, tolerance


def logits_pair(seed=0):
    g = torch.Generator().manual_seed(seed)
    ref = torch.randn(32000, generator=g) * 1.3  # the spread of a random Llama's logits
    return ref, int(ref.argmax())


def test_same_logits_match():
    ref, tok = logits_pair()
    v = compare(ref.clone(), tok, ref, tok, torch.float16)
    assert v.matches and v.max_abs_logit_diff == 0 and v.note == ""


def test_fp16_rounding_noise_is_accepted():
    ref, tok = logits_pair()
    noisy = ref + (torch.rand(ref.shape) - 0.5) * 2 * 10 * torch.finfo(torch.float16).eps * ref.abs().max()
    v = compare(noisy, int(noisy.argmax()), ref, tok, torch.float16)
    assert v.matches, v.note


def test_logits_of_another_position_are_rejected():
    ref, tok = logits_pair(0)
    other, other_tok = logits_pair(1)  # what a graph reading the wrong position would return
    v = compare(other, other_tok, ref, tok, torch.float16)
    assert not v.matches and "logit diff" in v.note


def test_wrong_returned_token_is_rejected_even_with_right_logits():
    ref, tok = logits_pair()
    wrong = int(ref.argmin())
    v = compare(ref.clone(), wrong, ref, tok, torch.float16)
    assert not v.matches and "returned token" in v.note


def test_near_tie_within_tolerance_is_accepted_with_a_note():
    ref, tok = logits_pair()
    runner_up = int(ref.topk(2).indices[1])
    ref[runner_up] = ref[tok] - tolerance(torch.float16, ref) / 4
    swapped = ref.clone()
    swapped[runner_up], swapped[tok] = ref[tok], ref[runner_up]
    v = compare(swapped, runner_up, ref, tok, torch.float16)
    assert v.matches and "near-tie" in v.note


def test_nan_never_matches():
    ref, tok = logits_pair()
    bad = ref.clone()
    bad[5] = float("nan")
    assert not compare(bad, tok, ref, tok, torch.float16).matches

