"""Worker -> runner events: every kind survives its JSON line; anything else is refused in one line, and
the runner records a worker that sends it as failed."""
from __future__ import annotations

import dataclasses
import json
import sys

import pytest

from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.reporting.load_records import LoadLevelRecord, LoadRow, LoadRunRecord
from bench.reporting.records import PointRecord, StrategyRecord
from bench.reporting.results_io import RunRecord
from bench.running import runner
from bench.scenarios.events import (KINDS, DeviceEvent, EventError, FatalEvent, LoadLevelEvent, LoadRunEvent,
                                    PhaseEvent, PointEvent, RooflineEvent, StrategyEvent, decode, encode)
from tests.conftest import tiny_raw

EVERY_KIND = [
    DeviceEvent("cuda", "NVIDIA H200", "9.0", 132, 139.8),
    DeviceEvent("cpu"),
    RooflineEvent({"layers": 2, "hidden_size": 64}, {"copy_bytes_per_s": 4.2e12}),
    RooflineEvent({"layers": 2}, note="roofline: the ceilings are measured on CUDA GPUs only"),
    StrategyEvent(StrategyRecord(status="ok", ready_s=12.5, stats={"graphs": 3}, unseen_near_tie=False)),
    PointEvent(PointRecord(prompt_len=8, status="ok", cold_ttft_ms=1.5, matches_baseline=True, prompts_judged=8,
                           samples_ns=(1000, 2000), server_samples_ns=(900, 1900))),
    PointEvent(PointRecord(prompt_len=24, status="error", note="RuntimeError: no kernel")),
    PhaseEvent("measuring 8 tokens"),
    FatalEvent("RuntimeError: CUDA out of memory"),
    LoadRunEvent(LoadRunRecord(status="ok", ready_s=3.0, stats={"requests": 40})),
    LoadLevelEvent(LoadLevelRecord("rate", 150.0, "saturated", planned=3, sent=2, answered=2, correct=True,
                                   note="backlog"),
                   (LoadRow(0, True, 8, 5, 0, 2_000_000, 1_500_000, 100_000, 4, 17, True),
                    LoadRow(1, False, 24, 6, 1_000_000))),
]


def test_every_kind_survives_its_json_line():
    assert {type(e) for e in EVERY_KIND} == set(KINDS.values())
    for event in EVERY_KIND:
        line = encode(event)
        assert line.endswith("\n") and line.count("\n") == 1
        assert decode(line) == event


@pytest.mark.parametrize("line,message", [
    ('{"event": "ready", "time": 1.0}', "unknown event kind 'ready'; known: device, roofline"),
    ('{"time": 1.0}', "unknown event kind None"),
    ('{"event": ["point"]}', "unknown event kind ['point']"),
    ('{"event": "point", "prompt_len": 8, "status": "ok", "cold_ttft": 1.0}',
     "point: unknown field 'cold_ttft'; PointRecord has: prompt_len, status"),
    ('{"event": "point", "status": "ok"}', "point: missing field 'prompt_len' of PointRecord"),
    ('{"event": "point", "prompt_len": "8", "status": "ok"}', "point.prompt_len: expected int, got '8'"),
    ('{"event": "point", "prompt_len": true, "status": "ok"}', "point.prompt_len: expected int, got True"),
    ('{"event": "point", "prompt_len": 8, "status": "ok", "samples_ns": [1, "2"]}', "point.samples_ns[1]"),
    ('{"event": "strategy", "ready": 1.0}', "strategy: unknown field 'ready'"),
    ('{"event": "phase"}', "phase: missing field 'text'"),
    ('{"event": "load_level", "level": {"mode": "rate", "level": 1, "status": "ok", "planned": 1}, "rows": [{}]}',
     "load_level.rows[0]: missing field 'request' of LoadRow"),
    ('{"event": "load_level", "level": {"mode": "rate", "level": 1, "status": "ok", "planned": 1}, "rows": {}}',
     "load_level.rows: expected a list"),
    ("Traceback (most recent call last):", "not a JSON event"),
    ("[1, 2]", "not a JSON object"),
])
def test_anything_else_is_refused_in_one_line(line, message):
    with pytest.raises(EventError) as caught:
        decode(line)
    assert message in str(caught.value) and "\n" not in str(caught.value)


class Progress:
    def update(self, n):
        pass

    def set_postfix_str(self, text):
        pass


def test_a_worker_sending_an_unknown_kind_is_recorded_as_failed(monkeypatch, tmp_path):
    # the old worker's "ready" kind, then a point the runner must not file once the stream is untrusted
    worker = ("import json, os, sys; m = json.loads(sys.stdin.read()); out = os.fdopen(m['result_fd'], 'w'); "
              "out.write(json.dumps({'event': 'ready', 'time': 1.0}) + '\\n'); "
              "out.write(json.dumps({'event': 'point', 'prompt_len': 8, 'status': 'ok'}) + '\\n')")
    monkeypatch.setattr(runner, "WORKER_COMMAND", [sys.executable, "-c", worker])
    cfg = parse_config(tiny_raw())
    record = RunRecord.start(tmp_path, "tiny", cfg.raw, {})
    job = dataclasses.replace(build_job(cfg), run_folder=tmp_path)
    runner.run_strategy(job, record, Progress())
    stored = json.loads((tmp_path / "run.json").read_text())
    assert stored["strategies"]["baseline"]["status"] == "error"
    note = stored["strategies"]["baseline"]["note"]
    assert note.startswith("the worker sent an event the runner cannot read: unknown event kind 'ready'")
    assert [p["status"] for p in stored["points"]] == ["error", "error"]  # the later point was not filed as ok
