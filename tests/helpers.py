"""Builders for small, hand-solvable sites and catalogs."""

from __future__ import annotations

from datetime import date
from typing import Any

from gigaplan.inputs.catalog import Catalog, ComputeRack, Switch, load_catalog
from gigaplan.inputs.site import BoundSite, apply_overrides, bind, validate_site

BARE = {
    "power": {"budget": 10, "basis": "it"},
    "network": {"enabled": False},
    "storage": {"enabled": False},
    "cpu": {"enabled": False},
}


def rack(sku_id: str, *, power_kw: float, fp4: float = 1.0, gpus: int = 72,
         price_usd: float = 1e6, nic_count: int | None = None, nic_gbps: float = 800,
         liquid_frac: float = 0.9, hbm: float = 100.0) -> ComputeRack:
    return ComputeRack(
        id=sku_id, name=sku_id, kind="compute_rack", status="shipping",
        available_from=date(2025, 1, 1), gpu_count=gpus, cpu_count=0, cpu_core_count=0,
        power_kw=power_kw, fp4_dense_pflops_per_gpu=fp4, fp8_dense_pflops_per_gpu=fp4 / 2,
        bf16_dense_pflops_per_gpu=fp4 / 4, tf32_dense_pflops_per_gpu=fp4 / 8,
        fp64_dense_pflops_per_gpu=0.001, hbm_gb_per_gpu=hbm,
        nic_count=gpus if nic_count is None else nic_count, nic_gbps=nic_gbps,
        liquid_frac=liquid_frac, footprint_m2=0.6, mass_kg=1000, price_usd=price_usd,
        sources=["test"],
    )


def switch(sku_id: str, *, ports: int, gbps: float, power_w: float = 1000,
           price_usd: float = 10_000) -> Switch:
    return Switch(id=sku_id, name=sku_id, kind="switch", status="shipping",
                  available_from=date(2024, 1, 1), port_count=ports, port_gbps=gbps,
                  power_w=power_w, height_u=2, liquid_frac=0.0, price_usd=price_usd,
                  sources=["test"])


def catalog_with(*skus: Any) -> Catalog:
    base = load_catalog()
    merged = dict(base.skus)
    merged.update({sku.id: sku for sku in skus})
    return Catalog(skus=merged)


def bound_site(raw: dict[str, Any], catalog: Catalog | None = None,
               overrides: dict[str, Any] | None = None) -> BoundSite:
    data = apply_overrides(raw, list((overrides or {}).items()))
    return bind(validate_site(data, "test.toml"), catalog or load_catalog(), "test.toml")
