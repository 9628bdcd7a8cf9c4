#!/usr/bin/python3
"""The strong NumPy peer of `rewardmix sweep`: many runs at once, as an
expert NumPy programmer writes it; cmd/benchpeer's speedup_vs_numpy is
measured against it.

Same model, update rule, command line, outputs and release review as
sweep_basic.py (see sweepcli.py, review.py): the `expected` algorithm with
aggregation "none" in the special case of world.py. What makes it fast:

- Both cores: the runs split over --workers forked processes, each with
  BLAS pinned to one thread (set before NumPy loads).
- The exact evaluation factorised as Go's evaluateMemory does it: pi_uca =
  E_ca F_ua / Z_uc with E the cells' exponentials and F the users' memory
  factors; Z is one batched matmul, each segment's sums of pi and m pi one
  batched matmul, and the sum of log Z_uc over users the log of products
  taken pairwise (six levels of a product tree: 64 times fewer logs), with a
  fallback to plain logs if a product leaves the safe range.
- Every linear metric (sycophancy, thumbs and feedback by segment, the
  gold parts, the rewards, the response shares) from one matmul of the
  step's sums against a constant matrix.
- The step's prompt probabilities reused from the evaluation's factors (no
  second softmax); the rewards and the KL term centred together as one
  array of S+1 slots; the scatter of the coefficients into parameters, and
  of the prompts' masses into the variance tables, as one batched matmul
  against a one-hot matrix of (cell, segment) with the stances as its last
  column; the weights applied to the small gradient arrays, not to the
  prompts' rows.
- Before memory starts every user of a segment sees the same policy: the
  evaluation is per (cell, segment), the batch is the count of prompts of
  each (cell, segment), drawn as one multinomial per step (or counted from
  replayed prompts), and the gradient is counts times per-(cell, segment)
  coefficients.
- With memory, prompts drawn per step (users uniformly, cells by
  comparison with the CDF), where the arrays stay in cache.

    sweep.py --config c1.toml c2.toml ... [--prompts p1.bin ... --memory m1.bin ... --review-draws d1.json ...]
    sweep.py --config base.toml --grid signals.thumbs.weight=0,0.25,... --replicates 10 --workers 2
"""

import os
import sys

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one BLAS thread per process: the processes use the cores

import numpy as np  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweepcli  # noqa: E402
from world import advantage_shares, ascend  # noqa: E402

MIN_SUM = 1e-280  # the smallest normaliser the factorisation takes (vmath.MinSum)
TREE = 6  # levels of the product tree over users: 2^6 factors per log


class Tables:
    """The constant tables of a world, laid out for the step's matmuls."""

    def __init__(self, w):
        C, NS, A, S = w.C, w.NS, w.A, w.S
        G = S + 1
        K = C * NS
        pc = w.cell_prob
        # Per (cell, segment) k = cell*NS + segment: the slots' values at
        # memory 0 (the signals' rewards, and -log ref in the KL slot, to
        # which the logits add) and their slopes in memory.
        self.val0 = np.zeros((K, G, A))
        self.val0[:, :S] = w.rew0.reshape(K, S, A)
        self.val0[:, S] = -w.log_ref
        self.val0_t = np.ascontiguousarray(self.val0.transpose(1, 2, 0))  # (G, A, K)
        self.slope = w.slope.reshape(K, S, A)[:, w.slope_sig]  # (K, memory signals, A)
        # Variances of the sampled rewards, v0 + m^2 v2: (A*K, S) each, by
        # response and k.
        v0 = np.zeros((K, S, A))
        v2 = np.zeros((K, S, A))
        for i in range(S):
            for k in range(K):
                c, s = divmod(k, NS)
                v0[k, i] = w.var_t[(np.arange(A) * C * NS + c * NS + s), i]
                v2[k, i] = w.var_t[A * C * NS + np.arange(A) * C * NS + c * NS + s, i]
        self.var0 = np.ascontiguousarray(v0.transpose(2, 0, 1).reshape(A * K, S))
        self.var2 = np.ascontiguousarray(v2.transpose(2, 0, 1).reshape(A * K, S))
        self.has_var2 = bool(np.any(v2 != 0))

        # The linear metrics from the sums P[s, c, a] (pi summed over the
        # segment's users) and M[s, c, a] (m pi): one (2 NS C A, L) matrix,
        # each row weighted by P(cell). Columns: sycophancy, feedback and
        # feedback x up by segment; gold, helpfulness, honesty, wellbeing;
        # the rewards; the response shares.
        L = 3 * NS + 4 + S + A
        q = np.zeros((2, NS, C, A, L))
        ev = w.evalq.reshape(NS, C, A, 7 + S)  # syc, gold, help, honest, well, fb, fb*up, rewards
        for s in range(NS):
            q[0, s, :, :, s] = ev[s, :, :, 0]
            q[0, s, :, :, NS + s] = ev[s, :, :, 5]
            q[0, s, :, :, 2 * NS + s] = ev[s, :, :, 6]
        q[0, :, :, :, 3 * NS:3 * NS + 4] = ev[:, :, :, 1:5]
        q[0, :, :, :, 3 * NS + 4:3 * NS + 4 + S] = ev[:, :, :, 7:]
        q[1, :, :, :, 3 * NS + 4:3 * NS + 4 + S] = w.evalslope.reshape(NS, C, A, S)
        q[0, :, :, :, 3 * NS + 4 + S:] = np.eye(A)
        q *= pc[None, None, :, None, None]
        self.lin = np.ascontiguousarray(q.transpose(0, 1, 3, 2, 4)).reshape(2 * NS * A * C, L)  # rows by (s, a, c)
        self.L = L
        self.offline = (w.correct * w.offline_pc[:, None]).reshape(C * A) / w.offline_den if w.offline_den else \
            np.zeros(C * A)


