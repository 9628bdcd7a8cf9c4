"""The command line, process split and output of the two sweep peers
(sweep.py and sweep_basic.py), which differ only in their train function.

    PEER --config c1.toml c2.toml ... [--prompts p1.bin ... --memory m1.bin ... --review-draws d1.json ...]
    PEER --config base.toml --grid signals.thumbs.weight=0,0.25,... --replicates 10 --workers 2

The first form is one run per resolved config; the second a grid over the
weights (one signal's weight per --grid) times replicates, in the order of
`rewardmix sweep` (point-major). Runs may differ in their signal weights and
seeds; everything else must be shared. --workers splits the runs into that
many contiguous parts, one forked process each, as `rewardmix sweep
--workers` uses that many cores; each part trains its runs and reviews
them, into shared memory. --prompts replays one prompt file per run (or one
for every run), --memory the stances after each deployment
(world.read_memory) and --review-draws the outcomes of the review's draws
(review.read_draws); without them each part draws its own from NumPy's
generator, seeded (--seed, part).

--out writes, as raw little-endian float64 (no Parquet reader or writer is
available to the peers): metrics.f64 (runs x (steps+1) x metrics, every
metric at every step, as steps.csv holds them), theta.f64 (runs x
parameters), review.f64 (runs x review outputs: review.output_names), runs.f64
(runs x (metrics at the last step, then the review's outputs), as runs.csv)
and agg.f64 (grid points x those columns x (mean, sd over the points' runs),
as agg.csv without its t intervals), with metrics.txt and review.txt naming
the columns. It prints one JSON line with the time of each repetition (world
compilation, prompts, training, deployments and reviews, all parts; not
start-up or file output).
"""

import argparse
import copy
import itertools
import json
import mmap
import os
import sys
import time
import traceback

import numpy as np

from review import output_names, read_draws, release
from world import Unsupported, World, load, read_memory, read_prompts, write_f64, write_outputs


def shared_part(cfg):
    """cfg without what runs of one sweep may vary: seed, names, weights."""
    c = copy.deepcopy(cfg)
    for k in ("seed", "name", "description"):
        c.pop(k, None)
    for s in c.get("signals", {}).values():
        s.pop("weight", None)
    return c


