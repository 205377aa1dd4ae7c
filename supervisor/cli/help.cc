#include "supervisor/cli/help.h"

namespace bindsup {

std::string HelpText() {
  return R"(Usage: bindsup [OPTIONS] -i IFACE [--] COMMAND [ARGS...]

Run COMMAND so that every packet it, and every process it starts, sends
through an internet socket leaves through network interface IFACE, or not at
all. Works for any program: dynamically or statically linked, Go, musl,
busybox, and the C library's own resolver.

Options:
  -i, --interface IFACE  the interface to send through (required)
  -d, --dns IP[:PORT]    send every DNS query (to any port-53 destination, UDP
                         or TCP) to this server instead, through IFACE; IPv6
                         as [ADDR]:PORT; one IPv4 and one IPv6 server
  -s, --source-ip IP     send from this address of IFACE (sockets the program
                         binds itself are left alone); one IPv4 and one IPv6
  -x, --exclude LIST     destinations that use the normal routing table
                         instead of IFACE: comma-separated CIDRs (10.0.0.0/8,
                         fd00::/8), addresses, or prefixes on octet boundaries
                         (192.168.); repeatable
      --bind-listeners   restrict listening sockets to IFACE as well; by
                         default a server accepts connections arriving on any
                         interface, while every connection it makes leaves
                         through IFACE
      --allow LIST       reach only these destinations: comma-separated
                         networks with an optional port or port range
                         (127.0.0.0/8, 10.0.0.0/8:443, [::1]:5432,
                         [fd00::/8]:8000-8080); repeatable
      --deny LIST        never reach these destinations (same form; wins over
                         --allow); repeatable
      --deny-errno NAME  the error a refused connect or send fails with:
                         EPERM (default, as a firewall drop), EACCES,
                         ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT,
                         ECONNRESET, ENETDOWN, EADDRNOTAVAIL
      --log FILE         write every decision as a JSON line to FILE (appended;
                         '-' for stderr)
      --stats            print a summary of the decisions at exit
      --grace SECONDS    when the command exits, send the processes it leaves
                         behind SIGTERM, then SIGKILL after SECONDS; always done
                         (default 10) when bindsup is PID 1
      --mode MODE        how COMMAND is held to IFACE: kernel (BPF programs
                         on a cgroup of its own; needs root, or CAP_BPF and
                         CAP_NET_ADMIN), seccomp (a supervisor performs every
                         call that can choose a route), or auto (the default:
                         seccomp mode for now; see bindsup(1), MODES)
  -v, --verbose          log every decision bindsup makes, as text, and the
                         mode it runs in
      --check            check the kernel, the privileges, which mode would
                         run and IFACE (up, addresses, a route bound traffic
                         can use), print a checklist and exit: 0 if no check
                         failed, 1 if one did; takes no COMMAND
  -h, --help             show this help and exit
      --version          show the version and exit

Environment: BIND_INTERFACE, BIND_SOURCE_IP, DNS_OVERRIDE_IP,
DNS_OVERRIDE_PORT and BIND_EXCLUDE (the LD_PRELOAD tool's variables), and
BINDSUP_MODE (--mode), are used when the matching option is absent.

Exit status: COMMAND's own; 128+N if COMMAND was killed by signal N; 125 if
bindsup itself failed (bad option, unknown interface, ...); 126 if COMMAND
cannot be executed; 127 if COMMAND was not found. --mode kernel exits with
125 and says why when kernel mode cannot run here.

Privileges: bindsup works without root. Unprivileged, it sets no_new_privs,
so setuid programs inside run without their extra privileges. With
CAP_SYS_ADMIN (e.g. as root) it does not, and setuid programs such as sudo
keep working and stay supervised. As root, or with CAP_BPF and CAP_NET_ADMIN,
--mode kernel runs kernel mode: the program's calls then run at native speed,
and a packet filter drops anything that would leave another way (--mode auto
does not choose it yet: see bindsup(1), MODES).

If connections fail with "No route to host", IFACE has no route to the
destination: add one, e.g. a default route through IFACE with a higher
metric than the main one. See bindsup(1). bindsup --check -i IFACE looks,
and prints the command that adds one.
)";
}

std::string VersionText() { return "bindsup " BINDSUP_VERSION "\n"; }

}  // namespace bindsup
