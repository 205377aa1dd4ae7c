#!/usr/bin/env bash
# The two-uplink namespace lab used by the tests and by `make demo`.
#
#   lab.sh up NAME SERVER_BIN    create the lab and start the address server
#   lab.sh down NAME             stop the server and delete the lab
#
# Everything lives in two network namespaces created here and deleted again;
# the machine's own interfaces and routes are never touched.
#
#   namespace NAME-c (client)                  namespace NAME-r (router)
#   uplink1 10.201.1.2/24  fd00:201:1::2/64 <-> r1 10.201.1.1  fd00:201:1::1
#   uplink2 10.201.2.2/24  fd00:201:2::2/64 <-> r2 10.201.2.1  fd00:201:2::1
#   default via uplink1 (metric 100)            lo 10.200.0.1, fd00:200::1
#   default via uplink2 (metric 200)            addr_server: TCP 8080, UDP 8081
#
# Both uplinks reach the server; the default route prefers uplink1, so a
# client's source address (which the server echoes) names the uplink used.
set -euo pipefail

cmd=${1:?usage: lab.sh up NAME SERVER_BIN | lab.sh down NAME}
name=${2:?missing lab name}
cli="$name-c"
rtr="$name-r"
state="/run/bindsup-lab/$name"

up() {
  local server=${1:?missing server binary}
  mkdir -p "$state"
  ip netns add "$cli"
  ip netns add "$rtr"
  for ns in "$cli" "$rtr"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
    ip -n "$ns" link set lo up
  done
  ip -n "$cli" link add uplink1 type veth peer name r1 netns "$rtr"
  ip -n "$cli" link add uplink2 type veth peer name r2 netns "$rtr"
  for i in 1 2; do
    ip -n "$cli" addr add "10.201.$i.2/24" dev "uplink$i"
    ip -n "$cli" addr add "fd00:201:$i::2/64" dev "uplink$i" nodad
    ip -n "$rtr" addr add "10.201.$i.1/24" dev "r$i"
    ip -n "$rtr" addr add "fd00:201:$i::1/64" dev "r$i" nodad
    ip -n "$cli" link set "uplink$i" up
    ip -n "$rtr" link set "r$i" up
  done
  # ICMP echo ("ping") sockets for everyone in the client, to test them.
  ip netns exec "$cli" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
  ip -n "$rtr" addr add 10.200.0.1/32 dev lo
  ip -n "$rtr" addr add fd00:200::1/128 dev lo
  ip -n "$cli" route add default via 10.201.1.1 dev uplink1 metric 100
  ip -n "$cli" route add default via 10.201.2.1 dev uplink2 metric 200
  ip -n "$cli" -6 route add default via fd00:201:1::1 dev uplink1 metric 100
  ip -n "$cli" -6 route add default via fd00:201:2::1 dev uplink2 metric 200

  ip netns exec "$rtr" "$server" 10.200.0.1 fd00:200::1 >"$state/server.out" 2>&1 &
  echo $! >"$state/server.pid"
  for _ in $(seq 50); do
    grep -q ready "$state/server.out" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "lab.sh: the address server did not start:" >&2
  cat "$state/server.out" >&2
  down
  return 1
}

down() {
  if [[ -f "$state/server.pid" ]]; then
    kill "$(cat "$state/server.pid")" 2>/dev/null || true
  fi
  ip netns pids "$cli" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns pids "$rtr" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  ip netns del "$rtr" 2>/dev/null || true
  rm -rf "$state"
}

case "$cmd" in
  up) up "${3:-}" ;;
  down) down ;;
  *) echo "lab.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
