#!/usr/bin/env python3
"""Train the VAD's speech/non-speech frame model (src/core/vad/model.rs).

    cargo run --example vad_features -- fixtures/corpus target/vf/public
    cargo run --example vad_features -- fixtures/corpus_extra/tune target/vf/tune
    python3 scripts/train_vad.py target/vf/public=fixtures/corpus \
        target/vf/tune=fixtures/corpus_extra/tune [--out src/core/vad/weights.rs]

Inputs are the model's own input vectors as the Rust code computes them
(columns x0.. of the dumps), so training and inference cannot drift apart.
Frames: only "active" ones (9 dB over the noise floor; the model gates the
detector's evidence, it never sees quiet frames). Label 1: the frame lies
inside a labelled speech segment (20 ms in from both ends); label 0: more
than 60 ms away from any segment and outside the bot's line echo (echo is
speech and is handled by a level rule, not by this model); frames near
segment edges are left out. Classes are weighted to balance, and every
scenario's frames to the same total, so long noise files do not dominate.
Never give it fixtures/corpus_extra/heldout.

Needs numpy. Deterministic (seeded).
"""
import csv, glob, json, os, subprocess, sys
import numpy as np

HIDDEN = 8
SEED = 7


def load(pairs, holdout_every=0, pick=None):
    """pick None: all scenarios; "train": all but every holdout_every-th
    (sorted, index % holdout_every == holdout_every - 1) of each part;
    "held": only those. Returns also each frame's scenario kind (the
    label file's `notes` up to the first ':' for noise-only files)."""
    xs, ys, ws, groups, kinds = [], [], [], [], []
    for gi, (dump, labels, weight) in enumerate(pairs):
        for si, path in enumerate(sorted(glob.glob(os.path.join(dump, "*.csv")))):
            if holdout_every and pick is not None:
                held = si % holdout_every == holdout_every - 1
                if held != (pick == "held"):
                    continue
            sid = os.path.basename(path)[:-4]
            lab = json.load(open(os.path.join(labels, sid + ".json")))
            segs = [(s["start_ms"], s["end_ms"]) for s in lab.get("speech_segments", [])]
            echo = [(e["start_ms"], e["end_ms"] + 200) for e in lab.get("bot_echo", []) or []]
            rows = list(csv.DictReader(open(path)))
            xcols = [k for k in rows[0] if k.startswith("x")]
            X, Y = [], []
            for r in rows:
                if float(r["snr_db"]) < 9.0:
                    continue
                t = float(r["t_ms"]) - 10.0
                inside = any(a + 20 <= t <= b - 20 for a, b in segs)
                near = any(a - 60 <= t <= b + 60 for a, b in segs)
                if inside:
                    y = 1
                elif near or any(a <= t <= b for a, b in echo):
                    continue
                else:
                    y = 0
                X.append([float(r[k]) for k in xcols])
                Y.append(y)
            if not X:
                continue
            X, Y = np.array(X, np.float32), np.array(Y, np.float32)
            xs.append(X)
            ys.append(Y)
            ws.append(np.full(len(Y), weight / len(Y), np.float32))
            groups.append(np.full(len(Y), gi))
            kind = lab.get("category", "")
            if not segs:
                kind = (lab.get("notes") or kind).split(":")[0].split(" ")[0][:24]
            kinds.append(np.full(len(Y), kind, dtype=object))
    X, Y, W, G, K = map(np.concatenate, (xs, ys, ws, groups, kinds))
    for c in (0, 1):
        W[Y == c] /= W[Y == c].sum()
    return X, Y, W / W.sum() * len(W), G, K


def train(X, Y, W, epochs=3000, lr=0.02, l2=1e-3):
    rng = np.random.default_rng(SEED)
    n, d = X.shape
    W1 = rng.normal(0, 0.5 / np.sqrt(d), (HIDDEN, d)).astype(np.float64)
    b1 = np.zeros(HIDDEN)
    W2 = rng.normal(0, 0.5, HIDDEN)
    b2 = 0.0
    params = [W1, b1, W2, np.array([b2])]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    X = X.astype(np.float64)
    for ep in range(1, epochs + 1):
        W1, b1, W2, b2a = params
        H = np.tanh(X @ W1.T + b1)
        z = H @ W2 + b2a[0]
        p = 1 / (1 + np.exp(-z))
        g = (p - Y) * W / n
        gW2 = H.T @ g + l2 * W2
        gb2 = np.array([g.sum()])
        gH = np.outer(g, W2) * (1 - H * H)
        gW1 = gH.T @ X + l2 * W1
        gb1 = gH.sum(0)
        grads = [gW1, gb1, gW2, gb2]
        for i, (pp, gg) in enumerate(zip(params, grads)):
            m[i] = 0.9 * m[i] + 0.1 * gg
            v[i] = 0.999 * v[i] + 0.001 * gg * gg
            pp -= lr * (m[i] / (1 - 0.9 ** ep)) / (np.sqrt(v[i] / (1 - 0.999 ** ep)) + 1e-8)
    return params


