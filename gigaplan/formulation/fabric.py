"""The scale-out compute fabric: one fat tree per port-rate group, sized for the racks built.

Racks whose NICs run the switch ports at the same rate share one fabric; racks at another rate
get their own (a GB200 NVL72 at 400 Gb/s and a GB300 NVL72 at 800 Gb/s are two clusters). A
group whose racks are not built costs nothing, so allowing another SKU never shrinks the
optimum (issue 11). Formulas: docs/model.md, "Fabric"; engineering-model.md §5.3.
"""

from __future__ import annotations

import math

from gigaplan.formulation.media import define_media
from gigaplan.formulation.model import (
    Expr,
    FabricGroup,
    FabricParts,
    FabricTree,
    Model,
    Row,
    total,
)


def fabric_groups(model: Model) -> list[FabricGroup]:
    """The fabric groups of the allowed compute SKUs, fastest rate first (§5.3).

    Each plane carries ``nic_gbps ÷ planes`` per NIC. A group's switch ports run at
    ``r = min(port_gbps, per-plane NIC speed)`` (an 800G port splits into 2 × 400G), giving
    radix ``k = port_count·port_gbps ÷ r`` (made even); a NIC faster than ``r`` takes
    ``⌈speed ÷ r⌉`` ports. With oversubscription ``o`` (down:up) a leaf has
    ``d = ⌊k·o ÷ (1+o)⌋`` down-ports and ``u = k − d`` up-ports.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    Returns
    -------
    list of FabricGroup
        One group per port rate, fastest first.

    References
    ----------
    docs/model.md, "Compute fabric"; docs/engineering-model.md §5.3.
    """
    bound = model.bound
    switch, planes = bound.switch, bound.site.network.planes
    assert switch is not None
    members: dict[float, list[tuple[str, int]]] = {}
    for sku in bound.compute:
        if sku.nic_count == 0:
            continue
        speed = sku.nic_gbps / planes
        rate = min(switch.port_gbps, speed)
        members.setdefault(rate, []).append(
            (sku.id, sku.nic_count * math.ceil(speed / rate - 1e-9)))
    ratio = bound.site.network.oversubscription
    groups = []
    for rate in sorted(members, reverse=True):
        radix = int(switch.port_count * switch.port_gbps / rate + 1e-9)
        radix -= radix % 2
        down = math.floor(radix * ratio / (1 + ratio) + 1e-9)
        groups.append(FabricGroup(f"{rate:g}G", rate, radix, down, radix - down,
                                  tuple(members[rate])))
    return groups


def divisors(number: int) -> list[int]:
    """The divisors of ``number`` in increasing order (the spine counts that stripe evenly).

    Parameters
    ----------
    number : int
        A positive integer.

    Returns
    -------
    list of int
        Its divisors, ascending.
    """
    return [d for d in range(1, number + 1) if number % d == 0]


