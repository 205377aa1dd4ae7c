#!/usr/bin/env bash
# The two-uplink namespace lab used by the tests and by `make demo`.
#
#   lab.sh up NAME SERVER_BIN    create the lab and start its servers
#   lab.sh resolver NAME v4|v6   point the client's resolv.conf at the local
#                                stub resolver's IPv4 (127.0.0.53) or IPv6 (::1)
#   lab.sh down NAME             stop the servers and delete the lab
#
# Everything lives in two network namespaces created here and deleted again;
# the machine's own interfaces and routes are never touched.
#
#   namespace NAME-c (client)                  namespace NAME-r (router)
#   uplink1 10.201.1.2/24  fd00:201:1::2/64 <-> r1 10.201.1.1  fd00:201:1::1
#   uplink2 10.201.2.2/24  fd00:201:2::2/64 <-> r2 10.201.2.1  fd00:201:2::1
#   default via uplink1 (metric 100)            lo 10.200.0.1, fd00:200::1
#   default via uplink2 (metric 200)            addr_server: TCP 8080, UDP 8081,
#   192.168.0.0/16 via uplink1                  sink 8082
#   uplink2 also 10.201.2.3, fd00:201:2::3      lo 192.168.1.1, 192.168.10.1
#                                               r1 and r2 also fe80::1
#
# Both uplinks reach the server; the default route prefers uplink1, so a
# client's source address (which the server echoes) names the uplink used.
#
# DNS (when dnsmasq is installed), each logging its queries in the state dir:
#   system resolver  client 127.0.0.53 and ::1 (a local stub, like
#                    systemd-resolved; /etc/netns/NAME-c/resolv.conf, which
#                    `ip netns exec` uses): test.bindsup = 192.0.2.1,
#                    2001:db8::1 (unreachable), big.bindsup = 100 x 192.0.2.N
#   override         router 10.200.0.54 and fd00:200::54, ports 53 and 5353:
#                    test.bindsup = 10.200.0.1, fd00:200::1 (the address
#                    server), big.bindsup = 100 x 198.51.100.N (too big for
#                    UDP: clients fall back to TCP)
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
  ip -n "$rtr" addr add 10.200.0.54/32 dev lo
  ip -n "$rtr" addr add fd00:200::54/128 dev lo nodad
  ip -n "$rtr" addr add 192.168.1.1/32 dev lo
  ip -n "$rtr" addr add 192.168.10.1/32 dev lo
  ip -n "$cli" addr add 10.201.2.3/24 dev uplink2
  # Deprecated: never a default source, usable when bound (-s).
  ip -n "$cli" addr add fd00:201:2::3/64 dev uplink2 nodad preferred_lft 0
  ip -n "$cli" route add 192.168.0.0/16 via 10.201.1.1 dev uplink1
  ip -n "$cli" route add default via 10.201.1.1 dev uplink1 metric 100
  ip -n "$cli" route add default via 10.201.2.1 dev uplink2 metric 200
  ip -n "$cli" -6 route add default via fd00:201:1::1 dev uplink1 metric 100
  ip -n "$cli" -6 route add default via fd00:201:2::1 dev uplink2 metric 200
  # Permanent neighbours on both ends: otherwise the first IPv6 packet in a
  # fresh lab sometimes waits a second for neighbour discovery, and a client
  # with happy eyeballs (curl) switches families on a timer.
  local i mac_c mac_r
  for i in 1 2; do
    mac_c=$(ip -n "$cli" -br link show "uplink$i" | awk '{print $3}')
    mac_r=$(ip -n "$rtr" -br link show "r$i" | awk '{print $3}')
    # fe80::1: the router's link-local address on both links (scope tests).
    ip -n "$rtr" addr add fe80::1/64 dev "r$i" nodad
    for a in "10.201.$i.1" "fd00:201:$i::1" fe80::1; do
      ip -n "$cli" neigh replace "$a" lladdr "$mac_r" dev "uplink$i" nud permanent
    done
    for a in "10.201.$i.2" "fd00:201:$i::2"; do
      ip -n "$rtr" neigh replace "$a" lladdr "$mac_c" dev "r$i" nud permanent
    done
  done
  for a in 10.201.2.3 fd00:201:2::3; do
    ip -n "$rtr" neigh replace "$a" lladdr "$mac_c" dev r2 nud permanent
  done

  ip netns exec "$rtr" "$server" 10.200.0.1 fd00:200::1 10.201.1.1 >"$state/server.out" 2>&1 &
  echo $! >"$state/server.pid"
  local ready=0
  for _ in $(seq 50); do
    if grep -q ready "$state/server.out" 2>/dev/null; then ready=1; break; fi
    sleep 0.1
  done
  if [[ $ready -ne 1 ]]; then
    echo "lab.sh: the address server did not start:" >&2
    cat "$state/server.out" >&2
    down
    return 1
  fi
  if command -v dnsmasq >/dev/null; then
    dns || { down; return 1; }
  fi
}

