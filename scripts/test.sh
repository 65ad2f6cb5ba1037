#!/usr/bin/env bash
# Sets up .venv, then runs the test suite once per Keras backend and the
# cross-backend tests once. Extra arguments go to every pytest run.
#
# The four runs go in two lanes at once (JAX then torch; TensorFlow then
# cross-backend): most of a run is single-threaded tracing and compiling,
# so two lanes keep both cores busy. Each run prints one line when it
# ends; the runs' outputs follow in order once both lanes are done.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
. .venv/bin/activate
reports=$(mktemp -d)
run() {  # name, pytest args...
  local name=$1; shift
  local start=$SECONDS code=0
  python -m pytest -q -p no:cacheprovider --junitxml="$reports/$name.xml" "$@" \
    > "$reports/$name.log" 2>&1 || code=$?
  echo "=== $name took $((SECONDS - start)) s (exit $code)" >> "$reports/$name.log"
  echo "=== $name: exit $code after $((SECONDS - start)) s"
  return $code
}
suite() {  # backend, extra pytest args...
  local backend=$1; shift
  KERAS_BACKEND=$backend run "$backend" -m "not cross_backend" tests "$@"
}
# Docstring examples run once, on torch: eager, so no example pays a
# compile (20 s there, 95 s on TF; they pass on every backend).
( s=0; suite jax "$@" || s=1; suite torch --doctest-modules keras_gans "$@" || s=1; exit $s ) &
lane_a=$!
( s=0; suite tensorflow "$@" || s=1; run cross-backend -m cross_backend tests "$@" || s=1; exit $s ) &
lane_b=$!
status=0
wait $lane_a || status=1
wait $lane_b || status=1
for name in tensorflow jax torch cross-backend; do
  echo "=== $name"
  cat "$reports/$name.log" 2>/dev/null || { echo "no output"; status=1; }
done
python scripts/summarize_junit.py "$reports"/*.xml || status=1
exit $status
