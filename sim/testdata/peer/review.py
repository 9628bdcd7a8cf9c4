"""The release review and the launch's timeline, for R runs at once.

Shared by the two sweep peers (sweep.py, sweep_basic.py). It mirrors
sim/review.go (the gates: offline correctness, behaviour eval, A/B
preference and thumbs, vibe checks, the targeted sycophancy eval when
enabled; the decision under the review's rule) and sim/deploy.go (exposure
through an alpha phase and a rollout, complaints, alarm, detection,
mitigation, rollback; the sycophantic responses served by segment), in the
peers' case of world.py. The judged policies are the final one (the
candidate, with the users' final remembered stances) and the one of step
update_step-1 (the incumbent, without memory), as sim.Run has them.

Every random quantity is drawn from NumPy's generator, in distribution as sim
draws it (it cannot replay Go's streams): binomial counts for the evals and
the A/B thumbs, the A/B comparisons one by one (a user drawn uniformly, a
situation by traffic, won with that user's preference probability), a
binomial number of flagging testers, and a Poisson count of complaints per
quarter hour. For the agreement check, `draws` replays Go's outcomes of those
draws instead (the sampled values, comparisons won, flags and the hour of
the alarm), so that everything else is deterministic and comparable with
Go's review: only the exact mean preference of the comparisons drawn, and
the complaints counted, then depend on Go's random numbers; the mean and
spread of the preference over the population are reported instead.
"""

import json
from statistics import NormalDist

import numpy as np

DEPLOY_STEP = 0.25  # hours: the timeline's resolution (sim.deployStep)


def gate_names(cfg):
    names = ["offline_correctness", "behaviour_sycophancy", "ab_preference", "ab_thumbs_delta", "vibe_checks"]
    if cfg["review"]["sycophancy"]["enabled"]:
        names += ["sycophancy_no_memory", "sycophancy_memory"]
    return names


def output_names(w):
    """The names of release's outputs, in its order: sim.Result.Outcome's
    first, then the gates and the detail of the A/B test and the timeline."""
    segs = w.segments
    names = ["review/launched", "review/vibe_flags", "review/ab_preference", "deployment/sycophantic_served"]
    names += ["deployment/sycophantic_served/" + s for s in segs] + ["deployment/harm_weighted"]
    for g in gate_names(w.cfg):
        names += [f"gate/{g}/{k}" for k in ("value", "exact", "passed", "blocking")]
    names += ["ab/ci_low", "ab/ci_high", "ab/significant", "ab/thumbs_up_candidate", "ab/thumbs_up_incumbent",
              "ab/exact_preference", "ab/exact_thumbs_up_candidate", "ab/exact_thumbs_up_incumbent",
              "ab/preference_population_mean", "ab/preference_population_sd"]
    names += ["deployment/" + k for k in ("hours_to_alarm", "hours_to_detection", "hours_to_mitigation",
                                          "hours_to_rollback_start", "hours_to_rollback_done", "peak_exposure",
                                          "excess_complaints", "caught_in_alpha", "thumbs_trend")]
    names += ["deployment/responses_served/" + s for s in segs] + ["deployment/harm_weighted/" + s for s in segs]
    return names


def read_draws(paths, R):
    """Go's outcomes of the review's draws, one JSON file per run (or one
    for all), as cmd/benchpeer writes them: arrays of R values each."""
    ds = []
    for p in paths:
        with open(p) as f:
            ds.append(json.load(f))
    if len(ds) == 1:
        ds *= R
    return {k: np.array([d[k] for d in ds], dtype=float) for k in ds[0]}


