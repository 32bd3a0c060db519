#!/bin/sh
# start.sh on PostgreSQL: a fresh database portwarden_bench on the server bench-pg.yaml names
# (a PostgreSQL 15 on 127.0.0.1:55432 with trust auth that you started, e.g. as root:
#   B=/usr/lib/postgresql/15/bin; mkdir /tmp/pg && chown postgres /tmp/pg
#   runuser -u postgres -- $B/initdb -D /tmp/pg/data -A trust -U postgres
#   runuser -u postgres -- $B/pg_ctl -D /tmp/pg/data -o "-p 55432 -k /tmp/pg -c listen_addresses=127.0.0.1" -l /tmp/pg/log -w start
set -e
# run.sh --no-netns: the PostgreSQL server is on the host's loopback, outside the bench's private namespace.
here=$(cd "$(dirname "$0")" && pwd)
psql -q -h 127.0.0.1 -p 55432 -U postgres -c 'DROP DATABASE IF EXISTS portwarden_bench' -c 'CREATE DATABASE portwarden_bench'
exec "$here/start.sh" "$here/bench-pg.yaml"
