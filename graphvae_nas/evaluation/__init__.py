"""Layer 4: evaluators that score architectures (tabular lookup; real training later)."""
from graphvae_nas.evaluation.base import Evaluation, Evaluator
from graphvae_nas.evaluation.executors import Executor, SerialExecutor, timed_evaluate
from graphvae_nas.evaluation.tabular import TabularEvaluator

__all__ = ["Evaluation", "Evaluator", "Executor", "SerialExecutor", "TabularEvaluator", "timed_evaluate"]
