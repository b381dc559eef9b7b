"""The sharded forward on 2 gloo ranks equals the one-process forward with the same random weights."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch.distributed.device_mesh import init_device_mesh
from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

from bench.models.random_weights import materialize
from bench.parallel.launch import launch
from bench.parallel.sharded_build import build_sharded_model, load_sharded_model

pytestmark = pytest.mark.slow  # each test launches 2 gloo ranks that build the model

SEED = 5
TILE = (16, 8)  # smaller than the tensors: shards cross tile edges, as 70B-shape shards do with the default tile
SHAPE = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2)
CONFIGS = {
    # biases on every projection, row-wise ones included (a rank must not add o/down's bias twice)
    "llama": LlamaConfig(**SHAPE, attention_bias=True, mlp_bias=True),
    # q/k/v biases, embeddings tied to lm_head
    "qwen2": Qwen2Config(**SHAPE, tie_word_embeddings=True),
}


@dataclass(frozen=True)
class Compared:
    max_difference: dict[str, float]
    reference_scale: dict[str, float]
    local_shapes: dict[str, tuple[tuple[int, ...], ...]]


def whole_model(config, seed: int = SEED):
    """The unsharded model with the same random weights."""
    model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
    return materialize(model, seed, torch.device("cpu"), tile=TILE).eval()


def sharded_versus_whole(rank: int, world_size: int, checkpoint: str) -> Compared:
    """Each model's last-position logits, sharded over the ranks and whole in this process."""
    mesh = init_device_mesh("cpu", (world_size,))
    ids = torch.randint(0, SHAPE["vocab_size"], (1, 12), generator=torch.Generator().manual_seed(0))
    difference, scale, shapes = {}, {}, {}
    cases = {name: (build_sharded_model(config, mesh, SEED, torch.float32, tile=TILE), whole_model(config))
             for name, config in CONFIGS.items()}
    cases["qwen2 checkpoint"] = (load_sharded_model(CONFIGS["qwen2"], checkpoint, mesh, torch.float32),
                                 AutoModelForCausalLM.from_pretrained(checkpoint, attn_implementation="sdpa").eval())
    for name, (sharded, whole) in cases.items():
        with torch.no_grad():
            got = sharded(ids, use_cache=False, logits_to_keep=1).logits
            want = whole(ids, use_cache=False, logits_to_keep=1).logits
        difference[name] = (got - want).abs().max().item()
        scale[name] = want.abs().max().item()
        layer = sharded.model.layers[0]
        shapes[name] = tuple(tuple(m.weight.to_local().shape) for m in (layer.self_attn.q_proj, layer.self_attn.k_proj,
                                                                         layer.self_attn.o_proj, layer.mlp.down_proj))
    return Compared(difference, scale, shapes)


def test_sharded_forward_equals_the_whole_forward(tmp_path):
    whole_model(CONFIGS["qwen2"], seed=SEED + 1).save_pretrained(tmp_path)  # other weights than the random ones
    compared = launch(sharded_versus_whole, 2, args=(str(tmp_path),), timeout_s=180)
    assert set(compared.max_difference) == {*CONFIGS, "qwen2 checkpoint"}
    for name in compared.max_difference:
        assert compared.reference_scale[name] > 0.1  # logits that carry signal, not all zeros
        assert compared.max_difference[name] < 1e-5, name
        # each rank holds half the heads (q: 4 -> 2 heads of 16, k: 2 -> 1) and half the MLP inputs of down
        assert compared.local_shapes[name] == ((32, 64), (16, 64), (64, 32), (64, 64)), name


@dataclass(frozen=True)
class FusedCompared:
    fused_difference: dict[str, float]  # fused forward over the shards vs the whole HF forward
    hf_after_fusing_difference: dict[str, float]  # the sharded HF forward, its weights now views of the fused ones
    regional_difference: dict[str, float]  # the fused forward with each layer compiled (inductor, gloo collectives)
    replicated_refused: str  # a row-split Linear whose weight is whole on every rank: the refusal's message


def fused_versus_whole(rank: int, world_size: int) -> FusedCompared:
    """Per config: each rank fuses its own q/k/v and gate/up shards, o/down all-reduce their partial sums."""
    from strategies.fused_forward import FusedForward

    mesh = init_device_mesh("cpu", (world_size,))
    ids = torch.randint(0, SHAPE["vocab_size"], (1, 12), generator=torch.Generator().manual_seed(0))
    last = torch.tensor([ids.shape[1] - 1])
    fused_diff, hf_diff, regional_diff = {}, {}, {}
    for name, config in CONFIGS.items():
        whole = whole_model(config)
        with torch.inference_mode():
            want = whole(ids, use_cache=False, logits_to_keep=1).logits
            sharded = build_sharded_model(config, mesh, SEED, torch.float32, tile=TILE)
            fused = FusedForward(sharded)
            fused_diff[name] = (fused(ids, last) - want).abs().max().item()
            hf_diff[name] = (sharded(ids, use_cache=False, logits_to_keep=1).logits - want).abs().max().item()
            for layer in fused.layers:
                layer.compile(backend="inductor", dynamic=True)
            regional_diff[name] = (fused(ids, last) - want).abs().max().item()
    torch._dynamo.reset()
    return FusedCompared(fused_diff, hf_diff, regional_diff, replicated_refusal(mesh))


def replicated_refusal(mesh) -> str:
    """Summing a replicated weight's products over the ranks would count them world_size times: refused."""
    from torch.distributed.tensor import Replicate, distribute_tensor

    from strategies.fused_forward import RowSplitLinear

    linear = torch.nn.Linear(4, 4)
    linear.weight = torch.nn.Parameter(distribute_tensor(linear.weight.detach(), mesh, [Replicate()]))
    try:
        RowSplitLinear(linear)
    except ValueError as exc:
        return str(exc)
    return ""


def test_the_fused_forward_over_shards_equals_the_whole_forward_eager_and_compiled_per_layer():
    # llama's o_proj and down_proj carry biases here: a rank adding its bias before the all-reduce adds it twice
    compared = launch(fused_versus_whole, 2, timeout_s=300)
    for differences in (compared.fused_difference, compared.hf_after_fusing_difference, compared.regional_difference):
        assert set(differences) == set(CONFIGS)
        assert all(difference < 1e-5 for difference in differences.values()), differences
    assert "expected (Shard(dim=1),)" in compared.replicated_refused
