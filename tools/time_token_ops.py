"""Time the design document's pre/post-processing eager, TorchScript-scripted and torch.compile'd, on this machine.

    PYTHONPATH=. python -m tools.time_token_ops [--device cpu] [--calls 2000] [--repeats 7]

Per function and vocabulary: the first call of each version (scripting or compiling included), then the median
over `repeats` of the mean time per call of `calls` calls. Prints one Markdown table. What docs/strategies.md's
TorchScript decision cites; run it where the numbers are wanted (a GPU: `--device cuda`).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Callable

import torch

from strategies.token_ops import pad_or_truncate, sample_next_token

VOCABS = (32000, 152064)  # Llama-2's vocabulary and Qwen2's, the largest of the presets
PROMPT_LEN, PADDED_LEN = 100, 128  # a prompt, and the next bucket it would be padded to
TEMPERATURE = 0.7  # the harness's default sampling temperature


def compiled(fn: Callable) -> Callable:
    """torch.compile(fn) from nothing: no earlier case's compiled code or guards."""
    torch._dynamo.reset()
    return torch.compile(fn)


def versions(fn: Callable) -> dict[str, Callable[[], Callable]]:
    """How to make each version of fn (called once, timed as its preparation)."""
    return {"eager": lambda: fn, "scripted": lambda: torch.jit.script(fn), "compiled": lambda: compiled(fn)}


def cases(device: torch.device) -> list[tuple[str, Callable, tuple]]:
    """(what, function, arguments) as the strategies call them."""
    ids = torch.randint(0, 32000, (1, PROMPT_LEN), device=device)
    found = []
    for vocab in VOCABS:
        logits = torch.randn(1, 1, vocab, device=device)  # [B, S, V]: a graph's last-position output
        found += [(f"sample_next_token greedy, V={vocab}", sample_next_token, (logits, TEMPERATURE, False)),
                  (f"sample_next_token temperature, V={vocab}", sample_next_token, (logits, TEMPERATURE, True))]
    return found + [(f"pad_or_truncate {PROMPT_LEN} -> {PROMPT_LEN} (the harness's call)", pad_or_truncate,
                     (ids, PROMPT_LEN, 0)),
                    (f"pad_or_truncate {PROMPT_LEN} -> {PADDED_LEN}", pad_or_truncate, (ids, PADDED_LEN, 0))]


def per_call_us(call: Callable[[], object], calls: int, repeats: int, device: torch.device) -> float:
    """Median over repeats of the mean microseconds per call, the device waited for."""
    means = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        for _ in range(calls):
            call()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        means.append((time.perf_counter_ns() - started) / calls / 1e3)
    return statistics.median(means)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.time_token_ops", description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads; us per call "
          f"(median of {args.repeats} x {args.calls} calls); first call in ms")
    print("| call | eager | scripted | compiled | first call: eager / scripted / compiled |")
    print("|---|---|---|---|---|")
    for what, fn, call_args in cases(device):
        times, firsts = [], []
        for make in versions(fn).values():
            torch.manual_seed(0)
            started = time.perf_counter_ns()
            version = make()
            version(*call_args)  # scripting or compiling happens here, or at the first call
            firsts.append((time.perf_counter_ns() - started) / 1e6)
            times.append(per_call_us(lambda: version(*call_args), args.calls, args.repeats, device))
        print(f"| {what} | " + " | ".join(f"{t:.1f}" for t in times) + " | "
              + " / ".join(f"{f:.0f}" for f in firsts) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
