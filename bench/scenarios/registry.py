"""Every scenario by the name a job gives (bench.jobs.job: SWEEP, RESTART, LOAD)."""
from __future__ import annotations

from bench.scenarios.base import Scenario
from bench.scenarios.load import LoadScenario
from bench.scenarios.restart import RestartScenario
from bench.scenarios.sweep import SweepScenario

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (SweepScenario(), RestartScenario(), LoadScenario())}
