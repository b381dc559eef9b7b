"""`python -m bench`: the command line (bench.cli), under the name it was run by."""
import sys

try:
    from bench.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line itself loads: one line, as in every later phase
    print("interrupted", file=sys.stderr)
    sys.exit(130)  # bench.cli.EXIT_INTERRUPTED, which did not finish loading

sys.exit(main(prog="python -m bench"))