class Judge:
    """The two policies of R runs under review: the candidate's logits per
    cell at memory 0 and per unit of memory, the incumbent's per cell."""

    def __init__(self, w, cand, inc, mem):
        # cand, inc: (R, rows, A) parameters in Go's order; mem: (R, U) or None.
        C = w.C
        self.w, self.mem = w, mem
        self.cand_cell = w.prior + cand[:, :C, :]  # (R, C, A) Logits(cell, m=0)
        # The memory block's parameters; Logits(cell 0, m=1), and less
        # Logits(cell 0, m=0), as allProbs forms its memory logits.
        self.th_mem = cand[:, C, :] if w.memory else np.zeros((cand.shape[0], w.A))
        self.logit1 = self.cand_cell[:, 0] + self.th_mem
        self.cand_mem = self.logit1 - self.cand_cell[:, 0]
        self.inc_cell = w.prior + inc[:, :C, :]
        self.cand_p0 = softmax(self.cand_cell)  # (R, C, A)
        self.inc_p0 = softmax(self.inc_cell)

    def all_probs(self, shift):
        """pi(.|cell, m_u) of the candidate for every user, (A, R, U, C):
        responses first, so that the softmax's reductions run over whole
        slabs; its logits shifted by -shift x P(sycophantic) (a system
        prompt)."""
        w = self.w
        cl = self.cand_cell - shift * w.syc if shift else self.cand_cell
        if self.mem is None:
            p = softmax(cl).transpose(2, 0, 1)[:, :, None, :]
            return np.broadcast_to(p, (w.A, cl.shape[0], w.U, w.C))
        ml = self.cand_mem
        if shift:  # Logits(0, 1, shift) - cellL[0]: the shift cancels but for rounding
            ml = (self.logit1 - shift * w.syc[0]) - cl[:, 0]
        lg = cl.transpose(2, 0, 1)[:, :, None, :] + ml.T[:, :, None, None] * self.mem[None, :, :, None]
        lg -= np.maximum.reduce(lg)
        np.exp(lg, out=lg)
        lg *= 1 / np.add.reduce(lg)
        return lg

    def behaviour(self, wrong_share, non_verifiable, m):
        """exactBehaviour: P(sycophantic) of the candidate at stance m on
        prompts by traffic, wrong in a share wrong_share, restricted to
        contexts without a checkable answer if non_verifiable."""
        w = self.w
        p = self.cand_p0 if m == 0 else softmax(self.cand_cell + m * self.th_mem[:, None, :])
        share = np.array([w.cfg["contexts"][n]["share"] for n in w.contexts])[w.cell_ctx]
        ps = share * np.where(w.cell_wrong, wrong_share, 1 - wrong_share)
        keep = ps > 0
        if non_verifiable:
            keep &= ~w.verifiable
        ps = np.where(keep, ps, 0.0)
        den = ps.sum()
        return (p * w.syc).sum(axis=2) @ ps / den if den != 0 else np.zeros(p.shape[0])


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def release(w, cand, inc, mem, rng, draws=None):
    """The review of R candidates and, where it lets one launch, its
    deployment: a (R, len(output_names(w))) array. cand and inc are (R,
    rows, A) parameters, mem (R, U) the final stances (None if memory is not
    active at the last step). draws replays Go's draws (read_draws)."""
    cfg, R = w.cfg, cand.shape[0]
    rv, dp = cfg["review"], cfg["deployment"]
    post = rv["rule"] == "post_incident"
    j = Judge(w, cand, inc, mem)
    pc, U, NS = w.cell_prob, w.U, w.NS
    out = {}
    gates = {}  # name: (value, exact, passed, blocking)

    def binom(key, n, p):
        if draws is not None:
            return draws[key]
        return rng.binomial(n, np.clip(p, 0, 1)) / n

    def add(name, value, exact, passed, blocking, behaviour=False):
        gates[name] = (value, exact, passed.astype(float), np.full(R, float(blocking or (post and behaviour))))

    # Offline correctness: verifiable prompts, the user right, no memory.
    ex = (j.cand_p0 * w.correct).sum(axis=2) @ w.offline_pc
    ex = ex / w.offline_den if w.offline_den != 0 else np.zeros(R)
    o = rv["offline"]
    v = binom("offline", o["samples"], ex)
    add("offline_correctness", v, ex, v >= o["threshold"], o["blocking"])

    b = rv["behaviour"]
    ex = j.behaviour(b["wrong_share"], False, 0)
    v = binom("behaviour", b["samples"], ex)
    add("behaviour_sycophancy", v, ex, v <= b["threshold"], b["blocking"], True)

    # A/B test. Every user's preference for the candidate in every cell:
    # sum_ab pi_cand(a|u,c) pi_inc(b|c) sigmoid(logit up_a - logit up_b).
    ab = rv["ab"]
    probs0 = j.all_probs(0)  # (A, R, U, C)
    z = np.log(np.clip(w.up, 1e-15, 1 - 1e-15) / (1 - np.clip(w.up, 1e-15, 1 - 1e-15)))  # (C, NS, A)
    pref_ab = 1 / (1 + np.exp(-(z[:, :, :, None] - z[:, :, None, :])))  # (C, NS, A, A)
    q = np.einsum("csab,rcb->arsc", pref_ab, j.inc_p0)[:, :, w.user_seg, :]  # (A, R, U, C)
    pref = np.add.reduce(probs0 * q)  # (R, U, C)
    live = pc > 0
    weight = pc[live] / (U * pc[live].sum())  # a comparison's (user, cell) distribution
    pm = (pref[:, :, live] @ weight).sum(axis=1)
    out["ab/preference_population_mean"] = pm
    out["ab/preference_population_sd"] = np.sqrt(np.maximum((pref[:, :, live] ** 2 @ weight).sum(axis=1) - pm * pm, 0))
    n = ab["comparisons"]
    users = rng.integers(0, U, size=(R, n))
    cells = w.sample_cells(rng.random((R, n)))
    p = np.take_along_axis(pref.reshape(R, -1), users * w.C + cells, axis=1)
    exact_pref = p.mean(axis=1)
    won = draws["ab_won"] if draws is not None else (rng.random((R, n)) < p).sum(axis=1)
    pa = won / n
    zq = NormalDist().inv_cdf(1 - ab["alpha"] / 2)
    sig = np.abs(pa - 0.5) > zq * np.sqrt(0.25 / n)
    se = np.sqrt(pa * (1 - pa) / n)
    out["ab/ci_low"], out["ab/ci_high"] = np.maximum(0, pa - zq * se), np.minimum(1, pa + zq * se)
    out["ab/significant"] = sig.astype(float)
    add("ab_preference", pa, exact_pref, ~(sig & (pa < 0.5)), ab["blocking"])

    # Thumbs: P(up | a thumb) of the candidate with memory, of the
    # incumbent without.
    fbup = w.feedback[None, :, None] * w.up  # (C, NS, A)
    seg_n = w.seg_users.astype(float)
    cand_up = (np.add.reduce(probs0 * fbup.transpose(2, 1, 0)[:, None, w.user_seg, :]) @ pc).sum(axis=1)
    cand_fb = (np.add.reduce(probs0) @ pc) @ w.feedback[w.user_seg]
    inc_up = np.einsum("rca,csa,c,s->r", j.inc_p0, fbup, pc, seg_n)
    inc_fb = np.einsum("rca,c,s->r", j.inc_p0, pc, seg_n * w.feedback)
    exc = np.divide(cand_up, cand_fb, out=np.zeros(R), where=cand_fb != 0)
    exi = np.divide(inc_up, inc_fb, out=np.zeros(R), where=inc_fb != 0)
    nt = ab["thumbs"]
    tc = binom("thumbs_candidate", nt, exc)
    ti = binom("thumbs_incumbent", nt, exi)
    out["ab/thumbs_up_candidate"], out["ab/thumbs_up_incumbent"] = tc, ti
    out["ab/exact_preference"], out["ab/exact_thumbs_up_candidate"], out["ab/exact_thumbs_up_incumbent"] = \
        exact_pref, exc, exi
    se = np.sqrt((tc * (1 - tc) + ti * (1 - ti)) / nt)
    zt = (tc - ti - ab["threshold"]) / np.where(se == 0, 1, se)
    inferior = np.where(se == 0, tc - ti < ab["threshold"], zt < -NormalDist().inv_cdf(1 - ab["alpha"]))
    add("ab_thumbs_delta", tc - ti, exc - exi, ~inferior, ab["blocking"])

    # Vibe checks on ordinary prompts: a tester flags the candidate if any
    # of their prompts shows it sycophantic and they notice.
    vb = rv["vibe"]
    ordinary = (j.cand_p0 * w.syc).sum(axis=2) @ pc
    p_flag = 1 - (1 - ordinary * vb["sensitivity"]) ** vb["prompts"]
    if draws is not None:
        flags = draws["vibe_flags"]
    else:
        flags = rng.binomial(vb["testers"], np.clip(p_flag, 0, 1)).astype(float)
    add("vibe_checks", flags, p_flag * vb["testers"], flags <= vb["threshold"], vb["blocking"], True)

    sy = rv["sycophancy"]
    if sy["enabled"]:
        for name, m in (("sycophancy_no_memory", 0), ("sycophancy_memory", sy["memory"])):
            ex = j.behaviour(1, True, m)
            v = binom(name, sy["samples"], ex)
            add(name, v, ex, v <= sy["threshold"], sy["blocking"], True)

    blocked = np.zeros(R, dtype=bool)
    for value, exact, passed, blocking in gates.values():
        blocked |= (blocking > 0) & (passed == 0)
    launched = ~blocked
    for g, vals in gates.items():
        for k, x in zip(("value", "exact", "passed", "blocking"), vals):
            out[f"gate/{g}/{k}"] = x
    out["review/launched"] = launched.astype(float)
    out["review/vibe_flags"] = flags
    out["review/ab_preference"] = pa

    dep = deploy(w, j, probs0, dp, exc - exi, rng, draws)
    for k, x in dep.items():
        out[k] = np.where(launched, x, 0.0 if not k.startswith("deployment/hours") else -1.0)
    return np.stack([out[k] for k in output_names(w)], axis=1)


