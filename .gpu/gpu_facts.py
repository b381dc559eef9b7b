"""GPU fact-finding for issue 25 (not part of the package): skinny-matmul bandwidth, jit+cuda's kernel table per
length, and a ready-time breakdown of a fresh process. python3 .gpu/gpu_facts.py {matmuls,kernels,ready} OUTDIR"""
import json
import os
import statistics
import sys
import time

T0 = float(os.environ.get("T0", time.time()))  # the parent's clock at this process's start, when it passes one
import torch  # noqa: E402

T_TORCH = time.time()
mode, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def event_ms(fn, reps=50, warm=5):
    for _ in range(warm):
        fn()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def matmuls():
    dev = torch.device("cuda")
    src = torch.empty(1 << 30, dtype=torch.uint8, device=dev); dst = torch.empty_like(src)
    copy = 2 * (1 << 30) / (event_ms(lambda: dst.copy_(src), 20) / 1e3)
    del src, dst
    shapes = {"qkv": (4096, 12288), "o": (4096, 4096), "gate_up": (4096, 22016), "down": (11008, 4096),
              "lm_head": (4096, 32000)}
    rows = []
    for name, (k, n) in shapes.items():
        distinct = max(2, int(400e6 // (k * n * 2)) + 1)  # rotate > 400 MB of weights: no L2 (60 MB) hits
        ws = [torch.randn(n, k, dtype=torch.float16, device=dev) for _ in range(distinct)]
        copies = len(ws)
        copies = max(copies, 8)  # matmuls per graph: the replay's own launch is shared by them all
        ws += [ws[i % len(ws)] for i in range(copies - len(ws))]
        for m in (1, 10, 16, 32, 64, 100, 128, 200, 256, 400, 800, 1600):
            x = torch.randn(m, k, dtype=torch.float16, device=dev)
            for w in ws:  # cuBLAS picks and warms its kernel outside the capture
                torch.nn.functional.linear(x, w)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                for w in ws:
                    torch.nn.functional.linear(x, w)
            ms = event_ms(graph.replay, 30) / copies  # back to back on the device, no host gap between them
            rows.append({"w": name, "k": k, "n": n, "m": m, "ms": ms, "weight_gbs": k * n * 2 / ms / 1e6,
                         "frac_copy": k * n * 2 / (ms / 1e3) / copy, "tflops": 2 * m * k * n / ms / 1e9})
        del ws
    json.dump({"copy_bytes_per_s": copy, "rows": rows}, open(f"{out}/matmuls.json", "w"), indent=1)
    for r in rows:
        print(f"{r['w']:8s} m={r['m']:5d} {r['ms']*1e3:8.1f} us  {r['frac_copy']:.2f} of copy  {r['tflops']:.0f} TF/s")


def load(lengths):
    from bench.config.schema import load_config, with_overrides
    from bench.jobs.build import build_job
    from bench.targets.loading import load_strategy
    t_imp = time.time()
    cfg = with_overrides(load_config("configs/h100-llama2-7b.yaml"), strategies=["jit+cuda"], lengths=lengths)
    job = build_job(cfg).for_strategy("jit+cuda")
    torch.cuda.init(); torch.zeros(1, device="cuda"); torch.cuda.synchronize()
    t_cuda = time.time()
    with torch.inference_mode():
        loaded = load_strategy(job)
    torch.cuda.synchronize()
    t_ready = time.time()
    facts = {"torch_import_s": T_TORCH - T0, "bench_import_s": t_imp - T_TORCH, "cuda_init_and_job_s": t_cuda - t_imp,
             "build_ms": loaded.model_build_ms, "setup_ms": loaded.setup_ms,
             "prepared": {str(k): (list(v) if isinstance(v, tuple) else repr(v)) for k, v in loaded.prepared.items()},
             "ready_s": t_ready - T0, "compile_threads": os.environ.get("TORCHINDUCTOR_COMPILE_THREADS")}
    return job, loaded, facts


def kernels():
    from torch.profiler import ProfilerActivity, profile
    lengths = [10, 100, 400]
    job, loaded, facts = load(lengths)
    s = loaded.strategy
    report = {"facts": facts, "lengths": {}}
    with torch.inference_mode():
        for n in lengths:
            ids = list(job.prompts[n][0])
            for _ in range(20):
                s.first_token(ids)
            ts = []
            for _ in range(100):
                t = time.perf_counter_ns(); s.first_token(ids); ts.append((time.perf_counter_ns() - t) / 1e6)
            entry = s.graphs.manager.get(s.graphs.graph_length(n))
            replay_ms = event_ms(lambda: entry.graph.replay(), 50)
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                for _ in range(5):
                    s.first_token(ids)
                torch.cuda.synchronize()
            with open(f"{out}/table-{n}.txt", "w") as f:  # the profiler's own table, in case the walk below fails
                f.write(prof.key_averages().table(sort_by="device_time_total", row_limit=40))
            kern = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
            by = {}
            for e in kern:
                d = by.setdefault(e.name, [0, 0.0])
                d[0] += 1; d[1] += e.device_time_total / 1e3 / 5  # ms per request
            busy = sum(v[1] for v in by.values())
            report["lengths"][n] = {"host_p50_ms": statistics.median(ts), "replay_device_ms": replay_ms,
                                    "kernel_busy_ms": busy, "kernels_per_request": sum(v[0] for v in by.values()) / 5,
                                    "table": sorted(([k, v[0] / 5, v[1]] for k, v in by.items()), key=lambda r: -r[2])}
            print(n, "p50", round(statistics.median(ts), 3), "replay", round(replay_ms, 3), "busy", round(busy, 3))
            for k, c, ms in report["lengths"][n]["table"][:25]:
                print(f"   {ms*1e3:8.1f} us x{c:5.0f}  {k[:110]}")
    json.dump(report, open(f"{out}/kernels.json", "w"), indent=1, default=str)


def ready():
    _, _, facts = load([10, 50, 100, 150, 200, 250, 300, 350, 400])
    print(json.dumps(facts))
    json.dump(facts, open(f"{out}/ready-{os.environ.get('TORCHINDUCTOR_COMPILE_THREADS', 'default')}.json", "w"),
              indent=1)


{"matmuls": matmuls, "kernels": kernels, "ready": ready}[mode]()
