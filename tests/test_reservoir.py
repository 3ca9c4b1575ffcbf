"""Echo state networks (learning.reservoir): the fixed reservoir, its backward pass and the ridge-regression readout.

The reservoir's weights are checked against their definition (spectral
radius, seed, density), its input gradient against finite differences and
torch, and :func:`fit_readout` against ``numpy.linalg.lstsq`` on the same
features and on a delay task it must solve.
"""

import inspect
import io

import numpy as np
import pytest
from delay_task import delay_batch
from gradcheck import assert_gradients_match

from turingrnn.errors import ShapeError, TrainingConfigError, TrainingDivergedError
from turingrnn.learning.models import MODELS, make_model
from turingrnn.learning.reservoir import EchoStateCore, fit_readout
from turingrnn.learning.training import evaluate, train


def masked_features(model, batches):
    """The readout's input at every masked position of ``batches``, stacked, and the targets (the oracle's data)."""
    rows, labels = [], []
    for x, y, mask in batches:
        fs, _ = model.core.forward(model.params, x.transpose(1, 0, 2), model.initial_state(len(x)))
        read = fs.transpose(1, 0, 2)[mask]
        rows.append(np.maximum(read, 0) if model.readout == "relu" else read)
        labels.append(y[mask])
    return np.concatenate(rows), np.concatenate(labels)


# --- the reservoir ------------------------------------------------------------------


def test_registry_defaults_are_the_constructor_defaults_and_the_esn_cannot_be_stacked():
    spec = MODELS["esn"]
    params = inspect.signature(EchoStateCore).parameters
    assert spec.options == {k: params[k].default for k in spec.options}
    assert set(spec.options) == set(params) - {"input_size", "hidden_size", "dtype"}
    assert not spec.stackable
    with pytest.raises(TrainingConfigError, match="cell 'esn' cannot be stacked or made bidirectional"):
        make_model("esn", 2, 4, 2, layers=2)


@pytest.mark.parametrize("radius, density", [(0.9, 1.0), (1.25, 0.2), (0.3, 0.05)])
def test_the_reservoir_has_exactly_the_requested_spectral_radius_and_density(radius, density):
    core = make_model("esn", 3, 60, 2, spectral_radius=radius, density=density).core
    assert np.abs(np.linalg.eigvals(core.W)).max() == pytest.approx(radius, rel=1e-12)
    assert np.count_nonzero(core.W) / core.W.size == pytest.approx(density, abs=0.03)
    assert core.W.shape == (60, 60) and core.W_in.shape == (60, 3) and core.b.shape == (60,)


def test_the_fixed_weights_depend_only_on_the_reservoir_seed_and_are_read_only():
    a = make_model("esn", 3, 10, 2, seed=1, reservoir_seed=5, bias_scaling=0.2)
    b = make_model("esn", 3, 10, 2, seed=2, reservoir_seed=5, bias_scaling=0.2)
    c = make_model("esn", 3, 10, 2, seed=1, reservoir_seed=6, bias_scaling=0.2)
    for name in ("W_in", "W", "b"):
        np.testing.assert_array_equal(getattr(a.core, name), getattr(b.core, name))
        assert not np.array_equal(getattr(a.core, name), getattr(c.core, name))
        assert not getattr(a.core, name).flags.writeable
    assert not np.array_equal(a.params["weight_out"], b.params["weight_out"])  # the readout follows `seed`
    np.testing.assert_array_equal(a.params["weight_out"], c.params["weight_out"])
    assert sorted(a.params) == ["bias_out", "weight_out"] and a.core.param_names == ()
    rebuilt = make_model(**{k: v for k, v in a.config.items() if k != "options"}, **a.config["options"], seed=1)
    np.testing.assert_array_equal(rebuilt.core.W, a.core.W)  # the options are a checkpoint of the reservoir


def test_input_and_bias_scaling_bound_the_drawn_weights():
    core = make_model("esn", 4, 30, 2, input_scaling=0.25, bias_scaling=0.1).core
    assert 0.2 < np.abs(core.W_in).max() <= 0.25
    assert 0.08 < np.abs(core.b).max() <= 0.1
    assert not make_model("esn", 4, 30, 2).core.b.any()  # bias_scaling defaults to 0: no bias


