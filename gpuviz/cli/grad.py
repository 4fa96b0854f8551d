"""``gpuviz grad``: the weight gradient of a dense layer, checked by finite differences; or train the layer."""

from __future__ import annotations

import sys
import time

from ..model.dense import DEFAULT_BATCH, DIGITS_TRAIN, LAYERS, LOSSES, TOY_MAX_BATCH
from ..model.limits import MAX_ALPHA, MAX_NUMBER_DIGITS, MAX_TRAIN_STEPS
from ..model.text import format_count, format_duration
from .common import EXIT_FAILED, EXIT_OK, PROG, UsageError, one_line, print_json, seed_arg, shown, steps_arg

#: Entries of a digits gradient checked by finite differences (all 7,840 would take seconds at large batches).
GRAD_CHECK_ENTRIES = 200
#: The finite-difference check passes below this norm-wise relative error.
GRAD_CHECK_TOL = 1e-6


def add_parser(commands) -> None:
    """Add ``grad`` to ``gpuviz``'s subcommands."""
    grad = commands.add_parser(
        "grad", help="the weight gradient of a dense layer, checked by finite differences; or train it",
        description="Compute ∇_W L of the dense layer z = Wx + b (the lecture's 3×7 toy, or 10×784 on the shipped "
                    "28×28 digits) for one example or a batch, print its shapes and norm, and check it against "
                    "central finite differences. With --train STEPS, run minibatch gradient descent "
                    "ΔW = −α∇_W L on the digits and print the loss and held-out accuracy curve.",
        epilog="Exit codes: 0 done (gradient check passed / training did not diverge), 1 the check failed or "
               "training diverged (explained on stderr), 2 bad request.")
    grad.add_argument("--layer", required=True, choices=LAYERS,
                      help="toy: the lecture's 3×7 layer with small whole numbers; digits: 10×784")
    grad.add_argument("--batch", metavar="B", default=None,
                      help=f"examples per gradient (default 1; with --train {DEFAULT_BATCH}); toy: at most "
                           f"{TOY_MAX_BATCH}, digits: at most the {DIGITS_TRAIN:,} training images")
    grad.add_argument("--alpha", metavar="A", default=None,
                      help="learning rate α of ΔW = −α∇_W L (default 0.5 for xent, 0.02 for mse)")
    grad.add_argument("--seed", type=seed_arg, default=0,
                      help="seed of the weights and of the examples, 0 … 2³²−1 (default 0)")
    grad.add_argument("--loss", choices=LOSSES, default="xent",
                      help="xent: softmax cross-entropy (default); mse: ½‖z − y‖² with identity output")
    grad.add_argument("--train", type=steps_arg, metavar="STEPS",
                      help=f"train the digits layer for STEPS minibatch steps (at most {MAX_TRAIN_STEPS:,}, as "
                           "export grad) and print the curve")
    grad.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    grad.set_defaults(handler=cmd_grad)


def _grad_setup(args):
    """Layer, examples and labels of ``gpuviz grad``'s arguments; raises DenseError / UsageError."""
    import numpy as np

    from ..model import dense

    if args.batch is not None and len(str(args.batch).strip()) > MAX_NUMBER_DIGITS:
        raise UsageError(f"--batch {shown(args.batch)}: more digits than the {MAX_NUMBER_DIGITS} a number may have")
    alpha = dense.check_alpha(dense.DEFAULT_ALPHA[args.loss] if args.alpha is None else args.alpha)
    if alpha > MAX_ALPHA:
        raise UsageError(f"--alpha {alpha:g} is over {MAX_ALPHA:g}, the largest learning rate (larger ones only "
                         "overflow)")
    if args.layer == "toy":
        if args.train is not None:
            raise UsageError("--train needs --layer digits: the toy layer has no data set to learn from")
        batch = dense.check_batch(1 if args.batch is None else args.batch, TOY_MAX_BATCH)
        if batch == 1:
            layer, x, y = dense.toy_layer(args.seed, args.loss)
        else:
            layer, x, y = dense.toy_batch(args.seed, batch, args.loss)
        return layer, x, y, alpha, batch, None
    data = _load_digits()
    default = DEFAULT_BATCH if args.train is not None else 1
    batch = dense.check_batch(default if args.batch is None else args.batch, data.n_train)
    layer = dense.digits_layer(args.seed, args.loss)
    rows = np.random.default_rng(args.seed).choice(data.n_train, size=batch, replace=False)
    if batch == 1:
        return layer, data.train_x[rows[0]], int(data.train_y[rows[0]]), alpha, batch, data
    return layer, data.train_x[rows], data.train_y[rows], alpha, batch, data


def _load_digits():
    from ..model.digits import load_digits

    try:
        return load_digits()
    except (FileNotFoundError, OSError, KeyError, ValueError) as e:
        raise UsageError(f"the shipped digit images could not be read ({e}); reinstall gpuviz or run "
                         "scripts/make_digits.py in a checkout") from None


def _check_entries(layer, x, seed: int):
    """Entries (i, j) of W to check by finite differences: all for the toy, a seeded sample for the digits."""
    import numpy as np

    if layer.W.size <= GRAD_CHECK_ENTRIES:
        return None
    X = np.atleast_2d(x)
    # pixels without ink in any example have a gradient column of exact zeros; sample where it can be wrong
    inked = np.flatnonzero((X != 0).any(axis=0))
    cols = inked if inked.size else np.arange(layer.n)
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, layer.m, GRAD_CHECK_ENTRIES), rng.choice(cols, GRAD_CHECK_ENTRIES)], axis=1)


