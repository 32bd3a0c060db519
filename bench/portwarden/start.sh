#!/bin/sh
# Starts portwarden for ../shared/bench (run.sh --target-cmd), from the bench folder, using the
# bench's own RSA certificate (work/tls) like every other server there. Usage: start.sh [CONFIG]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
node="$root/node_modules/.bin/node"
cfg=/tmp/pw-bench.yaml
cp "${1:-$here/bench.yaml}" "$cfg"
if [ -f "$PWD/work/tls/cert.pem" ]; then
  printf 'tls: {cert: "%s", key: "%s"}\n' "$PWD/work/tls/cert.pem" "$PWD/work/tls/key.pem" >> "$cfg"
fi
rm -rf /tmp/pw-bench-data
echo benchpass | "$node" "$root/src/cli/main.ts" account add bench@example.com --password-stdin --tier premium --config "$cfg"
exec "$root/bin/portwarden" start --config "$cfg"
