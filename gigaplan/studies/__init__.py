"""Studies: many plans, one question (batch, sweep, montecarlo, explain, diff, check).

Each study plans through :mod:`gigaplan.planner` and runs its plans on
:mod:`~gigaplan.studies.executors`; none prints or renders.
"""
