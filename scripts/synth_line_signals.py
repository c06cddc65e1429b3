#!/usr/bin/env python3
"""Synthesised line signals that must never start speech, in the corpus's
scenario format (8 kHz WAV through the telephone channel + label JSON with
no speech segments), for training the VAD's frame model and for a stress
check on kinds and parameters no corpus file has:

    python3 scripts/synth_line_signals.py OUT_DIR [--n N] [--seed S]

Every scenario is `noise_only`: a noise bed (white / pink / brown / hiss /
none, -75..-40 dBFS) with, drawn at random,

* single tones of any pitch (150-3500 Hz, log-uniform) and length
  (40 ms - 6 s), any level (-40..-8 dBFS), some with a slow drift or a
  tremolo, some with harmonics (a clipped tone);
* dual- and multi-tone call-progress signals of several countries with
  their cadences (dial, busy, ringback, congestion, call waiting, SIT,
  DTMF digits, fax CNG / modem answer), with random jitter on every
  frequency (+-3 %) and cadence (+-20 %), so no one table entry is learnt;
* mains hum / buzz at 50 or 60 Hz (+-1 %) with 3-40 harmonics of random
  profile, switching on and off;
* line echo of the bot (espeak-ng, English and Swahili) 6-30 dB under a
  nominal -20 dBFS caller, delayed 20-120 ms, inside `bot_speaking`
  windows, labelled `bot_echo` like the corpus (the frame model's training
  leaves echo frames out; the turn engine's echo gate handles them).

Deterministic for a seed. Needs numpy, sox and espeak-ng. Never commit the
output; `--seed 1` is the training set, `--seed 2` the held-out check.
"""
import argparse, json, os, shutil, subprocess, tempfile, wave
import numpy as np

RATE = 8000
BOT_EN = ['Thank you for calling. Your appointment is on Friday at ten.',
          'The total comes to four thousand five hundred shillings. Shall I send the payment request now?',
          'We are open from eight in the morning to six in the evening, Monday to Saturday.',
          'Please hold while I check the calendar for the next free slot.']
BOT_SW = ['Asante kwa kupiga simu. Miadi yako ni Ijumaa saa nne.',
          'Jumla ni shilingi elfu nne na mia tano. Nikutumie ombi la malipo sasa?',
          'Tuko wazi kuanzia saa mbili asubuhi hadi saa kumi na mbili jioni.',
          'Tafadhali subiri nikiangalia kalenda.']
VOICES_EN = ['en-us', 'en-gb', 'en-029', 'en-gb-scotland']
VOICES_SW = ['sw']

# (name, frequencies Hz, amplitude modulation Hz or 0, cadence on/off list in s; [] = steady)
CALL_PROGRESS = [
    ('us_dial', [350, 440], 0, []), ('us_busy', [480, 620], 0, [0.5, 0.5]),
    ('us_reorder', [480, 620], 0, [0.25, 0.25]), ('us_ringback', [440, 480], 0, [2.0, 4.0]),
    ('uk_dial', [350, 450], 0, []), ('uk_ringback', [400, 450], 0, [0.4, 0.2, 0.4, 2.0]),
    ('uk_busy', [400], 0, [0.375, 0.375]), ('eu_dial', [425], 0, []), ('eu_busy', [425], 0, [0.5, 0.5]),
    ('eu_ringback', [425], 0, [1.0, 4.0]), ('eu_congestion', [425], 0, [0.2, 0.2]),
    ('jp_dial', [400], 0, []), ('jp_ringback', [400], 16, [1.0, 2.0]), ('in_dial', [400], 25, []),
    ('in_ringback', [400], 25, [0.4, 0.2, 0.4, 2.0]), ('au_ringback', [400, 425, 450], 0, [0.4, 0.2, 0.4, 2.0]),
    ('call_waiting', [440], 0, [0.3, 9.7]), ('fax_cng', [1100], 0, [0.5, 3.0]), ('modem_answer', [2100], 0, []),
    ('sit', [913.8, 1370.6, 1776.7], 0, None), ('dtmf', None, 0, None), ('ke_ringback', [425], 0, [0.67, 3.0]),
]
DTMF_LO, DTMF_HI = [697, 770, 852, 941], [1209, 1336, 1477, 1633]


