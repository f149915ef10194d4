"""``python -m rnntag`` runs the command-line interface."""

from rnntag.cli import main

if __name__ == "__main__":
    main()
