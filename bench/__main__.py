"""`python -m bench`: the command line (bench.cli), under the name it was run by."""
import sys

from bench.processes.startup import start_process

start_process()  # before bench.cli imports anything: a server dies with its ipc worker even while importing

try:
    from bench.cli import main  # noqa: E402 (after the startup step, on purpose)
except KeyboardInterrupt:  # Ctrl-C while the command line itself loads: one line, as in every later phase
    print("interrupted", file=sys.stderr)
    sys.exit(130)  # bench.cli.EXIT_INTERRUPTED, which did not finish loading

sys.exit(main(prog="python -m bench"))
