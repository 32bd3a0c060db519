#!/bin/sh
# Returns when the spool is empty (run.sh --target-drain). Through bin/portwarden, as an
# operator would run it: its compile cache makes the command start in ~60 ms, not ~150.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../../bin/portwarden" queue wait-empty --timeout 300 --config /tmp/pw-bench.yaml
