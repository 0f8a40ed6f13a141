"""Everyday edits to a running sandbox: a share of the records that the source systems let their
users change are changed now, as a day of work would change them.

What changes is what the sources' own contracts say can change, stamped the way the source
stamps it, so an incremental pull finds it by its cursor and nothing else:
- CRM orders are cancelled (``status``, ``updated_at``): the late cancellation the spec names.
- ERP production receipts and collections are re-posted with a corrected quantity or amount and
  a new ``FMODIFYDATE``, as an ERP user editing an approved document would.
The QMS and the terminals serve records by the day they happened and carry no change stamp, so
the hub re-reads their last days rather than looking for changes; nothing of theirs is edited.
"""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, select, update

from sandbox.erp_data import AR_RECEIPT, PRD_INSTOCK, naive
from sandbox.model import World


def _share(count: int, fraction: float) -> int:
    return max(1, round(count * fraction)) if count else 0


def cancel_orders(world: World, fraction: float, at: datetime, rng: random.Random) -> int:
    """Cancel ``fraction`` of the signed orders at ``at``; returns how many."""
    signed = sorted(o.id for o in world.orders if o.status == "signed")
    chosen = rng.sample(signed, _share(len(signed), fraction))
    for order_id in chosen:
        world.cancel_order(order_id, at)
    return len(chosen)


def repost_erp(erp_path: Path, fraction: float, at: datetime, rng: random.Random) -> dict[str, int]:
    """Correct ``fraction`` of the production receipts and collections in the ERP file."""
    engine = create_engine(f"sqlite:///{erp_path}")
    changed: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            for table, column in ((PRD_INSTOCK, "FQTY"), (AR_RECEIPT, "FRECAMOUNT")):
                ids = sorted(conn.scalars(select(table.c.FID)))
                chosen = rng.sample(ids, _share(len(ids), fraction))
                for start in range(0, len(chosen), 500):
                    conn.execute(
                        update(table)
                        .where(table.c.FID.in_(chosen[start : start + 500]))
                        .values({column: table.c[column] + Decimal(1), "FMODIFYDATE": naive(at)})
                    )
                changed[table.name.lower()] = len(chosen)
    finally:
        engine.dispose()
    return changed


def change_records(
    world: World, erp_path: Path | None, fraction: float, at: datetime
) -> dict[str, int]:
    """Change ``fraction`` of the changeable records of ``world`` at ``at``; by stream, how many.
    The records chosen depend only on the seed, so two benchmarks change the same ones."""
    rng = random.Random(f"kpihub-sandbox-changes/{world.seed}/{world.size}/{fraction}")
    changed = {"crm/orders": cancel_orders(world, fraction, at, rng)}
    if erp_path is not None:
        changed.update({f"erp/{k}": v for k, v in repost_erp(erp_path, fraction, at, rng).items()})
    return changed