# Starts a dnsmasq in namespace $1, named $2, listening on port $3 at the
# remaining arguments' addresses, with the records of hosts file $4.
dnsmasq_in() {
  local ns=$1 name=$2 port=$3 hosts=$4
  shift 4
  local listen=()
  for a in "$@"; do listen+=(--listen-address="$a"); done
  ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --no-poll --user=root --pid-file= --bind-interfaces --port="$port" "${listen[@]}" \
    --addn-hosts="$hosts" --local=/bindsup/ --log-queries --log-facility="$state/$name.log" \
    >>"$state/$name.out" 2>&1 &
  echo $! >"$state/$name.pid"
}

dns() {
  {
    echo "192.0.2.1 test.bindsup"
    echo "2001:db8::1 test.bindsup"
    for i in $(seq 1 100); do echo "192.0.2.$i big.bindsup"; done
  } >"$state/system.hosts"
  {
    echo "10.200.0.1 test.bindsup"
    echo "fd00:200::1 test.bindsup"
    for i in $(seq 1 100); do echo "198.51.100.$i big.bindsup"; done
  } >"$state/override.hosts"
  dnsmasq_in "$cli" system-dns 53 "$state/system.hosts" 127.0.0.53 ::1
  dnsmasq_in "$rtr" override-dns 53 "$state/override.hosts" 10.200.0.54 fd00:200::54
  dnsmasq_in "$rtr" override-dns-5353 5353 "$state/override.hosts" 10.200.0.54 fd00:200::54
  resolver v4
  # Ready once each answers.
  for _ in $(seq 50); do
    if ip netns exec "$cli" dig +time=1 +tries=1 +short @127.0.0.53 test.bindsup >/dev/null 2>&1 &&
       ip netns exec "$rtr" dig +time=1 +tries=1 +short @10.200.0.54 test.bindsup >/dev/null 2>&1 &&
       ip netns exec "$rtr" dig +time=1 +tries=1 +short -p 5353 @10.200.0.54 test.bindsup >/dev/null 2>&1; then
      # Forget the readiness probes.
      : >"$state/system-dns.log"
      : >"$state/override-dns.log"
      : >"$state/override-dns-5353.log"
      return 0
    fi
    sleep 0.1
  done
  echo "lab.sh: dnsmasq did not start:" >&2
  cat "$state"/*.out >&2
  return 1
}

resolver() {
  mkdir -p "/etc/netns/$cli"
  case "${1:-v4}" in
    v4) echo "nameserver 127.0.0.53" >"/etc/netns/$cli/resolv.conf" ;;
    v6) echo "nameserver ::1" >"/etc/netns/$cli/resolv.conf" ;;
    *) echo "lab.sh: resolver v4|v6" >&2; return 2 ;;
  esac
}

down() {
  # Only a server still in the lab: a pid file of an interrupted run may name
  # a number another process has by now.
  local inside
  inside=" $(ip netns pids "$cli" 2>/dev/null | tr '\n' ' ') $(ip netns pids "$rtr" 2>/dev/null | tr '\n' ' ') "
  for pid in "$state"/*.pid; do
    [[ -f $pid ]] || continue
    [[ $inside == *" $(cat "$pid") "* ]] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  ip netns pids "$cli" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns pids "$rtr" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  ip netns del "$rtr" 2>/dev/null || true
  rm -rf "$state" "/etc/netns/$cli"
}

case "$cmd" in
  up) up "${3:-}" ;;
  resolver) resolver "${3:-}" ;;
  down) down ;;
  *) echo "lab.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
