#!/usr/bin/python3
"""The basic NumPy peer of `rewardmix sweep`: many runs at once, vectorised
across runs, as a first vectorisation writes it (sweep.py is the strong
peer, which cmd/benchpeer's speedup_vs_numpy is measured against; this one
is kept for comparison, with the same command line, output and release
review, sweepcli.py and review.py).

Every array carries a run dimension (responses x R runs x batch for
training, R x users x cells x responses for the exact evaluation, runs x
users for a deployment's conversations), so each NumPy operation serves
every run of the sweep. Same model and update rule as perrun.py: the
`expected` algorithm with aggregation "none", in the special case of
world.py (direct thumbs, exact cues, stances moved only at deployments).
Its prompts are drawn for every step up front; every step evaluates every
user, and gathers and scatters every prompt's rows, also before memory
starts.

    sweep_basic.py --config c1.toml c2.toml ... [--prompts p1.bin ... --memory m1.bin ... --review-draws d1.json ...]
    sweep_basic.py --config base.toml --grid signals.thumbs.weight=0,0.25,... --replicates 10 --workers 2

See sweepcli.py for the options and outputs.
"""

import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweepcli  # noqa: E402
from world import VarianceSums, advantage_shares, ascend, softmax_into  # noqa: E402


class Evaluator:
    """Exact metrics of R policies over every user, cell and response: the
    factorisation of perrun.Evaluator with a leading run axis."""

    def __init__(self, w, R):
        self.w, self.R = w, R
        self.seg_t = (w.user_seg[None, :] == np.arange(w.NS)[:, None]).astype(float)  # (NS, U)
        # Workspaces: large temporaries would cost page faults at every step.
        # Users are the last axis, which suits the products and reductions.
        self.F = np.empty((R, w.A, w.U))
        self.Z = np.empty((R, w.C, w.U))
        self.logZ = np.empty((R, w.C, w.U))
        self.mmax = np.empty((R, w.U))
        self.Y = np.empty((R, 2 * w.C, w.U))
        self.MM = np.zeros((w.NS, R, 2 * w.C, w.A))
        self.pc_sum = float(w.cell_prob.sum())
        n = w.seg_users
        self.inv_n = np.divide(1.0, n, out=np.zeros(w.NS), where=n > 0)  # ratio(x, n) = x * inv_n

    def __call__(self, rows, theta_t, mem, mem_on, wt, direct=False):
        w, R = self.w, self.R
        C, A, NS, U, S = w.C, w.A, w.NS, w.U, w.S
        CA = C * A
        pc = w.cell_prob
        cl = w.prior + theta_t[:, :, :C].transpose(1, 2, 0)  # (R, C, A)
        cmax = cl.max(axis=2)
        E = np.exp(cl - cmax[:, :, None])
        esum = E.sum(axis=2)
        cell_probs = E * (1 / esum)[:, :, None]
        M = None
        if not mem_on:
            P = w.seg_users[None, :, None] * (pc[:, None] * cell_probs).reshape(R, 1, CA)
            v = cl - (cmax + np.log(esum))[:, :, None] - w.log_ref  # log(pi / ref)
            kl = U * ((cell_probs * v).sum(axis=2) @ pc)
        else:
            ml = (cl[:, 0] + theta_t[:, :, C].T) - cl[:, 0]  # (R, A) memory logits
            mmax, F, Z = self.mmax, self.F, self.Z
            np.multiply(mem, ml.max(axis=1)[:, None], out=mmax)  # max_a m*ml_a, as m >= 0
            np.multiply(ml[:, :, None], mem[:, None, :], out=F)
            F -= mmax[:, None, :]
            np.exp(F, out=F)  # (R, A, U)
            np.matmul(E, F, out=Z)  # (R, C, U)
            if direct or not Z.min() > 1e-280:  # underflow in some run: all runs directly
                P, M, kl = self._direct(cl, ml, mem)
            else:
                Y = self.Y
                np.divide(1.0, Z, out=Y[:, :C])
                np.multiply(Y[:, :C], mem[:, None, :], out=Y[:, C:])
                for s, sl in enumerate(w.seg_slices):  # the few segments, not users or runs
                    np.matmul(Y[:, :, sl], F[:, :, sl].transpose(0, 2, 1), out=self.MM[s])
                ew = (pc[:, None] * E).reshape(R, 1, CA)
                MM = self.MM.transpose(1, 0, 2, 3)  # (R, NS, 2C, A)
                P = MM[:, :, :C].reshape(R, NS, CA) * ew
                M = MM[:, :, C:].reshape(R, NS, CA) * ew
                lse = np.log(Z, out=self.logZ).sum(axis=2) @ pc + U * (cmax @ pc) + mmax.sum(axis=1) * self.pc_sum
                kl = (np.einsum("rk,rk->r", P.sum(axis=1), (cl - w.log_ref).reshape(R, CA))
                      + np.einsum("rca,ra->r", M.sum(axis=1).reshape(R, C, A), ml) - lse)
        q = np.einsum("rsk,skq->rsq", P, w.evalq)  # (R, NS, 7+S)
        tot = q.sum(axis=1)
        rew = tot[:, 7:]
        if M is not None:
            rew = rew + np.einsum("rsk,ski->ri", M, w.evalslope)
        N = float(U)
        ix = w.ix
        rows[:, ix["sycophancy_rate"]] = tot[:, 0] / N
        rows[:, w.i_syc_seg:w.i_syc_seg + NS] = q[:, :, 0] * self.inv_n
        rows[:, ix["gold_utility"]] = tot[:, 1] / N
        rows[:, ix["gold/helpfulness"]] = tot[:, 2] / N
        rows[:, ix["gold/honesty"]] = tot[:, 3] / N
        rows[:, ix["gold/wellbeing"]] = tot[:, 4] / N
        rows[:, ix["kl"]] = kl / N
        fb = tot[:, 5]
        rows[:, ix["thumbs_up_rate"]] = np.divide(tot[:, 6], fb, out=np.zeros(R), where=fb != 0)
        sfb = q[:, :, 5]
        rows[:, w.i_up_seg:w.i_up_seg + NS] = np.divide(q[:, :, 6], sfb, out=np.zeros((R, NS)), where=sfb != 0)
        rows[:, w.i_rew:w.i_rew + S] = rew / N
        rows[:, w.i_weight:w.i_weight + S] = wt
        rows[:, ix["proxy_reward"]] = (wt * rew / N).sum(axis=1)
        if w.memory:
            rows[:, w.i_mem:w.i_mem + NS] = (mem @ self.seg_t.T) * self.inv_n
        rows[:, w.i_share:w.i_share + A] = P.reshape(R, NS * C, A).sum(axis=1) / N
        off = (cell_probs * w.correct).sum(axis=2) @ w.offline_pc
        rows[:, ix["eval/offline_correctness"]] = off / w.offline_den if w.offline_den != 0 else 0.0

    def _direct(self, cl, ml, mem):
        w, R = self.w, self.R
        C, A, U = w.C, w.A, w.U
        lg = cl[:, None, :, :] + mem[:, :, None, None] * ml[:, None, None, :]  # (R, U, C, A)
        mx = lg.max(axis=3, keepdims=True)
        e = np.exp(lg - mx)
        s = e.sum(axis=3, keepdims=True)
        p = e / s
        lse = mx + np.log(s)
        kl = ((p * (lg - lse - w.log_ref)).sum(axis=3) @ w.cell_prob).sum(axis=1)
        pw = (p * w.cell_prob[None, None, :, None]).reshape(R, U, C * A)
        return self.seg_t @ pw, (self.seg_t[None] * mem[:, None, :]) @ pw, kl


