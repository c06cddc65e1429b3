#!/usr/bin/env python3
"""Score turn_eval output on several corpus parts and print one table.

    python3 scripts/turn_scores.py [--events target/turn_eval] [--json OUT]
        [--part NAME=LABELS_DIR ...]

Default parts: public = fixtures/corpus, extra_tune = fixtures/corpus_extra/tune,
extra_heldout = fixtures/corpus_extra/heldout. Events are read from
EVENTS/<part>/<mode>/ for mode in audio, transcript (what
`cargo run --release --example turn_eval -- LABELS EVENTS/<part>` writes).
"""
import argparse, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCORER = os.path.join(ROOT, "fixtures/corpus/score.py")
DEFAULT_PARTS = [
    ("public", "fixtures/corpus"),
    ("extra_tune", "fixtures/corpus_extra/tune"),
    ("extra_heldout", "fixtures/corpus_extra/heldout"),
]
ROWS = [
    ("premature EOT", "premature_eot_rate", "{:.3f}"),
    ("mid-turn cut-off", "mid_turn_pause_cutoff_rate", "{:.3f}"),
    ("missed EOT", "missed_eot_rate", "{:.3f}"),
    ("EOT latency median ms", "eot_latency_median_ms", "{:.0f}"),
    ("EOT latency p90 ms", "eot_latency_p90_ms", "{:.0f}"),
    ("false barge-in on backchannels", "false_bargein_on_backchannel_rate", "{:.3f}"),
    ("EOT on backchannels", "eot_on_backchannel_rate", "{:.3f}"),
    ("missed barge-in", "missed_bargein_rate", "{:.3f}"),
    ("barge-in latency median ms", "bargein_latency_median_ms", "{:.0f}"),
    ("barge-in latency p90 ms", "bargein_latency_p90_ms", "{:.0f}"),
    ("noise-only false triggers", "noise_only_false_trigger_rate", "{:.3f}"),
    ("noise-event false triggers", "noise_event_false_trigger_rate", "{:.3f}"),
    ("onset recall", "onset_recall", "{:.3f}"),
    ("VAD frame F1", "vad_frame_f1", "{:.3f}"),
    ("spurious EOT", "spurious_eot", "{}"),
    ("spurious barge-in", "spurious_bargein", "{}"),
]
COUNTS = ["turns", "mid_turn_pauses", "backchannels", "barge_ins", "noise_only_scenarios", "noise_events"]


def score(labels, events):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "s.json")
        r = subprocess.run([sys.executable, SCORER, "--labels", labels, "--events", events,
                            "--json", out], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"score.py failed on {labels}: {r.stderr}")
        with open(out) as f:
            return json.load(f)


def fmt(fmt_s, v):
    if v is None:
        return "-"
    return fmt_s.format(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", default=os.path.join(ROOT, "target/turn_eval"))
    ap.add_argument("--part", action="append", default=[])
    ap.add_argument("--modes", default="audio,transcript")
    ap.add_argument("--json")
    ap.add_argument("--per-scenario", action="store_true")
    a = ap.parse_args()
    parts = [tuple(p.split("=", 1)) for p in a.part] or DEFAULT_PARTS
    modes = a.modes.split(",")
    res = {}
    for name, labels in parts:
        labels = labels if os.path.isabs(labels) else os.path.join(ROOT, labels)
        for mode in modes:
            ev = os.path.join(a.events, name, mode)
            if not os.path.isdir(ev):
                continue
            s = score(labels, ev)
            res[f"{name}/{mode}"] = s["summary"]
            if a.per_scenario:
                for sid, sc in sorted(s.get("per_scenario", {}).items()):
                    print(name, mode, sid, json.dumps(sc, sort_keys=True))
    cols = list(res)
    print("| metric | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for label, key, f in ROWS:
        print(f"| {label} | " + " | ".join(fmt(f, res[c].get(key)) for c in cols) + " |")
    print("| counts (turns/pauses/bc/barge/noise-only/noise-ev) | " + " | ".join(
        "/".join(str(res[c].get(k)) for k in COUNTS) for c in cols) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
