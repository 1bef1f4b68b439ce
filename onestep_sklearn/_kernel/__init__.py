"""The kernel: the objective, block kernels, statistics and their exact merge,
the mergeable QR factor, units and the Hessian spectrum.

Pure numpy/scipy: no scikit-learn import, no estimator, no data source.
"""
