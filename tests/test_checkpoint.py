"""Checkpoints of trained models (turingrnn.learning.checkpoint): round trips and clear errors."""

import json

import numpy as np
import pytest

from turingrnn.errors import CheckpointError
from turingrnn.learning.checkpoint import load_checkpoint, read_header, save_checkpoint
from turingrnn.learning.models import MODELS, make_model


@pytest.mark.parametrize("cell", list(MODELS))
def test_every_registered_model_survives_a_round_trip(cell, tmp_path):
    model = make_model(cell, 3, 8, 2, seed=4)
    for p in model.params.values():
        p += 0.25  # trained values differ from any fresh initialisation
    path = save_checkpoint(model, tmp_path / "m.npz", meta={"task": "parity", "seed": 4})
    again = load_checkpoint(path)
    assert again.model.config == model.config and again.meta == {"task": "parity", "seed": 4}
    assert sorted(again.model.params) == sorted(model.params)
    for k, p in model.params.items():
        np.testing.assert_array_equal(again.model.params[k], p)
    x = np.eye(3)[np.random.default_rng(0).integers(0, 3, (2, 5))]
    np.testing.assert_array_equal(again.model.forward(x), model.forward(x))


def test_stacked_bidirectional_options_and_dtype_are_kept(tmp_path):
    model = make_model("lstm", 3, 4, 2, layers=2, bidirectional=True, forget_bias=1.0, readout="relu", dtype="float32")
    again = load_checkpoint(save_checkpoint(model, tmp_path / "m.npz")).model
    assert again.config == model.config and again.dtype == np.float32 and again.readout == "relu"


def test_the_header_names_version_and_commit(tmp_path):
    path = save_checkpoint(make_model("gru", 2, 3, 2), tmp_path / "m.npz", meta={"task": "parity"})
    header = read_header(path)
    assert header["format"] == "turingrnn-checkpoint" and header["model"]["cell"] == "gru"
    assert "turingrnn" in header and set(header["source"]) == {"commit", "modified"}


def test_a_checkpoint_of_another_cell_is_refused_by_name(tmp_path):
    path = save_checkpoint(make_model("gru", 2, 3, 2), tmp_path / "m.npz")
    with pytest.raises(CheckpointError, match=r"holds a 'gru' model, not a 'lstm' one"):
        load_checkpoint(path, cell="lstm")


def test_missing_and_foreign_files_get_one_line_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint file at"):
        load_checkpoint(tmp_path / "nothing.npz")
    np.savez(tmp_path / "net.npz", weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="has no turingrnn checkpoint header"):
        load_checkpoint(tmp_path / "net.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="is not a checkpoint"):
        load_checkpoint(tmp_path / "text.npz")
    with pytest.raises(CheckpointError, match="must end in .npz"):
        save_checkpoint(make_model("gru", 2, 3, 2), tmp_path / "m.bin")


def test_arrays_that_do_not_fit_the_header_are_named(tmp_path):
    path = save_checkpoint(make_model("gru", 2, 3, 2), tmp_path / "m.npz")
    with np.load(path) as data:
        files = {k: data[k] for k in data.files}
    files["param:weight_hh"] = np.zeros((2, 2))
    np.savez(tmp_path / "bad.npz", **files)
    with pytest.raises(CheckpointError, match=r"weight_hh has shape \(2, 2\), a gru model needs \(9, 3\)"):
        load_checkpoint(tmp_path / "bad.npz")
    header = json.loads(str(files["__header__"]))
    header["model"]["cell"] = "transformer"
    files["__header__"] = np.array(json.dumps(header))
    np.savez(tmp_path / "bad2.npz", **files)
    with pytest.raises(CheckpointError, match="its model cannot be rebuilt: unknown cell 'transformer'"):
        load_checkpoint(tmp_path / "bad2.npz")
