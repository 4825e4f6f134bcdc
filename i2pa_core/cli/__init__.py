"""The ``i2pa`` command line; the pipeline never imports it."""
