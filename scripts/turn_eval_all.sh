#!/bin/sh
# Replay all three corpus parts in both modes and print the score table.
#   scripts/turn_eval_all.sh [OUT_DIR] [turn_eval options...]
set -e
cd "$(dirname "$0")/.."
OUT=${1:-target/turn_eval}
[ $# -gt 0 ] && shift
BIN=${TURN_EVAL_BIN:-target/debug/examples/turn_eval}
$BIN fixtures/corpus "$OUT/public" "$@"
$BIN fixtures/corpus_extra/tune "$OUT/extra_tune" "$@"
[ -n "$NO_HELDOUT" ] || $BIN fixtures/corpus_extra/heldout "$OUT/extra_heldout" "$@"
python3 scripts/turn_scores.py --events "$OUT"
