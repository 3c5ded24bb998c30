"""Adapters from popular model outputs to lbfast's columnar batches.

Each returns a list of batches for ``lbfast.dumps`` or ``lbfast.ShardWriter``; none
creates a Python object per prediction beyond what its input format already holds.

- :func:`lbfast.adapters.supervision.from_detections`: ``supervision.Detections``.
- :func:`lbfast.adapters.torchvision.from_predictions`: torchvision-style detection dicts.
- :func:`lbfast.adapters.coco.from_results`: a COCO results file.
"""
