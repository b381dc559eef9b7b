"""hf-generate (reference peer): `model.generate(input_ids, max_new_tokens=1)`, what most users run."""
from __future__ import annotations

import torch

from strategies.base import FirstToken, Strategy, StrategyContext, register


@register
class HfGenerate(Strategy):
    name = "hf-generate"
    summary = "reference peer: model.generate(max_new_tokens=1), eager, HF's own sampling"

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.model = model
        self.ctx = ctx
        do_sample = ctx.sampling_mode == "temperature"
        # top_k=0 / top_p=1: plain temperature sampling, the same distribution as the other strategies
        self.kwargs = dict(max_new_tokens=1, do_sample=do_sample, pad_token_id=ctx.pad_token_id,
                           **(dict(temperature=ctx.temperature, top_k=0, top_p=1.0) if do_sample else {}))

    def _generate(self, input_ids: list[int], **extra):
        ids = torch.tensor([input_ids], dtype=torch.long, device=self.ctx.device)  # [1, S]
        return self.model.generate(ids, attention_mask=torch.ones_like(ids), **self.kwargs, **extra)

    def first_token(self, input_ids: list[int]) -> FirstToken:
        """Timed as a user calls it, asking generate for the raw logits it computes anyway (a reference
        to them, no extra forward): the prompt plus one token, and that token's logits."""
        out = self._generate(input_ids, output_logits=True, return_dict_in_generate=True)
        return FirstToken(int(out.sequences[0, -1].item()), out.logits[0][0])  # logits: [V], before processors

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        return self._generate(input_ids, output_logits=True, return_dict_in_generate=True).logits[0][0]

    def close(self) -> None:
        self.model = None
