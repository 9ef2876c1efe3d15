r"""Check ``hessian-maps``: exact Hessians of a 1-hidden-layer network, at initialization and in
training.

The full Hessian of a 1-hidden-layer ReLU network with CE loss (parameters ordered ``w_1 … w_m``,
``v_1 … v_C``) is formed by :func:`rmthess.networks.hessian` at LeCun initialization for several
numbers of classes C. Its block ratios — mean squared norm of the off-diagonal blocks over that of
the diagonal blocks, for the hidden and for the output blocks — are compared with the same ratios
computed by the Monte Carlo engine from the N×N Gram matrix without forming any block
(:func:`rmthess.montecarlo.blocknorms.block_norm_means` with the weights of
:func:`rmthess.cases.get_case`), on the same data and weights: two independent
implementations of one finite matrix (rule ``tol``, relative tolerance 1e-9 — both are float64 sums
of at most 10⁸ terms of one sign per block, accurate to ~1e-12). The network is then trained (Adam
on random labels) and its Hessian recorded along the way: figure 4 shows the static force
(off-diagonal blocks shrink as C grows) and the dynamic force (hidden–output blocks shrink as the
softmax saturates).
"""

from __future__ import annotations

from rmthess.verify.base import Check, CheckOutput, register
from rmthess.verify.rules import within_tolerance

__all__ = ["HessianMapsCheck", "IMPLEMENTATION_RTOL"]

#: two float64 implementations of the same block norms agree to ~1e-12; 1e-9 leaves room for
#: cancellation in the off-diagonal CE blocks (weights of both signs)
IMPLEMENTATION_RTOL = 1e-9


def _engine_ratios(X, V, W, loss):
    from rmthess.cases import Params, get_case
    from rmthess.montecarlo.blocknorms import block_norm_means

    model = get_case(f"mlp-{loss}")
    U = X @ W.T
    weights = model.weights(Params(first=W, second=V), U)
    out = {}
    for block in model.block_types:
        diag, off = block_norm_means(model.features(block, X, U), weights[block])
        out[block] = off / diag
    return out


@register
class HessianMapsCheck(Check):
    name = "hessian-maps"
    title = "Exact Hessians of a 1-hidden-layer network: static and dynamic forces"
    description = __doc__.split("\n\n", 1)[1]
    sizes = {
        "tiny": {"dim": 12, "n_samples": 24, "width": 4, "classes": (3, 10, 30),
                 "train": {"n_samples": 60, "dim": 12, "classes": 6, "width": 4, "lr": 0.05,
                           "steps": 40, "snapshot_steps": (0, 40)}},
        "quick": {"dim": 32, "n_samples": 64, "width": 4, "classes": (10, 100, 1000),
                  "train": {"n_samples": 200, "dim": 40, "classes": 20, "width": 8, "lr": 0.05,
                            "steps": 300, "snapshot_steps": (0, 100, 300)}},
        "full": {"dim": 64, "n_samples": 256, "width": 8, "classes": (10, 100, 1000),
                 "train": {"n_samples": 1000, "dim": 100, "classes": 50, "width": 8, "lr": 0.02,
                           "steps": 1000, "snapshot_steps": (0, 100, 300, 1000)}},
    }

    def run(self, ctx):
        from rmthess import networks
        from rmthess.plotting.hessians import HessianMap

        p = self.params(ctx.size)
        d, n, m, loss = p["dim"], p["n_samples"], p["width"], "ce"
        out = CheckOutput()
        init_maps = []
        for k, C in enumerate(p["classes"]):
            ctx.progress(f"exact Hessian at initialization, C = {C}, d = {d}, m = {m}, N = {n}")
            data_seed, weight_seed = ctx.child(0, k).spawn(2)
            X, y = networks.gaussian_data(n, d, C, rng=data_seed)
            V, W = networks.init_weights(d, C, m, rng=weight_seed)
            H = networks.hessian(X, y, W, V, loss=loss)
            layout = networks.block_layout(d, C, m)
            exact = networks.block_ratios(H, layout)
            engine = _engine_ratios(X, V, W, loss)
            for block in ("hidden", "output"):
                out.rows.append(within_tolerance(
                    f"block ratio ({block}), exact Hessian vs Gram-matrix engine",
                    {"C": C, "d": d, "m": m, "N": n}, value=float(exact[block].ratio),
                    reference=float(engine[block]), tol=IMPLEMENTATION_RTOL, relative=True,
                    column="prediction"))
            init_maps.append(HessianMap(f"initialization, C = {C}", H, layout))
        t = p["train"]
        ctx.progress(f"training (Adam, {t['steps']} steps, N = {t['n_samples']}, d = {t['dim']}, "
                     f"C = {t['classes']}, m = {t['width']})")
        data_seed, weight_seed = ctx.child(1).spawn(2)
        X, y = networks.gaussian_data(t["n_samples"], t["dim"], t["classes"], rng=data_seed)
        V, W = networks.init_weights(t["dim"], t["classes"], t["width"], rng=weight_seed)
        res = networks.train(X, y, V, W, loss=loss, optimizer="adam", lr=t["lr"], steps=t["steps"],
                             snapshot_steps=t["snapshot_steps"], keep_hessians=True)
        first, last = res.snapshots[0], res.snapshots[-1]
        out.notes.append(
            f"dynamic force: mean ‖H_(w_i v_c)‖²_F went from {first.cross:.3g} at initialization "
            f"to {last.cross:.3g} after {last.step} steps (×{last.cross / first.cross:.3g}); "
            f"training accuracy {first.accuracy:.2f} → {last.accuracy:.2f}, loss {first.loss:.3g} "
            f"→ {last.loss:.3g}; block-diagonality index {first.diagonality:.3f} → "
            f"{last.diagonality:.3f}.")
        train_maps = [HessianMap(f"training step {s.step} (acc. {s.accuracy:.2f})", s.hessian,
                                 res.layout) for s in res.snapshots]
        slim = _strip_hessians(res)
        out.figures["figure4"] = {"init": init_maps, "training": train_maps,
                                  "training_result": slim}
        return out


def _strip_hessians(res):
    """The training result without the dense Hessians (they travel in the HessianMaps)."""
    from dataclasses import replace

    return replace(res, snapshots=tuple(replace(s, hessian=None) for s in res.snapshots))
