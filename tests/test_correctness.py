"""The correctness rule: valid reorderings of a forward pass, in every dtype, stay within the
tolerance; realistic bugs (a dropped bias, a wrong position, a skipped norm weight) exceed it;
the returned token must equal the baseline's, a greedy near tie being the one noted exception."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, Qwen2Config

from bench.judging.correctness import DEPTH_CAP_FRACTION, compare, tolerance

DTYPES = [torch.float32, torch.bfloat16, torch.float16]
BIAS_STD = 0.1  # q/k/v outputs of this model have std ~0.16: a bias of the same order, as trained Qwen2s carry
NORM_STD = 0.3  # trained norm weights spread far from 1 (transformers' init leaves them all at exactly 1)


def tiny_qwen2(attn: str = "eager") -> torch.nn.Module:
    """A 2-layer Qwen2 (q/k/v biases) whose biases and norm weights are non-trivial."""
    config = Qwen2Config(hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=256, max_position_embeddings=64,
                         attn_implementation=attn)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(BIAS_STD * torch.randn(p.shape, generator=g))
            elif "norm" in name:
                p.copy_(1 + NORM_STD * torch.randn(p.shape, generator=g))
    return model


def fuse_qkv(model: torch.nn.Module) -> None:
    """One matmul on the concatenated q/k/v weights and biases, split: what a fused forward does."""
    for layer in model.model.layers:
        attn = layer.self_attn
        projs = [attn.q_proj, attn.k_proj, attn.v_proj]
        weight, bias = torch.cat([p.weight for p in projs]), torch.cat([p.bias for p in projs])
        sizes, out = [p.out_features for p in projs], {}

        def q(x, weight=weight, bias=bias, sizes=sizes, out=out):
            out["qkv"] = F.linear(x, weight, bias).split(sizes, dim=-1)  # HF calls q_proj first
            return out["qkv"][0]
        attn.q_proj.forward = q
        attn.k_proj.forward = lambda x, out=out: out["qkv"][1]
        attn.v_proj.forward = lambda x, out=out: out["qkv"][2]


def without_biases(model):
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.data.zero_()


def without_final_norm_weight(model):
    model.model.norm.weight.data.fill_(1.0)


IDS = torch.randint(0, 256, (1, 12), generator=torch.Generator().manual_seed(2))  # input_ids: [1, S]


def forward(dtype, attn="eager", edit=None, **kwargs) -> torch.Tensor:
    """Logits [S, V] in fp32 of the tiny model run in `dtype`, after `edit` (a bug or a reordering)."""
    model = copy.deepcopy(BASE[attn]).to(dtype)
    if edit:
        edit(model)
    with torch.no_grad():
        return model(IDS, **kwargs).logits[0].float()


BASE = {attn: tiny_qwen2(attn) for attn in ("eager", "sdpa")}
VALID = {"sdpa attention": lambda dt: forward(dt, "sdpa"),
         "fused q/k/v projections": lambda dt: forward(dt, edit=fuse_qkv),
         "lm_head on the last position only": lambda dt: forward(dt, logits_to_keep=1),
         "computed in fp32": lambda dt: forward(torch.float32)}
BUGS = {"dropped q/k/v biases": lambda dt: forward(dt, edit=without_biases)[-1],
        "logits of position n-2 of the same forward": lambda dt: forward(dt)[-2],
        "skipped final norm weight": lambda dt: forward(dt, edit=without_final_norm_weight)[-1]}


def verdict(logits: torch.Tensor, dtype: torch.dtype, layers: int = 1):
    reference = forward(dtype)[-1]
    return compare(logits, int(logits.argmax()), reference, int(reference.argmax()), dtype, layers=layers)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reordering", VALID)
def test_valid_reorderings_stay_within_tolerance(reordering, dtype):
    v = verdict(VALID[reordering](dtype)[-1], dtype)
    assert v.matches and not v.near_tie, v.note


@pytest.mark.parametrize("layers", [1, 80, 10_000])  # the limit grows with depth, never enough to let a bug by
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("bug", BUGS)
def test_realistic_bugs_exceed_the_tolerance(bug, dtype, layers):
    v = verdict(BUGS[bug](dtype), dtype, layers)
    assert not v.matches and "logit diff" in v.note


def test_a_skipped_norm_weight_in_bfloat16_is_small_but_caught():
    """26.8 eps x max on this model (20-26 on a 7B shape): a tolerance raised 2x or more lets it by."""
    v = verdict(BUGS["skipped final norm weight"](torch.bfloat16), torch.bfloat16)
    reference = forward(torch.bfloat16)[-1]
    assert not v.matches
    assert v.max_abs_logit_diff < 10 * tolerance(torch.bfloat16, reference, 1)  # small: not O(max logit)


def logits_with_top_two(gap: float, seed: int = 0) -> torch.Tensor:
    """[32000] logits with the spread of a random Llama's, whose best two differ by `gap`."""
    g = torch.Generator().manual_seed(seed)
    ref = torch.randn(32000, generator=g) * 1.3
    top, runner_up = ref.topk(2).indices.tolist()
    ref[runner_up] = ref[top] - gap
    return ref


