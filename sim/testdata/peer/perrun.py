#!/usr/bin/python3
"""NumPy peer of `rewardmix run`: one run, vectorised over the batch.

This is what a competent researcher would write instead of the Go simulator
for the `expected` algorithm with aggregation "none" (the `incident` preset's
path), in the special case of world.py (direct thumbs, exact cues): the exact
expectation over responses for each of B sampled prompts, as responses x
batch arrays, an Adam step, the deployments that move the users' remembered
stances (held fixed by training in between), and every metric of
sim.Result evaluated exactly at every step over users x cells x responses.

    perrun.py --config config.toml [--prompts prompts.bin --memory memory.bin] [--out DIR] [--repeat N]

With --prompts it replays the (user, situation) prompts a Go run drew (see
world.read_prompts); without, it draws its own from NumPy's generator with
the same distributions (--seed). With --memory it replays the stances each of
the Go run's deployments left (world.read_memory); without, it simulates the
deployments with its own draws (World.deploy). --out writes metrics.f64
((steps+1) x metrics, row-major float64), theta.f64 and metrics.txt (names,
one a line). It prints one JSON line: the time of each repetition (world
compilation, prompts, deployments and training; not interpreter start-up or
file output).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import (Unsupported, VarianceSums, World, advantage_shares, ascend, load, read_memory,  # noqa: E402
                   read_prompts, softmax_into, write_outputs)


def draw_prompts(w, rng):
    users = rng.integers(0, w.U, size=(w.steps + 1, w.batch))
    cells = w.sample_cells(rng.random((w.steps + 1, w.batch)))
    return users, cells


def ratio(a, b):
    return 0.0 if b == 0 else a / b


class Evaluator:
    """Exact metrics of the current policy over every user, cell and response.

    The logits are cell logits + m * memory logits, so exp(logits) factorises
    into E[c, a] = exp(cell logits) and F[u, a] = exp(m_u * memory logits): the
    normaliser Z[u, c] = F @ E.T and every probability-weighted sum over users
    are matrix products (U*A + C*A exponentials per step instead of U*C*A),
    and the KL follows from those sums and log Z. If the factorisation
    underflows it falls back to the direct softmax.
    """

    def __init__(self, w):
        self.w = w
        self.seg_t = (w.user_seg[None, :] == np.arange(w.NS)[:, None]).astype(float)  # (NS, U)
        self.Y = np.empty((2 * w.C, w.U))  # users last, which suits the products
        self.MM = np.zeros((w.NS, 2 * w.C, w.A))
        self.pc_sum = float(w.cell_prob.sum())
        n = w.seg_users
        self.inv_n = np.divide(1.0, n, out=np.zeros(w.NS), where=n > 0)  # ratio(x, n) = x * inv_n
        self.ml_tiled = np.empty(w.C * w.A)

    def __call__(self, row, theta_t, mem, mem_on, wt, direct=False):
        w = self.w
        C, A, NS, U, S = w.C, w.A, w.NS, w.U, w.S
        pc = w.cell_prob
        cl = w.prior + theta_t[:, :C].T  # (C, A) logits at memory 0
        cmax = cl.max(axis=1)
        E = np.exp(cl - cmax[:, None])
        esum = E.sum(axis=1)
        cell_probs = E * (1 / esum)[:, None]
        M = None
        if not mem_on:
            # Every user at memory 0: one policy for all.
            P = np.multiply.outer(w.seg_users, pc[:, None] * cell_probs).reshape(NS, C * A)
            v = cl - (cmax + np.log(esum))[:, None] - w.log_ref  # log(pi / ref)
            kl = U * float((cell_probs * v).sum(axis=1) @ pc)
        else:
            ml = (cl[0] + theta_t[:, C]) - cl[0]  # memory logits, as sim takes them
            mmax = mem * ml.max()  # = max_a m*ml_a, as m >= 0
            F = np.exp(np.multiply.outer(ml, mem) - mmax)  # (A, U)
            Z = E @ F  # (C, U)
            if direct or not Z.min() > 1e-280:
                P, M, kl = self._direct(cl, ml, mem)
            else:
                Y = self.Y
                np.divide(1.0, Z, out=Y[:C])
                np.multiply(Y[:C], mem, out=Y[C:])
                for s, sl in enumerate(w.seg_slices):  # the few segments, not users
                    np.dot(Y[:, sl], F[:, sl].T, out=self.MM[s])
                ew = (pc[:, None] * E).reshape(1, C * A)
                P = self.MM[:, :C].reshape(NS, C * A) * ew
                M = self.MM[:, C:].reshape(NS, C * A) * ew
                # KL = sum pi (cl + m ml - log ref) - lse, lse = cmax + mmax + log Z.
                lse = float(np.log(Z).sum(axis=1) @ pc) + U * float(cmax @ pc) + float(mmax.sum()) * self.pc_sum
                self.ml_tiled.reshape(C, A)[:] = ml
                kl = (float(P.sum(axis=0) @ (cl - w.log_ref).reshape(-1))
                      + float(M.sum(axis=0) @ self.ml_tiled) - lse)
        # P[s, c*A+a]: expected count of (user in s, cell c, response a); M
        # the same weighted by memory.
        q = np.einsum("sk,skq->sq", P, w.evalq)  # (NS, 7+S)
        tot = q.sum(axis=0)
        rew = tot[7:]
        if M is not None:
            rew = rew + np.einsum("sk,ski->i", M, w.evalslope)
        N = float(U)
        ix = w.ix
        row[ix["sycophancy_rate"]] = tot[0] / N
        row[w.i_syc_seg:w.i_syc_seg + NS] = q[:, 0] * self.inv_n
        row[ix["gold_utility"]] = tot[1] / N
        row[ix["gold/helpfulness"]] = tot[2] / N
        row[ix["gold/honesty"]] = tot[3] / N
        row[ix["gold/wellbeing"]] = tot[4] / N
        row[ix["kl"]] = kl / N
        row[ix["thumbs_up_rate"]] = ratio(tot[6], tot[5])
        fb = q[:, 5]
        np.divide(q[:, 6], fb, out=row[w.i_up_seg:w.i_up_seg + NS], where=fb != 0)  # row starts at 0
        row[w.i_rew:w.i_rew + S] = rew / N
        row[w.i_weight:w.i_weight + S] = wt
        row[ix["proxy_reward"]] = float(wt @ rew) / N
        if w.memory:
            row[w.i_mem:w.i_mem + NS] = (self.seg_t @ mem) * self.inv_n
        row[w.i_share:w.i_share + A] = P.reshape(NS * C, A).sum(axis=0) / N
        row[ix["eval/offline_correctness"]] = ratio(float(w.offline_pc @ (cell_probs * w.correct).sum(axis=1)),
                                                    w.offline_den)

    def _direct(self, cl, ml, mem):
        """The softmax over users x cells x responses, without factorising."""
        w = self.w
        C, A, U = w.C, w.A, w.U
        lg = cl[None, :, :] + mem[:, None, None] * ml[None, None, :]  # (U, C, A)
        mx = lg.max(axis=2, keepdims=True)
        e = np.exp(lg - mx)
        s = e.sum(axis=2, keepdims=True)
        p = e / s
        lse = mx + np.log(s)
        kl = float(((p * (lg - lse - w.log_ref)).sum(axis=2) @ w.cell_prob).sum())
        pw = (p * w.cell_prob[None, :, None]).reshape(U, C * A)
        return self.seg_t @ pw, (self.seg_t * mem) @ pw, kl


def train(w, users, cells, memory=None, rng=None, weights=None, direct=False):
    """One run. Returns (values, theta): every metric at steps 0..T, and the
    final parameters in policy.Policy.Theta order. memory ({step: stances},
    from world.read_memory) replays the stances each deployment left;
    without it the deployments are simulated with rng.

    Batch arrays are (..., A, B), so that sums over responses and signals run
    over leading axes; parameters are held transposed, (A, rows)."""
    T, B, A, C, S = w.steps, w.batch, w.A, w.C, w.S
    NS, rows = w.NS, w.rows
    wts = w.weights if weights is None else weights  # (T+1, S)
    wts2 = wts * wts  # w_i^2, the weight of Var(r_i) in the advantage's variance
    values = np.zeros((T + 1, len(w.metrics)))
    theta_t = np.zeros((A, rows))
    theta = theta_t.reshape(-1)
    adam_m = np.zeros_like(theta)
    adam_v = np.zeros_like(theta)
    mem = np.zeros(w.U)
    evaluate = Evaluator(w)
    zeros_b = np.zeros(B)
    eye = np.eye(rows)
    K = (S + 1) * A
    coef = np.empty((S + 1, A, B))
    coef_mat = coef.reshape(K, B)
    G = np.empty((K, rows))
    Gs = G.reshape(S + 1, A * rows)  # one gradient per signal, then KL
    Gv = G.reshape(S + 1, A, rows)
    logits = np.empty((A, B))
    e = np.empty((A, B))
    var_sums = VarianceSums(w, (B,))
    probs = var_sums.probs  # (A, B)
    v = np.empty((A, B))
    r = np.empty((S, A, B))
    tmp = np.empty((S, A, B))
    rs = np.empty((len(w.slope_sig), A, B))
    scale = np.empty((S + 1, 1, 1))
    scale[:S] = 1 / B
    scale[S] = -w.beta * (1 / B)
    prior = w.prior[:, None]
    log_ref = w.log_ref[:, None]
    i_kl, i_gn = w.ix["influence/kl"], w.ix["grad_norm"]
    deploys = set(w.deploy_steps)
    for t in range(T + 1):
        row = values[t]
        wt = wts[t]
        mem_on = w.memory and t >= w.mem_start
        if t in deploys and mem_on:  # stances move here only, held by training
            if memory is not None:
                mem[:] = memory[t]
            else:
                w.deploy(*w.served_logits(theta_t[:, None, :]), mem[None], rng)
        evaluate(row, theta_t, mem, mem_on, wt, direct)

        # The exact expected gradient of each sampled prompt (sim stepExpected).
        u, c = users[t], cells[t]
        seg = w.user_seg[u]
        m = mem[u] if mem_on else zeros_b
        np.take(theta_t, c, axis=1, out=logits)
        logits += prior
        if w.memory:
            logits += theta_t[:, C:] * m
        lse = softmax_into(logits, e, probs)
        k = c * NS + seg
        np.take(w.rew0_t, k, axis=2, out=r)  # (S, A, B) rewards
        if mem_on and w.has_slope:
            np.take(w.slope_t, k, axis=2, out=rs)
            rs *= m
            r[w.slope_sig] += rs  # rewards are affine in memory
        np.multiply(r, probs, out=tmp)
        r -= np.add.reduce(tmp, axis=1)[:, None, :]  # centred on E_pi (aggregation "none")
        r *= wt[:, None, None]  # d_i: signal i's part of the advantage
        np.multiply(r, probs, out=coef[:S])
        # Each signal's covariance with the advantage A = sum_i d_i over the
        # batch's rollouts: sum over prompts of E_pi[d_i A + w_i^2 Var(r_i)].
        cov = coef[:S].reshape(S, A * B) @ np.add.reduce(r).reshape(A * B)
        cov += wts2[t] * var_sums(k, m if mem_on else None)
        advantage_shares(cov, row[w.i_adv:w.i_adv + S])
        np.subtract(logits, lse, out=v)
        v -= log_ref  # log(pi / ref)
        np.multiply(probs, v, out=e)
        v -= np.add.reduce(e)
        np.multiply(probs, v, out=coef[S])
        X = eye.take(c, axis=0)  # (B, rows): one-hot cell, memory in the last column
        if w.memory:
            X[:, C] = m
        np.dot(coef_mat, X, out=G)
        Gv *= scale
        total = np.add.reduce(Gv)  # (A, rows)
        tf = total.reshape(-1)
        norms = np.sqrt(np.einsum("sk,sk->s", Gs, Gs))
        gn = np.sqrt(tf @ tf)
        nsum = norms.sum()
        if nsum != 0:
            row[w.i_infl:w.i_infl + S] = norms[:S] / nsum
            row[i_kl] = norms[S] / nsum
        if gn > 0:
            dots = Gs[:S] @ tf
            ok = norms[:S] > 0
            row[w.i_align:w.i_align + S] = np.where(ok, dots / np.where(ok, norms[:S] * gn, 1.0), 0.0)
        row[i_gn] = gn
        if t == T:
            break

        ascend(theta, tf, t, w, adam_m, adam_v)  # Adam or SGD, in place
    return values, np.ascontiguousarray(theta_t.T).reshape(-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="resolved config.toml")
    ap.add_argument("--prompts", help="prompt file written by the Go run (default: draw with NumPy)")
    ap.add_argument("--memory", help="stances after each deployment, written by the Go run (default: simulate)")
    ap.add_argument("--seed", type=int, default=None, help="NumPy seed for own draws (default: the config's)")
    ap.add_argument("--out", help="folder for metrics.f64, theta.f64, metrics.txt")
    ap.add_argument("--repeat", type=int, default=1, help="train this many times, report each time")
    ap.add_argument("--direct", action="store_true", help="evaluate with the direct softmax (no factorisation)")
    a = ap.parse_args()
    cfg = load(a.config)
    times = []
    try:
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            w = World(cfg)
            rng = np.random.default_rng(cfg["seed"] if a.seed is None else a.seed)
            if a.prompts:
                users, cells = read_prompts(a.prompts, w)
            else:
                users, cells = draw_prompts(w, rng)
            memory = read_memory(a.memory, w) if a.memory else None
            values, theta = train(w, users, cells, memory, rng, direct=a.direct)
            times.append(time.perf_counter() - t0)
    except (Unsupported, ValueError) as e:
        print(f"perrun.py: {a.config}: {e}", file=sys.stderr)
        sys.exit(2)
    if a.out:
        write_outputs(a.out, values, theta, w.metrics)
    print(json.dumps({"runs": 1, "steps": w.steps, "batch": w.batch, "seconds": times}))


if __name__ == "__main__":
    main()
