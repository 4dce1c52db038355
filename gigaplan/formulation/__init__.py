"""Formulation: the MILP of a bound site as named blocks on one flat vector.

:mod:`~gigaplan.formulation.model` holds ``Layout``, ``Expr``, ``Row`` and ``Model``; one
``define_*`` per constraint family lives in :mod:`~gigaplan.formulation.constraints` and
:mod:`~gigaplan.formulation.economics`; :mod:`~gigaplan.formulation.build` assembles them for
one site, :mod:`~gigaplan.formulation.phases` for a site's phases and
:mod:`~gigaplan.formulation.sites` for a study of several sites. Pure Python: no numpy.
"""
