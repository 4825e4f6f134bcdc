"""i2pa: a reproducible research package for *Intrinsic Image Popularity Assessment*
(Ding, Ma, Wang, ACM Multimedia 2019).

The package is organised by concern: ``simulate`` (synthetic social platform), ``posts``
(posts-table format), ``captions`` (caption tokenisation), ``pairs`` (PDIP sampler),
``config`` (typed params), ``io`` (atomic file output), ``plotting`` (figure style) and
``cli`` (the ``i2pa`` command).
"""

__version__ = "0.1.0"
