/* sniff [-v] IFACE: print one line per frame received on IFACE (what the
 * peer sent), until killed. Run by the tests in the lab's router namespace on
 * the peer of an uplink: every line is a packet that left the client through
 * that uplink.
 *
 *   ip4 <proto> <src> > <dst> [<detail>]  IPv4 (proto: tcp, udp, icmp, igmp or a number)
 *   igmp-report <group>...                IGMPv2/v3 membership reports
 *   ip6 <next> <src> > <dst> [<detail>]   IPv6 (next: tcp, udp, icmp6-<type>, or a number)
 *   mld-report <group>...                 MLDv1/v2 reports
 *   arp <target>                          ARP requests
 *   other 0x<ethertype>
 * where <detail> is, for TCP "ports <sport> > <dport> flags <SAFRPU...>", for
 * UDP "ports <sport> > <dport>", for ICMP "port-unreachable" or
 * "type <t> code <c>", and for an ICMP error (which quotes the packet it
 * answers) that followed by "for <proto> <src> > <dst> [ports <sp> > <dp>]":
 * the tests use it to tell the kernel's own answers to inbound traffic from
 * packets a program sent (tests/integration/lab.cc, Capture).
 * Prints "ready" first.
 *
 * With -v (the escape fuzzer's oracle, fuzz/escape/): ARP replies are
 * "arp-reply <target>", IPv4/IPv6 lines end in "len <bytes>", and a frame
 * whose bytes contain the fuzzer's marker "BSFZ" ends in "tag=<what follows
 * the marker, up to its '.'>"; the socket's buffer is made large, so that the
 * fuzzer's bursts are not dropped unseen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int verbose;

static const char* proto_name(int p, char* buf) {
  switch (p) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_IGMP:
      return "igmp";
    default:
      snprintf(buf, 16, "%d", p);
      return buf;
  }
}

/* " ports S > D" (and TCP's flags) for the transport header at t, if it is
 * all there. */
static void transport(int proto, const unsigned char* t, size_t len) {
  if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || len < 4) return;
  printf(" ports %u > %u", (unsigned)((t[0] << 8) | t[1]), (unsigned)((t[2] << 8) | t[3]));
  if (proto == IPPROTO_TCP && len >= 14) {
    static const char names[] = "FSRPAU";
    char flags[8];
    size_t n = 0;
    for (int bit = 0; bit < 6; ++bit)
      if (t[13] & (1 << bit)) flags[n++] = names[bit];
    flags[n] = 0;
    printf(" flags %s", n ? flags : "-");
  }
}

/* The packet an IPv4 ICMP error quotes: " for <proto> <src> > <dst> ...". */
static void ipv4_quoted(const unsigned char* p, size_t len) {
  if (len < 20 || (p[0] >> 4) != 4) return;
  size_t hl = (size_t)(p[0] & 0xf) * 4;
  char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], num[16];
  inet_ntop(AF_INET, p + 12, src, sizeof(src));
  inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
  printf(" for %s %s > %s", proto_name(p[9], num), src, dst);
  if (len > hl) transport(p[9], p + hl, len - hl);
}

static void ipv4(const unsigned char* p, size_t len) {
  if (len < 20) return;
  size_t hl = (size_t)(p[0] & 0xf) * 4;
  size_t total = (size_t)((p[2] << 8) | p[3]);
  if (total >= hl && total < len) len = total; /* without the Ethernet padding */
  char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], num[16];
  inet_ntop(AF_INET, p + 12, src, sizeof(src));
  inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
  if (p[9] == IPPROTO_IGMP && len >= hl + 8) {
    const unsigned char* g = p + hl;
    char group[INET_ADDRSTRLEN];
    if (g[0] == 0x16) { /* IGMPv2 report */
      inet_ntop(AF_INET, g + 4, group, sizeof(group));
      printf("igmp-report %s", group);
      return;
    }
    if (g[0] == 0x22 && len >= hl + 8) { /* IGMPv3 report */
      int n = (g[6] << 8) | g[7];
      size_t off = hl + 8;
      printf("igmp-report");
      for (int i = 0; i < n && off + 8 <= len; ++i) {
        inet_ntop(AF_INET, p + off + 4, group, sizeof(group));
        printf(" %s", group);
        off += 8 + (size_t)p[off + 1] * 4 + (size_t)((p[off + 2] << 8) | p[off + 3]) * 4;
      }
      return;
    }
  }
  printf("ip4 %s %s > %s", proto_name(p[9], num), src, dst);
  if (len > hl) transport(p[9], p + hl, len - hl);
  if (p[9] == IPPROTO_ICMP && len >= hl + 8) {
    const unsigned char* icmp = p + hl;
    if (icmp[0] == 3 && icmp[1] == 3)
      printf(" port-unreachable");
    else
      printf(" type %d code %d", icmp[0], icmp[1]);
    if (icmp[0] == 3 || icmp[0] == 11 || icmp[0] == 12) /* errors */
      ipv4_quoted(icmp + 8, len - hl - 8);
  }
  if (verbose) printf(" len %zu", len);
}

/* Skips IPv6 extension headers: the upper-layer protocol and its offset. */
static int ipv6_upper(const unsigned char* p, size_t len, size_t* off) {
  int next = p[6];
  *off = 40;
  while ((next == 0 || next == 43 || next == 60) && *off + 8 <= len) {
    next = p[*off];
    *off += ((size_t)p[*off + 1] + 1) * 8;
  }
  return next;
}

