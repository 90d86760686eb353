"""lanmdp: learning non-Markovian decision-making from state-only sequences (Qin et al., 2023).

Modules: ``cubic`` (the task: curves, contexts, the valid-cubic test), ``model`` (energy-based
policy and regression ensembles), ``langevin`` (short-run prior sampling), ``mle`` (importance-
sampled posterior and the contrastive loss), ``train`` (the loops), ``policies`` (execution and
references), ``planning`` (posterior sampling towards a goal), ``evaluate``, ``experiment`` (the
units), ``claims``, ``reproduce`` (the entry point).
"""

__version__ = "0.1.0"
