"""Stage 2 of the pipeline: compiling a machine into a :class:`~.network.Network`.

:mod:`.compiler` is the entry point (:func:`~.compiler.compile_machine`). It
hands the machine to one construction, a recipe that builds the network:
:mod:`.compact_tm` and :mod:`.compact_stack` (``compact``), :mod:`.ss95`
(Siegelmann and Sontag 1995), :mod:`.realtime` and :mod:`.small_tm`
(``small``). The constructions share the stack code (:mod:`.encoding`), the
neuron gadgets (:mod:`.gadgets`) and the network type (:mod:`.network`).

The word *construction* means a compile recipe throughout the code. The
machine files bundled with the package live in the top-level folder
``constructions/`` for historical reasons; see the glossary in
``docs/index.md``.
"""