/* The packet an ICMPv6 error quotes. */
static void ipv6_quoted(const unsigned char* p, size_t len) {
  if (len < 40 || (p[0] >> 4) != 6) return;
  char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], num[16];
  inet_ntop(AF_INET6, p + 8, src, sizeof(src));
  inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
  size_t off;
  int next = ipv6_upper(p, len, &off);
  printf(" for %s %s > %s", proto_name(next, num), src, dst);
  if (off < len) transport(next, p + off, len - off);
}

static void ipv6(const unsigned char* p, size_t len) {
  if (len < 40) return;
  size_t total = 40 + (size_t)((p[4] << 8) | p[5]);
  if (total < len) len = total;
  char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], group[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, p + 8, src, sizeof(src));
  inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
  size_t off;
  int next = ipv6_upper(p, len, &off);
  if (next == IPPROTO_ICMPV6 && off + 8 <= len) {
    int type = p[off];
    if (type == 131 && off + 24 <= len) { /* MLDv1 report */
      inet_ntop(AF_INET6, p + off + 8, group, sizeof(group));
      printf("mld-report %s", group);
      return;
    }
    if (type == 143) { /* MLDv2 report */
      int n = (p[off + 6] << 8) | p[off + 7];
      size_t r = off + 8;
      printf("mld-report");
      for (int i = 0; i < n && r + 20 <= len; ++i) {
        inet_ntop(AF_INET6, p + r + 4, group, sizeof(group));
        printf(" %s", group);
        r += 20 + (size_t)p[r + 1] * 4 + (size_t)((p[r + 2] << 8) | p[r + 3]) * 16;
      }
      return;
    }
    printf("ip6 icmp6-%d %s > %s", type, src, dst);
    if (type == 1 && p[off + 1] == 4)
      printf(" port-unreachable");
    else
      printf(" type %d code %d", type, p[off + 1]);
    if (type >= 1 && type <= 4) ipv6_quoted(p + off + 8, len - off - 8); /* errors */
    if (verbose) printf(" len %zu", len);
    return;
  }
  char num[16];
  printf("ip6 %s %s > %s", proto_name(next, num), src, dst);
  if (off < len) transport(next, p + off, len - off);
  if (verbose) printf(" len %zu", len);
}

/* " tag=..." if the frame carries the escape fuzzer's marker: the first
 * whole one (BSFZ, 16 hex digits, ':'), else the first (a raw packet's
 * header made of payload bytes holds a cut one). */
static void tag(const unsigned char* frame, size_t len) {
  if (!verbose) return;
  const unsigned char* m = NULL;
  for (const unsigned char* at = frame; at < frame + len;) {
    const unsigned char* found = memmem(at, (size_t)(frame + len - at), "BSFZ", 4);
    if (!found) break;
    if (!m) m = found;
    int whole = found + 21 <= frame + len && found[20] == ':';
    for (int i = 4; whole && i < 20; ++i) whole = strchr("0123456789abcdef", found[i]) && found[i];
    if (whole) {
      m = found;
      break;
    }
    at = found + 4;
  }
  if (!m) return;
  printf(" tag=");
  for (m += 4; m < frame + len && *m != '.' && *m > ' ' && *m < 127 && m - frame < 4096; ++m)
    putchar(*m);
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "-v") == 0) {
    verbose = 1;
    argv[1] = argv[2];
    argc = 2;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: sniff [-v] IFACE\n");
    return 2;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) {
    perror("sniff: socket");
    return 1;
  }
  struct sockaddr_ll ll = {0};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_ALL);
  ll.sll_ifindex = (int)if_nametoindex(argv[1]);
  if (ll.sll_ifindex == 0 || bind(fd, (struct sockaddr*)&ll, sizeof(ll)) != 0) {
    perror("sniff: bind");
    return 1;
  }
  if (verbose) {
    /* The fuzzer's bursts must not overflow the socket: a dropped frame is
     * a leak not seen. (Root only; otherwise the default stays.) */
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  unsigned char frame[65536];
  for (;;) {
    struct sockaddr_ll from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(fd, frame, sizeof(frame), 0, (struct sockaddr*)&from, &fl);
    if (n < (ssize_t)sizeof(struct ether_header)) continue;
    if (from.sll_pkttype == PACKET_OUTGOING) continue; /* only what the peer sent */
    const struct ether_header* eth = (const struct ether_header*)frame;
    const unsigned char* p = frame + sizeof(*eth);
    size_t len = (size_t)n - sizeof(*eth);
    switch (ntohs(eth->ether_type)) {
      case ETHERTYPE_IP:
        if (len < 20) continue;
        ipv4(p, len);
        break;
      case ETHERTYPE_IPV6:
        if (len < 40) continue;
        ipv6(p, len);
        break;
      case ETHERTYPE_ARP: {
        char target[INET_ADDRSTRLEN] = "?";
        if (len >= 28) inet_ntop(AF_INET, p + 24, target, sizeof(target));
        int reply = len >= 8 && p[6] == 0 && p[7] == ARPOP_REPLY;
        printf("%s %s", verbose && reply ? "arp-reply" : "arp", target);
        break;
      }
      default:
        printf("other 0x%04x", ntohs(eth->ether_type));
    }
    tag(p, len);
    printf("\n");
  }
}