def test_the_reservoir_follows_its_leaky_update_step_by_step():
    rng = np.random.default_rng(0)
    model = make_model("esn", 3, 8, 2, leak_rate=0.3, bias_scaling=0.5)
    core = model.core
    x = rng.normal(size=(2, 5, 3))
    start = (rng.normal(size=(2, 8)),)
    fs, cache = core.forward({}, x.transpose(1, 0, 2), start)
    h = start[0]
    for t in range(5):
        h = 0.7 * h + 0.3 * np.tanh(x[:, t] @ core.W_in.T + h @ core.W.T + core.b)
        np.testing.assert_allclose(fs[t], h, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(model.run(x, start)[1][0], fs[-1])
    np.testing.assert_array_equal(cache["h"], fs)


def test_the_reservoir_forgets_its_initial_state_the_echo_state_property():
    rng = np.random.default_rng(1)
    model = make_model("esn", 3, 40, 2, spectral_radius=0.9)
    x = np.eye(3)[rng.integers(0, 3, (1, 300))]
    _, one = model.run(x, (rng.uniform(-1, 1, (1, 40)),))
    _, other = model.run(x, (rng.uniform(-1, 1, (1, 40)),))
    assert np.abs(one[0] - other[0]).max() < 1e-8


def test_float32_reservoirs_are_float32_and_close_to_float64():
    x = np.eye(3)[np.random.default_rng(2).integers(0, 3, (2, 12))]
    wide = make_model("esn", 3, 16, 2, leak_rate=0.5)
    narrow = make_model("esn", 3, 16, 2, leak_rate=0.5, dtype="float32")
    assert narrow.core.W.dtype == np.float32 and narrow.forward(x).dtype == np.float32
    np.testing.assert_allclose(narrow.forward(x), wide.forward(x), atol=1e-5)


# --- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("readout", ["linear", "relu"])
def test_readout_gradients_match_central_finite_differences(readout):
    rng = np.random.default_rng(3)
    model = make_model("esn", 3, 6, 3, seed=2, readout=readout, bias_scaling=0.5)
    for p in model.params.values():
        p *= 3.0
    x = rng.normal(size=(3, 5, 3))
    y = rng.integers(0, 3, (3, 5))
    mask = rng.random((3, 5)) < 0.7
    mask[0, -1] = True
    assert_gradients_match(model, x, y, mask, (0.5 * rng.normal(size=(3, 6)),))


@pytest.mark.parametrize("leak_rate", [1.0, 0.4])
def test_the_backward_pass_gives_no_parameter_gradients_and_the_input_gradient_of_finite_differences(leak_rate):
    rng = np.random.default_rng(4)
    core = make_model("esn", 3, 5, 2, leak_rate=leak_rate, spectral_radius=1.1, bias_scaling=0.3).core
    xt = rng.normal(size=(6, 2, 3))
    start = (rng.normal(size=(2, 5)),)
    weights = rng.normal(size=(6, 2, 5))  # the loss is sum(weights * features)
    fs, cache = core.forward({}, xt, start)
    grads, dx = core.backward({}, cache, weights)
    assert grads == {} and dx.shape == xt.shape
    numeric = np.zeros_like(xt)
    for idx in np.ndindex(xt.shape):
        plus, minus = xt.copy(), xt.copy()
        plus[idx] += 1e-6
        minus[idx] -= 1e-6
        numeric[idx] = (
            np.sum(weights * core.forward({}, plus, start)[0]) - np.sum(weights * core.forward({}, minus, start)[0])
        ) / 2e-6
    np.testing.assert_allclose(dx, numeric, rtol=1e-7, atol=1e-9)
    assert np.abs(dx[0]).max() > 1e-2  # the first input reaches later steps


def test_torch_forward_and_autograd_equal_numpy_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    core = make_model("esn", 3, 7, 2, leak_rate=0.6, bias_scaling=0.4, density=0.5).core
    xt = rng.normal(size=(9, 2, 3))
    start = (rng.normal(size=(2, 7)),)
    weights = rng.normal(size=(9, 2, 7))
    fs, cache = core.forward({}, xt, start)
    _, dx = core.backward({}, cache, weights)
    xt_t = torch.tensor(xt, requires_grad=True)
    features, (final,) = core.torch_forward({}, xt_t, (torch.tensor(start[0]),))
    (features * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(features.detach().numpy(), fs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(final.detach().numpy(), fs[-1], rtol=0, atol=1e-10)
    np.testing.assert_allclose(xt_t.grad.numpy(), dx, rtol=0, atol=1e-10)


# --- fitting the readout ---------------------------------------------------------------------


@pytest.mark.parametrize("readout, ridge", [("linear", 1e-6), ("linear", 0.5), ("relu", 1e-3)])
def test_the_fitted_readout_is_the_ridge_least_squares_solution_of_numpy_lstsq(readout, ridge):
    """A law: with Z the features and a ones column, beta minimises |Z beta - onehot|^2 + ridge |w|^2."""
    rng = np.random.default_rng(6)
    model = make_model("esn", 3, 12, 3, readout=readout, bias_scaling=0.5, input_scaling=0.5)
    batches = [delay_batch(rng, 4, 9) for _ in range(3)]
    batches[1][2][:, :5] = False  # batches with different numbers of scored positions
    result = fit_readout(model, batches, ridge=ridge)
    z, labels = masked_features(model, batches)
    n, f = z.shape
    design = np.vstack([np.hstack([z, np.ones((n, 1))]), np.hstack([np.sqrt(ridge) * np.eye(f), np.zeros((f, 1))])])
    target = np.vstack([np.eye(3)[labels], np.zeros((f, 3))])
    beta = np.linalg.lstsq(design, target, rcond=None)[0]
    np.testing.assert_allclose(model.params["weight_out"], beta[:f].T, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(model.params["bias_out"], beta[f], rtol=1e-7, atol=1e-8)
    assert (result.steps, result.updates) == (3, 3)
    last = evaluate(model, *batches[-1])
    assert result.losses[-1] == pytest.approx(last.loss, rel=1e-12)
    assert result.accuracies[-1] == pytest.approx(last.accuracy, rel=1e-12)
    assert all(np.isnan(g) for g in result.grad_norms)


def test_fitting_batch_by_batch_equals_fitting_them_all_at_once():
    rng = np.random.default_rng(7)
    batches = [delay_batch(rng, 5, 10) for _ in range(4)]
    one = make_model("esn", 3, 10, 3)
    fit_readout(one, batches)
    whole = make_model("esn", 3, 10, 3)
    fit_readout(whole, [tuple(np.concatenate(parts) for parts in zip(*batches, strict=True))])
    for name in ("weight_out", "bias_out"):
        np.testing.assert_allclose(one.params[name], whole.params[name], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_fits_an_esn_in_closed_form_with_either_backend(backend):
    batches = [delay_batch(np.random.default_rng(k), 4, 8) for k in range(3)]
    fitted, trained = make_model("esn", 3, 10, 3), make_model("esn", 3, 10, 3)
    expected = fit_readout(fitted, batches)
    result = train(trained, batches, steps=3, backend=backend)
    assert (result.losses, result.updates) == (expected.losses, expected.updates)
    for name in fitted.params:
        np.testing.assert_array_equal(trained.params[name], fitted.params[name])


def test_an_esn_fits_recall_of_the_symbol_from_two_steps_ago():
    rng = np.random.default_rng(0)
    model = make_model("esn", 3, 40, 3, input_scaling=0.5)
    weight_out = model.params["weight_out"]
    result = fit_readout(model, (delay_batch(rng, 32, 20) for _ in range(10)), steps=5)
    assert result.steps == 5 and model.params["weight_out"] is weight_out  # fitted in place
    assert result.accuracies[-1] == 1.0
    assert evaluate(model, *delay_batch(np.random.default_rng(1), 500, 20)).accuracy == 1.0


def test_fitting_skips_batches_without_scored_positions_and_shows_progress_and_stops_on_request():
    rng = np.random.default_rng(8)
    empty = delay_batch(rng, 3, 6)
    empty[2][:] = False
    batches = [empty, delay_batch(rng, 3, 6), delay_batch(rng, 3, 6)]
    out = io.StringIO()
    seen = []
    result = fit_readout(
        make_model("esn", 3, 6, 3), batches, progress=out, callback=lambda s: seen.append(s) or s.step == 1
    )
    assert (result.steps, result.updates, result.stopped_early) == (2, 1, True)
    assert np.isnan(result.losses[0]) and not np.isnan(result.losses[1])
    assert [s.updates for s in seen] == [0, 1]
    assert out.getvalue().endswith("stopped\n")


def test_fitting_with_no_scored_position_or_a_bad_setting_raises():
    x, y, mask = delay_batch(np.random.default_rng(9), 2, 5)
    model = make_model("esn", 3, 6, 3)
    with pytest.raises(TrainingConfigError, match=r"no masked position in 2 batch\(es\): there is nothing to fit"):
        fit_readout(model, [(x, y, np.zeros_like(mask))] * 2)
    with pytest.raises(TrainingConfigError, match=r"no masked position in 0 batch\(es\)"):
        fit_readout(model, [])
    for bad in (0, -1.0, float("nan"), True, "1e-3"):
        with pytest.raises(TrainingConfigError, match=f"ridge must be a finite number > 0, got {bad!r}"):
            fit_readout(model, [(x, y, mask)], ridge=bad)
    with pytest.raises(TrainingConfigError, match="steps must be a non-negative int or None, got -1"):
        fit_readout(model, [(x, y, mask)], steps=-1)
    with pytest.raises(ShapeError, match="batch 0 is not an \\(inputs, targets, mask\\) triple"):
        fit_readout(model, [(x, y)])
    with pytest.raises(ShapeError, match=r"inputs have shape \(2, 5, 3\); expected \(batch, time, 4\)"):
        fit_readout(make_model("esn", 4, 6, 3), [(x, y, mask)])
    nan_x = x.copy()
    nan_x[0, 1, 0] = np.nan
    with pytest.raises(TrainingDivergedError, match="the features of batch 0 are not finite"):
        fit_readout(model, [(nan_x, y, mask)])


@pytest.mark.parametrize(
    "option, value, match",
    [
        ("spectral_radius", -0.5, "spectral_radius must be a finite number >= 0, got -0.5"),
        ("spectral_radius", float("inf"), "spectral_radius must be a finite number >= 0, got inf"),
        ("input_scaling", 0, "input_scaling must be a finite number > 0, got 0"),
        ("bias_scaling", -1, "bias_scaling must be a finite number >= 0, got -1"),
        ("leak_rate", 0.0, r"leak_rate must be a number in \(0, 1\], got 0.0"),
        ("leak_rate", 1.5, r"leak_rate must be a number in \(0, 1\], got 1.5"),
        ("density", 0, r"density must be a number in \(0, 1\], got 0"),
        ("density", "half", r"density must be a number in \(0, 1\], got 'half'"),
        ("reservoir_seed", -1, "reservoir_seed must be a non-negative int, got -1"),
        ("reservoir_seed", 1.5, "reservoir_seed must be a non-negative int, got 1.5"),
    ],
)
def test_bad_reservoir_options_name_the_value_and_the_allowed_range(option, value, match):
    with pytest.raises(TrainingConfigError, match=match):
        make_model("esn", 3, 6, 2, **{option: value})


def test_a_reservoir_too_sparse_to_rescale_says_so():
    with pytest.raises(TrainingConfigError, match="spectral radius 0 and cannot be rescaled to 0.9; raise density"):
        make_model("esn", 2, 3, 2, density=1e-9)
    assert not make_model("esn", 2, 3, 2, density=1e-9, spectral_radius=0).core.W.any()
