"""Stage 4 of the pipeline: checking a compiled network.

:mod:`.verify` runs the network in lockstep with the reference interpreter.
:mod:`.prove` gives a symbolic certificate that holds for all stack contents;
it is built from :mod:`.affine` (affine forms over the stack codes),
:mod:`.semantics` (the classes of a state and their successors),
:mod:`.symbolic` (the symbolic tick), :mod:`.canonical` (the preload map),
:mod:`.certificate` (the cases and their record) and :mod:`.stream_proof`
(the input loader of streamed networks).
"""
