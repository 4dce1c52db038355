"""The Typer app: the only package that prints, reads the environment or exits.

``app.py`` holds the app, error mapping, output helpers and shared options; each other module
registers one family of commands on it. Commands import the core lazily, so ``--help`` and
``catalog`` never import numpy or scipy.
"""

from gigaplan.cli import analysis, automation, catalog, planning, report
from gigaplan.cli.app import app, catalog_app, main

__all__ = ["analysis", "app", "automation", "catalog", "catalog_app", "main", "planning",
           "report"]