def swapped(ref: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The same logits with the top two exchanged, and the new argmax."""
    top, runner_up = ref.topk(2).indices.tolist()
    out = ref.clone()
    out[top], out[runner_up] = ref[runner_up], ref[top]
    return out, runner_up


def test_identical_logits_and_token_match_silently():
    ref = logits_with_top_two(1.0)
    v = compare(ref.clone(), int(ref.argmax()), ref, int(ref.argmax()), torch.float16, layers=1)
    assert v.matches and not v.near_tie and v.max_abs_logit_diff == 0 and v.note == ""


def near_tie() -> torch.Tensor:
    """fp16 logits whose best two are a quarter of the tolerance apart."""
    return logits_with_top_two(tolerance(torch.float16, logits_with_top_two(0.0), 1) / 4)


def test_greedy_near_tie_is_accepted_and_noted():
    ref = near_tie()
    logits, token = swapped(ref)
    v = compare(logits, token, ref, int(ref.argmax()), torch.float16, layers=1)
    assert v.matches and v.near_tie and v.note.startswith("near tie:")


def test_another_token_without_a_tie_is_rejected_even_with_identical_logits():
    ref = logits_with_top_two(1.0)  # a gap of 1.0 is ~150 fp16 eps x max: no tie
    runner_up = ref.topk(2).indices[1].item()
    v = compare(ref.clone(), runner_up, ref, int(ref.argmax()), torch.float16, layers=1)
    assert not v.matches and not v.near_tie and "returned token" in v.note


def test_a_third_token_ties_only_within_tolerance_of_the_top():
    ref = near_tie()
    third = ref.topk(3).indices[2].item()
    tol = tolerance(torch.float16, ref, 1)
    ref[third] = ref.max() - tol / 2  # within tolerance of the best, though third: three tied at the top
    logits = ref.clone()
    logits[third] = ref.max() + tol / 4  # the strategy ranks it first
    v = compare(logits, third, ref, int(ref.argmax()), torch.float16, layers=1)
    assert v.matches and v.near_tie, v.note
    ref[third] = ref.max() - 1.5 * tol  # outside it: another token, not a tie
    v = compare(logits, third, ref, int(ref.argmax()), torch.float16, layers=1)
    assert not v.matches and "returned token" in v.note


def test_a_token_the_strategy_itself_does_not_rank_first_is_no_tie():
    ref = near_tie()  # the best two a quarter of the tolerance apart
    runner_up = ref.topk(2).indices[1].item()
    # its own logits rank it second
    v = compare(ref.clone(), runner_up, ref, int(ref.argmax()), torch.float16, layers=1)
    assert not v.matches and not v.near_tie and "returned token" in v.note


def test_the_baselines_token_fails_where_the_calls_own_logits_rank_another_first():
    # a token computed one way and logits another: the call's logits must give its token, even the right one
    ref = logits_with_top_two(1.0)
    logits, _ = swapped(ref)
    v = compare(logits, int(ref.argmax()), ref, int(ref.argmax()), torch.float16, layers=1)
    assert not v.matches and "is not the argmax of the logits its call computed" in v.note


def test_a_token_id_outside_the_vocabulary_is_no_tie():
    ref = near_tie()
    logits = ref.clone()
    logits[-1] = ref.max() + 0.001  # the last id ranks first: -1 would index it from the end
    assert not compare(logits, -1, ref, int(ref.argmax()), torch.float16, layers=1).matches
    assert not compare(ref.clone(), ref.numel(), ref, int(ref.argmax()), torch.float16, layers=1).matches


def test_sampling_accepts_no_near_tie():
    ref = near_tie()
    logits, token = swapped(ref)
    v = compare(logits, token, ref, int(ref.argmax()), torch.float16, sampled=True, layers=1)
    assert not v.matches and not v.near_tie and "returned token" in v.note
    same = compare(logits, int(ref.argmax()), ref, int(ref.argmax()), torch.float16, sampled=True, layers=1)
    assert same.matches and not same.near_tie


def test_nan_never_matches():
    ref = logits_with_top_two(1.0)
    bad = ref.clone()
    bad[5] = float("nan")
    assert not compare(bad, int(ref.argmax()), ref, int(ref.argmax()), torch.float16, layers=1).matches


def test_the_tolerance_grows_in_proportion_to_depth_beyond_the_calibrated_layers_up_to_a_cap():
    ref = torch.linspace(-3, 6, 100)
    base = tolerance(torch.float16, ref, 1)
    assert tolerance(torch.float16, ref, 2) == base == tolerance(torch.float16, ref, 32)  # never tighter nor looser
    assert tolerance(torch.float16, ref, 48) == pytest.approx(1.5 * base)
    assert tolerance(torch.float16, ref, 80) == pytest.approx(DEPTH_CAP_FRACTION * 6)  # capped: 6.25% of the top
    assert tolerance(torch.float16, ref, 10_000) == pytest.approx(DEPTH_CAP_FRACTION * 6)
    assert tolerance(torch.bfloat16, ref, 80) == tolerance(torch.bfloat16, ref, 1)  # already above the cap
    shifted = ref.clone()
    shifted[0] -= 1.5 * base  # 1.5 times the 32-layer limit, on a token far from the top
    assert not compare(shifted, int(ref.argmax()), ref, int(ref.argmax()), torch.float16, layers=32).matches
    assert compare(shifted, int(ref.argmax()), ref, int(ref.argmax()), torch.float16, layers=64).matches
