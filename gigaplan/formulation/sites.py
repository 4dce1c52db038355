"""A study's joint MILP: every site's model on one vector, the global rows, one objective.

The sites' variables are prefixed ``<site>/``; the study's capex cap and requirements apply to
the sum over sites (:data:`gigaplan.inputs.study.SUMMABLE`), and the objective is the sum of
the sites' objectives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gigaplan.formulation.build import build
from gigaplan.formulation.model import (
    INF,
    Layout,
    Model,
    Row,
    Separable,
    Subproblem,
    collector_paused,
    total,
)
from gigaplan.inputs.requirements import FIELDS, parse_requirement
from gigaplan.inputs.study import SUMMABLE, Study


@dataclass
class StudyModel:
    model: Model
    sites: list[Model]


@collector_paused()
def build_study(study: Study) -> StudyModel:
    """All sites on one vector, the global capex cap and requirements, the summed objective.

    Parameters
    ----------
    study : Study
        The bound study.

    Returns
    -------
    StudyModel
        The joint model and each site's own.

    References
    ----------
    docs/model.md, "Studies: several sites on one catalog".
    """
    layout = Layout()
    models = []
    for name, bound in zip(study.names, study.sites, strict=True):
        layout.prefix = f"{name}/"
        # without the fabric's valid inequalities: they did not shorten a 20-site study's
        # solve (44 s against 46 s of CPU at a 60 s limit, issue 17), and sites that tie on
        # every stage are split differently with them (tests/golden/three-sites.json)
        models.append(build(bound, layout, fabric_cuts=False))
    layout.prefix = ""
    sums = {field: total(model.fields[field] for model in models)
            for field in (*SUMMABLE, "cost.capex_usd", "power_mw.it")}
    first = models[0]
    combined = Model(bound=first.bound, layout=layout, fields=sums,
                     objective_unit=first.objective_unit, maximize=first.maximize)
    parts = []
    for name, model in zip(study.names, models, strict=True):
        combined.rack_vars.update({f"{name}/{k}": v for k, v in model.rack_vars.items()})
        combined.least.extend(model.least)
        start = len(combined.rows)
        for row in model.rows:
            combined.add_row(replace(row, name=f"{name}: {row.name}",
                                     group=f"sites.{name}: {row.group}" if row.group else ""))
        parts.append(Subproblem(1.0, model.objective, tuple(combined.rows[start:])))
    # the objective is the sites' sum: each site alone bounds its share (solve.subproblem_bounds)
    combined.separable = Separable.of(parts)
    combined.objective = combined.separable.total
    if study.capex_usd is not None:
        capex = sums["cost.capex_usd"]
        combined.add_row(Row("capex", "study capex (all sites)", capex, upper=study.capex_usd,
                             unit="USD", group="study.capex",
                             step=combined.compute_step(capex)))
    for text in study.requirements:
        requirement = parse_requirement(text)
        expr = sums[requirement.field]
        lower = requirement.value if requirement.op in (">=", "==") else -INF
        upper = requirement.value if requirement.op in ("<=", "==") else INF
        combined.add_row(Row("requirement", f"study: {text}", expr, lower=lower, upper=upper,
                             unit=FIELDS[requirement.field][1], group=f"study: {text}",
                             step=combined.compute_step(expr)))
    return StudyModel(combined, models)
