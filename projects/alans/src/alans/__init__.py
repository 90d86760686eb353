"""ALANS (Zhang, Xie, Jia et al., ECCV 2022): algebraic representations for RPM reasoning.

Modules: ``grammar`` / ``generator`` / ``render`` / ``splits`` (the attributed RPM generator),
``algebra`` (M^k Z), ``induction`` (closed-form ridge operator induction), ``execution``
(execution, decoding, JSD), ``perception`` (LeNets + scene engine), ``model`` (ALANS + loss),
``baselines`` (MLP, CNN-MLP, SCL), ``train``, ``experiments``, ``reproduce``.
"""
