"""A first-token forward for Llama-family HF models with fused projections.

The HF forward's computation, in fewer and larger matmuls: q/k/v become one matmul
and gate/up another (7 weight matmuls per layer -> 4). At batch 1 these matmuls read their
weights once and are memory bound, and a larger matmul wastes less of its time in ramp-up
and tail. The fused weights are built once; the HF projections then become views into them,
so the model keeps working and no weight is held twice.

Only the last real position is normalised and projected to the vocabulary: RMSNorm works per
position, so normalising one row gives that row's numbers exactly.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb, repeat_kv

LAYER_PARTS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm")


def has_submodule(module: torch.nn.Module, path: str) -> bool:
    try:
        module.get_submodule(path)
        return True
    except AttributeError:
        return False


def unfusable_reason(model: torch.nn.Module) -> str | None:
    """Why `model` has no Llama-family layout this forward can fuse, or None if it has one."""
    config = getattr(model, "config", None)
    body = getattr(model, "model", None)
    if config is None or body is None or not all(hasattr(body, x) for x in ("embed_tokens", "layers", "norm", "rotary_emb")):
        return f"fuse_projections: {type(model).__name__} has no Llama-family layout (model.layers, norm, rotary_emb)"
    layer = body.layers[0]
    missing = [part for part in LAYER_PARTS if not has_submodule(layer, part)]
    if missing:
        return f"fuse_projections: layer has no {', '.join(missing)}"
    if getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False):
        return "fuse_projections: projections with biases are not supported"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"fuse_projections: activation {config.hidden_act!r} is not supported (silu only)"
    return None


def fuse_rows(linears: list[torch.nn.Linear]) -> torch.Tensor:
    """One weight holding the linears' weights stacked by output rows; each linear's weight
    becomes a view of its slice, so the old and the fused path share memory."""
    fused = torch.cat([linear.weight.detach() for linear in linears], dim=0)
    start = 0
    for linear in linears:
        rows = linear.weight.shape[0]
        linear.weight = torch.nn.Parameter(fused[start:start + rows], requires_grad=False)
        start += rows
    return fused


class FusedLayer(torch.nn.Module):
    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        attn, mlp = layer.self_attn, layer.mlp
        self.input_norm, self.post_attention_norm = layer.input_layernorm, layer.post_attention_layernorm
        self.head_dim = attn.head_dim
        self.kv_groups = attn.num_key_value_groups
        self.scaling = attn.scaling
        self.split = [attn.q_proj.weight.shape[0], attn.k_proj.weight.shape[0], attn.v_proj.weight.shape[0]]
        self.intermediate = mlp.gate_proj.weight.shape[0]
        self.register_buffer("qkv_weight", fuse_rows([attn.q_proj, attn.k_proj, attn.v_proj]), persistent=False)
        self.register_buffer("gate_up_weight", fuse_rows([mlp.gate_proj, mlp.up_proj]), persistent=False)
        self.o_proj, self.down_proj = attn.o_proj, mlp.down_proj

    def forward(self, hidden: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = hidden.shape
        q, k, v = F.linear(self.input_norm(hidden), self.qkv_weight).split(self.split, dim=-1)
        q, k, v = (x.view(batch, seq, -1, self.head_dim).transpose(1, 2) for x in (q, k, v))
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        k, v = repeat_kv(k, self.kv_groups), repeat_kv(v, self.kv_groups)
        # right padding keeps this exact: real positions never attend to later (pad) ones
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.scaling)
        hidden = hidden + self.o_proj(attn.transpose(1, 2).reshape(batch, seq, -1))
        gate, up = F.linear(self.post_attention_norm(hidden), self.gate_up_weight).split(self.intermediate, dim=-1)
        return hidden + self.down_proj(F.silu(gate) * up)


class FusedLlama(torch.nn.Module):
    """forward(input_ids [1, S], last_index [1]) -> logits [1, 1, V] of position last_index."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        reason = unfusable_reason(model)
        if reason:
            raise ValueError(reason)
        body = model.model
        self.embed, self.norm, self.rotary = body.embed_tokens, body.norm, body.rotary_emb
        self.layers = torch.nn.ModuleList(FusedLayer(layer) for layer in body.layers)
        self.lm_head = model.lm_head

    def forward(self, input_ids: torch.Tensor, last_index: torch.Tensor) -> torch.Tensor:
        hidden = self.embed(input_ids)
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        cos, sin = self.rotary(hidden, positions)
        for layer in self.layers:
            hidden = layer(hidden, cos, sin)
        return self.lm_head(self.norm(hidden.index_select(1, last_index)))
