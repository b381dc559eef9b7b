"""Command line: run a sweep, rebuild reports, compare runs, serve a strategy, list strategies.

    ttft-bench run configs/default.yaml [--out DIR] [--set key.path=value ...] [--strategies a b]
                   [--lengths 10 50] [--repeats N] [--resume | --resume-anyway | --overwrite]
                   [--tag k=v] [--points]
    ttft-bench report results/default             # or: report --all results
    ttft-bench compare results/a results/b [--out DIR] [--level 0.95] [--fail-if-slower PCT]
    ttft-bench serve --config CONFIG --strategy NAME --socket PATH   # or --job FILE instead of both
                   [--max-batch N] [--max-wait-us U]   # answer the requests waiting at once in one forward
    ttft-bench strategies
    ttft-bench --version

From a clone, `python -m bench` instead of `ttft-bench`. This module imports nothing heavy: each
command imports what it needs, and `run` validates its config before torch or transformers load.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from bench.config.errors import ConfigError
from bench.processes.stop_signals import StopSignals
from bench.serving.batching import Batching
from bench.serving.limits import BACKLOG, MAX_CONNECTIONS, STALL_TIMEOUT_S, ServerLimits
from bench.serving.protocol import MAX_MESSAGE_BYTES

EXIT_FAILED = 1  # the run ended, but did not measure what it set out to (the last line says why)
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT
EXIT_REGRESSION = 1  # compare --fail-if-slower: a significant slowdown beyond the threshold
INSTALLED_NAME = "ttft-bench"  # the console script pyproject.toml installs; `python -m bench` passes its own

EXAMPLES = (  # (the arguments, what they do) under `--help`, after the program's name
    ("run configs/default.yaml", "the default sweep, into results/default/"),
    ("run configs/default.yaml --set measure.repeats=50 --set prompts.lengths=[10,100]", "config keys changed"),
    ("run configs/h100-llama2-7b.yaml --strategies jit+cuda --set strategies.jit+cuda.options.max_graphs=8",
     "one strategy, one of its options"),
    ("run configs/default.yaml --resume", "finish an interrupted run in its folder"),
    ("report results/default", "rebuild table.md and plots/ from the raw results; print the verdict"),
    ("compare results/a results/b --fail-if-slower 5", "exit 1 on a significant slowdown beyond 5%"),
    ("strategies", "which strategies run on this machine"),
)
SET_HELP = ("change a config key before validation, as if the file said it (repeatable); the value is YAML: "
            "measure.repeats=50, prompts.lengths=[10,20], model.seed=1; a strategy's option by its name: "
            "strategies.jit+cuda.options.max_graphs=8 (the strategy must be listed: see --strategies)")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line ('error: ...', exit 2) like every other refusal."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see --help)\n")


class VersionAction(argparse.Action):
    """--version: computed when asked (it runs git), not whenever the parser is built."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the package version and git commit, then exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from bench.version import version_line

        print(version_line())
        parser.exit(0)


