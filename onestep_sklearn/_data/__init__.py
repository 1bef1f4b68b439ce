"""The data seam: the protocol of a data source (``protocol``: a shape, one
reduction primitive and declared capabilities), every data question written
once on top of it (``questions``), and the sources: in memory (``memory``)
and on Dask (``dask``). Imports only ``_kernel`` (and ``_compat``)."""
