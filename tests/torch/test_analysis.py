"""``rmthess analyze``: configuration, the analysis against the operator's dense matrix, the report.

Oracles: the dense Hessian of the operator (itself checked against ``torch.func.hessian``), its
block norms and block eigenvalues by numpy; the estimated map against it within its standard
errors.
"""

import json
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rmthess import networks  # noqa: E402
from rmthess.cli import main  # noqa: E402
from rmthess.torch.analysis import load_config, run_analysis, write_analysis  # noqa: E402
from rmthess.torch.operator import HessianOperator  # noqa: E402

MODELS = '''
import torch


def _data(n, d):
    """Seeds the models' initialization; n samples of d features, 3 classes, from their own
    generator (the global generator, and so the model, is untouched by them)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    return torch.randn(n, d, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def paper():
    X, y = _data(24, 12)
    model = torch.nn.Sequential(torch.nn.Linear(12, 4, bias=False), torch.nn.ReLU(),
                                torch.nn.Linear(4, 3, bias=False))
    return model, torch.nn.CrossEntropyLoss(), (X, y)


def linear():
    X, y = _data(80, 40)
    model = torch.nn.Sequential(torch.nn.Linear(40, 3, bias=False))
    return model, torch.nn.CrossEntropyLoss(), (X, y)


def linear_mse():
    X, y = _data(40, 10)
    model = torch.nn.Sequential(torch.nn.Linear(10, 3, bias=False))
    return model, torch.nn.MSELoss(), (X, torch.nn.functional.one_hot(y, 3).double())


def biased():
    X, y = _data(20, 6)
    model = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    return {"model": model, "loss_fn": torch.nn.CrossEntropyLoss(), "data": (X, y)}
'''


def _config(tmp_path, body, name="cfg.toml"):
    (tmp_path / "mods_analyze.py").write_text(MODELS)
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


#: the block map alone: no eigenvalues, no densities
NO_SPECTRA = "[spectrum]\ntop_k = 0\nblock_top_k = 0\nslq_steps = 0\n"


def _quick(tmp_path, head, theory="[theory]\nenabled = false\n", name="cfg.toml"):
    """A configuration without spectra: ``head`` (top-level keys), then ``theory``."""
    return load_config(_config(tmp_path, textwrap.dedent(head) + NO_SPECTRA + theory, name))


def _dense(source):
    import importlib
    import sys

    mod = sys.modules.get("mods_analyze") or importlib.import_module("mods_analyze")
    out = getattr(mod, source)()
    model, loss, data = (out["model"], out["loss_fn"], out["data"]) if isinstance(out, dict) \
        else out
    return HessianOperator(model, loss, data).dense()


def test_exact_analysis_matches_the_dense_hessian(tmp_path, monkeypatch):
    cfg = load_config(_config(tmp_path, """
        model = "mods_analyze:paper"
        [spectrum]
        top_k = 4
        block_top_k = 2
        slq_steps = 20
        slq_probes = 4
        [theory]
        reps = 4
        predictions = false
    """))
    an = run_analysis(cfg)
    monkeypatch.syspath_prepend(str(tmp_path))
    H = _dense("paper")
    lay = networks.BlockLayout(an.groups, an.labels)
    np.testing.assert_allclose(an.norm_map, networks.block_norm_map(H, lay), rtol=1e-12,
                               atol=1e-15)
    assert an.norm_map_stderr is None and an.summary["block_map"] == "exact"
    ref = networks.block_ratios(H, lay)
    for g, r in an.ratios.items():
        assert r["ratio"] == pytest.approx(ref[g].ratio, rel=1e-12) and r["stderr"] is None
    ev = np.linalg.eigvalsh(H)[::-1]
    np.testing.assert_allclose(an.top.values, ev[:4], atol=1e-8 * abs(ev).max())
    off = lay.offsets
    for k, b in enumerate(an.block_top):
        blk = np.linalg.eigvalsh(H[off[k]:off[k + 1], off[k]:off[k + 1]])[::-1][:2]
        np.testing.assert_allclose(b["values"], blk, atol=1e-12 * abs(ev).max())
    np.testing.assert_allclose(an.traces, np.add.reduceat(np.diag(H), off[:-1]), rtol=1e-12)
    assert an.theory is not None and an.theory.network.case == "mlp-ce"
    assert an.outliers is not None and an.power_law is None  # 4 eigenvalues: no tail to fit
    assert set(an.block_densities) == {0, 4}  # the first block of each group
    for k, d in an.block_densities.items():  # formed by the exact map: exact eigenvalues
        blk = np.linalg.eigvalsh(H[off[k]:off[k + 1], off[k]:off[k + 1]])
        np.testing.assert_allclose(d, blk, atol=1e-12 * abs(ev).max())
    assert an.density.wasserstein(ev) <= an.density.w1_estimate
    written = write_analysis(an, tmp_path / "out")
    rec = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert rec["summary"]["parameters"] == H.shape[0] and len(rec["labels"]) == lay.n_blocks
    assert rec["theory"]["rows"][0]["block_type"] == "hidden"
    html = written["html"].read_text()
    assert "The theory beside the measurement" in html and "data:image/png;base64" in html
    assert set(written["figures"]) == {"block_map", "block_top", "density", "block_densities",
                                       "theory"}
    rows = (tmp_path / "out" / "blocks.csv").read_text().splitlines()
    assert len(rows) == 1 + lay.n_blocks


