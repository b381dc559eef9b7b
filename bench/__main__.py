import sys

from bench.processes.startup import start_process

start_process()  # before bench.cli imports anything: a server dies with its ipc worker even while importing

from bench.cli import main  # noqa: E402 (after the startup step, on purpose)

sys.exit(main())
