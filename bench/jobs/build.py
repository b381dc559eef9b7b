"""Building the job record once, in the parent: what the config alone cannot check (lengths against
the model's positions, the device, the ranks), the model's facts and every prompt of the run.

    job = build_job(load_config("configs/default.yaml"))   # raises ConfigError with a one-line message
"""
from __future__ import annotations

import dataclasses

from bench.config.errors import ConfigError
from bench.config.names import BASELINE
from bench.config.schema import BenchConfig
from bench.jobs.job import Job, ModelFacts, PromptSource


def unseen_length(cfg: BenchConfig) -> int:
    """The configured probe length, or one between the two shortest that no sweep length takes."""
    n = cfg.measure.unseen_length
    if n is not None:
        return n
    lengths = sorted(cfg.prompts.lengths)
    n = (lengths[0] + lengths[1]) // 2 if len(lengths) > 1 else lengths[0] + 1
    while n in lengths:
        n += 1
    return n


def check_ranks(model, config, device) -> None:
    """A tensor_parallel the model splits into (a hub config is read only here) and a GPU per rank."""
    if model.tensor_parallel == 1:
        return
    import torch

    from bench.config.shardable import unshardable_reason
    from bench.models.build import text_config

    text = text_config(config)
    reason = unshardable_reason({key: getattr(text, key, None) for key in
                                 ("model_type", "num_attention_heads", "num_key_value_heads", "intermediate_size")},
                                model.tensor_parallel)
    if reason:
        raise ConfigError(f"model.tensor_parallel: {model.tensor_parallel} refused: {reason}")
    if device.type == "cuda" and torch.cuda.device_count() < model.tensor_parallel:
        raise ConfigError(f"model.tensor_parallel: {model.tensor_parallel} ranks need as many GPUs, "
                          f"{torch.cuda.device_count()} visible")


def build_job(cfg: BenchConfig, strategy: str = BASELINE) -> Job:
    """Validate what the config alone cannot (lengths against the model, the device) and fix the
    prompts, once for the whole run. Raises ConfigError with a one-line message."""
    from bench.models.attention import check_attention
    from bench.models.build import check_lengths, decoder_layers, hf_config, max_positions, resolve_device, text_config
    from bench.models.prompts import pad_token_id, prompt_set, special_token_ids, tokenize_text

    config = hf_config(cfg.model)
    check_lengths(cfg, config)
    device = resolve_device(cfg.model.device)
    check_ranks(cfg.model, config, device)
    check_attention(cfg.model, config)
    tokenizer = None
    if cfg.prompts.text is not None:
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(cfg.model.name_or_path)
    p = cfg.prompts
    vocab = text_config(config).vocab_size
    text_ids = None if p.text is None else tokenize_text(p.text, tokenizer)
    source = PromptSource(p.seed, vocab, tuple(sorted(special_token_ids(config, tokenizer))), text_ids)
    prompts = {n: prompt_set(n, p.per_length, **dataclasses.asdict(source)) for n in p.lengths}
    n = unseen_length(cfg)
    unseen = prompt_set(n, 1, **dataclasses.asdict(source))[0]
    facts = ModelFacts(vocab, max_positions(config), pad_token_id(config), decoder_layers(config))
    return Job(config=cfg, strategy=strategy, run_folder=cfg.out_dir(), device=str(device), model=facts,
               prompts={k: tuple(tuple(x) for x in v) for k, v in prompts.items()}, unseen_len=n,
               unseen_prompt=tuple(unseen), prompt_source=source)