def predict(params, X):
    W1, b1, W2, b2 = params
    return 1 / (1 + np.exp(-(np.tanh(X @ W1.T + b1) @ W2 + b2[0])))


def report(name, params, X, Y):
    p = predict(params, X)
    for thr in (0.3, 0.5, 0.7):
        tp = ((p >= thr) & (Y == 1)).sum()
        fp = ((p >= thr) & (Y == 0)).sum()
        print(f"  {name} thr {thr}: speech recall {tp / max(1, (Y == 1).sum()):.3f}, "
              f"non-speech accepted {fp / max(1, (Y == 0).sum()):.3f} "
              f"(n={int((Y == 1).sum())}/{int((Y == 0).sum())})")


def write_rust(params, path):
    W1, b1, W2, b2 = params
    f = lambda x: f"{x:.6}"
    with open(path, "w") as o:
        o.write("//! Generated by scripts/train_vad.py; do not edit by hand.\n")
        o.write("#![allow(clippy::excessive_precision)]\n")
        o.write(f"pub const INPUTS: usize = {W1.shape[1]};\n")
        o.write(f"pub const HIDDEN: usize = {W1.shape[0]};\n")
        o.write("pub const W1: [[f32; INPUTS]; HIDDEN] = [\n")
        for row in W1:
            o.write("    [" + ", ".join(f(x) for x in row) + "],\n")
        o.write("];\n")
        o.write("pub const B1: [f32; HIDDEN] = [" + ", ".join(f(x) for x in b1) + "];\n")
        o.write("pub const W2: [f32; HIDDEN] = [" + ", ".join(f(x) for x in W2) + "];\n")
        o.write(f"pub const B2: f32 = {f(b2[0])};\n")


def main():
    args = sys.argv[1:]
    out = "src/core/vad/weights.rs"
    if "--out" in args:
        i = args.index("--out")
        out = args[i + 1]
        del args[i:i + 2]
    check = "--no-check" not in args
    args = [a for a in args if a != "--no-check"]
    holdout_every = 0
    if "--holdout-every" in args:
        i = args.index("--holdout-every")
        holdout_every = int(args[i + 1])
        del args[i:i + 2]
    report_only = []
    while "--report" in args:
        i = args.index("--report")
        report_only.append(args[i + 1])
        del args[i:i + 2]

    def parse(a):
        dump, rest = a.split("=", 1)
        labels, _, w = rest.partition("@")
        return dump, labels, float(w or 1.0)

    pairs = [parse(a) for a in args]
    assert not any("heldout" in l for _, l, _ in pairs), "never train on the held-out part"
    X, Y, W, G, _ = load(pairs, holdout_every, "train" if holdout_every else None)
    print(f"{len(Y)} active frames, {int(Y.sum())} speech", flush=True)
    if check and len(pairs) > 1:
        # Generalisation check: fit on all but one part, test on it.
        for gi, (_, lab, _) in enumerate(pairs):
            tr, te = G != gi, G == gi
            ptr = train(X[tr], Y[tr], W[tr] / W[tr].mean())
            report(f"fit without {lab}, on it", ptr, X[te], Y[te])
    params = train(X, Y, W)
    report("fit on all, on all", params, X, Y)
    if holdout_every:
        Xh, Yh, _, Gh, _ = load(pairs, holdout_every, "held")
        for gi, (_, lab, _) in enumerate(pairs):
            if (Gh == gi).any():
                report(f"held-out scenarios of {lab}", params, Xh[Gh == gi], Yh[Gh == gi])
    for a in report_only:
        Xr, Yr, _, _, Kr = load([parse(a)])
        report(f"report-only {a}", params, Xr, Yr)
        p = predict(params, Xr)
        for k in sorted(set(Kr)):
            m = Kr == k
            print(f"    {k}: accepted (p >= 0.5) {np.mean(p[m] >= 0.5):.3f} of {m.sum()} frames")
    write_rust(params, out)
    # Keep the generated file as `cargo fmt` would write it.
    subprocess.run(["rustfmt", "--edition", "2024", out], check=False)
    print("wrote", out)


if __name__ == "__main__":
    main()
