"""Zero-cost accuracy prediction for NAS-Bench-201 cells (PEL-NAS style).

The 13 NAS-Bench-Suite-Zero proxies measured on the real NB201 network and real CIFAR-10
images, cached on disk, and an XGBoost ensemble over them that predicts test accuracy.

Modules: :mod:`.data` (the shipped image batch), :mod:`.measures_grad`,
:mod:`.measures_jacobian`, :mod:`.measures_free` (the proxy definitions),
:mod:`.proxies` (registry, one cell, no cache), :mod:`.cache` (on-disk JSON cache),
:mod:`.scoring` (one cell, cached), :mod:`.parallel` (many cells across processes),
:mod:`.predictor` (the XGBoost model), :mod:`.accuracy_source` (``--accuracy zero-cost``)
and :mod:`.tool` (``score_zero_cost`` for Designer agents). Import the module you need:
importing this package loads no torch.
"""
