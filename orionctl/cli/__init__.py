"""The ``orion`` command line: a thin layer over library functions."""
