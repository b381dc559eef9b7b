"""The GPU ceilings of the roofline (copy bandwidth, matmul rate), measured on the run's GPU, and a model's shape.
The floor they give is computed in bench/measuring/floor.py."""
from __future__ import annotations

import statistics

import torch

COPY_BYTES = 1 << 30  # 1 GiB a buffer: far beyond the L2 cache (50 MB on an H100), so HBM is measured
MATMUL_N = 8192  # an 8192^3 product fills every SM: the rate large GEMMs reach
WARMUP = 3  # clocks ramp and cuBLAS picks its kernel in the first calls
REPEATS = 20  # the median of 20 is stable to ~1% on a quiet GPU


def median_ms(fn) -> float:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(REPEATS):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def copy_rate(device: torch.device) -> float:
    """Device-to-device copy bandwidth, bytes read plus bytes written per second."""
    src = torch.randint(0, 255, (COPY_BYTES,), dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    return 2 * COPY_BYTES / (median_ms(lambda: dst.copy_(src)) / 1e3)


def matmul_rate(device: torch.device, dtype: torch.dtype) -> float:
    """FLOP/s of a large square matmul in `dtype`, on random data (zeros run faster than real data)."""
    a = torch.randn(MATMUL_N, MATMUL_N, dtype=dtype, device=device)
    b = torch.randn(MATMUL_N, MATMUL_N, dtype=dtype, device=device)
    return 2 * MATMUL_N ** 3 / (median_ms(lambda: a @ b) / 1e3)


def measure_ceilings(device: torch.device, dtype: torch.dtype) -> dict:
    """Both ceilings, measured before any model takes the GPU's memory."""
    ceilings = {"copy_bytes_per_s": copy_rate(device), "matmul_flops_per_s": matmul_rate(device, dtype),
                "dtype": str(dtype).removeprefix("torch.")}
    torch.cuda.empty_cache()  # the test buffers are freed on return; give their memory back
    return ceilings


def model_shape(config) -> dict:
    """What the floor needs to know of a model, counted on the meta device (no memory, no weights).
    params counts a tied lm_head once (it is the embedding table); lm_head_params is its size either way."""
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    embedding, lm_head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    return {"params": sum(p.numel() for p in model.parameters()),
            "embedding_params": embedding.numel(), "lm_head_params": lm_head.numel(),
            "tied_embeddings": lm_head is embedding,
            "hidden_size": config.hidden_size, "layers": config.num_hidden_layers}
