"""``python -m gigaplan``."""

from gigaplan.cli import main

main()
