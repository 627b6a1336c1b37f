"""Entry point of the CLI: ``taskrunner ...`` (or ``python starter.py ...``)."""

from taskrunner.cli import main

if __name__ == "__main__":
    main()
