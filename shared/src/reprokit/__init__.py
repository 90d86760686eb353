"""reprokit: the plumbing every paper project in this repository shares.

Core modules depend only on numpy/scipy/h5py/matplotlib; torch helpers live in
``reprokit.torch_utils`` (extra ``torch``) and JAX helpers in ``reprokit.jax_utils``
(extra ``jax``), so a JAX project never imports torch and the reverse.
"""

__version__ = "0.1.0"
