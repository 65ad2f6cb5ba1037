#!/usr/bin/env bash
# Sets up .venv, then runs the test suite once per Keras backend and the
# cross-backend tests once. Extra arguments go to every pytest run.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
. .venv/bin/activate
reports=$(mktemp -d)
status=0
run() {  # name, pytest args...
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  python -m pytest -q -p no:cacheprovider --junitxml="$reports/$name.xml" "$@" || status=1
  echo "=== $name took $((SECONDS - start)) s"
}
for backend in tensorflow jax torch; do
  extra=()
  # Docstring examples run once, on torch: eager, so no example pays a
  # compile (20 s there, 95 s on TF; they pass on every backend).
  [ "$backend" = torch ] && extra=(--doctest-modules keras_gans)
  KERAS_BACKEND=$backend run "$backend" -m "not cross_backend" tests "${extra[@]}" "$@"
done
run cross-backend -m cross_backend tests "$@"
python scripts/summarize_junit.py "$reports"/*.xml || status=1
exit $status
