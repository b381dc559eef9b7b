"""docs/configuration.md's reference tables, generated from the code that validates a config: every key with
its default (read from the config dataclasses), its allowed values (read from the constants the checks use)
and its meaning (written here); every strategy option the same way; every preset from PRESETS. A key the code
accepts without a meaning here, or a meaning for a key the code no longer has, stops the generator, so the
reference cannot fall behind the code."""
from __future__ import annotations

import dataclasses

from bench.config import load, schema
from bench.config.presets import PRESETS
from bench.reporting.tables import markdown_table
from strategies import option_types as opts
from tools.sections import DocsError

SECTIONS = {"model": schema.ModelConfig, "prompts": schema.PromptConfig, "sampling": schema.SamplingConfig,
            "measure": schema.MeasureConfig, "load": load.LoadConfig}
# the top-level keys that are not sections, with the default parse_config gives when the key is absent
TOP_DEFAULTS = {"name": "required", "output": "results", "transport": "inprocess", "tags": "{}",
                "strategies": "required"}

MEANINGS = {
    "name": "The run's name: its results go to `<output>/<name>/`. One folder name.",
    "output": "The folder that holds run folders; a relative path is read against the config file's folder. "
              "`--out` on the command line names the run folder itself instead.",
    "transport": "`inprocess`: the sweep calls the strategy in its worker. `ipc`: the worker starts a generator "
                 "server and measures through its socket ([serving.md](serving.md)).",
    "tags": "Labels stored with the run (`run.json`, `summary.json`, the top of `table.md`); `--tag k=v` adds more.",
    "strategies": "The strategies to run, each a name or `{name: ..., options: {...}}`; `baseline` is always run, "
                  "first (it is the reference). Each strategy at most once.",
    "model.preset": "A built-in architecture with random weights (the list below).",
    "model.config": "A `config.json` of any architecture transformers knows: random weights, no download. "
                    "Relative to the config file's folder.",
    "model.name_or_path": "Real weights: a local checkpoint folder (relative to the config file's folder) or a "
                          "hub id.",
    "model.dtype": "The weights' and activations' type.",
    "model.device": "`auto`: CUDA when available, else the CPU.",
    "model.attn_implementation": "transformers' attention implementation.",
    "model.seed": "Seeds the random weights: the same seed builds the same model, at any tensor-parallel size.",
    "model.tensor_parallel": "Ranks the model is split over, one GPU each ([tensor-parallel.md](tensor-parallel.md)); "
                             "1: one device.",
    "model.tp_reference": "What judges a tensor-parallel run: the one-GPU baseline of the same weights, or the "
                          "tensor-parallel baseline for a model no single GPU holds.",
    "prompts.lengths": "Prompt lengths in tokens, each at most the model's maximum positions.",
    "prompts.seed": "Seeds the synthetic token ids (no special tokens); every strategy gets the same prompts.",
    "prompts.text": "With `model.name_or_path`: prompts are this text's tokens, repeated and cut to each length.",
    "prompts.per_length": "Distinct prompts judged against the baseline per length ([correctness.md](correctness.md)).",
    "sampling.mode": "How the first token is chosen from the logits.",
    "sampling.temperature": "The temperature of `temperature` sampling.",
    "sampling.seed": "Every request is seeded with it, outside the timer, so sampled tokens are reproducible.",
    "measure.warmup": "Untimed requests after the cold one, per length.",
    "measure.repeats": "Timed requests per length (the n of every percentile).",
    "measure.rounds": "Rounds the timed requests are spread over: each round asks every length for its share "
                      "(`repeats / rounds`; the first rounds take one more where it does not divide, and with "
                      "fewer requests than rounds each of the first `repeats` rounds takes one; each share "
                      "starts with one untimed request, so what a strategy keeps per length is back before the "
                      "timer), so the intervals see the drift over the strategy's measuring time "
                      "([method.md](method.md#intervals-and-stability)).",
    "measure.unseen_length": "The cold-start probe: one request at a length nobody prepared. `null`: between the "
                             "two shortest lengths.",
    "measure.restart": "Start each strategy that compiles once more, in a new process that finds the compile "
                       "cache the first left, and report how soon it is ready.",
    "load.concurrency": "TTFT under load ([serving.md](serving.md)): the closed-loop levels, each a number of "
                        "clients that send their next request when their answer arrives. The section is optional: "
                        "without it, no load is measured.",
    "load.rates": "The open-loop levels, in requests/s, with gamma-distributed arrivals (`burstiness`).",
    "load.burstiness": "The gamma shape of the gaps between open-loop arrivals: 1 Poisson, below 1 burstier.",
    "load.lengths": "The prompt lengths requests are drawn from (among `prompts.lengths`). `null`: all of them.",
    "load.requests": "Timed requests per level, after its warm-up.",
    "load.warmup": "Untimed requests per level (judged all the same).",
    "load.seed": "Seeds which prompt each request asks and the open-loop arrival times.",
    "load.slo_ttft_ms": "The TTFT objective: goodput counts the answers within it; the capacity is the highest "
                        "level whose p99 meets it.",
    "load.max_in_flight": "Requests a level may hold in flight; an open-loop level that reaches it is stopped and "
                          "reported saturated.",
    "load.max_level_s": "The longest a level may take; one that outlasts it is stopped and reported saturated.",
    "load.batching": "The server settings compared, each `{max_batch: N, max_wait_us: U}`: up to N waiting "
                     "requests in one forward, waiting at most U microseconds for a batch to fill.",
    "load.strategies": "The strategies measured under load. `null`: every strategy of the config.",
    "GraphOptions.max_graphs": "How many captured graphs the rolling manager keeps (least recently used evicted).",
    "GraphOptions.precapture": "Lengths captured before measuring. `null`: the run's lengths; `[]`: none, so the "
                               "cold request captures on demand.",
    "GraphOptions.buckets": "Pad each prompt right to the next bucket, so fewer graphs serve all lengths (logits "
                            "stay exact). `null`: one graph per length.",
    "GraphOptions.background": "Lengths a worker thread captures ahead of need; it only fills free slots and "
                               "never runs beside a request. With it, the thread also captures a length that a "
                               "longer graph served (without it, that length's next request does). Not with "
                               "`model.tensor_parallel` > 1.",
    "GraphOptions.host_io": "`pinned`: the graph copies the prompt in and, greedy, the token out. `pageable`: "
                            "copies and sampling around the replay, as in the design document.",
    "JitOptions.forward_jit": "`inductor`: `torch.compile` the forward. `none`: the eager forward (for jit+cuda: "
                              "the design document's hybrid as written).",
    "JitOptions.compile_mode": "inductor's mode (the ones that bring inductor's own CUDA graphs are left out).",
    "JitOptions.dynamic": "`true`: one compile serves every length; `false`: a compile per length.",
    "JitOptions.torchscript": "Pre- and post-processing as TorchScript functions; where torch refuses TorchScript "
                              "they run eagerly and the notes say why ([strategies.md](strategies.md)).",
    "JitOptions.fuse_projections": "q/k/v and gate/up as one matmul each, for the families proven equal to the "
                                   "HF forward; `auto` and `true` alike fall back to the HF forward (reason in the "
                                   "notes) elsewhere; `false`: always the HF forward.",
    "JitOptions.compile_scope": "`layer`: compile one decoder layer, reused by every layer (needs the fused "
                                "forward); `model`: compile the whole forward.",
    "TorchCompileOptions.mode": "`torch.compile`'s mode.",
    "TorchCompileOptions.dynamic": "`null`: torch.compile's own default (automatic dynamic shapes); `false`: a "
                                   "static compile per length.",
}