def train(w, W, prompts, memory, rng, direct=False):
    """R runs at once. W: (R, S) configured weights; prompts: (users,
    cells), each (T+1, R, B), or None to draw them with rng, all up front.
    Returns values (R, T+1, metrics), the final parameters and the
    incumbent's (R, rows, A), and the final stances (R, U) or None. memory
    ({step: (R, U) stances}) replays the stances each deployment left;
    without it the deployments are simulated with rng.

    Batch arrays are (..., A, R, B), so that sums over responses and signals
    run over leading axes; parameters are held as (A, R, rows)."""
    R = W.shape[0]
    T, B, A, C, S = w.steps, w.batch, w.A, w.C, w.S
    NS, rows, U = w.NS, w.rows, w.U
    if prompts is None:
        users = rng.integers(0, w.U, size=(T + 1, R, B))
        cells = w.sample_cells(rng.random((T + 1, R, B)))
    else:
        users, cells = prompts
    wts = w.effective_weights(W)  # (T+1, R, S)
    wts2 = wts * wts  # w_i^2, the weight of Var(r_i) in the advantage's variance
    values = np.zeros((R, T + 1, len(w.metrics)))
    theta_t = np.zeros((A, R, rows))
    theta_rows = theta_t.reshape(A, R * rows)
    adam_m = np.zeros_like(theta_t)
    adam_v = np.zeros_like(theta_t)
    mem = np.zeros((R, U))
    mem_flat = mem.reshape(-1)
    evaluate = Evaluator(w, R)
    zeros_rb = np.zeros((R, B))
    run_row = (np.arange(R) * rows)[:, None]
    run_user = (np.arange(R) * U)[:, None]
    K = (S + 1) * A
    N = R * B
    # Workspaces: large temporaries would cost page faults at every step.
    coef = np.empty((S + 1, A, R, B))
    coef_kn = coef.reshape(K, N)
    Gt = np.zeros((K, R, rows))  # gradients: [signal (then KL), response], run, theta row
    Gs = Gt.reshape(S + 1, A, R, rows)
    scat = (np.arange(K) * (R * rows))[:, None]  # scatter index: column k, run r, cell c
    idx = np.empty((K, N), dtype=np.int64)
    logits = np.empty((A, R, B))
    e = np.empty((A, R, B))
    var_sums = VarianceSums(w, (R, B))
    probs = var_sums.probs  # (A, R, B)
    v = np.empty((A, R, B))
    r = np.empty((S, A, R, B))
    tmp = np.empty((S, A, R, B))
    nsl = len(w.slope_sig)
    rs = np.empty((nsl, A, R, B))
    scale = np.empty((S + 1, 1, 1, 1))
    scale[:S] = 1 / B
    scale[S] = -w.beta * (1 / B)
    prior = w.prior[:, None, None]
    log_ref = w.log_ref[:, None, None]
    i_kl, i_gn = w.ix["influence/kl"], w.ix["grad_norm"]
    deploys = set(w.deploy_steps)
    for t in range(T + 1):
        out = values[:, t, :]
        wt = wts[t]  # (R, S)
        mem_on = w.memory and t >= w.mem_start
        if t in deploys and mem_on:  # stances move here only, held by training
            if memory is not None:
                mem[:] = memory[t]
            else:
                w.deploy(*w.served_logits(theta_t), mem, rng)
        evaluate(out, theta_t, mem, mem_on, wt, direct)

        u, c = users[t], cells[t]  # (R, B)
        seg = w.user_seg[u]
        uf = (u + run_user).reshape(-1)
        m = mem_flat.take(uf).reshape(R, B) if mem_on else zeros_rb
        rc = c + run_row  # (R, B): row of theta_rows
        np.take(theta_rows, rc, axis=1, out=logits)
        logits += prior
        if w.memory:
            logits += theta_t[:, :, C, None] * m
        lse = softmax_into(logits, e, probs)
        k = c * NS + seg
        np.take(w.rew0_t, k, axis=2, out=r)  # (S, A, R, B) rewards
        if mem_on and w.has_slope:
            np.take(w.slope_t, k, axis=2, out=rs)
            rs *= m
            r[w.slope_sig] += rs  # rewards are affine in memory
        np.multiply(r, probs, out=tmp)
        r -= np.add.reduce(tmp, axis=1)[:, None]  # centred on E_pi (aggregation "none")
        r *= wt.T[:, None, :, None]  # d_i: signal i's part of the advantage
        np.multiply(r, probs, out=coef[:S])
        # Each signal's covariance with the advantage A = sum_i d_i over each
        # run's rollouts: sum over prompts of E_pi[d_i A + w_i^2 Var(r_i)].
        cov = np.einsum("sarb,arb->rs", coef[:S], np.add.reduce(r))
        cov += wts2[t] * var_sums(k, m if mem_on else None)
        advantage_shares(cov, out[:, w.i_adv:w.i_adv + S])
        np.subtract(logits, lse, out=v)
        v -= log_ref  # log(pi / ref)
        np.multiply(probs, v, out=e)
        v -= np.add.reduce(e)
        np.multiply(probs, v, out=coef[S])
        # Scatter-add every prompt's coefficients into its run's cell row:
        # one bincount for all runs; the memory row is a contraction.
        np.add(scat, rc.reshape(1, N), out=idx)
        Gt.reshape(-1)[:] = np.bincount(idx.reshape(-1), weights=coef_kn.reshape(-1), minlength=K * R * rows)
        if w.memory:
            Gt[:, :, C] = np.einsum("krb,rb->kr", coef_kn.reshape(K, R, B), m)
        Gs *= scale
        total = np.add.reduce(Gs)  # (A, R, rows)
        norms = np.sqrt(np.einsum("sarc,sarc->rs", Gs, Gs))
        gn = np.sqrt(np.einsum("arc,arc->r", total, total))
        dots = np.einsum("sarc,arc->rs", Gs[:S], total)
        nsum = norms.sum(axis=1)
        nz = nsum != 0
        nsd = np.where(nz, nsum, 1.0)
        out[:, w.i_infl:w.i_infl + S] = np.where(nz[:, None], norms[:, :S] / nsd[:, None], 0.0)
        out[:, i_kl] = np.where(nz, norms[:, S] / nsd, 0.0)
        ok = (norms[:, :S] > 0) & (gn[:, None] > 0)
        out[:, w.i_align:w.i_align + S] = np.where(ok, dots / np.where(ok, norms[:, :S] * gn[:, None], 1.0), 0.0)
        out[:, i_gn] = gn
        if t == w.update_step - 1:
            incumbent = theta_t.copy()  # the policy the review compares against
        if t == T:
            break

        ascend(theta_t, total, t, w, adam_m, adam_v)  # Adam or SGD, in place

    go_order = lambda th: np.ascontiguousarray(th.transpose(1, 2, 0))  # (R, rows, A)
    return values, go_order(theta_t), go_order(incumbent), (mem if w.memory and T >= w.mem_start else None)


if __name__ == "__main__":
    sweepcli.main(train, __doc__, "sweep_basic.py")
