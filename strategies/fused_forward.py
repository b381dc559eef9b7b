"""A first-token forward with fused projections for the families in fused_support.PROVEN.

The HF forward's computation, in fewer and larger matmuls: q/k/v become one matmul and
gate/up another (7 weight matmuls per layer -> 4), biases fused with them. At batch 1 these
matmuls read their weights once and are memory bound, and a larger matmul wastes less of its
time in ramp-up and tail. The fused weights are built once; the HF projections then become
views into them, so the model keeps working and no weight is held twice.

Only the last real position is normalised and projected to the vocabulary: RMSNorm works per
position, so normalising one row gives that row's numbers exactly.

Tensor parallel (a model split by bench.parallel.plan, its split Linears holding DTensors): each
rank fuses its own shards, so its q/k/v matmul yields its own heads and its gate/up matmul its
slice of the MLP; o and down (split by input) give partial sums that one all-reduce each
completes, a functional collective that inductor compiles and a CUDA graph captures. The layer
computes on plain local tensors: no DTensor dispatch on the host per op.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from strategies.fused_support import layer_windows, unfusable_reason


def is_split(tensor: torch.Tensor | None) -> bool:
    """A DTensor: a parameter split over ranks (imported only here: a torch built without distributed
    support has none, and this module must still load there)."""
    if tensor is None or not torch.distributed.is_available():
        return False
    from torch.distributed.tensor import DTensor
    return isinstance(tensor, DTensor)


def local(tensor: torch.Tensor | None, shard_dim: int | None = None) -> torch.Tensor | None:
    """This rank's block of a split parameter (the tensor itself when it is not split). shard_dim: the
    dimension the fused forward needs it split along (None: whole on every rank); any other placement
    would make the local block something else, so it is refused."""
    if not is_split(tensor):
        return tensor
    from torch.distributed.tensor import Replicate, Shard
    expected = (Replicate(),) if shard_dim is None else (Shard(shard_dim),)
    if tuple(tensor.placements) != expected:
        raise ValueError(f"fused forward: a parameter placed {tuple(tensor.placements)}, expected {expected}")
    return tensor.to_local()


def rewrap(view: torch.Tensor, like: torch.Tensor) -> torch.nn.Parameter:
    """A parameter over `view` placed as `like` was (a DTensor shard stays one), sharing view's memory."""
    if is_split(like):
        from torch.distributed.tensor import DTensor
        view = DTensor.from_local(view, like.device_mesh, like.placements, run_check=False,
                                  shape=like.shape, stride=like.stride())
    return torch.nn.Parameter(view, requires_grad=False)


def fuse_linears(linears: list[torch.nn.Linear]) -> tuple[torch.Tensor, torch.Tensor | None, list[int]]:
    """One weight (and bias, if any linear has one) holding the linears' (local) rows stacked, and each
    linear's row count (this rank's, when split); each linear's weight and bias become views of their
    slice, so both paths share memory."""
    weights = [local(linear.weight, shard_dim=0).detach() for linear in linears]  # split by output rows
    weight = torch.cat(weights, dim=0)
    has_bias = any(linear.bias is not None for linear in linears)
    bias = torch.cat([local(linear.bias, shard_dim=0).detach() if linear.bias is not None
                      else weight.new_zeros(rows.shape[0])
                      for linear, rows in zip(linears, weights)]) if has_bias else None
    start = 0
    for linear, rows in zip(linears, weights):
        end = start + rows.shape[0]
        linear.weight = rewrap(weight[start:end], linear.weight)
        if linear.bias is not None:
            linear.bias = rewrap(bias[start:end], linear.bias)
        start = end
    return weight, bias, [rows.shape[0] for rows in weights]


