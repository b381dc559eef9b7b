"""Command line: run a sweep, rebuild reports, list strategies.

    python -m bench run configs/default.yaml [--out DIR] [--strategies a b] [--lengths 10 50] [--repeats N]
                        [--resume | --overwrite] [--tag k=v]
    python -m bench report results/default        # or: report --all results
    python -m bench compare results/a results/b [--out DIR] [--level 0.95] [--fail-if-slower PCT]
    python -m bench serve --config CONFIG --strategy NAME --socket PATH   # or --job FILE instead of both
    python -m bench strategies
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from bench.config.errors import ConfigError
from bench.reporting.stats import DEFAULT_LEVEL
from bench.serving.limits import BACKLOG, MAX_CONNECTIONS, STALL_TIMEOUT_S, ServerLimits
from bench.serving.protocol import MAX_MESSAGE_BYTES

EXIT_FAILED = 1  # the run ended, but did not measure what it set out to (the last line says why)
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT
EXIT_REGRESSION = 1  # compare --fail-if-slower: a significant slowdown beyond the threshold


def cmd_run(args) -> int:
    from bench.config.schema import load_config, with_overrides
    from bench.jobs.build import build_job
    from bench.running.runner import run

    cfg = load_config(args.config)
    cfg = with_overrides(cfg, args.strategies, args.lengths, args.out, args.repeats, parse_tags(args.tag))
    job = build_job(cfg)  # every check that needs the model's config, before anything runs
    # `timeout` and job schedulers stop with SIGTERM: keep what was measured, as on Ctrl-C.
    # SIGINT too, explicitly: a shell starts background jobs with SIGINT ignored, and Python keeps that
    signal.signal(signal.SIGTERM, raise_interrupt)
    signal.signal(signal.SIGINT, raise_interrupt)
    try:
        outcome = run(job, resume=args.resume, overwrite=args.overwrite)
    except KeyboardInterrupt:
        print(f"\ninterrupted: what was measured is kept in {job.run_folder}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.summary is not None:
        print_summary(job.run_folder, outcome.summary)
    if outcome.failure:
        sys.stdout.flush()  # the reason is the last line, after the summary
        print(f"error: run failed: {outcome.failure}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def raise_interrupt(*_) -> None:
    raise KeyboardInterrupt


def print_summary(out_dir: Path, df) -> None:
    """The summary's main columns on stdout, its stability warnings on stderr."""
    from bench.reporting.console import console_table, console_warnings

    print(console_table(df))
    for line in console_warnings(df):
        print(line, file=sys.stderr)
    print(f"results: {out_dir}/ (summary.csv, summary.json, table.md, plots/)")


def cmd_report(args) -> int:
    from bench.reporting.report import write_reports

    folders = sorted(p.parent for p in Path(args.dir).glob("*/run.json")) if args.all else [Path(args.dir)]
    if not folders:
        raise ConfigError(f"{args.dir}: no run folders (*/run.json) found")
    failures = write_reports(folders)  # every folder is tried, then every failure named
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    if len(failures) > 1:
        print(f"error: {len(failures)} of {len(folders)} run folders could not be reported", file=sys.stderr)
    return EXIT_BAD_INPUT if failures else 0


def cmd_compare(args) -> int:
    from bench.reporting.compare import compare_markdown, compare_runs, load_run_samples, regressions, write_compare
    from bench.reporting.load_compare import compare_load, load_compare_markdown, write_load_compare
    from bench.reporting.report import FLOAT_FORMAT

    if len(args.runs) < 2:
        raise ConfigError("compare: give at least two run folders (the first is the reference)")
    if not 0 < args.level < 1:
        raise ConfigError(f"--level: expected a confidence level in (0, 1), got {args.level}")
    try:
        runs = [load_run_samples(Path(folder)) for folder in args.runs]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        df, load_df = compare_runs(runs, args.level), compare_load(runs, args.level)
    except ValueError as exc:  # a run's load rows that do not check out
        raise ConfigError(str(exc)) from None
    text = compare_markdown(runs, df, args.level) + load_compare_markdown(runs, load_df, args.level)
    print(text, end="")
    if args.out:
        write_compare(Path(args.out), runs, df, text)
        write_load_compare(Path(args.out), load_df, FLOAT_FORMAT)
        load_file = ", compare_load.csv" if len(load_df) else ""
        print(f"written: {args.out}/ (compare.md, compare.csv, compare.png{load_file})")
    if args.fail_if_slower is not None:
        slower = regressions(df, args.fail_if_slower)
        for r in slower.itertuples():
            print(f"regression: {r.run} {r.strategy} @ {r.prompt_len}: x{r.ratio:.3f} "
                  f"({r.ci_low:.3f}-{r.ci_high:.3f}), over {args.fail_if_slower:g}%", file=sys.stderr)
        if len(slower):
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
    from bench.serving.serve_command import job_from_config, job_from_file, serve

    if args.job is not None:
        job = job_from_file(args.job)
    elif args.config is None or args.strategy is None:
        raise ConfigError("serve: give --config and --strategy (or --job)")
    else:
        job = job_from_config(args.config, args.strategy)
    return serve(job, args.socket, limits)


def cmd_strategies(args) -> int:
    from bench.models.build import resolve_device
    from strategies.registry import REGISTRY

    device = resolve_device("auto")
    for name, cls in REGISTRY.items():
        reason = cls.unavailable_reason(device)
        where = f"available on {device.type}" if reason is None else f"unavailable: {reason}"
        print(f"{name:14s} {cls.summary} [{where}]")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="TTFT benchmark of inference strategies")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a sweep from a YAML config")
    r.add_argument("config")
    r.add_argument("--out", help="the run folder (default: <output>/<name> from the config)")
    r.add_argument("--strategies", nargs="+", help="run only these strategies (baseline is always added)")
    r.add_argument("--lengths", nargs="+", type=int, help="prompt lengths instead of the config's")
    r.add_argument("--repeats", type=int, help="timed requests per length instead of the config's")
    r.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in its folder: strategies it finished are kept, the "
                        "rest run again (same config and environment required)")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the run the folder holds (without it, a run refuses an occupied folder)")
    r.add_argument("--tag", action="append", metavar="KEY=VALUE",
                   help="a label stored in run.json's config.tags (repeatable), e.g. --tag driver=new")
    r.set_defaults(func=cmd_run)
    rep = sub.add_parser("report", help="rebuild summary.csv, table.md and plots from raw results")
    rep.add_argument("dir")
    rep.add_argument("--all", action="store_true", help="DIR holds run folders: rebuild each")
    rep.set_defaults(func=cmd_report)
    c = sub.add_parser("compare", help="compare runs: ratio of median TTFTs with bootstrap intervals and verdicts")
    c.add_argument("runs", nargs="+", help="run folders; the first is the reference")
    c.add_argument("--out", help="write compare.md, compare.csv and compare.png here")
    c.add_argument("--level", type=float, default=DEFAULT_LEVEL, help="confidence level (default 0.95)")
    c.add_argument("--fail-if-slower", type=float, metavar="PCT",
                   help="exit 1 when a difference is significant and slower by more than PCT percent")
    c.set_defaults(func=cmd_compare)
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
    sv.set_defaults(func=cmd_serve)
    s = sub.add_parser("strategies", help="list registered strategies and whether they run here")
    s.set_defaults(func=cmd_strategies)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