def define_tree(model: Model, group: FabricGroup, several: bool = False) -> FabricTree:
    """One group's fat tree per plane, with ``E`` endpoints, radix ``k``, split ``d``/``u``.

    - leaves: ``d·L ≥ E``;
    - 2-tier (``t3 = 0``): spines ``S = Σ δ_j·z_j`` over the divisors ``δ_j`` of ``u`` with
      ``Σ z_j = 1 − t3``, ``k·S ≥ u·L`` and ``L ≤ k`` (so ``E ≤ k²/2`` non-blocking). Even
      striping needs ``S | u``; this integer-striping rule reproduces NVIDIA's SuperPOD
      tables (k = 144: 2,304 GPUs → 32 leaf + 18 spine);
    - 3-tier (``t3 = 1``): aggregation ``(k/2)·A ≥ u·L``, core ``k·C ≥ (k/2)·A``,
      ``L ≤ k²/2`` (``E ≤ k³/4``); Al-Fares et al., SIGCOMM 2008; as a row
      ``(k/2)·A ≥ u·L − u·k·(1 − t3)`` (2 tiers hold at most ``k`` leaves);
    - either shape: ``k·S + (k/2)·A ≥ u·L``: the upper layer carries every leaf's up-ports.
      Both rows are valid for every integer point, so no plan changes, but they keep a
      fractional ``t3`` from switching the upper layer off in the LP relaxation (issue 17:
      40 phases x 2 SKUs solved in 19.5 s of CPU instead of 44 s). Both are left out
      when ``model.fabric_cuts`` is False (a study, :mod:`gigaplan.formulation.sites`);
    - ``t3 ≤ L``: an empty group has no third tier.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.
    group : FabricGroup
        The group whose tree is built.
    several : bool, default False
        Whether the site has several groups (their row names then carry the group).

    Returns
    -------
    FabricTree
        The tree's leaf, spine and core switch expressions per plane.

    References
    ----------
    docs/model.md, "Compute fabric"; docs/engineering-model.md §5.3.
    """
    layout = model.layout
    k, down, up = group.radix, group.down, group.up
    tag = group.label
    endpoints = total(ports * model.rack_vars[sku_id] for sku_id, ports in group.ports)
    endpoints_max = endpoints.value(layout.upper)
    leaves_cap_3 = k * k // 2
    leaf_max = min(math.ceil(endpoints_max / down), leaves_cap_3)
    (leaf,) = layout.add(f"fabric-leaf[{tag}]", upper=leaf_max)
    (tier3,) = layout.add(f"fabric-tier3[{tag}]", upper=1 if leaf_max > 0 else 0)
    options = [0, *divisors(up)]
    choice = layout.add(f"fabric-spine-choice[{tag}]", [str(d) for d in options], upper=1)
    agg_max = math.ceil(up * leaf_max / (k // 2))
    core_max = math.ceil(agg_max / 2)
    (agg,) = layout.add(f"fabric-aggregation[{tag}]", upper=agg_max)
    (core,) = layout.add(f"fabric-core[{tag}]", upper=core_max)
    spine2 = total(d * z for d, z in zip(options, choice, strict=True))
    big_2 = float(up * leaf_max)
    # 2 tiers hold at most k leaves: the 3-tier row's big-M needs only u·k (a tighter LP)
    big_3 = float(up * min(leaf_max, k)) if model.fabric_cuts else big_2
    name = f"fabric {tag}"
    for row in (
        Row("fabric-leaf-ports", f"{name} leaf down-ports", down * leaf - endpoints, lower=0.0,
            unit="ports", report=False),
        Row("fabric-tier-choice", f"{name} one shape", total(choice) + tier3, lower=1.0,
            upper=1.0, report=False),
        Row("fabric-2tier-spine", f"{name} 2-tier spine ports",
            k * spine2 - up * leaf + big_2 * tier3, lower=0.0, report=False),
        Row("fabric-2tier-size", f"{name} 2-tier leaf count",
            leaf - max(leaf_max - k, 0) * tier3, upper=float(k), report=False),
        Row("fabric-3tier-aggregation", f"{name} 3-tier aggregation ports",
            (k // 2) * agg - up * leaf - big_3 * tier3, lower=-big_3, report=False),
        Row("fabric-3tier-core", f"{name} 3-tier core ports", k * core - (k // 2) * agg,
            lower=0.0, report=False),
        Row("fabric-3tier-only", f"{name} aggregation only in 3 tiers", agg - agg_max * tier3,
            upper=0.0, report=False),
        Row("fabric-3tier-only", f"{name} core only in 3 tiers", core - core_max * tier3,
            upper=0.0, report=False),
        Row("fabric-3tier-only", f"{name} no third tier without leaves", tier3 - leaf,
            upper=0.0, report=False),
        Row("fabric-capacity", "fabric endpoints per plane" + (f", {tag}" if several else ""),
            endpoints, upper=float(down * leaves_cap_3), unit="ports", group="network.planes"),
    ):
        model.add_row(row)
    if model.fabric_cuts:
        model.add_row(Row("fabric-upper-ports", f"{name} upper-layer ports in either shape",
                          k * spine2 + (k // 2) * agg - up * leaf, lower=0.0, report=False))
    links = endpoints + up * leaf + (k // 2) * agg
    three = leaf_max > k
    per_switch = 1 / down + (3 if three else 1) * up / (down * k)
    per_link = 1 + (2 if three else 1) * up / down
    return FabricTree(group, endpoints, leaf, spine2 + agg, core, tier3, links, endpoints_max,
                      leaf_max + up + agg_max + core_max,
                      endpoints_max + up * leaf_max + (k // 2) * agg_max, per_switch, per_link)


NETWORK_FIELDS = ("network.tiers", "network.leaf_switches", "network.spine_switches",
                  "network.core_switches", "network.switches", "network.optics",
                  "network.racks", "network.power_kw", "power_mw.network",
                  "cost.capex_breakdown_usd.network_switches", "cost.capex_breakdown_usd.optics")


def define_fabric(model: Model) -> FabricParts:
    """The compute fabric: one fat tree per group (:func:`define_tree`), its optics and racks.

    - link ends per tier (modules, cable ends, co-packaged optics):
      :func:`~gigaplan.formulation.media.define_media`;
    - network racks: ``rack_u·R ≥ height_u·switches``; racks cost nothing, so after the solve
      ``R`` is set to exactly ``⌈height_u·switches ÷ rack_u⌉`` (:attr:`Model.least`; before,
      it floated). A band row ``rack_u·R − height_u·switches ≤ rack_u − 1`` would pin it in
      the MILP too, but doubled HiGHS's time on the default site;
    - tiers ``T``: ``T ≥ 2 + t3_g`` for each group and ``T ≤ 2 + Σ t3_g`` (the deepest tree).

    Switches and switch-end modules draw ``power_w`` each; every count is multiplied by the
    planes ``p``.

    Parameters
    ----------
    model : Model
        The model being built, holding the bound site.

    Returns
    -------
    FabricParts
        Endpoints per plane, the trees and the fabric's liquid-cooled heat [kW].

    References
    ----------
    docs/model.md, "Compute fabric"; docs/engineering-model.md §5.3.
    """
    bound = model.bound
    fields = model.fields
    switch = bound.switch
    if switch is None or not bound.compute:
        for name in NETWORK_FIELDS:
            fields[name] = Expr()
        return FabricParts(Expr(), (), Expr())
    planes = bound.site.network.planes
    layout = model.layout
    groups = fabric_groups(model)
    trees = [define_tree(model, group, len(groups) > 1) for group in groups]
    leaf = total(tree.leaf for tree in trees)
    spine = total(tree.spine for tree in trees)
    core = total(tree.core for tree in trees)
    switches = planes * (leaf + spine + core)
    network_kw = switch.power_w / 1000 * switches
    media = define_media(model, trees)
    network_kw = network_kw + total(line.power_kw for line in media)
    rack_u = bound.site.network.rack_u
    switches_max = planes * sum(tree.switches_max for tree in trees)
    (racks,) = layout.add("network-rack-count",
                          upper=math.ceil(switch.height_u * switches_max / rack_u))
    model.add_row(Row("network-racks", "network rack units", rack_u * racks
                      - switch.height_u * switches, lower=0.0, unit="U", report=False))
    model.least.append((racks, switch.height_u * switches, float(rack_u)))
    for tree in trees:  # what one more rack needs of the fabric at the margin (binds rule)
        for sku_id, ports in tree.group.ports:
            model.add_support(sku_id, tree.leaf, ports * tree.switches_per_endpoint)
            model.add_support(sku_id, racks, planes * ports * tree.switches_per_endpoint
                              * switch.height_u / rack_u)
    if trees:
        (tiers,) = layout.add("fabric-tiers", upper=3)
        for tree in trees:
            model.add_row(Row("fabric-tiers", f"fabric {tree.group.label} tiers",
                              tiers - tree.tier3, lower=2.0, report=False))
        model.add_row(Row("fabric-tiers", "deepest fabric", tiers - total(
            tree.tier3 for tree in trees), upper=2.0, report=False))
    else:
        tiers = Expr(const=2.0)
    fields.update({
        "network.tiers": tiers,
        "network.leaf_switches": planes * leaf,
        "network.spine_switches": planes * spine,
        "network.core_switches": planes * core,
        "network.switches": switches,
        "network.racks": racks,
        "network.power_kw": network_kw,
        "power_mw.network": network_kw / 1000,
        "cost.capex_breakdown_usd.network_switches": switch.price_usd * switches,
    })
    return FabricParts(endpoints_per_plane=total(tree.endpoints for tree in trees),
                       trees=tuple(trees),
                       liquid_kw=switch.liquid_frac * switch.power_w / 1000 * switches,
                       media=media)


def fabric_report(model: Model, x: list[float]) -> dict:
    """The per-group fabrics of a solved plan, and the headline geometry (largest built).

    Parameters
    ----------
    model : Model
        The built model.
    x : list of float
        The plan's point.

    Returns
    -------
    dict
        ``fabrics`` (one dict per group), and ``radix`` and ``port_gbps`` [Gb/s] of the largest.
    """
    planes = model.bound.site.network.planes
    fabrics = []
    for tree in model.parts.fabric.trees if model.parts is not None else ():
        endpoints = round(tree.endpoints.value(x))
        if endpoints == 0:
            continue
        group = tree.group
        leaf, spine, core = (round(e.value(x)) for e in (tree.leaf, tree.spine, tree.core))
        fabrics.append({
            "port_gbps": group.rate_gbps, "radix": group.radix,
            "skus": sorted(sku_id for sku_id, _ in group.ports
                           if round(model.rack_vars[sku_id].value(x)) > 0),
            "endpoints_per_plane": endpoints, "tiers": 2 + round(tree.tier3.value(x)),
            "leaf_switches": planes * leaf, "spine_switches": planes * spine,
            "core_switches": planes * core, "switches": planes * (leaf + spine + core),
        })
    largest = max(fabrics, key=lambda f: (f["endpoints_per_plane"], f["port_gbps"]),
                  default=None)
    return {"fabrics": fabrics,
            "radix": largest["radix"] if largest else 0,
            "port_gbps": largest["port_gbps"] if largest else 0.0}