class RowSplitLinear(torch.nn.Module):
    """A Linear split by input features over the ranks (o_proj, down_proj under tensor parallel):
    the local matmul, one all-reduce of the partial sums, then the whole bias once. Unsplit: a Linear."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        split = is_split(linear.weight)
        self.register_buffer("weight", local(linear.weight, shard_dim=1).detach(), persistent=False)  # by input
        self.register_buffer("bias", None if linear.bias is None else local(linear.bias).detach(), persistent=False)
        self.group = linear.weight.device_mesh.get_group() if split else None
        if split:
            import torch.distributed._functional_collectives as funcol
            self.all_reduce = funcol.all_reduce  # traceable by dynamo, captured by a CUDA graph

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.group is None:
            return F.linear(x, self.weight, self.bias)
        out = self.all_reduce(F.linear(x, self.weight), "sum", self.group)
        return out if self.bias is None else out + self.bias


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, window: int | None) -> torch.Tensor:
    """Causal attention, within the last `window` positions when the layer has a sliding window.
    Right padding keeps it exact: real positions never attend to later (pad) ones."""
    seq = q.shape[2]
    if window is None or seq <= window:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
    offset = torch.arange(seq, device=q.device).unsqueeze(1) - torch.arange(seq, device=q.device)  # query - key
    return F.scaled_dot_product_attention(q, k, v, attn_mask=(offset >= 0) & (offset < window), scale=scale)


class FusedLayer(torch.nn.Module):
    def __init__(self, layer: torch.nn.Module, window: int | None):
        super().__init__()
        attn, mlp = layer.self_attn, layer.mlp
        self.input_norm, self.post_attention_norm = layer.input_layernorm, layer.post_attention_layernorm
        self.q_norm, self.k_norm = getattr(attn, "q_norm", None), getattr(attn, "k_norm", None)  # Qwen3: per head
        self.head_dim, self.kv_groups, self.scaling = attn.head_dim, attn.num_key_value_groups, attn.scaling
        self.window = window
        self.residual_multiplier = getattr(layer, "residual_multiplier", 1.0)  # Granite; 1 elsewhere
        # this rank's rows (all of them when not split): its heads of q, k and v, its slice of gate/up
        qkv_weight, qkv_bias, self.split = fuse_linears([attn.q_proj, attn.k_proj, attn.v_proj])
        gate_up_weight, gate_up_bias, (self.intermediate, _) = fuse_linears([mlp.gate_proj, mlp.up_proj])
        for name, tensor in [("qkv_weight", qkv_weight), ("qkv_bias", qkv_bias),
                             ("gate_up_weight", gate_up_weight), ("gate_up_bias", gate_up_bias)]:
            self.register_buffer(name, tensor, persistent=False)
        self.o_proj, self.down_proj = RowSplitLinear(attn.o_proj), RowSplitLinear(mlp.down_proj)

    def forward(self, hidden: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        # hidden: [B, S, H]; cos, sin: [1, 1, S, head_dim], the same positions for every row
        batch, seq, _ = hidden.shape
        q, k, v = F.linear(self.input_norm(hidden), self.qkv_weight, self.qkv_bias).split(self.split, dim=-1)
        q, k, v = (x.view(batch, seq, -1, self.head_dim) for x in (q, k, v))
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = (x.transpose(1, 2) for x in (q, k, v))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = (x.repeat_interleave(self.kv_groups, dim=1) if self.kv_groups > 1 else x for x in (k, v))
        attn = attend(q, k, v, self.scaling, self.window)
        hidden = hidden + self.scale_residual(self.o_proj(attn.transpose(1, 2).reshape(batch, seq, -1)))
        gate, up = F.linear(self.post_attention_norm(hidden), self.gate_up_weight, self.gate_up_bias).split(
            self.intermediate, dim=-1)
        return hidden + self.scale_residual(self.down_proj(F.silu(gate) * up))

    def scale_residual(self, x: torch.Tensor) -> torch.Tensor:
        # a Python branch, not `x * 1.0`: families without the multiplier pay no extra kernel
        return x if self.residual_multiplier == 1.0 else x * self.residual_multiplier


class FusedForward(torch.nn.Module):
    """forward(input_ids [B, S], last_index [B]) -> logits [B, 1, V], row b's at position last_index[b]
    (B > 1: right-padded prompts of one batch)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        reason = unfusable_reason(model)
        if reason:
            raise ValueError(reason)
        body = model.model
        self.embed, self.norm, self.rotary = body.embed_tokens, body.norm, body.rotary_emb
        layers = body.layers[: model.config.num_hidden_layers]  # the layers the HF forward runs
        self.layers = torch.nn.ModuleList(FusedLayer(layer, window)
                                          for layer, window in zip(layers, layer_windows(model.config)))
        self.lm_head = model.lm_head
        self.embedding_multiplier = getattr(body, "embedding_multiplier", 1.0)  # Granite; 1 elsewhere
        self.logits_scaling = getattr(model.config, "logits_scaling", 1.0) if model.config.model_type == "granite" else 1.0

    def forward(self, input_ids: torch.Tensor, last_index: torch.Tensor) -> torch.Tensor:
        hidden = self.embed(input_ids)
        if self.embedding_multiplier != 1.0:
            hidden = hidden * self.embedding_multiplier
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        cos, sin = (x.unsqueeze(1) for x in self.rotary(hidden, positions))
        for layer in self.layers:
            hidden = layer(hidden, cos, sin)
        if input_ids.shape[0] == 1:  # the single-request path, as it always ran
            last = hidden.index_select(1, last_index)  # [1, 1, H]
        else:  # each row at its own last real position: [B, 1, H]
            last = hidden.gather(1, last_index.view(-1, 1, 1).expand(-1, 1, hidden.shape[-1]))
        logits = self.lm_head(self.norm(last))
        return logits if self.logits_scaling == 1.0 else logits / self.logits_scaling