def noise_bed(rng, n):
    kind = rng.choice(['white', 'pink', 'brown', 'hiss', 'none'])
    w = rng.standard_normal(n)
    if kind == 'pink':
        f = np.fft.rfftfreq(n, 1 / RATE)
        s = np.fft.rfft(w) / np.sqrt(np.maximum(f, 20.0))
        w = np.fft.irfft(s, n)
    elif kind == 'brown':
        w = np.cumsum(w)
        w -= np.convolve(w, np.ones(400) / 400, 'same')
    elif kind == 'hiss':
        w = np.diff(w, prepend=0.0)
    elif kind == 'none':
        return kind, np.zeros(n)
    level = rng.uniform(-75, -40)
    return kind, w / (np.sqrt(np.mean(w * w)) + 1e-9) * 10 ** (level / 20) * 32768


def gate(n, t0, cadence, total, rng):
    """0/1 envelope: on/off cadence (jittered) from sample t0 for `total` samples, 5 ms ramps."""
    env = np.zeros(n)
    if not cadence:
        env[t0:min(n, t0 + total)] = 1.0
    else:
        cad = [c * rng.uniform(0.8, 1.2) for c in cadence]
        t, i = t0, 0
        while t < min(n, t0 + total):
            d = int(cad[i % len(cad)] * RATE)
            if i % 2 == 0:
                env[t:min(n, t + d, t0 + total)] = 1.0
            t += d
            i += 1
    ramp = np.convolve(env, np.ones(40) / 40, 'same')
    return ramp


def tone(rng, n, freqs, t):
    x = np.zeros(n)
    for f in freqs:
        f = f * rng.uniform(0.97, 1.03)
        drift = rng.choice([0.0, 0.0, rng.uniform(-0.02, 0.02)])
        ph = 2 * np.pi * np.cumsum(f * (1 + drift * t / max(t[-1], 1e-3))) / RATE
        x += np.sin(ph + rng.uniform(0, 2 * np.pi))
    return x


def line_signal(rng, n):
    t = np.arange(n) / RATE
    k = rng.random()
    level = rng.uniform(-40, -8)
    t0 = int(rng.uniform(0.2, 3.0) * RATE)
    if k < 0.35:  # single tones of any pitch and length
        x = np.zeros(n)
        at = t0
        kinds = []
        while at < n - 800:
            f = float(np.exp(rng.uniform(np.log(150), np.log(3500))))
            dur = float(np.exp(rng.uniform(np.log(0.04), np.log(6.0))))
            s = tone(rng, n, [f], t)
            if rng.random() < 0.25:  # clipped: odd harmonics
                s = np.clip(s * rng.uniform(1.5, 4), -1, 1)
            if rng.random() < 0.2:  # tremolo
                s *= 1 + 0.3 * np.sin(2 * np.pi * rng.uniform(2, 20) * t)
            g = gate(n, at, [], int(dur * RATE), rng)
            x += s * g * 10 ** (rng.uniform(-6, 0) / 20)
            kinds.append('tone %.0f Hz %.2f s' % (f, dur))
            at += int((dur + rng.uniform(0.1, 2.0)) * RATE)
        return 'tones: ' + ', '.join(kinds), x / max(1e-9, np.abs(x).max()) * 10 ** (level / 20) * 32768, []
    if k < 0.75:  # call-progress signals
        name, freqs, am, cad = CALL_PROGRESS[rng.integers(len(CALL_PROGRESS))]
        if name == 'sit':
            x, at = np.zeros(n), t0
            while at < n:
                for f in freqs:
                    d = int(rng.uniform(0.27, 0.38) * RATE)
                    x += tone(rng, n, [f], t) * gate(n, at, [], d, rng)
                    at += d
                at += int(rng.uniform(0.5, 4.0) * RATE)
        elif name == 'dtmf':
            x, at = np.zeros(n), t0
            while at < n:
                d = int(rng.uniform(0.04, 0.25) * RATE)
                f = [DTMF_LO[rng.integers(4)], DTMF_HI[rng.integers(4)]]
                x += tone(rng, n, f, t) * gate(n, at, [], d, rng)
                at += d + int(rng.uniform(0.04, 0.6) * RATE)
        else:
            x = tone(rng, n, freqs, t)
            if am:
                x *= 0.5 * (1 + np.sin(2 * np.pi * am * t))
            x *= gate(n, t0, cad, n, rng)
        return name, x / max(1e-9, np.abs(x).max()) * 10 ** (level / 20) * 32768, []
    # mains hum / buzz with harmonics
    mains = rng.choice([50.0, 60.0]) * rng.uniform(0.99, 1.01)
    nh = int(rng.integers(3, 41))
    decay = rng.uniform(0.0, 1.5)
    x = np.zeros(n)
    for h in range(1, nh + 1):
        if mains * h > 3900:
            break
        x += rng.uniform(0.2, 1.0) / h ** decay * np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 6.3))
    if rng.random() < 0.5:
        x *= gate(n, t0, [rng.uniform(0.3, 3), rng.uniform(0.3, 3)] if rng.random() < 0.5 else [], n, rng)
    return 'hum %.1f Hz x%d' % (mains, nh), x / max(1e-9, np.abs(x).max()) * 10 ** (level / 20) * 32768, []


