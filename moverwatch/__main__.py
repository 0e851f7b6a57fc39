"""`python -m moverwatch` runs the CLI."""

from moverwatch.cli import main

main()
