"""Every config key a proven family's installed HF code reads is honoured by the fused forward, refused
when set, or irrelevant to a first token (the tables in strategies/fused_support.py), so a transformers
release that starts reading a new key fails here, naming it, instead of leaving the fused forward
computing another function; and the fused forward reads no key the family's HF code does not.

What is walked: the family's modeling module, and in masking_utils and modeling_rope_utils the functions
(and tables of functions) it imports, with what they call in turn. Not walked: the output and cache
plumbing (return_dict, output_* flags, the KV cache), which stores or returns values without changing a
first token's logits."""
from __future__ import annotations

import ast
import functools
import importlib
import inspect

import pytest
import torch
from transformers import PreTrainedConfig

from strategies.fused_forward import FusedForward
from strategies.fused_support import HONOURED, IRRELEVANT, PROVEN, REFUSED_IF_SET, layer_windows, unfusable_reason
from tests.conftest import ids_and_last, tiny

HELPERS = ("masking_utils", "modeling_rope_utils")  # transformers modules whose imported functions are walked too
PRESET = {"llama": "tiny-llama", "mistral": "tiny-mistral", "qwen2": "tiny-qwen2", "qwen3": "tiny-qwen3",
          "granite": "tiny-granite"}
# a value of each refused key the fused forward does not implement
NOT_IMPLEMENTED = {"hidden_act": "gelu", "is_causal": False}


def is_config(node: ast.AST) -> bool:
    """`config`, `text_config`, `self.config` and the like."""
    if isinstance(node, ast.Name):
        return node.id == "config" or node.id.endswith("_config")
    return isinstance(node, ast.Attribute) and node.attr == "config"


def is_rope_parameters(node: ast.AST) -> bool:
    """`config.rope_parameters` or a local holding it (`rope_parameters_dict`)."""
    if isinstance(node, ast.Name):
        return "rope_parameters" in node.id
    return isinstance(node, ast.Attribute) and node.attr == "rope_parameters" and is_config(node.value)


