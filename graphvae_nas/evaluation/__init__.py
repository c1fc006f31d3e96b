"""Layer 4: evaluators that score architectures (tabular lookup; real training later).

``RayExecutor`` (the ``distributed`` extra) is loaded on first access, so importing this
package never imports Ray.
"""
from graphvae_nas.evaluation.base import Evaluation, Evaluator
from graphvae_nas.evaluation.bic import BNScoreEvaluator
from graphvae_nas.evaluation.executors import Executor, SerialExecutor, timed_evaluate
from graphvae_nas.evaluation.fidelity import AtFidelity, FidelityEvaluator, fidelities_of
from graphvae_nas.evaluation.tabular import TabularEvaluator

__all__ = ["AtFidelity", "BNScoreEvaluator", "Evaluation", "Evaluator", "Executor", "FidelityEvaluator",
           "RayExecutor", "SerialExecutor", "TabularEvaluator", "fidelities_of", "timed_evaluate"]


def __getattr__(name: str) -> object:
    """``RayExecutor`` on first access (its module imports Ray only when one is made)."""
    if name == "RayExecutor":
        from graphvae_nas.evaluation.ray_executor import RayExecutor

        return RayExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
