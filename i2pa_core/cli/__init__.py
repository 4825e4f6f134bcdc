"""The ``i2pa`` command line (``main``, one module per verb group, the shared ``common``).
The pipeline never imports it.
"""