def choices(values) -> str:
    """Allowed names, as they are written in YAML."""
    return " \\| ".join(f"`{v}`" for v in values)


ALLOWED = {
    "name": f"text, at most {schema.MAX_NAME_BYTES} bytes, no `/`",
    "transport": choices(schema.TRANSPORTS),
    "model.preset": "a preset below",
    "model.dtype": choices(schema.DTYPE_NAMES),
    "model.device": choices(schema.DEVICES),
    "model.attn_implementation": choices(schema.ATTN_IMPLEMENTATIONS),
    "model.tensor_parallel": f"1-{schema.MAX_TENSOR_PARALLEL}",
    "model.tp_reference": choices(schema.TP_REFERENCES),
    "prompts.per_length": f"1-{schema.MAX_PROMPTS_PER_LENGTH}",
    "sampling.mode": choices(schema.SAMPLING_MODES),
    "sampling.temperature": "{:g} to {:g}".format(*schema.TEMPERATURE_RANGE),
    "measure.warmup": f"0-{schema.MAX_REQUESTS}",
    "measure.repeats": f"1-{schema.MAX_REQUESTS}",
    "measure.rounds": f"1-{schema.MAX_REQUESTS}",
    "load.max_in_flight": f"1-{load.MAX_IN_FLIGHT_LIMIT}",
    "load.max_level_s": f"above 0, at most {load.MAX_LEVEL_S_LIMIT:g}",
    "GraphOptions.host_io": choices(opts.HOST_IO),
    "JitOptions.forward_jit": choices(opts.FORWARD_JITS),
    "JitOptions.compile_mode": choices(opts.JIT_COMPILE_MODES),
    "JitOptions.fuse_projections": choices(["auto", "true", "false"]),
    "JitOptions.compile_scope": choices(opts.COMPILE_SCOPES),
    "TorchCompileOptions.mode": choices(opts.TORCH_COMPILE_MODES),
}