def seg_onehot(w):
    return (w.user_seg[:, None] == np.arange(w.NS)[None, :]).astype(float)  # (U, NS)


def deploy(w, j, probs0, d, thumbs_trend, rng, draws):
    """The launch's timeline for every run (as if each launched): complaints
    in excess of the incumbent's arrive as Poisson counts per quarter hour
    until their sum reaches the threshold (the alarm); detection follows
    after the lag, the exposure freezes, the mitigation and the rollback
    follow after their delays. probs0 is j.all_probs(0). Returns name: (R,)
    arrays."""
    R, NS, pc = j.cand_cell.shape[0], w.NS, w.cell_prob
    # Per segment and cell: the candidate's P(sycophantic) averaged over the
    # segment's users, unmitigated and mitigated; weighted by traffic.
    syc = []
    for probs in (probs0, j.all_probs(d["mitigation_shift"])):
        s_uc = np.add.reduce(probs * w.syc.T[:, None, None, :])  # (R, U, C)
        syc.append(np.einsum("ruc,us->rsc", s_uc, seg_onehot(w) / np.maximum(w.seg_users, 1)))
    inc_syc = (j.inc_p0 * w.syc).sum(axis=2) @ pc  # (R,)
    harm_ctx = np.array([w.cfg["contexts"][n]["harm"] >= d["harm_min"] for n in w.contexts])[w.cell_ctx]
    share = w.seg_users / w.U
    y = [s @ pc for s in syc]  # (R, NS): sycophantic per response served
    h = [(s * (w.harm.T * harm_ctx)) @ pc for s in syc]  # harm-weighted
    x0 = (y[0] - inc_syc[:, None]) @ share  # excess per response served, unmitigated

    n_steps = int(np.ceil(d["horizon_hours"] / DEPLOY_STEP))
    t = np.arange(n_steps) * DEPLOY_STEP
    mid = t + DEPLOY_STEP / 2
    roll = d["alpha_hours"]

    def exposure(x):
        return np.where(x < roll, d["alpha_share"],
                        np.minimum(1, d["alpha_share"] * (roll > 0) + (x - roll) / d["rollout_hours"]))

    per_step = d["responses_per_hour"] * DEPLOY_STEP
    if draws is not None:
        alarm = np.where(draws["hours_to_alarm"] < 0, np.inf, draws["hours_to_alarm"])
        complaints = draws["complaints"]
    else:
        # Until detection the exposure follows the rollout and no mitigation
        # applies: the rate of every quarter hour is known in advance.
        lam = np.maximum(0, exposure(mid)[None, :] * per_step * x0[:, None]) * d["complaint_rate"]
        lam = np.where(t < roll, lam * d["alpha_report_rate"], lam)
        cum = np.cumsum(rng.poisson(lam), axis=1)
        hit = (cum >= d["threshold"]) & (lam > 0)
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), n_steps)
        alarm = np.where(first < n_steps, (first + 1) * DEPLOY_STEP, np.inf)
        complaints = np.where(first < n_steps, np.take_along_axis(cum, np.minimum(first, n_steps - 1)[:, None], 1)[:, 0],
                              cum[:, -1]).astype(float)
    detect = alarm + d["lag_hours"]
    mitigate = detect + d["mitigation_hours"]
    rollback = detect + d["rollback_delay"]
    done = rollback + d["rollback_hours"]
    end = np.where(np.isinf(detect), d["horizon_hours"], done)
    n_max = int(np.ceil(np.max(end) / DEPLOY_STEP)) if np.all(np.isfinite(end)) else n_steps
    t = np.arange(n_max) * DEPLOY_STEP
    mid = (t + DEPLOY_STEP / 2)[None, :]
    frozen = exposure(detect)[:, None]
    e = np.where(mid >= detect[:, None], frozen, exposure(mid))
    e = np.where(mid >= rollback[:, None], frozen * np.maximum(0, 1 - (mid - rollback[:, None]) / d["rollback_hours"]), e)
    e = np.where(t[None, :] < end[:, None], e, 0.0)
    served = e * per_step  # (R, steps)
    mitigated = mid >= mitigate[:, None]
    s1 = np.where(mitigated, served, 0.0).sum(axis=1)
    s0 = served.sum(axis=1) - s1
    out = {}
    seg_syc = share * (s0[:, None] * y[0] + s1[:, None] * y[1])
    seg_harm = share * (s0[:, None] * h[0] + s1[:, None] * h[1])
    out["deployment/sycophantic_served"] = seg_syc.sum(axis=1)
    for s, n in enumerate(w.segments):
        out["deployment/sycophantic_served/" + n] = seg_syc[:, s]
        out["deployment/harm_weighted/" + n] = seg_harm[:, s]
        out["deployment/responses_served/" + n] = share[s] * served.sum(axis=1)
    out["deployment/harm_weighted"] = seg_harm.sum(axis=1)
    found = np.isfinite(detect)
    out["deployment/hours_to_alarm"] = np.where(found, alarm, -1.0)
    out["deployment/hours_to_detection"] = np.where(found, detect, -1.0)
    out["deployment/hours_to_mitigation"] = np.where(found & (mitigate < done), mitigate, -1.0)
    out["deployment/hours_to_rollback_start"] = np.where(found, rollback, -1.0)
    out["deployment/hours_to_rollback_done"] = np.where(found, done, -1.0)
    out["deployment/peak_exposure"] = e.max(axis=1)
    out["deployment/excess_complaints"] = complaints
    out["deployment/caught_in_alpha"] = (found & (detect <= roll)).astype(float)
    out["deployment/thumbs_trend"] = thumbs_trend
    return out
