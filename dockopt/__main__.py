"""`python -m dockopt` runs the command line."""

from dockopt.cli import app

app(prog_name="dockopt")