def fail(prog, msg):
    print(f"{prog}: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_grid(prog, specs, world):
    axes = []
    for spec in specs:
        key, _, vals = spec.partition("=")
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "signals" or parts[2] != "weight" or parts[1] not in world.signals:
            fail(prog, f"--grid {key}: only signals.<name>.weight keys can vary across runs")
        axes.append((world.signals.index(parts[1]), [float(v) for v in vals.split(",")]))
    return axes


def shared_zeros(shape):
    """A zeroed float64 array in anonymous shared memory, which processes
    forked after it write into for their parent."""
    n = int(np.prod(shape))
    return np.frombuffer(mmap.mmap(-1, max(8 * n, 1)), dtype=np.float64, count=n).reshape(shape)


def train_split(train, w, W, prompts, memory, draws, seed, workers, direct=False):
    """train and review the runs split into workers contiguous parts, one
    process each (forked: the world and any replayed prompts and stances
    are shared, not copied), the results in shared memory. prompts is
    (users, cells), or None for each part to draw its own; each part draws
    from its own stream, (seed, part), for its prompts, deployments and
    review.

    train(w, W, prompts, memory, rng, direct) returns every metric at every
    step (R, T+1, metrics), the final parameters and the incumbent's (R,
    rows, A) and the final stances (R, U), or None where memory is not
    active at the last step."""
    R = W.shape[0]
    values = shared_zeros((R, w.steps + 1, len(w.metrics)))
    theta = shared_zeros((R, w.D))
    review = shared_zeros((R, len(output_names(w))))
    parts = [(p[0], p[-1] + 1) for p in np.array_split(np.arange(R), min(workers, R))]

    def part(i):
        lo, hi = parts[i]
        rng = np.random.default_rng([seed, i])
        pr = None if prompts is None else (prompts[0][:, lo:hi], prompts[1][:, lo:hi])
        mem = None if memory is None else {t: m[lo:hi] for t, m in memory.items()}
        vals, th, inc, final_mem = train(w, W[lo:hi], pr, mem, rng, direct)
        values[lo:hi] = vals
        theta[lo:hi] = th.reshape(hi - lo, -1)
        if w.cfg["review"]["enabled"]:
            dr = None if draws is None else {k: v[lo:hi] for k, v in draws.items()}
            review[lo:hi] = release(w, th, inc, final_mem, rng, dr)

    pids = []
    for i in range(1, len(parts)):
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the child: its part, then exit without running the parent's code
            status = 1
            try:
                part(i)
                status = 0
            except BaseException:
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(status)
        pids.append(pid)
    try:
        part(0)
    finally:
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    if any(codes):
        raise RuntimeError(f"a worker process failed (exit codes {codes})")
    return values, theta, review


def main(train, doc, prog):
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    ap.add_argument("--config", nargs="+", required=True, help="resolved config.toml per run, or one base config")
    ap.add_argument("--grid", action="append", default=[], help="signals.<name>.weight=v1,v2,... (with one --config)")
    ap.add_argument("--replicates", type=int, default=1, help="runs per grid point (with --grid)")
    ap.add_argument("--prompts", nargs="+", help="prompt files from the Go runs: one per run, or one for all")
    ap.add_argument("--memory", nargs="+", help="stances after each deployment from the Go runs: one file per run, "
                    "or one for all (default: simulate the deployments)")
    ap.add_argument("--review-draws", nargs="+", help="outcomes of the Go runs' review draws (JSON): one file per "
                    "run, or one for all (default: draw them)")
    ap.add_argument("--seed", type=int, default=None, help="NumPy seed for own draws (default: the first config's)")
    ap.add_argument("--workers", type=int, default=1, help="processes, each training a contiguous part of the runs")
    ap.add_argument("--out", help="folder for the outputs")
    ap.add_argument("--repeat", type=int, default=1, help="train this many times, report each time")
    ap.add_argument("--direct", action="store_true", help="evaluate with the direct softmax (no factorisation)")
    a = ap.parse_args()

    cfgs = [load(p) for p in a.config]
    base = shared_part(cfgs[0])
    for p, c in zip(a.config[1:], cfgs[1:]):
        if shared_part(c) != base:
            fail(prog, f"{p} differs from {a.config[0]} in more than seed and signal weights")
    if a.grid and len(cfgs) != 1:
        fail(prog, "--grid expands one base config")
    if a.workers < 1:
        fail(prog, f"--workers {a.workers}: want at least 1")
    seed = cfgs[0]["seed"] if a.seed is None else a.seed
    times = []
    points = 1
    try:
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            w = World(cfgs[0])
            if a.grid:
                axes = parse_grid(prog, a.grid, w)
                pts = list(itertools.product(*[vals for _, vals in axes]))
                points = len(pts)
                W = np.repeat(np.tile(w.spec_weight, (len(pts), 1)), a.replicates, axis=0)
                for j, (i, _) in enumerate(axes):
                    W[:, i] = np.repeat([p[j] for p in pts], a.replicates)
            else:
                W = np.array([[c["signals"][n]["weight"] for n in w.signals] for c in cfgs])
                points = W.shape[0]
            R = W.shape[0]
            for flag, files in (("prompt", a.prompts), ("memory", a.memory), ("review draw", a.review_draws)):
                if files and len(files) not in (1, R):
                    fail(prog, f"{len(files)} {flag} files for {R} runs")
            prompts = None
            if a.prompts:
                ps = [read_prompts(p, w) for p in a.prompts]
                if len(ps) == 1:
                    ps *= R
                prompts = np.stack([p[0] for p in ps], axis=1), np.stack([p[1] for p in ps], axis=1)
            memory = None
            if a.memory:
                ms = [read_memory(p, w) for p in a.memory]
                if len(ms) == 1:
                    ms *= R
                memory = {t: np.stack([m[t] for m in ms]) for t in w.deploy_steps}
            draws = read_draws(a.review_draws, R) if a.review_draws else None
            values, theta, review = train_split(train, w, W, prompts, memory, draws, seed, a.workers, a.direct)
            times.append(time.perf_counter() - t0)
    except (Unsupported, ValueError) as e:
        print(f"{prog}: {a.config[0]}: {e}", file=sys.stderr)
        sys.exit(2)
    if a.out:
        write_outputs(a.out, values, theta, w.metrics)
        rnames = output_names(w) if w.cfg["review"]["enabled"] else []
        runs = np.concatenate([values[:, -1, :], review[:, :len(rnames)]], axis=1)
        per = runs.reshape(points, R // points, -1)
        write_f64(os.path.join(a.out, "review.f64"), review[:, :len(rnames)])
        write_f64(os.path.join(a.out, "runs.f64"), runs)
        write_f64(os.path.join(a.out, "agg.f64"), np.stack([per.mean(axis=1), per.std(axis=1, ddof=min(1, per.shape[1] - 1))], axis=2))
        with open(os.path.join(a.out, "review.txt"), "w") as f:
            f.write("".join(n + "\n" for n in rnames))
    print(json.dumps({"runs": int(R), "steps": w.steps, "batch": w.batch, "seconds": times}))
