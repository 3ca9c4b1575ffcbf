"""``turingrnn plot``: each picture is written, bad values are one line, and matplotlib is named when missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from turingrnn.cli import EXIT_ERROR, EXIT_OK, main

PNG = b"\x89PNG\r\n\x1a\n"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("kind", "machine", "word", "name"),
    [
        ("orbit", "anbn", "aaabbb", "orbit.png"),
        ("activations", "anbn", "aabb", "act.png"),
        ("depth", "binary_increment", "1011", "depth.png"),
        ("graph", "anbn", "", "net.svg"),
        ("graph", "bb2", "", "net.png"),
        ("orbit", "bb2", "", "orbit.pdf"),
    ],
)
def test_each_picture_is_written(capsys, tmp_path: Path, kind: str, machine: str, word: str, name: str) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / name
    code, out, _ = run_cli(capsys, "plot", kind, machine, "--input", word, "-o", str(path), "--max-steps", "40")
    assert code == EXIT_OK and str(path) in out
    data = path.read_bytes()
    assert len(data) > 1000
    if name.endswith(".png"):
        assert data.startswith(PNG)
    elif name.endswith(".svg"):
        assert b"<svg" in data[:2000] and b"anbn" in data
    else:
        assert data.startswith(b"%PDF")


def test_the_depth_picture_defaults_to_depth_png(capsys, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "plot", "depth", "anbn", "--input", "ab", "--json")
    assert code == EXIT_OK and '"output": "depth.png"' in out
    assert (tmp_path / "depth.png").read_bytes().startswith(PNG)


@pytest.mark.parametrize("kind", ["orbit", "activations", "graph", "depth"])
def test_without_matplotlib_each_picture_names_the_extra(capsys, tmp_path: Path, monkeypatch, kind: str) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    code, _, err = run_cli(capsys, "plot", kind, "anbn", "-o", str(tmp_path / "x.png"))
    assert code == EXIT_ERROR
    assert err.strip().splitlines() == ["turingrnn: error: pictures need matplotlib: pip install 'turingrnn[plot]'"]
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["orbit", "anbn", "--max-steps", "-1"], "integer >= 0"),
        (["orbit", "anbn", "-o", "x.gif"], "suffix must be one of"),
        (["circle", "anbn"], "invalid choice"),
        (["orbit", "no_such_machine"], "unknown machine"),
        (["orbit", "anbn", "--input", "abc"], "'c'"),
    ],
)
def test_bad_values_are_one_line_errors(capsys, argv: list[str], message: str) -> None:
    pytest.importorskip("matplotlib")
    with pytest.raises(SystemExit) as exit_:
        raise SystemExit(main(["plot", *argv]))
    _, err = capsys.readouterr()
    assert exit_.value.code == EXIT_ERROR
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_an_unwritable_path_is_one_line(capsys, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    code, _, err = run_cli(capsys, "plot", "orbit", "anbn", "-o", str(tmp_path / "missing" / "x.png"))
    assert code == EXIT_ERROR and "missing" in err and len(err.strip().splitlines()) == 1


def test_a_large_network_shows_every_kth_label(capsys, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    import turingrnn.plots as plots

    monkeypatch.setattr(plots, "MAX_LABELS", 5)  # anbn's 17 neurons: every 4th label
    path = tmp_path / "act.png"
    assert run_cli(capsys, "plot", "activations", "anbn", "--input", "ab", "-o", str(path))[0] == EXIT_OK
    assert path.read_bytes().startswith(PNG)
