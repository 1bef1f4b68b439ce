"""Solvers: the one update (``steps``, ``newton``), gradient descent
(``gd``, ``spectral``, ``descent``, ``stopping``, ``schedule``) and
validation scores. Arrays, data sources and result dataclasses only: no
solver takes an estimator. Imports ``_kernel`` (and data sources it is given).
"""
