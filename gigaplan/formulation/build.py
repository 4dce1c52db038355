"""One site's whole MILP: every constraint family in order, on one layout.

The blocks are :mod:`gigaplan.formulation.constraints` and
:mod:`gigaplan.formulation.economics`; the order matters where a block reads fields an
earlier one defined (capex reads IT power, economics reads capex).
"""

from __future__ import annotations

from gigaplan.formulation import constraints, economics, networks
from gigaplan.formulation.model import Layout, Model, SiteParts
from gigaplan.inputs.site import BoundSite


def build(bound: BoundSite, layout: Layout | None = None, *,
          fabric_cuts: bool = True) -> Model:
    """The whole MILP of ``bound``: variables, every constraint family, result fields.

    Parameters
    ----------
    bound
        The site bound to its catalog.
    layout
        An existing vector the variables join (one phase or site of many); None starts one.
    fabric_cuts
        Add the fabric's valid inequalities (:func:`gigaplan.formulation.fabric.define_tree`).

    Returns
    -------
    Model
        The rows, the result fields as linear expressions, the objective and the typed
        parts the blocks returned (``Model.parts``).

    References
    ----------
    docs/model.md, one section per ``define_*`` block.
    """
    model = Model(bound=bound, layout=layout if layout is not None else Layout(),
                  fabric_cuts=fabric_cuts)
    compute = constraints.define_compute(model)
    cpu = constraints.define_cpu_pool(model, compute)
    storage = constraints.define_storage(model, compute)
    fabric = constraints.define_fabric(model)
    auxiliary = networks.define_auxiliary_networks(model, compute)
    power = constraints.define_power(model, compute)
    constraints.define_space(model)
    constraints.define_cooling(model, compute.liquid_kw + cpu.liquid_kw + storage.liquid_kw
                              + fabric.liquid_kw + auxiliary.liquid_kw)
    constraints.define_capex(model)
    economics.define_workload(model)
    economics.define_economics(model)
    economics.define_energy(model)
    constraints.define_sku_limits(model)
    constraints.define_requirements(model)
    constraints.define_objective(model)
    model.parts = SiteParts(compute, cpu, storage, fabric, power)
    return model