def text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def string_defaults(function: ast.FunctionDef) -> dict[str, str | None]:
    """A function's parameters with string defaults (`head_dim_key="head_dim"`), to name a getattr by variable."""
    args = function.args
    positional = args.args[len(args.args) - len(args.defaults):]
    pairs = [*zip(positional, args.defaults), *((a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d)]
    return {arg.arg: text(default) for arg, default in pairs}


def config_reads(tree: ast.AST) -> set[str]:
    """Keys read from a config: `config.key`, getattr/hasattr(config, "key"), `rope_parameters["key"]` and .get
    (as rope_parameters.key). Methods of the config class are not keys. A key named by a variable that cannot
    be resolved is returned as `?name`, so it fails the tables' check instead of hiding."""
    found: set[str] = set()

    def visit(node: ast.AST, defaults: dict[str, str | None]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defaults = {**defaults, **string_defaults(node)}
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and is_config(node.value) \
                and not callable(getattr(PreTrainedConfig, node.attr, None)):
            found.add(node.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr") \
                and len(node.args) >= 2 and is_config(node.args[0]):
            name = node.args[1]
            key = text(name) or (defaults.get(name.id) if isinstance(name, ast.Name) else None)
            found.add(key or f"?{ast.unparse(name)}")
        if isinstance(node, ast.Subscript) and is_rope_parameters(node.value) and text(node.slice):
            found.add(f"rope_parameters.{text(node.slice)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and is_rope_parameters(node.func.value) and node.args and text(node.args[0]):
            found.add(f"rope_parameters.{text(node.args[0])}")
        for child in ast.iter_child_nodes(node):
            visit(child, defaults)

    visit(tree, {})
    return found


def source_tree(module_name: str) -> ast.Module:
    return ast.parse(inspect.getsource(importlib.import_module(module_name)))


def reachable_definitions(tree: ast.Module, names: list[str]) -> list[ast.AST]:
    """The module's top-level functions, classes and assignments that `names` reach, following names they use."""
    definitions: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    definitions[target.id] = node
    todo, seen = [name for name in names if name in definitions], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [n.id for n in ast.walk(definitions[name]) if isinstance(n, ast.Name) and n.id in definitions]
    return [definitions[name] for name in sorted(seen)]


@functools.lru_cache(maxsize=None)
def hf_reads(model_type: str) -> frozenset[str]:
    """The config keys the family's HF modeling code reads, with the mask and rope helpers it imports."""
    tree = source_tree(f"transformers.models.{model_type}.modeling_{model_type}")
    keys = config_reads(tree)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in HELPERS:
            helper = source_tree(f"transformers.{node.module}")
            for definition in reachable_definitions(helper, [alias.name for alias in node.names]):
                keys |= config_reads(definition)
    return frozenset(keys)


def test_the_walk_finds_the_keys_the_issue_names():
    """The walker itself: reads in the modeling module, in the masks and in rope init are all seen."""
    assert {"attention_multiplier", "logits_scaling", "residual_multiplier"} <= hf_reads("granite")
    assert {"sliding_window", "is_causal", "rope_parameters.factor", "rope_parameters.low_freq_factor"} \
        <= hf_reads("mistral")
    assert "sliding_window" not in hf_reads("llama") and "sliding_window" not in hf_reads("granite")
    assert "layer_types" in hf_reads("qwen2") and "layer_types" not in hf_reads("mistral")


def test_every_proven_family_has_its_tables_and_a_tiny_model():
    assert set(HONOURED) == set(PROVEN) == set(PRESET)
    assert set(NOT_IMPLEMENTED) == set(REFUSED_IF_SET)
    assert not any(set(table) & set(REFUSED_IF_SET) for table in HONOURED.values())
    assert not any(set(table) & set(IRRELEVANT) for table in HONOURED.values())


@pytest.mark.parametrize("model_type", PROVEN)
def test_every_key_the_hf_code_reads_is_honoured_refused_or_irrelevant(model_type):
    unaccounted = sorted(hf_reads(model_type) - set(HONOURED[model_type]) - set(REFUSED_IF_SET) - set(IRRELEVANT))
    assert not unaccounted, (f"{model_type}: its HF code reads {unaccounted}, in no table of "
                             f"strategies/fused_support.py: honour each exactly as that code does, refuse it when "
                             f"set, or say why it is irrelevant")


@pytest.mark.parametrize("model_type", PROVEN)
def test_every_honoured_key_is_one_the_hf_code_reads(model_type):
    """A key honoured for a family whose HF code never reads it would change what the fused forward computes
    (a window on Llama): the tables must not claim one."""
    assert not sorted(set(HONOURED[model_type]) - hf_reads(model_type)), model_type
    assert not sorted(set(REFUSED_IF_SET) - hf_reads(model_type)), model_type


@pytest.mark.parametrize("model_type", PROVEN)
@pytest.mark.parametrize("key", REFUSED_IF_SET)
def test_a_refused_key_set_to_what_the_fused_forward_does_not_implement_falls_back(model_type, key):
    model = tiny(PRESET[model_type], **{key: NOT_IMPLEMENTED[key]})
    reason = unfusable_reason(model)
    assert reason is not None and key in reason, reason
    assert unfusable_reason(tiny(PRESET[model_type], **{key: REFUSED_IF_SET[key][0]})) is None


class RecordingConfig:
    """A config that records every attribute read through it."""

    def __init__(self, config):
        object.__setattr__(self, "config", config)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name: str):
        self.read.add(name)
        return getattr(self.config, name)


@pytest.mark.parametrize("model_type", PROVEN)
def test_the_fused_forward_reads_only_keys_the_hf_code_reads(model_type):
    """Llama and Granite with a sliding_window on their config (transformers keeps it; their HF code ignores it):
    deciding, building and running the fused forward reads no key the family's HF code does not."""
    model = tiny(PRESET[model_type], sliding_window=38) if model_type in ("llama", "granite") \
        else tiny(PRESET[model_type])
    recording = RecordingConfig(model.config)
    model.config = recording
    ids, last = ids_and_last(40, 40, recording.vocab_size)
    recording.read.clear()
    assert unfusable_reason(model) is None
    with torch.inference_mode():
        FusedForward(model)(ids, last)
    family = {"model_type"}  # which family this is: HF's code is that family's class rather than a key it reads
    assert not sorted(recording.read - hf_reads(model_type) - family), model_type


def test_windows_come_from_where_each_familys_hf_code_takes_them():
    assert layer_windows(tiny("tiny-llama", sliding_window=38).config) == [None, None]
    assert layer_windows(tiny("tiny-granite", sliding_window=38).config) == [None, None]
    assert layer_windows(tiny("tiny-mistral").config) == [8, 8]
    assert layer_windows(tiny("tiny-qwen3", layer_types=["sliding_attention", "full_attention"],
                              sliding_window=6, use_sliding_window=True).config) == [6, None]
