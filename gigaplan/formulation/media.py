"""The link ends of the compute fabric, tier by tier: modules, cable ends or co-packaged optics.

A fat tree has three tiers of links: ``nic-leaf`` (one per endpoint port, ``E``), ``leaf-spine``
(``u·L``, leaf up-ports) and, in three tiers, ``spine-core`` (``(k/2)·A``, aggregation
up-ports). The site's bound :class:`~gigaplan.inputs.site.TierMedia` names the unit at each
end of a tier's links: an optical module (``network.optic``), a copper or AEC cable end where
the reach allows, or nothing at the switch end of a co-packaged-optics switch. Every count is
linear in the tree's link expressions, so the model stays exact. Formulas: docs/model.md,
"Link media".
"""

from __future__ import annotations

import math

from gigaplan.formulation.model import Expr, FabricTree, MediaLine, Model, Row, total

TIERS = ("nic-leaf", "leaf-spine", "spine-core")


def tier_links(tree: FabricTree, tier: str, upper: list[float]) -> tuple[Expr, float, float]:
    """One tree's links of ``tier`` per plane, their most, and links per endpoint at the margin.

    Parameters
    ----------
    tree : FabricTree
        One group's fat tree.
    tier : str
        ``nic-leaf``, ``leaf-spine`` or ``spine-core``.
    upper : list of float
        The variables' upper bounds (:attr:`Layout.upper`).

    Returns
    -------
    tuple of (Expr, float, float)
        The links [count per plane], their upper bound, and links per endpoint port.
    """
    up, down = tree.group.up, tree.group.down
    up_links = up * tree.leaf
    up_max = up_links.value(upper)
    if tier == "nic-leaf":
        return tree.endpoints, tree.endpoints_max, 1.0
    if tier == "leaf-spine":
        return up_links, up_max, up / down
    core = tree.links - tree.endpoints - up_links
    return core, max(tree.links_max - tree.endpoints_max - up_max, 0.0), max(
        tree.links_per_endpoint - 1.0 - up / down, 0.0)


def define_media(model: Model, trees: tuple[FabricTree, ...] | list[FabricTree]
                 ) -> tuple[MediaLine, ...]:
    """Modules and cable ends per tier, their power and capex; sets ``network.optics`` and the
    ``optics`` capex line.

    For tier ``t`` with unit ``m`` at the switch ends (``e_t`` = 1 on ``nic-leaf``, 2 above):

    - switch ends: ``U_t ≥ Σ_g e_t·p·links_{t,g} ÷ ends_m(r_g)``, none for co-packaged optics;
    - NIC ends (``nic-leaf``): ``N ≥ Σ_g p·E_g ÷ ends_n(r_g)``;
    - ``ends_m(r) = port_end_count·max(1, ⌊gbps_per_end ÷ r⌋)``: a split unit serves every
      slower end;
    - power: ``Σ_t U_t·P_m`` is the network's; ``N·P_n`` is inside the compute racks (NICs
      and their modules are fed from the rack's shelves) and only reported;
    - capex: ``Σ_t (U_t·price_m) + N·price_n``.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.
    trees : sequence of FabricTree
        The fabric's trees (:func:`~gigaplan.formulation.fabric.define_tree`).

    Returns
    -------
    tuple of MediaLine
        One line per tier that has links in some tree.

    References
    ----------
    docs/model.md, "Link media"; NVIDIA LinkX 100G-PAM4 overview (power and reach per end).
    """
    bound, layout, fields = model.bound, model.layout, model.fields
    planes = bound.site.network.planes
    upper = layout.upper
    three = any(tier_links(tree, "spine-core", upper)[1] > 0 for tree in trees)
    lines = []
    for media in bound.media:
        if media.tier == "spine-core" and not three:
            continue
        links = total(planes * tier_links(tree, media.tier, upper)[0] for tree in trees)
        counted = Expr()
        units = {}
        for end, unit, per_link in (("switch", media.switch_end,
                                     1 if media.tier == "nic-leaf" else 2),
                                    ("nic", media.nic_end, 1)):
            if unit is None:
                units[end] = Expr()
                continue
            share = {id(tree): per_link * planes / unit.ends_at(tree.group.rate_gbps)
                     for tree in trees}
            need = total(share[id(tree)] * tier_links(tree, media.tier, upper)[0]
                         for tree in trees)
            most = math.ceil(sum(share[id(tree)] * tier_links(tree, media.tier, upper)[1]
                                 for tree in trees) - 1e-9) + 1
            (count,) = layout.add(f"media-units[{media.tier}-{end}]", upper=most)
            model.add_row(Row("media-ends", f"{media.tier} link ends at the {end}s", count - need,
                              lower=0.0, unit="units", report=False))
            for tree in trees:  # what one more rack needs at the margin (the binds rule)
                per_endpoint = tier_links(tree, media.tier, upper)[2]
                for sku_id, ports in tree.group.ports:
                    model.add_support(sku_id, count, share[id(tree)] * ports * per_endpoint)
            units[end] = count
            counted = counted + count
        switch_unit, nic_unit = media.switch_end, media.nic_end
        lines.append(MediaLine(
            tier=media.tier,
            switch_end=switch_unit.id if switch_unit else None,
            nic_end=nic_unit.id if nic_unit else None,
            links=links, switch_units=units["switch"], nic_units=units["nic"],
            power_kw=(switch_unit.power_w / 1000 * units["switch"] if switch_unit else Expr()),
            rack_power_kw=(nic_unit.power_w / 1000 * units["nic"] if nic_unit else Expr()),
            capex_usd=total((switch_unit.price_usd * units["switch"] if switch_unit else Expr(),
                             nic_unit.price_usd * units["nic"] if nic_unit else Expr()))))
    fields["network.optics"] = total(line.switch_units + line.nic_units for line in lines)
    fields["cost.capex_breakdown_usd.optics"] = total(line.capex_usd for line in lines)
    return tuple(lines)


def media_report(model: Model, x: list[float]) -> list[dict]:
    """The link ends of a solved plan, one dict per tier with links (docs/json.md).

    Parameters
    ----------
    model : Model
        The built model.
    x : list of float
        The plan's point.

    Returns
    -------
    list of dict
        ``tier``, ``links``, ``switch_end`` and ``nic_end`` (SKU ids, or ``co-packaged`` /
        None), ``switch_units``, ``nic_units``, ``power_kw``, ``rack_power_kw``,
        ``capex_usd``.
    """
    lines = model.parts.fabric.media if model.parts is not None else ()
    out = []
    for line in lines:
        links = round(line.links.value(x))
        if links == 0:
            continue
        out.append({
            "tier": line.tier, "links": links,
            "switch_end": line.switch_end or "co-packaged",
            "nic_end": line.nic_end,
            "switch_units": round(line.switch_units.value(x)),
            "nic_units": round(line.nic_units.value(x)),
            "power_kw": line.power_kw.value(x),
            "rack_power_kw": line.rack_power_kw.value(x),
            "capex_usd": line.capex_usd.value(x),
        })
    return out
