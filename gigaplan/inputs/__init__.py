"""Inputs: units, the catalog, sites, requirements, distributions, scenarios and study files.

Strict, immutable pydantic models and the ``bind`` step that resolves a site against a
catalog. Nothing here builds or solves a model. Importing the package imports no submodule,
so ``catalog list`` can read the precompiled bundled catalog without pydantic.
"""