def espeak(text, voice, rate, tmp):
    raw = os.path.join(tmp, 'e.wav')
    out = os.path.join(tmp, 'e8.wav')
    subprocess.run(['espeak-ng', '-v', voice, '-s', str(rate), '-w', raw, text], check=True)
    subprocess.run(['sox', raw, '-r', str(RATE), '-c', '1', '-b', '16', out], check=True)
    with wave.open(out) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)


def channel(x, path, tmp):
    pre = os.path.join(tmp, 'pre.wav')
    write(pre, x)
    subprocess.run(['sox', pre, '-e', 'mu-law', '-b', '8', os.path.join(tmp, 'mu.wav'), 'sinc', '300-3400'], check=True)
    subprocess.run(['sox', os.path.join(tmp, 'mu.wav'), '-e', 'signed-integer', '-b', '16', path], check=True)


def write(path, x):
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(x, -32768, 32767).astype(np.int16).tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--n', type=int, default=200)
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    tmp = tempfile.mkdtemp()
    try:
        for i in range(a.n):
            dur = rng.uniform(5, 10)
            n = int(dur * RATE)
            bed_kind, bed = noise_bed(rng, n)
            bots, echoes = [], []
            if rng.random() < 0.3:  # the bot talks; its echo comes back
                sw = rng.random() < 0.5
                text = (BOT_SW if sw else BOT_EN)[rng.integers(4)]
                voice = (VOICES_SW if sw else VOICES_EN)[rng.integers(len(VOICES_SW if sw else VOICES_EN))]
                voice += '+%s%d' % (rng.choice(['m', 'f']), rng.integers(1, 5))
                e = espeak(text, voice, int(rng.integers(140, 200)), tmp)
                start = int(rng.uniform(0.3, 1.5) * RATE)
                e = e[: n - start - RATE // 2]
                delay = int(rng.uniform(0.02, 0.12) * RATE)
                gain = 10 ** ((-20 - rng.uniform(6, 30)) / 20) * 32768 / (np.sqrt(np.mean(e * e)) + 1e-9)
                sig = np.zeros(n)
                sig[start + delay: start + delay + len(e)] += e[: n - start - delay] * gain
                s_ms, e_ms = start * 1000 // RATE, (start + len(e)) * 1000 // RATE
                bots.append(dict(start_ms=int(s_ms), end_ms=int(e_ms), text=text))
                echoes.append(dict(start_ms=int(s_ms + delay * 1000 // RATE), end_ms=int(e_ms + delay * 1000 // RATE)))
                desc = 'bot echo'
                if rng.random() < 0.5:
                    d2, x2, _ = line_signal(rng, n)
                    sig += x2
                    desc += ' + ' + d2
            else:
                desc, sig, _ = line_signal(rng, n)
            sid = 'syn_%d_%04d' % (a.seed, i)
            channel(bed + sig, os.path.join(a.out, sid + '.wav'), tmp)
            lab = dict(id=sid, category='noise_only', language='none', source='synthetic:scripts/synth_line_signals.py',
                       sample_rate=RATE, duration_ms=int(dur * 1000), speech_segments=[], turn_ends_ms=[], turns=[],
                       mid_turn_pauses=[], bot_speaking=bots, bot_echo=echoes, barge_in_onsets_ms=[], backchannels=[],
                       noise_events=[], noise=bed_kind, notes=desc)
            json.dump(lab, open(os.path.join(a.out, sid + '.json'), 'w'), indent=1)
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    main()
