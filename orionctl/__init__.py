"""The top floor: the ``orion`` command, the demo, the local stack and operator tools.

It sits above the stage packages and wires them together (the CLI imports
a stage lazily, in the command that runs it). Nothing below imports it: the
shared package ``orion`` and the stages ``producers``, ``stream_processors``
and ``sinks`` never reach up here (``tests/test_layers.py`` checks).
"""