def yaml_value(value) -> str:
    """A default as YAML writes it."""
    if dataclasses.is_dataclass(value):
        return "`{" + ", ".join(f"{f.name}: {getattr(value, f.name)}" for f in dataclasses.fields(value)) + "}`"
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return "`[" + ", ".join(yaml_value(v).strip("`") for v in value) + "]`"
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`[{', '.join(str(v) for v in value)}]`"
    return f"`{value}`"


def meaning(key: str) -> str:
    """A key's meaning; a key without one stops the generator."""
    if key not in MEANINGS:
        raise DocsError(f"config key {key} has no meaning in tools/config_reference.py: write one")
    return MEANINGS[key]


def config_keys() -> list[str]:
    """Every key a config accepts outside the strategy options, dotted, as the validation names them."""
    keys = [k for k in schema.TOP_KEYS if k not in SECTIONS]
    return keys + [f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


def default_of(key: str) -> str:
    """A key's default as the table shows it."""
    if key in TOP_DEFAULTS:
        return TOP_DEFAULTS[key] if TOP_DEFAULTS[key] == "required" else yaml_value(TOP_DEFAULTS[key])
    section, name = key.split(".")
    return yaml_value(next(f.default for f in dataclasses.fields(SECTIONS[section]) if f.name == name))


def option_classes() -> list[type]:
    """The options dataclasses that declare options of their own (jit+cuda's only combines two)."""
    classes = dict.fromkeys(t for t in opts.OPTION_TYPES.values() if own_fields(t))
    return list(classes)


def own_fields(cls: type) -> list[dataclasses.Field]:
    """The fields a dataclass declares itself, not those of its dataclass bases."""
    inherited = {f.name for base in cls.__mro__[1:] if dataclasses.is_dataclass(base) for f in dataclasses.fields(base)}
    return [f for f in dataclasses.fields(cls) if f.name not in inherited]


def option_keys() -> list[str]:
    """Every strategy option, as `OptionsClass.field`."""
    return [f"{cls.__name__}.{f.name}" for cls in option_classes() for f in own_fields(cls)]


def check_meanings() -> None:
    """Every meaning and allowed-values entry names a key the code accepts (one for a removed key is stale)."""
    stale = (set(MEANINGS) | set(ALLOWED)) - set(config_keys()) - set(option_keys())
    if stale:
        raise DocsError(f"tools/config_reference.py describes keys the config no longer has: "
                        f"{', '.join(sorted(stale))}")


def keys_table() -> str:
    """Every config key: default, allowed values, meaning."""
    check_meanings()
    rows = [[f"`{k}`", default_of(k), ALLOWED.get(k, ""), meaning(k)] for k in config_keys()]
    return markdown_table(["key", "default", "allowed", "meaning"], rows)


def options_table() -> str:
    """Every strategy option: the strategies that take it, default, allowed values, meaning."""
    rows = []
    for cls in option_classes():
        takers = ", ".join(f"`{name}`" for name, t in opts.OPTION_TYPES.items() if issubclass(t, cls))
        for f in own_fields(cls):
            key = f"{cls.__name__}.{f.name}"
            rows.append([f"`{f.name}`", takers, yaml_value(f.default), ALLOWED.get(key, ""), meaning(key)])
    check_meanings()
    without = ", ".join(f"`{name}`" for name, t in opts.OPTION_TYPES.items() if not dataclasses.fields(t))
    return markdown_table(["option", "strategies", "default", "allowed", "meaning"], rows) + (
        f"\n\n{without} take no options.")


def first(fields: dict, *names: str):
    """The first of several names an architecture gives one field ('-' where none is set)."""
    return next((fields[n] for n in names if n in fields), "-")


def presets_table() -> str:
    """Every preset: its transformers model type and shape."""
    rows = [[f"`{name}`", f["model_type"], str(first(f, "num_hidden_layers", "n_layer")),
             str(first(f, "hidden_size", "n_embd")),
             f"{first(f, 'num_attention_heads', 'n_head')} / "
             f"{first(f, 'num_key_value_heads', 'num_attention_heads', 'n_head')}",
             str(f["vocab_size"]), str(first(f, "max_position_embeddings", "n_positions"))]
            for name, f in PRESETS.items()]
    return f"{len(PRESETS)} presets:\n\n" + markdown_table(
        ["preset", "model type", "layers", "hidden", "heads / key-value heads", "vocabulary", "max positions"], rows)