def train(w, W, prompts, memory, rng, direct=False):
    """R runs at once. W: (R, S) configured weights; prompts: (users,
    cells), each (T+1, R, B), or None to draw them with rng. Returns values
    (R, T+1, metrics), the final parameters and the incumbent's (R, rows,
    A), and the final stances (R, U) or None. memory ({step: (R, U)
    stances}) replays the stances each deployment left; without it the
    deployments are simulated with rng.

    Parameters are held as Go holds them, (R, rows, A): cells, then the
    memory row. Batch arrays are (R, B, slot, A)."""
    R = W.shape[0]
    T, B, A, C, S, NS, U = w.steps, w.batch, w.A, w.C, w.S, w.NS, w.U
    G, K, rows = S + 1, C * NS, w.rows
    tb = Tables(w)
    pc, log_ref, prior = w.cell_prob, w.log_ref, w.prior
    wts = w.effective_weights(W)  # (T+1, R, S)
    scale = np.empty((T + 1, R, G))  # the slots' gradient weights: w_i / B, and -beta / B for KL
    scale[:, :, :S] = wts / B
    scale[:, :, S] = -w.beta / B
    values = np.zeros((R, T + 1, len(w.metrics)))
    theta = np.zeros((R, rows, A))
    incumbent = theta
    adam_m = np.zeros_like(theta)
    adam_v = np.zeros_like(theta)
    pad = -U % (1 << TREE)
    Up = U + pad
    mem = np.zeros((R, Up))  # stances; padding users at 0
    seg_mean = np.zeros((R, NS))  # the mean stance per segment, from one deployment to the next
    seg_t = (w.user_seg[:, None] == np.arange(NS)[None, :]).astype(float)  # (U, NS)
    inv_n = np.divide(1.0, w.seg_users, out=np.zeros(NS), where=w.seg_users > 0)
    N = float(U)
    ix = w.ix
    i_kl, i_gn = ix["influence/kl"], ix["grad_norm"]
    deploys = set(w.deploy_steps)
    mem_start = w.mem_start if w.memory else T + 1

    # Prompts before memory starts: counts per (cell, segment).
    free = min(mem_start, T + 1)
    if prompts is None:
        pk = (pc[:, None] * (w.seg_users / U)[None, :]).reshape(K)
        counts = rng.multinomial(B, pk / pk.sum(), size=(free, R)).astype(float)
    else:
        k_free = prompts[1][:free] * NS + w.user_seg[prompts[0][:free]]  # (free, R, B)
        flat = k_free + (np.arange(free * R) * K).reshape(free, R, 1)
        counts = np.bincount(flat.reshape(-1), minlength=free * R * K).reshape(free, R, K).astype(float)

    # Workspaces for the memory phase. Users, or prompts, are the last
    # axis, so that every elementwise pass runs along a long axis.
    FF = np.empty((R, 2 * A, Up))  # per response and user: F_ua = exp(m_u shift_a), then m_u F_ua
    F = FF[:, :A]
    Z = np.empty((R, C, Up))
    Y = np.empty((R, C, Up))
    tree = np.empty((R, C, Up // 2))
    sums = np.empty((NS, R, 2 * A, C))
    H = np.zeros((R, B, K + 1))  # one-hot (cell, segment) of each prompt, and its stance
    ext = np.empty((G * A + 2 * A, R, B))  # the prompts' coefficients by slot and response, then pi and pi m^2
    coef = ext[:G * A].reshape(G, A, R, B)
    V = np.empty((G, A, R, B))
    run_c = (np.arange(R) * C)[:, None]
    run_u = (np.arange(R) * Up)[:, None]
    run_f = (np.arange(R) * 2 * A * Up)[None, :, None] + (np.arange(A) * Up)[:, None, None]  # (A, R, 1) into FF
    run_h = (np.arange(R) * B * (K + 1))[:, None] + np.arange(B)[None, :] * (K + 1)
    segs = [(sl.start, sl.stop) for sl in w.seg_slices]
    val0 = np.ascontiguousarray(tb.val0.reshape(K, G * A).T)  # (G A, K)
    slope = np.ascontiguousarray(tb.slope.reshape(K, -1).T)  # (memory signals x A, K)
    nsl = len(w.slope_sig)

    for t in range(T + 1):
        out = values[:, t, :]
        wt = wts[t]
        mem_on = t >= mem_start
        if t in deploys and mem_on:  # stances move here only, held by training
            m_new = memory[t] if memory is not None else None
            if m_new is None:
                m_new = np.ascontiguousarray(mem[:, :U])
                th_t = theta.transpose(2, 0, 1)  # (A, R, rows), as World.served_logits takes it
                w.deploy(*w.served_logits(th_t), m_new, rng)
            mem[:, :U] = m_new
            seg_mean = (mem[:, :U] @ seg_t) * inv_n

        cl = prior + theta[:, :C]  # (R, C, A) logits at memory 0
        cmax = cl.max(axis=2)
        E = np.exp(cl - cmax[:, :, None])
        esum = E.sum(axis=2)
        if not mem_on:
            cp = E * (1 / esum)[:, :, None]  # (R, C, A): every user's pi
            logp = cl - (cmax + np.log(esum))[:, :, None]
            kl = N * ((cp * (logp - log_ref)).sum(axis=2) @ pc)
            lin = (w.seg_users[None, :, None] * cp.transpose(0, 2, 1).reshape(R, 1, A * C)).reshape(R, NS * A * C) \
                @ tb.lin[:NS * A * C]
        else:
            ml = (cl[:, 0] + theta[:, C]) - cl[:, 0]  # (R, A) memory logits, as Go forms them
            shift = ml - ml.max(axis=1)[:, None]  # <= 0, so m shift <= 0 for m >= 0
            np.multiply(shift[:, :, None], mem[:, None, :], out=F)
            np.exp(F, out=F)
            np.multiply(F, mem[:, None, :], out=FF[:, A:])
            np.matmul(E, F, out=Z)  # (R, C, Up): the normalisers
            direct_eval = direct or not Z[:, :, :U].min() > MIN_SUM
            if direct_eval:
                P, M, kl = direct_sums(w, cl, ml, mem[:, :U], seg_t)
            else:
                Z[:, :, U:] = 1.0  # padding users: factor 1 in the products
                np.divide(1.0, Z, out=Y)
                for s, (lo, hi) in enumerate(segs):  # per segment: sum_u F/Z and sum_u m F/Z
                    np.matmul(FF[:, :, lo:hi], Y[:, :, lo:hi].transpose(0, 2, 1), out=sums[s])
                Et = E.transpose(0, 2, 1)  # (R, A, C)
                sums[:, :, :A] *= Et
                sums[:, :, A:] *= Et
                P = sums[:, :, :A].transpose(1, 0, 2, 3)  # (R, NS, A, C)
                M = sums[:, :, A:].transpose(1, 0, 2, 3)
                Ptot, Mtot = P.sum(axis=1), M.sum(axis=1)  # (R, A, C)
                kl = ((Ptot * (cl - cmax[:, :, None] - log_ref).transpose(0, 2, 1)).sum(axis=1)
                      + (Mtot * shift[:, :, None]).sum(axis=1)) @ pc
                kl -= log_sum(Z, tree) @ pc
            lin = np.concatenate([P.reshape(R, -1), M.reshape(R, -1)], axis=1) @ tb.lin

        # Metrics: sycophancy, feedback and up by segment, the gold parts,
        # the rewards, the shares; then KL, memory, weights, offline.
        syc_s, fb_s, up_s = lin[:, :NS], lin[:, NS:2 * NS], lin[:, 2 * NS:3 * NS]
        rew = lin[:, 3 * NS + 4:3 * NS + 4 + S]
        out[:, ix["sycophancy_rate"]] = syc_s.sum(axis=1) / N
        out[:, w.i_syc_seg:w.i_syc_seg + NS] = syc_s * inv_n
        out[:, ix["gold_utility"]:ix["gold_utility"] + 4] = lin[:, 3 * NS:3 * NS + 4] / N
        out[:, ix["kl"]] = kl / N
        fb, up = fb_s.sum(axis=1), up_s.sum(axis=1)
        out[:, ix["thumbs_up_rate"]] = np.divide(up, fb, out=np.zeros(R), where=fb != 0)
        out[:, w.i_up_seg:w.i_up_seg + NS] = np.divide(up_s, fb_s, out=np.zeros((R, NS)), where=fb_s != 0)
        out[:, w.i_rew:w.i_rew + S] = rew / N
        out[:, w.i_weight:w.i_weight + S] = wt
        out[:, ix["proxy_reward"]] = (wt * rew).sum(axis=1) / N
        if w.memory:
            out[:, w.i_mem:w.i_mem + NS] = seg_mean
        out[:, w.i_share:w.i_share + A] = lin[:, 3 * NS + 4 + S:] / N
        out[:, ix["eval/offline_correctness"]] = (E * (1 / esum)[:, :, None]).reshape(R, C * A) @ tb.offline

        # The step's gradient, per slot (signals, then KL), response and row.
        if not mem_on:
            grad, cov_raw, var_sum = free_step(tb, w, cp, cl, counts[t], wt)
        else:
            if prompts is None:
                u = rng.integers(0, U, size=(R, B))
                c = w.sample_cells(rng.random((R, B)))
            else:
                u, c = prompts[0][t], prompts[1][t]
            k = c * NS + w.user_seg[u]
            rc = c + run_c
            m = mem.reshape(-1).take((u + run_u).reshape(-1)).reshape(R, B)
            # pi from the evaluation's factors: E_ca F_ua over their sum.
            logits = cl.reshape(R * C, A).T.take(rc, axis=1)  # (A, R, B)
            p = E.reshape(R * C, A).T.take(rc, axis=1)
            p *= FF.reshape(-1).take(run_f + u[None])
            zs = np.add.reduce(p)
            logits += ml.T[:, :, None] * m
            if not direct_eval and zs.min() > MIN_SUM:
                p *= 1 / zs
            else:  # the factors underflow: the softmax of the logits
                np.exp(logits - logits.max(axis=0), out=p)
                p /= np.add.reduce(p)
            # The slots' values: the rewards (affine in memory) and the
            # logits less log ref; centred on E_pi, times pi.
            np.take(val0, k, axis=1, out=V.reshape(G * A, R, B))
            if nsl:
                V[w.slope_sig] += np.take(slope, k, axis=1).reshape(nsl, A, R, B) * m
            V[S] += logits
            np.multiply(V, p, out=coef)
            np.subtract(V, np.add.reduce(coef, axis=1)[:, None], out=coef)
            coef *= p
            X = np.add.reduce(V[:S] * wt.T[:, None, :, None])  # (A, R, B): the advantage, uncentred
            cov_raw = np.add.reduce(coef[:S] * X, axis=1).sum(axis=2).T  # (R, S)
            ext[G * A:G * A + A] = p
            np.multiply(p, m * m, out=ext[G * A + A:])
            H[:, :, :K] = 0.0
            H.reshape(-1)[(run_h + k).reshape(-1)] = 1.0
            H[:, :, K] = m
            sc = np.matmul(ext.transpose(1, 0, 2), H)  # (R, G A + 2A, K+1)
            cells = sc[:, :G * A, :K].reshape(R, G * A, C, NS).sum(axis=3)
            grad = np.concatenate([cells, sc[:, :G * A, K:]], axis=2).reshape(R, G, A, rows).transpose(0, 3, 1, 2)
            mass = sc[:, G * A:, :K]  # (R, 2A, K): pi and pi m^2 summed per (cell, segment)
            var_sum = mass[:, :A].reshape(R, A * K) @ tb.var0
            if tb.has_var2:
                var_sum += mass[:, A:].reshape(R, A * K) @ tb.var2

        cov = wt * cov_raw + wt * wt * var_sum
        advantage_shares(cov, out[:, w.i_adv:w.i_adv + S])
        grad *= scale[t][:, None, :, None]
        total = grad.sum(axis=2)  # (R, rows, A)
        norms = np.sqrt(np.einsum("rkga,rkga->rg", grad, grad))
        gn = np.sqrt(np.einsum("rka,rka->r", total, total))
        dots = np.einsum("rkia,rka->ri", grad[:, :, :S], total)
        nsum = norms.sum(axis=1)
        nz = nsum != 0
        nsd = np.where(nz, nsum, 1.0)
        out[:, w.i_infl:w.i_infl + S] = np.where(nz[:, None], norms[:, :S] / nsd[:, None], 0.0)
        out[:, i_kl] = np.where(nz, norms[:, S] / nsd, 0.0)
        ok = (norms[:, :S] > 0) & (gn[:, None] > 0)
        out[:, w.i_align:w.i_align + S] = np.where(ok, dots / np.where(ok, norms[:, :S] * gn[:, None], 1.0), 0.0)
        out[:, i_gn] = gn
        if t == w.update_step - 1:
            incumbent = theta.copy()  # the policy the review compares against
        if t == T:
            break
        ascend(theta, total, t, w, adam_m, adam_v)  # Adam or SGD, in place

    final_mem = np.ascontiguousarray(mem[:, :U]) if T >= mem_start else None
    return values, theta, incumbent, final_mem


def free_step(tb, w, cp, cl, n, wt):
    """The step before memory starts, from the counts n (R, K) of prompts
    per (cell, segment): every prompt of a (cell, segment) has the same pi,
    values and coefficients. Returns the unweighted gradient (R, rows, G,
    A), the signals' raw covariances with the advantage and their variance
    sums (R, S). Arrays are (slot, response, run, k)."""
    R, C, A, S, NS = cp.shape[0], w.C, w.A, w.S, w.NS
    G, K = S + 1, C * NS
    p = np.repeat(cp.transpose(2, 0, 1), NS, axis=2)  # (A, R, K)
    V = np.empty((G, A, R, K))
    V[...] = tb.val0_t[:, :, None, :]
    V[S] += np.repeat(cl.transpose(2, 0, 1), NS, axis=2)
    coef = V * p
    np.subtract(V, np.add.reduce(coef, axis=1)[:, None], out=coef)
    coef *= p
    X = np.add.reduce(V[:S] * wt.T[:, None, :, None])  # (A, R, K)
    cov_raw = (np.add.reduce(coef[:S] * X, axis=1) * n).sum(axis=2).T
    pn = p * n
    var_sum = pn.transpose(1, 0, 2).reshape(R, A * K) @ tb.var0
    cells = np.add.reduce((coef * n).reshape(G, A, R, C, NS), axis=4)  # (G, A, R, C)
    grad = np.zeros((R, w.rows, G, A))
    grad[:, :C] = cells.transpose(2, 3, 0, 1)
    return grad, cov_raw, var_sum


def log_sum(Z, buf):
    """sum over users of log Z (R, C), Z (R, C, Up) with Up a multiple of
    2^TREE: the log of products of 2^TREE normalisers each (each in
    (MIN_SUM, A], most near 1), or of the normalisers themselves where a
    product leaves the safe range. buf (R, C, Up/2) is the tree's."""
    h = Z.shape[2] // 2
    np.multiply(Z[:, :, :h], Z[:, :, h:], out=buf)
    for _ in range(TREE - 1):
        np.multiply(buf[:, :, :h // 2], buf[:, :, h // 2:h], out=buf[:, :, :h // 2])
        h //= 2
    p = buf[:, :, :h]
    if p.min() > 1e-250 and p.max() < 1e250:
        return np.log(p).sum(axis=2)
    return np.log(Z).sum(axis=2)


def direct_sums(w, cl, ml, mem, seg_t):
    """The evaluation's sums by a softmax per user and cell, where the
    factorisation underflows: P, M (R, NS, C, A) and the KL summed over
    users (weighted by P(cell)); P and M by (run, segment, response, cell)."""
    R, C, A = cl.shape
    lg = cl[:, None, :, :] + mem[:, :, None, None] * ml[:, None, None, :]  # (R, U, C, A)
    mx = lg.max(axis=3, keepdims=True)
    e = np.exp(lg - mx)
    s = e.sum(axis=3, keepdims=True)
    p = e / s
    kl = ((p * (lg - mx - np.log(s) - w.log_ref)).sum(axis=3) @ w.cell_prob).sum(axis=1)
    pw = p.reshape(R, -1, C * A)
    P = np.einsum("us,ruk->rsk", seg_t, pw).reshape(R, -1, C, A).transpose(0, 1, 3, 2)
    M = np.einsum("us,ru,ruk->rsk", seg_t, mem, pw).reshape(R, -1, C, A).transpose(0, 1, 3, 2)
    return P, M, kl


if __name__ == "__main__":
    sweepcli.main(train, __doc__, "sweep.py")
