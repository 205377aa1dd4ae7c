// bindsup: run a program so that all its traffic leaves through one interface.
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "supervisor/exit_status.h"
#include "supervisor/log.h"
#include "supervisor/options.h"
#include "supervisor/supervisor.h"

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

// Whether `address` is assigned to `interface`.
bool AddressIsOn(const bindsup::IpAddress& address, const std::string& interface) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || interface != i->ifa_name) continue;
    auto endpoint =
        bindsup::EndpointOf(i->ifa_addr, i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in)
                                                                           : sizeof(sockaddr_in6));
    found = endpoint && endpoint->ip == address;
  }
  freeifaddrs(list);
  return found;
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
    case bindsup::Action::kRun:
      break;
  }
  const bindsup::Options& options = parsed->options;
  log.set_verbose(options.verbose);
  if (if_nametoindex(options.interface.c_str()) == 0) {
    log.Error("interface '{}' not found", options.interface);
    return bindsup::kExitOwnError;
  }
  for (const auto& source : {options.source4, options.source6}) {
    if (source && !AddressIsOn(*source, options.interface)) {
      log.Error("source address {} is not on interface '{}'", source->ToString(),
                options.interface);
      return bindsup::kExitOwnError;
    }
  }
  bindsup::Config config;
  config.policy = {options.interface, options.dns4,    options.dns6,
                   options.source4,   options.source6, options.exclude};
  config.bind_listeners = options.bind_listeners;
  bindsup::Supervisor supervisor(std::move(config), log);
  return supervisor.Run(options.command);
}