def cmd_grad(args) -> int:
    import numpy as np

    from ..model import dense

    layer, x, y, alpha, batch, data = _grad_setup(args)
    # an overflow is reported as the divergence it is (one line), not as NumPy's warnings before it
    with np.errstate(all="ignore"):
        if args.train is not None:
            return _grad_train(args, layer, data, alpha)
        g = layer.backward(x, y)
        entries = _check_entries(layer, x, args.seed)
        fd = dense.numerical_gradient(layer, x, y, entries=entries)
    ga = g.dW if entries is None else g.dW[entries[:, 0], entries[:, 1]]
    norm_g = float(np.linalg.norm(ga))
    rel = float(np.linalg.norm(ga - fd)) / norm_g if norm_g > 0 else float(np.linalg.norm(ga - fd))
    ok = rel < GRAD_CHECK_TOL
    checked = layer.W.size if entries is None else len(entries)
    m, n = layer.W.shape
    loss_name = {"xent": "softmax cross-entropy", "mse": "mean squared error"}[args.loss]
    info = {
        "layer": args.layer, "loss_function": args.loss, "batch": batch, "seed": args.seed, "alpha": alpha,
        "W_shape": [m, n], "grad_shape": list(g.dW.shape), "loss": g.loss,
        "grad_norm": float(np.linalg.norm(g.dW)), "grad_max_abs": float(np.abs(g.dW).max()),
        "bias_grad_norm": float(np.linalg.norm(g.db)), "update_norm": alpha * float(np.linalg.norm(g.dW)),
        "zero_entries": int((g.dW == 0).sum()), "shape_story": g.shape_story,
        "check": {"relative_error": rel, "tolerance": GRAD_CHECK_TOL, "entries_checked": checked,
                  "entries_total": int(layer.W.size), "eps": 1e-6, "ok": ok},
    }
    if args.json:
        print_json(info)
    else:
        what = "the lecture's 3×7 toy layer" if args.layer == "toy" else "the 10×784 digits layer"
        examples = "one example" if batch == 1 else f"a batch of {batch} examples"
        print(f"{what}, {loss_name}, {examples}, seed {args.seed}")
        for i, line in enumerate(g.shape_story):
            print(f"  {'shapes' if i == 0 else '':8} {line}")
        if args.layer == "toy":
            with np.printoptions(precision=3, suppress=True, linewidth=100):
                print("  W =", np.array2string(layer.W, prefix="  W = "))
                print("  b =", layer.b)
                print("  x =", np.array2string(np.atleast_2d(x), prefix="  x = ") if batch > 1 else x)
                print("  y =", y)
                print("  δ = p − y =", np.array2string(g.dz, prefix="  δ = p − y = "))
                print("  ∇_W L =", np.array2string(g.dW, prefix="  ∇_W L = "))
        print(f"  {'loss':8} {g.loss:.6g}")
        print(f"  {'∇_W L':8} shape {g.dW.shape}, norm {info['grad_norm']:.6g}, largest |entry| "
              f"{info['grad_max_abs']:.3g}, {info['zero_entries']:,} of {g.dW.size:,} entries exactly 0")
        print(f"  {'∇_b L':8} shape {g.db.shape}, norm {info['bias_grad_norm']:.6g}")
        print(f"  {'update':8} ΔW = −α∇_W L with α = {alpha:g}: norm {info['update_norm']:.6g}")
        scope = f"all {checked:,} entries" if entries is None else \
            f"{checked:,} random entries of {layer.W.size:,} (pixels with ink)"
        print(f"  {'check':8} {'ok' if ok else 'FAILED'}: ‖g − g_fd‖ / ‖g‖ = {rel:.2e} "
              f"({'<' if ok else '≥'} {GRAD_CHECK_TOL:g}) over {scope}, central differences, ε = 1e-6, float64")
    if not ok:
        print(f"{PROG}: the gradient disagrees with finite differences (relative error {rel:.2e})", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _grad_train(args, layer, data, alpha) -> int:
    from ..model import dense

    trainer = dense.Trainer(layer, data, alpha=alpha,
                            batch=DEFAULT_BATCH if args.batch is None else args.batch, seed=args.seed)
    started = time.perf_counter()
    records = trainer.run(args.train)
    seconds = time.perf_counter() - started
    done = [r for r in records if not r.diverged]
    last = records[-1]
    info = {
        "layer": args.layer, "loss_function": args.loss, "alpha": trainer.alpha, "batch": trainer.batch,
        "seed": args.seed, "steps": len(done), "steps_asked": args.train,
        "loss": [r.loss for r in done], "accuracy": [r.test_acc for r in done],
        "train_accuracy": [r.train_acc for r in done],
        "final_accuracy": done[-1].test_acc if done else None,
        "diverged": last.diverged, "message": last.message, "seconds": seconds,
        "train_images": data.n_train, "test_images": data.n_test,
    }
    if args.json:
        print_json(info)
    else:
        print(f"training the 10×784 digits layer: {trainer.layer.loss}, α = {trainer.alpha:g}, batch "
              f"{trainer.batch}, seed {args.seed}; {data.n_train:,} training / {data.n_test:,} held-out "
              f"synthetic images")
        print(f"  {'step':>5}  {'loss':>8}  {'batch acc':>9}  {'held-out acc':>12}")
        every = max(1, len(done) // 20)
        for r in done:
            if r.step == 1 or r.step % every == 0 or r is done[-1]:
                print(f"  {r.step:>5}  {r.loss:>8.4f}  {r.train_acc:>9.3f}  {r.test_acc:>12.3f}")
        if done:
            print(f"  {format_count(len(done), 'step')} in {format_duration(seconds)}: held-out accuracy "
                  f"{done[-1].test_acc:.3f} (chance 0.1)")
    if last.diverged:
        print(f"{PROG}: training stopped at step {last.step}: {one_line(last.message)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK

