"""`python -m moverwatch` runs the CLI."""

from moverwatch.cli import main

# Guarded: the parse pool's spawned workers import the main module and must not start the CLI again.
if __name__ == "__main__":
    main()
