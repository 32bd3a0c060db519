#!/bin/sh
# Returns when the spool is empty (run.sh --target-drain).
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../../node_modules/.bin/node" "$here/../../src/cli/main.ts" queue wait-empty --timeout 300 --config /tmp/pw-bench.yaml
