#!/usr/bin/env python3
"""Noise-only false starts per kind of line signal, for a set made by
scripts/synth_line_signals.py and replayed by examples/turn_eval.rs:

    python3 scripts/line_signal_kinds.py LABELS_DIR EVENTS_DIR [-v]

A scenario counts when its events hold a speech start, an end of turn or a
barge-in (as fixtures/corpus/score.py counts noise-only triggers). The kind
comes from the label file's `notes`. -v lists the triggered scenarios.
"""
import collections, glob, json, os, sys


def kind(notes):
    if notes.startswith('bot echo +'):
        return 'under bot echo'
    if notes == 'bot echo':
        return 'echo alone'
    if notes.startswith('tones'):
        return 'single tones'
    if notes.startswith('hum'):
        return 'hum/buzz'
    if notes in ('dtmf', 'sit'):
        return notes
    if notes.startswith('fax'):
        return 'fax CNG'
    if notes.startswith('modem'):
        return 'modem answer'
    return 'cadences'


def main():
    labels, events = sys.argv[1], sys.argv[2]
    total, hit, names = collections.Counter(), collections.Counter(), collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(labels, '*.json'))):
        lab = json.load(open(path))
        k = kind(lab.get('notes') or '')
        ev = json.load(open(os.path.join(events, lab['id'] + '.events.json')))['events']
        started = any(e['type'] in ('speech_start', 'end_of_turn', 'barge_in') for e in ev)
        total[k] += 1
        hit[k] += started
        if started:
            names[k].append(lab['id'] + ' ' + (lab.get('notes') or '')[:60])
    print(' | '.join(f'{k} {hit[k]}/{total[k]}' for k in sorted(total)),
          f'| total {sum(hit.values())}/{sum(total.values())}')
    if '-v' in sys.argv:
        for k in sorted(names):
            for n in names[k]:
                print(f'{k}: {n}')


if __name__ == '__main__':
    main()
