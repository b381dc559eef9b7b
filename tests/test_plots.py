"""Plots read at a glance: log axes labelled at any span, unstable points hollow, memory from zero,
compile and capture per length with the one-off marked, ready time; fixed colours, none without
data, byte-identical on regeneration."""
from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from bench.reporting import plots
from bench.reporting.plot_axes import MAX_TICKS, MIN_TICKS, UNSTABLE_LABEL, log_ticks, log_y
from bench.reporting.plots import ONE_OFF_LABEL, color, plot_title
from bench.reporting.records import PointRecord
from bench.reporting.report import load_summary, write_report
from tests.conftest import lognormal_ms, ns, record_run


@pytest.fixture
def drawn(monkeypatch):
    """The axes each plot saves, by file name, kept open for inspection."""
    saved = {}

    def keep(fig, ax, path, extra_handles=None):
        saved[path.name] = (fig, ax, [h.get_label() for h in extra_handles or []])

    monkeypatch.setattr(plots, "save", keep)
    yield saved
    plt.close("all")


@pytest.mark.parametrize("low,high", [(0.33, 4.4), (0.2, 9.0), (0.5, 45.0), (40, 60000), (0.97, 1.8), (0.99, 1.03),
                                      (4.0, 50.0), (1e-3, 1e6)])
def test_a_log_axis_gets_enough_round_labels_at_any_span(low, high):
    ticks = log_ticks(low, high)
    assert MIN_TICKS <= len(ticks) <= MAX_TICKS, ticks
    assert all(low <= t <= high for t in ticks) and ticks == sorted(ticks)


def test_the_axis_shows_those_labels_where_matplotlib_would_label_one():
    fig, ax = plt.subplots()
    ax.plot([10, 400], [0.2, 9.0])  # a CPU run's span: matplotlib's own log axis labels only 1 inside it
    log_y(ax)
    low, high = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if low <= t <= high]
    plt.close(fig)
    assert len(shown) >= MIN_TICKS, shown


def test_unstable_points_are_hollow_and_keyed_in_the_legend(run_dir, drawn):
    run, df = load_summary(run_dir)
    plots.write_plots(df, run, run_dir / "plots")
    for name in ("ttft.png", "speedup.png"):
        _, ax, extra = drawn[name]
        assert UNSTABLE_LABEL in extra, name
        hollow = [line for line in ax.get_lines() if line.get_markerfacecolor() == "white"]
        assert [list(line.get_xdata()) for line in hollow] == [[10]], name  # jit-only @ 10 only


def memory_run(tmp_path):
    points = [(name, PointRecord(prompt_len=n, status="ok", mem_weights_gb=13.48, mem_peak_gb=13.48 + extra * n,
                                 samples_ns=ns(lognormal_ms(n, 10.0))))
              for name, extra in (("baseline", 7e-4), ("jit+cuda", 1e-5)) for n in (10, 400)]
    return record_run(tmp_path / "gpu", points)


def test_memory_is_drawn_from_zero_with_the_weights_and_what_lies_beyond_them(tmp_path, drawn):
    run, df = load_summary(memory_run(tmp_path))
    plots.write_plots(df, run, tmp_path / "plots")
    fig, total, _ = drawn["memory.png"]
    above = fig.axes[1]
    assert total.get_ylim()[0] == 0 and above.get_ylim()[0] == 0
    assert "model weights (13.48 GB)" in [line.get_label() for line in total.get_lines()]
    beyond_at_400 = [line.get_ydata()[-1] for line in above.get_lines()]  # baseline, jit+cuda
    assert beyond_at_400 == pytest.approx([0.28, 0.004])


def prepare_run(tmp_path):
    points = [("jit-only", PointRecord(prompt_len=n, status="ok", jit_compile_ms=ms,
                                       samples_ns=ns(lognormal_ms(n, 10.0))))
              for n, ms in ((10, 0.4), (50, 0.6), (400, 17911.2))]  # results/default's: 400 compiled first
    points += [("cuda-graph", PointRecord(prompt_len=n, status="ok", graph_capture_ms=ms,
                                          samples_ns=ns(lognormal_ms(n, 10.0))))
               for n, ms in ((10, 201.3), (50, 169.1), (400, 452.9))]
    return record_run(tmp_path / "prep", points)


def test_compile_and_capture_are_drawn_per_length_with_the_first_prepared_one_marked(tmp_path, drawn):
    run, df = load_summary(prepare_run(tmp_path))
    plots.write_plots(df, run, tmp_path / "plots")
    fig, compile_ax, extra = drawn["prepare.png"]
    assert ONE_OFF_LABEL in extra
    assert [ax.get_ylabel() for ax in fig.axes] == ["JIT compile (ms, log scale)", "graph capture (ms, log scale)"]
    for ax, name in zip(fig.axes, ("jit-only", "cuda-graph")):
        line = next(line for line in ax.get_lines() if line.get_label() == name)
        assert list(line.get_xdata()) == [10, 50]  # the line does not run up to the one-off
        star = next(line for line in ax.get_lines() if line.get_marker() == "*")
        assert list(star.get_xdata()) == [400]


def test_ready_time_is_a_bar_per_start_and_restart(tmp_path, drawn):
    strategies = {"baseline": {"status": "ok", "ready_s": 2.9},
                  "jit-only": {"status": "ok", "ready_s": 21.5, "restart_ready_s": 15.7}}
    points = [(name, PointRecord(prompt_len=10, status="ok", samples_ns=ns(lognormal_ms(1, 10.0))))
              for name in strategies]
    run, df = load_summary(record_run(tmp_path / "ready", points, strategies))
    plots.write_plots(df, run, tmp_path / "plots")
    _, ax, extra = drawn["ready.png"]
    assert sorted(round(bar.get_width(), 1) for bar in ax.patches) == [2.9, 15.7, 21.5]
    assert ax.get_xlim()[0] == 0 and "restart (the compile caches it left)" in extra


def test_a_cpu_run_writes_no_memory_plot_and_says_why(run_dir):
    assert not (run_dir / "plots" / "memory.png").exists()
    assert not (run_dir / "plots" / "ready.png").exists()  # no strategy reported a ready time
    table = (run_dir / "table.md").read_text()
    assert "memory.png (no point measured GPU memory" in table and "ready.png (no strategy reported" in table
    assert (run_dir / "plots" / "ttft.png").exists()


def test_plots_regenerate_byte_identical(tmp_path):
    folder = prepare_run(tmp_path)
    before = {p.name: p.read_bytes() for p in (folder / "plots").iterdir()}
    assert "prepare.png" in before
    write_report(folder)
    assert {p.name: p.read_bytes() for p in (folder / "plots").iterdir()} == before


def test_a_strategy_keeps_its_colour_and_the_title_names_device_model_dtype_and_n(run_dir):
    assert color("jit+cuda") == color("jit+cuda") != color("cuda-graph")
    assert color("my-new-strategy") == color("my-new-strategy")
    df = pd.read_csv(run_dir / "summary.csv")
    run = json.loads((run_dir / "run.json").read_text())
    assert plot_title(run, df) == "r: Test CPU, tiny-llama, float32, n=100"


def test_a_stale_plot_without_data_is_removed_on_regeneration(run_dir):
    (run_dir / "plots" / "memory.png").write_bytes(b"from an earlier report")
    write_report(run_dir)
    assert not (run_dir / "plots" / "memory.png").exists()
