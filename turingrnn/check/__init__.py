"""Stage 4 of the pipeline: checking a compiled network.

:mod:`.verify` runs the network in lockstep with the reference interpreter;
:mod:`.prove` gives a symbolic certificate that holds for all stack contents.
"""
