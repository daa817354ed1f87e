"""The regret yardstick for the benchmarks and the optimizer tests: ``bayes_mmm.oracle``
under the name they import (``from oracle import ...`` with ``benchmarks/`` on ``sys.path``)."""

from bayes_mmm.oracle import (
    plan_cells,
    regret_share,
    self_assessed_share,
    simulated,
    true_draws,
    true_gain,
    true_optimum,
    true_planner,
)

__all__ = [
    "plan_cells",
    "regret_share",
    "self_assessed_share",
    "simulated",
    "true_draws",
    "true_gain",
    "true_optimum",
    "true_planner",
]
