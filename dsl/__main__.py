"""`python -m dsl` runs the kdsl command line."""

from .cli import run

run()