def cmd_run(args) -> int:
    # `timeout` and job schedulers stop with SIGTERM: keep what was measured, as on Ctrl-C. SIGINT too,
    # explicitly: a shell starts background jobs with SIGINT ignored, and Python keeps that. Installed
    # first, so a signal during the imports below is the same one line; never restored: once the run has
    # measured, a signal waits for its report and verdict, and the command exits by itself right after.
    stops = StopSignals().install()
    from bench.config.schema import load_config

    cfg = load_config(args.config, run_overrides(args))  # before torch loads: a refusal takes a fraction of a second
    from bench.jobs.build import build_job
    from bench.running.runner import run

    job = build_job(cfg)  # every check that needs the model's config, before anything runs
    try:
        outcome = run(job, resume=args.resume or args.resume_anyway, overwrite=args.overwrite,
                      accept_environment=args.resume_anyway, stops=stops)
    except KeyboardInterrupt:
        print(f"\ninterrupted: what was measured is kept in {job.run_folder}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.summary is not None:
        print_summary(job.run_folder, outcome.summary, args.points)
    if stops.noted:
        print(f"note: {' and '.join(dict.fromkeys(stops.noted))} came after the last measurement: the run's "
              f"status, report and verdict were written first", file=sys.stderr)
    if outcome.failure:
        sys.stdout.flush()  # the reason is the last line, after the summary
        print(f"error: run failed: {outcome.failure}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def run_overrides(args):
    """The run's flags as config overrides: --set in order, then the shorthands --lengths, --repeats, --tag."""
    from bench.config.overrides import Overrides, parse_setting

    settings = [parse_setting(text) for text in args.set or ()]
    if args.lengths:
        settings.append((("prompts", "lengths"), list(args.lengths)))
    if args.repeats is not None:
        settings.append((("measure", "repeats"), args.repeats))
    settings += [(("tags", key), value) for key, value in parse_tags(args.tag).items()]
    return Overrides(tuple(settings), tuple(args.strategies or ()), args.out)


def print_summary(out_dir: Path, df, points: bool = False, shown_as: Path | None = None) -> None:
    """The verdict on stdout (after the per-point table, with `points`), then where the files are (named
    `shown_as` where the folder read is a copy, as the docs' sample is)."""
    import pandas as pd

    from bench.reporting.compare import load_run_samples
    from bench.reporting.console import console_table, console_verdict
    from bench.reporting.console_load import load_verdict
    from bench.reporting.load_io import LOAD_KEY, has_load
    from bench.reporting.load_summary import LOAD_SUMMARY_FILE

    if points:
        print(console_table(df) + "\n")
    measured = load_run_samples(out_dir)
    print(console_verdict(measured.run, df, measured.samples))
    loaded = has_load(measured.run)
    if loaded:
        print(load_verdict(pd.read_csv(out_dir / LOAD_SUMMARY_FILE), measured.run[LOAD_KEY]["slo_ttft_ms"]))
    every_point = "" if points else "; every point: --points, or table.md"
    load_file = f", {LOAD_SUMMARY_FILE}" if loaded else ""
    print(f"results: {shown_as or out_dir}/ (summary.csv, summary.json, table.md{load_file}, plots/){every_point}")


def cmd_report(args) -> int:
    from bench.reporting.report import write_reports

    folders = sorted(p.parent for p in Path(args.dir).glob("*/run.json")) if args.all else [Path(args.dir)]
    if not folders:
        raise ConfigError(f"{args.dir}: no run folders (*/run.json) found")
    summaries, failures = write_reports(folders)  # every folder is tried, then every failure named
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    if len(failures) > 1:
        print(f"error: {len(failures)} of {len(folders)} run folders could not be reported", file=sys.stderr)
    if not args.all and summaries:
        print_summary(folders[0], summaries[folders[0]], args.points)
    return EXIT_BAD_INPUT if failures else 0


def cmd_compare(args) -> int:
    from bench.reporting.compare import compare_markdown, compare_runs, load_run_samples, regressions, write_compare
    from bench.reporting.stats import DEFAULT_LEVEL
    from bench.reporting.load_compare import compare_load, load_compare_markdown, write_load_compare
    from bench.reporting.report import FLOAT_FORMAT

    level = DEFAULT_LEVEL if args.level is None else args.level
    if len(args.runs) < 2:
        raise ConfigError("compare: give at least two run folders (the first is the reference)")
    if not 0 < level < 1:
        raise ConfigError(f"--level: expected a confidence level in (0, 1), got {level}")
    slower = args.fail_if_slower
    if slower is not None and not (math.isfinite(slower) and slower >= 0):  # nan and inf would turn the check off
        raise ConfigError(f"--fail-if-slower: expected a finite percentage >= 0, got {slower}")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ConfigError(f"--out: {args.out} is an existing file, not a folder")
    try:
        runs = [load_run_samples(Path(folder)) for folder in args.runs]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        df, load_df = compare_runs(runs, level), compare_load(runs, level)
    except ValueError as exc:  # a run's load rows that do not check out
        raise ConfigError(str(exc)) from None
    text = compare_markdown(runs, df, level) + load_compare_markdown(runs, load_df, level)
    print(text, end="")
    if args.out:
        try:
            write_compare(Path(args.out), runs, df, text)
            write_load_compare(Path(args.out), load_df, FLOAT_FORMAT)
        except OSError as exc:
            raise ConfigError(f"--out: cannot write {args.out} ({exc.strerror or exc})") from None
        load_file = ", compare_load.csv" if len(load_df) else ""
        print(f"written: {args.out}/ (compare.md, compare.csv, compare.png{load_file})")
    if slower is not None:
        found = regressions(df, slower)
        for r in found.itertuples():
            print(f"regression: {r.run} {r.strategy} @ {r.prompt_len}: x{r.ratio:.3f} "
                  f"({r.ci_low:.3f}-{r.ci_high:.3f}), over {slower:g}%", file=sys.stderr)
        if len(found):
            return EXIT_REGRESSION
    return 0


def parse_tags(items: list[str] | None) -> dict[str, str]:
    """--tag key=value flags as a mapping; a flag without '=' or with an empty key is an error."""
    tags = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--tag: expected key=value, got {item!r}")
        tags[key.strip()] = value
    return tags


def cmd_serve(args) -> int:
    limits = ServerLimits(args.max_message, args.stall_timeout, args.max_connections, args.backlog)  # before any load
    batching = Batching(args.max_batch, args.max_wait_us)
    from bench.serving.serve_command import job_from_config, job_from_file, serve

    if args.job is not None:
        job = job_from_file(args.job)
    elif args.config is None or args.strategy is None:
        raise ConfigError("serve: give --config and --strategy (or --job)")
    else:
        job = job_from_config(args.config, args.strategy)
    return serve(job, args.socket, limits, batching)


def cmd_strategies(args) -> int:
    from bench.models.build import resolve_device
    from strategies.registry import REGISTRY

    device = resolve_device("auto")
    for name, cls in REGISTRY.items():
        reason = cls.unavailable_reason(device)
        where = f"available on {device.type}" if reason is None else f"unavailable: {reason}"
        print(f"{name:14s} {cls.summary} [{where}]")
    return 0


def add_run(sub) -> None:
    r = sub.add_parser("run", help="run a sweep from a YAML config")
    r.add_argument("config")
    r.add_argument("--out", help="the run folder (default: <output>/<name> from the config)")
    r.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help=SET_HELP)
    r.add_argument("--strategies", nargs="+", help="run only these strategies, with the config's options "
                                                   "(baseline is always added)")
    r.add_argument("--lengths", nargs="+", type=int, help="prompt lengths instead of the config's "
                                                          "(as --set prompts.lengths=[...])")
    r.add_argument("--repeats", type=int, help="timed requests per length (as --set measure.repeats=N)")
    folder = r.add_mutually_exclusive_group()  # continuing a run and replacing it contradict each other
    folder.add_argument("--resume", action="store_true",
                        help="continue an interrupted run in its folder: strategies it finished are kept, the "
                             "rest run again (same config, flags included, and environment required)")
    folder.add_argument("--resume-anyway", action="store_true",
                        help="--resume on a changed environment (commit, uncommitted edits, torch, transformers, "
                             "GPU, driver): each change is recorded in run.json and table.md")
    folder.add_argument("--overwrite", action="store_true",
                        help="replace the run the folder holds (without it, a run refuses an occupied folder)")
    r.add_argument("--tag", action="append", metavar="KEY=VALUE",
                   help="a label stored in run.json's config.tags (repeatable), e.g. --tag driver=new")
    r.add_argument("--points", action="store_true", help="print the per-point table before the verdict")
    r.set_defaults(func=cmd_run)


def add_serve(sub) -> None:
    sv = sub.add_parser("serve", help="serve one strategy over a Unix socket (the generator; see ARCHITECTURE.md)")
    sv.add_argument("--config")
    sv.add_argument("--strategy")
    sv.add_argument("--job", help="a job record file (what the ipc transport passes) instead of --config/--strategy")
    sv.add_argument("--socket", required=True, help="socket path, in a directory only you can enter")
    sv.add_argument("--max-message", type=int, default=MAX_MESSAGE_BYTES, help="largest request in bytes")
    sv.add_argument("--stall-timeout", type=float, default=STALL_TIMEOUT_S,
                    help=f"seconds from a message's first byte to its last (default {STALL_TIMEOUT_S:g})")
    sv.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                    help=f"concurrent connections served; more are refused with a message (default {MAX_CONNECTIONS})")
    sv.add_argument("--backlog", type=int, default=BACKLOG,
                    help=f"connects queued before the server accepts them (default {BACKLOG})")
    sv.add_argument("--max-batch", type=int, default=Batching().max_batch,
                    help="requests answered by one forward: the first waiting one and those queued behind it "
                         "(default 1: one at a time)")
    sv.add_argument("--max-wait-us", type=int, default=Batching().max_wait_us,
                    help="once a request is taken, microseconds to wait for more while the batch has room "
                         "(default 0: only those already waiting)")
    sv.set_defaults(func=cmd_serve)


