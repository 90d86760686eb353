"""assist: ASSIST interactive scene nodes (Zhong et al., 2023) on a procedural room.

Modules: ``geometry`` (boxes, cameras, ray-box slabs), ``room`` (the procedural rooms and their
exact renderer), ``nodes`` (the scene node record and the editing API), ``fields`` (batched grid /
MLP fields), ``render`` (the compositional renderer), ``train`` (per-node vMAP losses),
``baseline`` (monolithic field, DM-NeRF-style edits), ``oracle`` (voxelised GT), ``instructions``
(the English command parser), ``edits`` (the edit suite and controls), ``metrics``,
``experiment`` (one seed), ``claims``, ``reproduce`` (the entry point).
"""

__version__ = "0.1.0"
