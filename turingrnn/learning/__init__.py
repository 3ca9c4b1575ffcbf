"""The trained side: the recurrent networks the compiled ones are compared with.

:mod:`.tasks` holds the tasks of Delétang et al. (2023), shared with the
compiled networks; :mod:`.protocol` the training and test protocol. The
models (:mod:`.models`, built by name with :func:`~.models.make_model`) are
made of the cores of :mod:`.cells`, :mod:`.lstm_variants`, :mod:`.clockwork`,
:mod:`.stacked`, :mod:`.memory_rnn` (with :mod:`.controller`),
:mod:`.seq2seq`, :mod:`.reservoir` and :mod:`.window`. :mod:`.training` is
backpropagation through time in numpy, :mod:`.torch_backend` the same in
torch, :mod:`.checkpoint` the saved models, and :mod:`.diagnostics` the
gradient-by-lag analysis.
"""