def parser(prog: str = INSTALLED_NAME) -> argparse.ArgumentParser:
    examples = "examples:\n" + "".join(f"  {prog} {args}\n      {what}\n" for args, what in EXAMPLES)
    p = OneLineParser(prog=prog, description="TTFT benchmark of inference strategies", epilog=examples,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=VersionAction)
    sub = p.add_subparsers(dest="command", required=True)
    add_run(sub)
    rep = sub.add_parser("report", help="rebuild summary.csv, table.md and plots from raw results")
    rep.add_argument("dir")
    rep.add_argument("--all", action="store_true", help="DIR holds run folders: rebuild each")
    rep.add_argument("--points", action="store_true", help="print the per-point table before the verdict")
    rep.set_defaults(func=cmd_report)
    c = sub.add_parser("compare", help="compare runs: ratio of median TTFTs with bootstrap intervals and verdicts")
    c.add_argument("runs", nargs="+", help="run folders; the first is the reference")
    c.add_argument("--out", help="write compare.md, compare.csv and compare.png in this folder")
    c.add_argument("--level", type=float, help="confidence level (default 0.95)")
    c.add_argument("--fail-if-slower", type=float, metavar="PCT",
                   help="exit 1 when a difference is significant and slower by more than PCT percent (>= 0)")
    c.set_defaults(func=cmd_compare)
    add_serve(sub)
    s = sub.add_parser("strategies", help="list registered strategies and whether they run here")
    s.set_defaults(func=cmd_strategies)
    return p


def main(argv: list[str] | None = None, prog: str = INSTALLED_NAME) -> int:
    """Run one command; a refusal is one line and exit 2, an interruption one line and exit 130."""
    try:
        args = parser(prog).parse_args(argv)
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # before a run has a folder (during the imports), or in report, compare
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader left (`... | head`): nothing to say to it, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return EXIT_FAILED
