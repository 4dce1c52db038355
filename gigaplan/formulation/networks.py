"""The auxiliary networks beside the compute fabric: front-end, storage and management.

Each is a line sized per GPU with a sourced ratio (docs/model.md, "Auxiliary networks"):

- front-end (north-south, CPU-converged): ``network.frontend_gbps_per_gpu`` = 200 Gb/s, NVIDIA's
  NVL72 Enterprise RA (2 × 400 Gb/s per 4-GPU compute tray);
- storage: ``network.storage_gbps_per_gpu`` = 12.5 Gb/s, the same RA's storage sizing signal;
- out-of-band management: one ``network.management_switch`` (SN2201, 48 × 1G) per
  ``network.gpus_per_management_switch`` = 36 GPUs, the NVL72 RA's two per rack, for racks
  that carry none; a rack with ``management_switch_count`` in-rack switches (NVL72: two,
  fed from its busbar) brings its own, whose power is inside the rack's and which take no
  network rack space: they are counted and priced, never powered twice.

A front-end or storage network of ``E = GPUs·g ÷ r`` endpoint ports (``g`` Gb/s per GPU on
ports of ``r`` Gb/s) is a non-blocking two-tier leaf/spine tree of radix ``k``: ``2E/k`` leaves
and ``E/k`` spines, so its switches ``S`` satisfy ``k·S ≥ 3E``. These switches are sized with
their optics, so each draws ``power_max_w`` (the datasheet maximum with optics in every cage;
``power_w`` when none is given). DPUs and NICs sit in the compute racks and draw from them;
their count is reported (``network.dpus``), their power and price are the rack's.
"""

from __future__ import annotations

import math

from gigaplan.formulation.model import AuxiliaryParts, ComputeParts, Expr, Model, Row, total


def define_auxiliary_networks(model: Model, compute: ComputeParts) -> AuxiliaryParts:
    """Switches of the front-end, storage and management networks, their power and capex.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.
    compute : ComputeParts
        What :func:`~gigaplan.formulation.constraints.define_compute` returned.

    Returns
    -------
    AuxiliaryParts
        The auxiliary switches' heat that goes to the liquid loop [kW].

    References
    ----------
    docs/model.md, "Auxiliary networks".
    """
    bound, fields, layout = model.bound, model.fields, model.layout
    network = bound.site.network
    gpus, gpus_max = fields["totals.gpus"], compute.gpus_max
    lines = (("frontend", bound.frontend_switch, network.frontend_gbps_per_gpu, "Gb/s"),
             ("storage", bound.storage_switch, network.storage_gbps_per_gpu, "Gb/s"),
             ("management", bound.management_switch, network.gpus_per_management_switch, "GPUs"))
    power_kw, capex, height_u = Expr(), Expr(), Expr()
    powered: list = []  # (switch, count outside the compute racks): what draws network power
    height_max = 0.0
    for name, switch, ratio, _ in lines:
        key = f"network.{name}_switches"
        if switch is None or ratio <= 0:
            fields[key] = Expr()
            continue
        in_rack = Expr()
        if name == "management":
            per_switch = ratio  # GPUs one switch serves, in racks that carry none
            in_rack = total(sku.management_switch_count * model.rack_vars[sku.id]
                            for sku in bound.compute if sku.management_switch_count)
            outside = total(sku.gpu_count * model.rack_vars[sku.id] for sku in bound.compute
                            if not sku.management_switch_count)
            need, need_max = outside / per_switch, gpus_max / per_switch
        else:
            radix = switch.port_count  # ports at the switch's own speed
            need = 3 * ratio / switch.port_gbps / radix * gpus
            need_max = 3 * ratio / switch.port_gbps / radix * gpus_max
        upper = math.ceil(need_max + 1e-9) + 1
        (count,) = layout.add(f"aux-{name}-switches", upper=upper)
        powered.append((switch, count))
        model.add_row(Row(f"aux-{name}", f"{name} network switches", count - need, lower=0.0,
                          unit="switches", report=False))
        fields[key] = count + in_rack
        power_kw = power_kw + switch.power_with_optics_w / 1000 * count
        capex = capex + switch.price_usd * (count + in_rack)
        height_u = height_u + switch.height_u * count
        height_max += switch.height_u * upper
    rack_u = network.rack_u
    if height_max > 0:
        (racks,) = layout.add("aux-network-rack-count", upper=math.ceil(height_max / rack_u))
        model.add_row(Row("aux-network-racks", "auxiliary network rack units",
                          rack_u * racks - height_u, lower=0.0, upper=float(rack_u - 1),
                          unit="U", report=False))
    else:
        racks = Expr()
    fields["network.auxiliary_switches"] = total(fields[f"network.{name}_switches"]
                                                 for name, *_ in lines)
    fields["network.auxiliary_racks"] = racks
    fields["network.auxiliary_power_kw"] = power_kw
    fields["power_mw.auxiliary_networks"] = power_kw / 1000
    fields["cost.capex_breakdown_usd.auxiliary_networks"] = capex
    return AuxiliaryParts(liquid_kw=total(
        switch.liquid_frac * switch.power_with_optics_w / 1000 * count
        for switch, count in powered))
