import sys

from bench.processes.startup import start_process

start_process()  # before bench.cli's imports: a server started by an ipc worker dies with it, even while importing

from bench.cli import main  # noqa: E402 (after the startup step, on purpose)

sys.exit(main())