#: 7 blocks' squared norms (49 numbers) and traces (7): normal quantile at 1e-4 per number, on
#: the pinned seed
def test_estimated_map_within_its_standard_errors(tmp_path, monkeypatch):
    from tests._mc import z_threshold

    cfg = load_config(_config(tmp_path, """
        model = "mods_analyze:biased"
        seed = 3
        [block_map]
        method = "estimate"
        probes = 200
        [spectrum]
        top_k = 0
        block_top_k = 2
        slq_steps = 0
    """))
    an = run_analysis(cfg)
    monkeypatch.syspath_prepend(str(tmp_path))
    H = _dense("biased")
    lay = networks.BlockLayout(an.groups, an.labels)
    exact = networks.block_norm_map(H, lay, squared=True)
    z = z_threshold(1e-4, comparisons=56)
    assert np.all(np.abs(an.norm_map**2 - exact) <= z * an.norm_map_stderr + 1e-14)
    tr = np.add.reduceat(np.diag(H), lay.offsets[:-1])
    assert np.all(np.abs(an.traces - tr) <= z * an.traces_stderr)
    assert all(r["stderr"] > 0 for r in an.ratios.values())
    # estimated: single blocks by SLQ, within their stated distance
    cfg2 = load_config(_config(tmp_path, """
        model = "mods_analyze:biased"
        seed = 3
        [block_map]
        method = "estimate"
        probes = 4
        [spectrum]
        top_k = 0
        block_top_k = 0
        slq_steps = 5
        slq_probes = 6
        [theory]
        enabled = false
    """, name="cfg2.toml"))
    an2 = run_analysis(cfg2)
    for k, d in an2.block_densities.items():
        o = lay.offsets
        assert d.wasserstein(np.linalg.eigvalsh(H[o[k]:o[k + 1], o[k]:o[k + 1]])) <= d.w1_estimate
    # a model the theory does not cover says so instead of a comparison
    assert an.theory is None and "the theory covers" in an.theory_note
    assert an.top is None and an.density is None


