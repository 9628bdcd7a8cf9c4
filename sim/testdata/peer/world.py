"""The rewardmix world compiled into NumPy arrays, from a resolved config.toml.

Shared by the two NumPy peers (perrun.py, sweep.py). It mirrors sim/world.go
(cells, segment split, outcomes, expected rewards), sim/feedback.go (the
deployments that move remembered stances), reward/signal.go and
reward/mix.go (signal expectations and variances, effective weights,
advantage shares) and policy/policy.go (the tabular + memory log-linear
policy). Only the special case of sim's pipeline closest to its first model
is implemented: the `expected` algorithm with aggregation "none", tabular
features, every thumbs signal `source = "direct"` (a thumb per rollout, no
reward model) and every context's `cue_accuracy = 1`, so that a situation is
a cell (2*context + wrong) and the policy in effect sees the truth;
remembered stances move only at deployments. Other settings are refused by
`check_supported`.

Layouts: policy.Policy.Theta is, flat, a (C+1, A) array: the tabular block in
rows 0..C-1 (cell, response) and the memory x response block in row C (absent
without memory); the peers hold it transposed, responses first, and write it
back in Go's order. Reward tables are (signals, responses, cell*NS + segment),
gathered per prompt along the last axis; the table of the rewards' variances
is contracted with the policy's mass instead (VarianceSums).
"""

import os
import tomllib

import numpy as np


class Unsupported(Exception):
    """A config setting the peers do not implement."""


def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def check_supported(cfg):
    t = cfg["train"]
    bad = []
    if t["algorithm"] != "expected":
        bad.append(f'train.algorithm = "{t["algorithm"]}" (only "expected")')
    if t["aggregation"] != "none":
        bad.append(f'train.aggregation = "{t["aggregation"]}" (only "none")')
    if t["batch_size"] <= 0:
        bad.append("train.batch_size = 0 (the full batch is not implemented)")
    if cfg["policy"]["features"] != "tabular":
        bad.append(f'policy.features = "{cfg["policy"]["features"]}" (only "tabular")')
    if t["optimizer"] not in ("adam", "sgd"):
        bad.append(f'train.optimizer = "{t["optimizer"]}"')
    if t["weights"] not in ("absolute", "sum_to_one"):
        bad.append(f'train.weights = "{t["weights"]}"')
    for n, s in cfg["signals"].items():
        if s["kind"] not in ("correctness", "spec", "thumbs", "memory", "table"):
            bad.append(f'signals.{n}.kind = "{s["kind"]}"')
        elif s["kind"] == "thumbs" and s["source"] != "direct":
            bad.append(f'signals.{n}.source = "{s["source"]}" (only "direct": no reward model)')
    for n, x in cfg["contexts"].items():
        if x["cue_accuracy"] != 1:
            bad.append(f"contexts.{n}.cue_accuracy = {x['cue_accuracy']} (only 1: a situation is a cell)")
    if deployments(cfg) and cfg["feedback"]["log_policy"] not in ("current", "reference"):
        bad.append(f'feedback.log_policy = "{cfg["feedback"]["log_policy"]}"')
    # The peers rely on remembered stances staying in [0, 1], as sim's
    # validation guarantees.
    m = cfg["memory"]
    if not (0 <= m["rate"] <= 1 and m["reinforcement"] >= 0
            and all(0 <= s["disclosure"] <= 1 for s in cfg["segments"].values())):
        bad.append("memory.rate, memory.reinforcement or a segment's disclosure out of range")
    if bad:
        raise Unsupported("the NumPy peer does not implement: " + "; ".join(bad))


def segment_counts(shares, n):
    """Largest remainder split of n users over shares (sim.segmentCounts)."""
    counts = [int(s * n) for s in shares]
    rem = [s * n - k for s, k in zip(shares, counts)]
    total = sum(counts)
    while total < n:
        best = int(np.argmax(rem))  # first maximum, as the Go loop
        counts[best] += 1
        rem[best] = -1.0
        total += 1
    return counts


