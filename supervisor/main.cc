// bindsup: run a program so that all its traffic leaves through one interface.
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "supervisor/audit/audit_log.h"
#include "supervisor/cli/help.h"
#include "supervisor/cli/options.h"
#include "supervisor/command/exit_status.h"
#include "supervisor/doctor/doctor.h"
#include "supervisor/host/interfaces.h"
#include "supervisor/kernel/kernel_supervisor.h"
#include "supervisor/kernel/options_bridge.h"
#include "supervisor/loop/supervisor.h"
#include "supervisor/relay/dns_relay.h"

namespace {

// Descriptors 0-2 must exist, or the first file bindsup opens would become
// the program's stdin/stdout/stderr.
void EnsureStandardDescriptors() {
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) {
      int null = open("/dev/null", O_RDWR);
      if (null >= 0 && null != fd) {
        dup2(null, fd);
        close(null);
      }
    }
  }
}

void Print(const std::string& text) { fputs(text.c_str(), stdout); }

// Kernel mode (docs/kernel-mode.md), with the seccomp supervisor's
// configuration where they share it (the DNS relay, --grace): --mode kernel
// only. nullopt, after saying why, when it cannot run here (the caller exits
// 125).
std::optional<int> RunKernelMode(const bindsup::Options& options, const bindsup::Config& config,
                                 bindsup::Logger& log, bindsup::AuditLog& audit) {
  namespace kernel = bindsup::kernel;
  auto kernel_config = kernel::KernelConfigFromOptions(options);
  bindsup::Result<int> status =
      kernel_config ? bindsup::Result<int>(0) : bindsup::Result<int>(kernel_config.error());
  if (kernel_config) {
    // The same relay as seccomp mode's, for queries of the family no -d
    // server has (dns_relay.h).
    for (const auto& [relay, out] : {std::pair{&config.policy.relay4, &kernel_config->relay4},
                                     std::pair{&config.policy.relay6, &kernel_config->relay6}}) {
      if (*relay) *out = kernel::Relay{(*relay)->udp, (*relay)->tcp};
    }
    status = kernel::RunInKernelMode({std::move(*kernel_config), config.grace}, options.command,
                                     log, audit);
  }
  if (status) return *status;
  log.Error("kernel mode cannot run here: {}", status.error().Message());
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  EnsureStandardDescriptors();
  bindsup::Logger log;
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto parsed = bindsup::ParseOptions(args, bindsup::ProcessEnvironment());
  if (!parsed) {
    log.Error("{} (see bindsup --help)", parsed.error().context);
    return bindsup::kExitOwnError;
  }
  switch (parsed->action) {
    case bindsup::Action::kHelp:
      Print(bindsup::HelpText());
      return 0;
    case bindsup::Action::kVersion:
      Print(bindsup::VersionText());
      return 0;
    case bindsup::Action::kCheck: {
      std::vector<bindsup::IpAddress> sources;
      for (const auto& source : {parsed->options.source4, parsed->options.source6}) {
        if (source) sources.push_back(*source);
      }
      return bindsup::RunChecks(parsed->options.interface, sources, parsed->options.mode, stdout);
    }
    case bindsup::Action::kRun:
      break;
  }
  const bindsup::Options& options = parsed->options;
  log.set_verbose(options.verbose);
  if (if_nametoindex(options.interface.c_str()) == 0) {
    log.Error("interface '{}' not found", options.interface);
    return bindsup::kExitOwnError;
  }
  // The kernel's answers to a foreign source follow the routing table
  // (docs/threat-model.md); bindsup refuses the options that allow one, but
  // this setting allows it to every program.
  if (std::ifstream nonlocal("/proc/sys/net/ipv6/ip_nonlocal_bind"); nonlocal) {
    int value = 0;
    if ((nonlocal >> value) && value != 0) {
      log.Warn(
          "net.ipv6.ip_nonlocal_bind is 1: the program can send from IPv6 addresses that are not "
          "this host's, and the kernel's answers to them follow the routing table (see bindsup "
          "--check)");
    }
  }
  for (const auto& source : {options.source4, options.source6}) {
    if (source && !bindsup::AddressIsOn(*source, options.interface)) {
      log.Error("source address {} is not on interface '{}'", source->ToString(),
                options.interface);
      return bindsup::kExitOwnError;
    }
  }
  bindsup::AuditLog::Config audit_config;
  if (options.log_file) {
    int fd = *options.log_file == "-"
                 ? fcntl(2, F_DUPFD_CLOEXEC, 3)
                 : open(options.log_file->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      log.Error("cannot open the log file '{}': {}", *options.log_file, std::strerror(errno));
      return bindsup::kExitOwnError;
    }
    audit_config.json = bindsup::UniqueFd(fd);
  }
  audit_config.text = options.verbose;
  audit_config.stats = options.stats;
  // On the heap: a writer stuck in a hung disk's write() is left behind at
  // exit, and must not find its object destroyed (audit_log.h).
  auto* audit = new bindsup::AuditLog(std::move(audit_config), log);

  bindsup::Config config;
  config.policy = {options.interface,
                   options.dns4,
                   options.dns6,
                   options.source4,
                   options.source6,
                   options.exclude,
                   bindsup::DestinationRules(options.allow, options.deny),
                   options.deny_errno,
                   bindsup::IsLoopback(options.interface),
                   {},
                   {}};
  // -d with servers of one family only: a relay on loopback takes the
  // queries of sockets of the other family (dns_relay.h).
  std::unique_ptr<bindsup::DnsRelay> relay;
  if (options.dns4.has_value() != options.dns6.has_value()) {
    const bool to_v6 = options.dns6.has_value();
    bindsup::DnsRelayConfig relay_config{to_v6 ? *options.dns6 : *options.dns4, options.interface,
                                         to_v6 ? options.source6 : options.source4,
                                         to_v6 ? AF_INET : AF_INET6};
    auto started = bindsup::DnsRelay::Start(relay_config, log);
    if (!started) {
      log.Warn("{}: DNS queries from {} sockets will fail; add an {} server with -d",
               started.error().Message(), to_v6 ? "IPv4" : "IPv6-only", to_v6 ? "IPv4" : "IPv6");
    } else {
      relay = std::move(*started);
      bindsup::PolicyConfig::Relay addresses{relay->udp_address(), relay->tcp_address(),
                                             relay->server()};
      (to_v6 ? config.policy.relay4 : config.policy.relay6) = addresses;
    }
  }
  config.bind_listeners = options.bind_listeners;
  if (options.grace_seconds) {
    config.grace = std::chrono::milliseconds(static_cast<long long>(*options.grace_seconds * 1000));
  }
  std::optional<int> status;
  // --mode auto runs seccomp mode until kernel mode behaves the same in
  // every case (docs/kernel-mode.md, "Not the default yet").
  if (options.mode == bindsup::Mode::kKernel) {
    status = RunKernelMode(options, config, log, *audit);
    if (!status) status = bindsup::kExitOwnError;
  }
  if (!status) status = bindsup::Supervisor(std::move(config), log, *audit).Run(options.command);
  audit->Finish();
  if (!audit->left_writer_behind()) delete audit;
  return *status;
}