@pytest.mark.parametrize("body, message", [
    ('model = "x"', "module:function"),
    ('model = "a:b"\nfoo = 1', "unknown key foo"),
    ('model = "a:b"\nblocks = "neurons"', "blocks must be"),
    ('model = "a:b"\n[operator]\nkind = "fisher"', "kind must be"),
    ('model = "a:b"\n[block_map]\nmethod = "magic"', "method must be"),
    ('model = "a:b"\n[block_map]\nprobes = 1', "probes must be an integer ≥ 2"),
    ('model = "a:b"\n[theory]\ninit = "he"', "init must be"),
    ('model = "a:b"\n[theory]\npredictions = 1', "predictions must be true or false"),
    ('model = "a:b"\n[spectrum]\ntop_k = -1', "top_k"),
    ('model = "a:b"\n[spectrum]\nblock_densities = "all"', "block_densities"),
    ('model = "a:b"\nseed = 1.5', "seed"),
    ("model = ", "not valid TOML"),
])
def test_bad_configurations_are_refused_in_one_line(tmp_path, body, message, capsys):
    path = _config(tmp_path, body)
    with pytest.raises(ValueError, match=message):
        load_config(path)
    assert main(["analyze", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message.split()[0] in err[0]
    assert not (tmp_path / "o").exists()


def test_cli_writes_the_report_and_exits_on_the_verdict(tmp_path, capsys):
    path = _config(tmp_path, """
        model = "mods_analyze:paper"
        [spectrum]
        top_k = 2
        block_top_k = 0
        slq_steps = 10
        slq_probes = 3
        [theory]
        reps = 4
        predictions = false
    """)
    code = main(["analyze", str(path), "--out", str(tmp_path / "rep"), "--quiet"])
    out = capsys.readouterr().out
    assert code in (0, 1) and ("verdict: PASS" in out) == (code == 0)
    assert (tmp_path / "rep" / "report.html").is_file()
    main(["analyze", str(path), "--out", str(tmp_path / "rep2"), "--quiet", "--json"])
    rec = json.loads(capsys.readouterr().out)
    assert rec["summary"]["blocks"] == 7 and rec["config"]["model"] == "mods_analyze:paper"
    assert main(["analyze", str(tmp_path / "missing.toml")]) == 2
    (tmp_path / "mods_bad.py").write_text("def f():\n    return 3\n")
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "mods_bad:f"\n')
    assert main(["analyze", str(bad), "--out", str(tmp_path / "o3"), "--quiet"]) == 2
    assert "must return (model, loss_fn, data)" in capsys.readouterr().err
    (tmp_path / "mods_raise.py").write_text("def f():\n    raise KeyError('weights.pt')\n")
    bad.write_text('model = "mods_raise:f"\n')
    assert main(["analyze", str(bad), "--out", str(tmp_path / "o4"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mods_raise:f() raised KeyError" in err[0]
    (tmp_path / "mods_const.py").write_text("f = 3\n")
    for target, text in (("mods_const:f", "mods_const.f is a int, not a function"),
                         ("mods_const:g", "'mods_const' has no function 'g'")):
        bad.write_text(f'model = "{target}"\n')
        assert main(["analyze", str(bad), "--out", str(tmp_path / "o5"), "--quiet"]) == 2
        assert text in capsys.readouterr().err


def test_index_groups_from_the_toml_file(tmp_path):
    cfg = _quick(tmp_path, """
        model = "mods_analyze:biased"
        blocks = { first = [[0, 1, 2], [3, 4, 5, 6]] }
    """)
    an = run_analysis(cfg)
    assert an.groups[0] == ("first", 2, (3, 4)) and an.groups[-1][0] == "rest"
    with pytest.raises(ValueError, match="lists of index lists"):
        load_config(_config(tmp_path, 'model = "a:b"\nblocks = { g = [1, 2] }', name="b.toml"))


def test_groups_of_one_block_are_reported_not_refused(tmp_path):
    """Per-tensor blocks: every group has one block and no ratio; the record says null."""
    cfg = _quick(tmp_path, """
        model = "mods_analyze:paper"
        blocks = "parameters"
    """)
    an = run_analysis(cfg)
    write_analysis(an, tmp_path / "out")
    rec = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert [r["ratio"] for r in rec["ratios"].values()] == [None, None]
    assert "— (one block)" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize("blocks, checked", [("rows", True), ("parameters", False)])
def test_block_law_checked_only_on_the_blocks_it_describes(tmp_path, blocks, checked):
    """The GMP law is the law of one class's block: with per-tensor blocks there is none."""
    cfg = _quick(tmp_path, f"""
        model = "mods_analyze:linear"
        blocks = "{blocks}"
    """, theory="[theory]\nreps = 4\npredictions = false\n")
    an = run_analysis(cfg)
    assert an.theory is not None          # the ratios from the theory's own row operator
    assert (an.block_law_check is not None) == checked
    if checked:  # d = 40, C = 3: finite size allows 2C/d = 0.15 beyond O(log d/d)
        c = an.block_law_check
        assert [b["block"] for b in c["blocks"]] == [0, 1, 2] and c["rank_allowance"] == 0.15
        assert c["max_ks"] < 0.15 + 0.1 and c["median_ks"] <= c["max_ks"]


def test_estimated_ratio_of_exactly_zero_blocks(tmp_path):
    """Linear model, squared error: the off-diagonal blocks vanish, so do their estimates; the
    ratio is 0 with a standard error of 0 (the delta method at a ratio of 0), and the theory's
    exact 0 passes."""
    cfg = _quick(tmp_path, """
        model = "mods_analyze:linear_mse"
        [block_map]
        method = "estimate"
    """, theory="[theory]\nreps = 4\npredictions = false\n")
    an = run_analysis(cfg)
    (r,) = an.ratios.values()
    assert r["ratio"] == 0.0 and r["stderr"] == 0.0
    assert an.theory.passed and an.theory.rows[0].measured_stderr == 0.0