def deployments(cfg):
    """The steps of the deployments (sim.Config.Deployments): rounds of
    them, evenly spread from the first step at which memory is active (the
    peers have no reward model) to the end; none without memory."""
    t, mem = cfg["train"]["steps"], cfg["memory"]
    if not mem["enabled"] or mem["start_step"] > t:
        return []
    first, rounds = mem["start_step"], cfg["feedback"]["rounds"]
    return [first + k * (t - first) // rounds for k in range(rounds)]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class World:
    """Flat arrays of one config's world; see the module doc for layouts."""

    def __init__(self, cfg):
        check_supported(cfg)
        self.cfg = cfg
        t = cfg["train"]
        self.steps = t["steps"]
        self.update_step = t["update_step"]  # the incumbent is the policy of step update_step-1
        self.batch = t["batch_size"]
        self.lr = t["learning_rate"]
        self.adam = t["optimizer"] == "adam"
        self.beta = t["beta"]
        self.sum_to_one = t["weights"] == "sum_to_one"
        mem = cfg["memory"]
        self.memory = bool(mem["enabled"])
        self.mem_start = mem["start_step"]
        self.mem_rate = mem["rate"]
        self.reinforcement = mem["reinforcement"]
        self.gold_w = cfg["gold"]
        self.deploy_steps = deployments(cfg)
        if self.deploy_steps:
            fb = cfg["feedback"]
            self.log_size = fb["log_size"]
            self.log_reference = fb["log_policy"] == "reference"

        self.contexts = sorted(cfg["contexts"])
        self.segments = sorted(cfg["segments"])
        self.responses = sorted(cfg["responses"])
        self.signals = sorted(cfg["signals"])
        A, NS, S = len(self.responses), len(self.segments), len(self.signals)
        self.A, self.NS, self.S = A, NS, S

        segs = [cfg["segments"][n] for n in self.segments]
        self.seg_users = np.array(segment_counts([s["share"] for s in segs], cfg["population"]["users"]))
        self.user_seg = np.repeat(np.arange(NS), self.seg_users)
        self.U = len(self.user_seg)
        self.disclosure = np.array([s["disclosure"] for s in segs])
        self.feedback = np.array([s["feedback_rate"] for s in segs])
        mean_feedback = float(np.sum(self.feedback[self.user_seg])) / self.U

        prob, ctx, wrong = [], [], []
        for k, n in enumerate(self.contexts):
            x = cfg["contexts"][n]
            prob += [x["share"] * (1 - x["wrong"]), x["share"] * x["wrong"]]
            ctx += [k, k]
            wrong += [False, True]
        self.cell_prob = np.array(prob)
        self.cell_cdf = np.cumsum(self.cell_prob)
        self.cell_ctx = np.array(ctx)
        self.cell_wrong = np.array(wrong)
        C = len(prob)
        self.C = C
        # With every cue exact, sim's situations are the cells of positive
        # probability, in order: situation index -> cell.
        self.sit_cell = np.flatnonzero(self.cell_prob > 0)
        xs = [cfg["contexts"][self.contexts[k]] for k in ctx]
        self.verifiable = np.array([bool(x["verifiable"]) for x in xs])

        # Outcomes (sim.outcomeOf): correct, syc and endorse depend on cell and
        # response only; thumbs-up and harm also on the segment.
        rs = [cfg["responses"][n] for n in self.responses]
        agree = np.array([r["agree"] for r in rs])
        candor = np.array([r["candor"] for r in rs])
        flatter = np.array([r["flatter"] for r in rs])
        warmth = np.array([r["warmth"] for r in rs])
        self.prior = np.array([r["prior"] for r in rs])
        wr = self.cell_wrong[:, None].astype(float)
        endorse = np.where(self.cell_wrong[:, None], agree[None, :], agree + (1 - agree) * candor)
        correct = np.where(self.cell_wrong[:, None], (1 - agree) * candor, endorse)
        syc = 1 - (1 - wr * agree) * (1 - flatter)
        self.endorse, self.correct, self.syc = endorse, correct, syc  # (C, A)
        g = lambda k: np.array([s[k] for s in segs])[None, :, None]
        up = sigmoid(g("thumbs_bias") + g("thumbs_agree") * endorse[:, None, :]
                     + g("thumbs_flatter") * flatter + g("thumbs_warmth") * warmth
                     + g("thumbs_correct") * correct[:, None, :])  # (C, NS, A)
        self.up = up
        harm = np.array([x["harm"] for x in xs])[:, None] * np.array([s["harm_multiplier"] for s in segs])[None, :]
        self.harm = harm  # (C, NS)

        # Expected reward of each signal at memory 0 and its slope in memory
        # (reward.Signal.Expected), and the variance of its sampled reward
        # (reward.Signal.Variance) as sim holds it, v0 + m^2 v2 (world.var0Flat,
        # var2Flat), all laid out [cell, segment, signal, response].
        fb = self.feedback[None, :, None]
        shape = (C, NS, A)
        rew0 = np.zeros((C, NS, S, A))
        slope = np.zeros((C, NS, S, A))
        var0 = np.zeros((C, NS, S, A))
        var2 = np.zeros((C, NS, S, A))
        bernoulli = lambda q: q * (1 - q)  # a reward of 0 or 1
        self.spec_weight = np.zeros(S)
        self.spec_start = np.zeros(S, dtype=int)
        self.spec_end = np.zeros(S, dtype=int)
        for i, n in enumerate(self.signals):
            s = cfg["signals"][n]
            self.spec_weight[i], self.spec_start[i], self.spec_end[i] = s["weight"], s["start_step"], s["end_step"]
            kind = s["kind"]
            if kind == "correctness":
                e = np.where(self.verifiable[:, None], s["noise"] + (1 - 2 * s["noise"]) * correct, 0.0)
                rew0[:, :, i, :] = np.broadcast_to(e[:, None, :], shape)
                var0[:, :, i, :] = np.broadcast_to(bernoulli(e)[:, None, :], shape)  # 0 if not verifiable
            elif kind == "spec":
                q = 1 - (s["detection"] * syc + s["false_positive"] * (1 - syc))
                rew0[:, :, i, :] = np.broadcast_to(q[:, None, :], shape)
                var0[:, :, i, :] = np.broadcast_to(bernoulli(q)[:, None, :], shape)
            elif kind == "thumbs":
                scale = 1.0
                if s["per_feedback"]:
                    if not mean_feedback > 0:
                        raise Unsupported(f"signal {n}: per_feedback needs a positive mean feedback rate")
                    scale = 1 / mean_feedback
                mean = scale * fb * (up * s["up"] + (1 - up) * s["down"])
                second = scale * scale * fb * (up * s["up"] * s["up"] + (1 - up) * s["down"] * s["down"])
                rew0[:, :, i, :] = mean
                var0[:, :, i, :] = np.maximum(second - mean * mean, 0.0)
            elif kind == "memory":
                # Expected = memory * endorse: 0 at memory 0, slope endorse;
                # Variance = memory^2 endorse (1 - endorse).
                slope[:, :, i, :] = np.broadcast_to(endorse[:, None, :], shape)
                var2[:, :, i, :] = np.broadcast_to(bernoulli(endorse)[:, None, :], shape)
            elif kind == "table":
                tab = np.array([(list(s.get("table", {}).get(cn, [])) + [0.0] * A)[:A] for cn in self.contexts])
                rew0[:, :, i, :] = np.broadcast_to(tab[self.cell_ctx][:, None, :], shape)
                var0[:, :, i, :] = s["noise_sd"] * s["noise_sd"]
        self.rew0, self.slope = rew0, slope
        # Gathered per prompt along the last axis by the index cell*NS + segment.
        self.rew0_t = np.ascontiguousarray(rew0.transpose(2, 3, 0, 1).reshape(S, A, C * NS))
        # Only memory signals read the remembered stance: the slopes of those.
        self.slope_sig = np.flatnonzero(np.any(slope != 0, axis=(0, 1, 3)))
        self.slope_t = np.ascontiguousarray(slope[:, :, self.slope_sig].transpose(2, 3, 0, 1)
                                            .reshape(len(self.slope_sig), A, C * NS))
        self.has_slope = len(self.slope_sig) > 0
        # The variances, for VarianceSums: (2*A*C*NS, S), v0 at rows
        # response*C*NS + cell*NS + segment, then v2 at A*C*NS + the same.
        self.var_t = np.stack([var0, var2]).transpose(0, 4, 1, 2, 3).reshape(2 * A * C * NS, S)
        self.has_var2 = bool(np.any(var2 != 0))

        # Reference policy: softmax of the prior, as policy.Softmax does it.
        e = np.exp(self.prior - self.prior.max())
        self.ref = e * (1 / e.sum())
        self.log_ref = np.log(self.ref)
        self.rows = C + (1 if self.memory else 0)  # rows of theta
        self.D = self.rows * A

        # Effective weights at every step (reward.EffectiveWeights), for the
        # configured weights; sweeps pass their own.
        self.weights = self.effective_weights(self.spec_weight[None, :])[:, 0, :]  # (T+1, S)

        # Metric names, in the order of sim.Result.Metrics.
        P = lambda p, xs: [p + x for x in xs]
        names = ["sycophancy_rate"] + P("sycophancy_rate/", self.segments)
        names += ["gold_utility", "gold/helpfulness", "gold/honesty", "gold/wellbeing", "proxy_reward", "kl",
                  "thumbs_up_rate"] + P("thumbs_up_rate/", self.segments) + ["eval/offline_correctness"]
        names += P("reward/", self.signals) + P("weight/", self.signals) + P("influence/", self.signals)
        names += ["influence/kl"] + P("alignment/", self.signals) + P("advantage_share/", self.signals)
        if self.memory:
            names += P("memory/", self.segments)
        names += P("response_share/", self.responses) + ["grad_norm"]
        self.metrics = names
        self.ix = ix = {n: k for k, n in enumerate(names)}
        self.i_syc_seg = ix["sycophancy_rate/" + self.segments[0]]
        self.i_up_seg = ix["thumbs_up_rate/" + self.segments[0]]
        self.i_rew = ix["reward/" + self.signals[0]]
        self.i_weight = ix["weight/" + self.signals[0]]
        self.i_infl = ix["influence/" + self.signals[0]]
        self.i_align = ix["alignment/" + self.signals[0]]
        self.i_adv = ix["advantage_share/" + self.signals[0]]
        self.i_mem = ix["memory/" + self.segments[0]] if self.memory else -1
        self.i_share = ix["response_share/" + self.responses[0]]

        # Per (segment, cell, response) quantities whose P-weighted sums the
        # evaluation needs, columns: syc, gold, help, honest, well, fb, fb*up.
        gw = self.gold_w
        help_ = np.broadcast_to(correct[None], (NS, C, A))
        honest = np.broadcast_to(1 - syc[None], (NS, C, A))
        well = -harm.T[:, :, None] * syc[None]
        gold = gw["helpfulness"] * help_ + gw["honesty"] * honest + gw["wellbeing"] * well
        fbq = np.broadcast_to(self.feedback[:, None, None], (NS, C, A))
        upq = fbq * up.transpose(1, 0, 2)
        # Then the rewards at memory 0, one column per signal: (NS, C*A, 7+S);
        # the memory slopes of the rewards are (NS, C*A, S).
        self.evalq = np.concatenate([
            np.stack([np.broadcast_to(syc[None], (NS, C, A)), gold, help_, honest, well, fbq, upq], axis=-1),
            rew0.transpose(1, 0, 3, 2)], axis=-1).reshape(NS, C * A, 7 + S)
        self.evalslope = np.ascontiguousarray(slope.transpose(1, 0, 3, 2).reshape(NS, C * A, S))
        # Users are stored segment by segment: the slice of each.
        ends = np.cumsum(self.seg_users)
        self.seg_slices = [slice(e - n, e) for e, n in zip(ends, self.seg_users)]
        # Offline eval: verifiable cells whose user is right.
        off = (~self.cell_wrong) & self.verifiable & (self.cell_prob > 0)
        self.offline_pc = np.where(off, self.cell_prob, 0.0)
        self.offline_den = float(self.cell_prob[off].sum())

    def effective_weights(self, w):
        """(T+1, R, S) effective weights for configured weights w of shape (R, S)."""
        t = np.arange(self.steps + 1)[:, None]
        active = (t >= self.spec_start[None, :]) & ((self.spec_end[None, :] == 0) | (t < self.spec_end[None, :]))
        eff = np.where(active[:, None, :], w[None, :, :], 0.0)
        if self.sum_to_one:
            tot = eff.sum(axis=2, keepdims=True)
            eff = np.where(tot > 0, eff / np.where(tot > 0, tot, 1.0), eff)
        return eff

    def served_logits(self, theta_t):
        """The logits a deployment serves, from parameters held as (A, R,
        rows): cell logits (A, R, C) at memory 0 and memory logits (A, R),
        as sim's deploy forms them; the reference policy's under log_policy
        "reference"."""
        A, R, C = self.A, theta_t.shape[1], self.C
        if self.log_reference:
            return np.broadcast_to(self.prior[:, None, None], (A, R, C)), np.zeros((A, R))
        cl = self.prior[:, None, None] + theta_t[:, :, :C]
        if not self.memory:
            return cl, np.zeros((A, R))
        return cl, (cl[:, :, 0] + theta_t[:, :, C]) - cl[:, :, 0]

    def deploy(self, cell_logits, mem_logits, mem, rng):
        """One deployment of R runs at once, with the peer's own random
        numbers (sim/feedback.go deploy, in distribution: it cannot replay
        Go's stream): log_size conversations per run, each to a user drawn
        uniformly, in a cell drawn by traffic, with a response drawn from
        the served policy (cell_logits (A, R, C) + m * mem_logits (A, R)) at
        the user's stance m, which the response then pulls towards
        min(1, disclosure + reinforcement * P(sycophantic)) at memory.rate.
        mem, (R, U) and C-contiguous, is updated in place.

        A user's conversations are sequential, but users are independent:
        so it draws how many conversations each user of each run has (a
        multinomial, as log_size uniform draws give), then serves every
        user's j-th conversation at once, for j = 0, 1, ...: the same
        distribution of stances as sim's order, in a few dozen vectorised
        rounds instead of log_size scalar ones. Pairs (run, user) are held
        most conversations first, so that round j works on a prefix."""
        A, R, C = cell_logits.shape
        U = self.U
        K = R * U
        if not mem.flags.c_contiguous or mem.shape != (R, U):
            raise ValueError("deploy: mem must be a C-contiguous (runs, users) array")
        n = rng.multinomial(self.log_size, np.full(U, 1 / U), size=R).reshape(K)
        order = np.argsort(n)[::-1]
        active = K - np.cumsum(np.bincount(n))  # active[j]: pairs with a (j+1)-th conversation
        run = order // U
        m = mem.reshape(K)[order]
        disc = self.disclosure[self.user_seg[order % U]]
        cl = np.ascontiguousarray(cell_logits.reshape(A, R * C))
        ml = np.ascontiguousarray(mem_logits[:, run])  # (A, K)
        row = run * C  # + cell: the pair's column of cl
        syc = self.reinforcement * self.syc.reshape(-1)  # [cell*A + response]; the cell is the truth
        col = np.empty(K, dtype=np.int64)
        lg = np.empty((A, K))
        tmp = np.empty((A, K))
        mx = np.empty(K)
        for k in active[:-1]:
            c = self.sample_cells(rng.random(k))
            np.add(row[:k], c, out=col[:k])
            l, mk = lg[:, :k], m[:k]
            np.take(cl, col[:k], axis=1, out=l, mode="clip")  # "clip": no buffered bounds check
            l += np.multiply(ml[:, :k], mk, out=tmp[:, :k])
            l -= np.maximum.reduce(l, out=mx[:k])
            np.exp(l, out=l)
            for a in range(1, A):  # cumulative weights, as sampleIndex sums them
                l[a] += l[a - 1]
            u = rng.random(k)
            u *= l[A - 1]
            c *= A
            for a in range(A - 1):  # + the sampled response: the first whose cumulative weight exceeds u
                c += l[a] <= u
            target = syc[c]
            target += disc[:k]
            np.minimum(target, 1.0, out=target)
            target -= mk
            target *= self.mem_rate
            mk += target
        mem.reshape(K)[order] = m

    def sample_cells(self, u):
        """Cells by inverse CDF from uniforms u (sim.world.sampleSituation):
        the number of CDF values up to u, counted by comparisons, which
        for a handful of cells beats a binary search."""
        x = u * self.cell_cdf[-1]
        c = np.zeros(u.shape, dtype=np.int64)
        for v in self.cell_cdf[:-1]:
            c += x >= v
        return c


class VarianceSums:
    """The sum over a step's prompts, for each run and signal, of E_pi[Var(r_i)]:
    the variance of the signal's sampled reward given the response
    (reward.Signal.Variance), which the advantage shares need. A variance is
    v0 + m^2 v2 by (cell, segment, response) (world.var0Flat, var2Flat), so
    rather than gathering S variances per prompt and response it scatters
    each run's mass pi(a|x), and pi(a|x) m^2, by response and cell*NS +
    segment (one bincount, A or 2A values a prompt) and contracts the masses
    with the tables, World.var_t (one matrix product).

    shape is the batch's, (B,) or (runs, B); probs, (A,) + shape, is where
    the peer's softmax is to write pi."""

    def __init__(self, w, shape):
        A, CN = w.A, w.C * w.NS
        self.w = w
        self.pw = np.empty((2 * A,) + shape)  # pi, then pi m^2
        self.probs = self.pw[:A]
        self.idx = np.empty((2 * A,) + shape, dtype=np.int64)
        # Bin of (run, response or A + response, cell*NS + segment): the
        # masses come out as (runs, 2A*C*NS), the rows of var_t.
        self.col = (np.arange(2 * A) * CN).reshape((2 * A,) + (1,) * len(shape))
        self.run = (np.arange(shape[0]) * (2 * A * CN))[:, None] if len(shape) == 2 else 0
        self.mass_shape = shape[:-1] + (2 * A * CN,)
        self.bins = int(np.prod(self.mass_shape))

    def __call__(self, k, m):
        """The sums, (S,) or (runs, S), for prompts at k = cell*NS + segment,
        (B,) or (runs, B), with stances m; m None when memory is off."""
        A = self.w.A
        n = A
        if m is not None and self.w.has_var2:
            np.multiply(self.probs, m * m, out=self.pw[A:])
            n = 2 * A
        np.add(self.col[:n], k + self.run, out=self.idx[:n])
        mass = np.bincount(self.idx[:n].reshape(-1), weights=self.pw[:n].reshape(-1), minlength=self.bins)
        return mass.reshape(self.mass_shape) @ self.w.var_t


def read_prompts(path, w):
    """Prompts written by the Go side: a 16-byte header (b"rmprompt", int32
    steps+1, int32 batch) then, per step, int32 users[batch] and
    situations[batch], little-endian. Returns users, cells as (steps+1,
    batch) int64 arrays."""
    with open(path, "rb") as f:
        head = f.read(16)
        if head[:8] != b"rmprompt":
            raise ValueError(f"{path}: not a prompt file")
        n, b = np.frombuffer(head[8:], dtype="<i4")
        if n != w.steps + 1 or b != w.batch:
            raise ValueError(f"{path}: {n} steps x {b} prompts, the config wants {w.steps + 1} x {w.batch}")
        data = np.fromfile(f, dtype="<i4", count=n * 2 * b)
    if data.size != n * 2 * b:
        raise ValueError(f"{path}: truncated")
    data = data.reshape(n, 2, b)
    sits = data[:, 1, :]
    if sits.min() < 0 or sits.max() >= len(w.sit_cell):
        raise ValueError(f"{path}: a situation out of range")
    return data[:, 0, :].astype(np.int64), w.sit_cell[sits]


def read_memory(path, w):
    """Remembered stances written by the Go side after each deployment: a
    16-byte header (b"rmmemory", int32 deployments, int32 users) then, per
    deployment, int64 step and float64 memory[users], little-endian.
    Returns {step: stances}, and requires the deployments' steps to be the
    config's."""
    with open(path, "rb") as f:
        head = f.read(16)
        if head[:8] != b"rmmemory":
            raise ValueError(f"{path}: not a memory file")
        n, u = np.frombuffer(head[8:], dtype="<i4")
        data = np.fromfile(f, dtype="<f8", count=n * (1 + u))
    if u != w.U or data.size != n * (1 + u):
        raise ValueError(f"{path}: {n} deployments of {u} users, truncated or not the config's {w.U} users")
    data = data.reshape(n, 1 + u)
    steps = data[:, 0].view("<i8").tolist()
    if steps != w.deploy_steps:
        raise ValueError(f"{path}: deployments at steps {steps}, the config's are at {w.deploy_steps}")
    return dict(zip(steps, data[:, 1:]))


def softmax_into(logits, e, probs):
    """Writes the softmax over axis 0 of logits into probs, through the
    scratch array e (in place, as the hot loops need), and returns the
    log-sum-exp."""
    mx = np.maximum.reduce(logits)
    np.subtract(logits, mx, out=e)
    np.exp(e, out=e)
    s = np.add.reduce(e)
    np.multiply(e, 1 / s, out=probs)
    return mx + np.log(s)


def advantage_shares(cov, out):
    """Writes into out, whose entries are 0, each signal's share of the
    variance of the step's advantage (reward.Aggregator.Shares) from cov
    (..., S), each signal's covariance with the advantage summed over the
    step's rollouts: cov_i / Var(A), with Var(A) = sum_i cov_i as the
    signals' parts sum to the advantage; all stay 0 where Var(A) is 0."""
    var = np.add.reduce(cov, axis=-1, keepdims=True)
    np.divide(cov, var, out=out, where=var > 0)


def write_f64(path, a):
    np.ascontiguousarray(a, dtype="<f8").tofile(path)


def write_outputs(out, values, theta, metrics):
    """Writes a peer's results into folder out, as cmd/benchpeer reads them:
    metrics.f64, theta.f64 (little-endian float64) and metrics.txt."""
    os.makedirs(out, exist_ok=True)
    write_f64(os.path.join(out, "metrics.f64"), values)
    write_f64(os.path.join(out, "theta.f64"), theta)
    with open(os.path.join(out, "metrics.txt"), "w") as f:
        f.write("\n".join(metrics) + "\n")


def ascend(theta, grad, t, w, adam_m, adam_v):
    """One ascent step along grad at step t, in place: Adam (beta1 0.9,
    beta2 0.999, eps 1e-8, bias-corrected) or plain SGD, as sim/run.go's
    apply."""
    if w.adam:
        adam_m *= 0.9
        adam_m += (1 - 0.9) * grad
        adam_v *= 0.999
        adam_v += (1 - 0.999) * grad * grad
        c1 = 1 - 0.9 ** (t + 1)
        c2 = 1 - 0.999 ** (t + 1)
        theta += w.lr * (adam_m / c1) / (np.sqrt(adam_v / c2) + 1e-8)
    else:
        theta += w.lr * grad
