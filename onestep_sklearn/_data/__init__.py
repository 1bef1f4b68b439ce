"""The data seam: training data as the kernel needs it (``protocol``), in
memory (``memory``) and on Dask (``dask``). Imports only ``_kernel``."""
