#include "supervisor/kernel/events.h"

#include <arpa/inet.h>

#include <cstring>

namespace bindsup::kernel {
namespace {

std::optional<Endpoint> EndpointFrom(std::uint8_t family, const bk_endpoint6& e) {
  Endpoint out;
  if (family == 4) {
    out.ip.family = AF_INET;
    std::memcpy(out.ip.bytes.data(), &e.addr[0], 4);
  } else if (family == 6) {
    out.ip.family = AF_INET6;
    std::memcpy(out.ip.bytes.data(), e.addr, 16);
  } else {
    return std::nullopt;
  }
  out.port = ntohs(e.port);
  return out;
}

}  // namespace

KernelEvent DecodeEvent(const bk_event& raw, const KernelConfig& config) {
  KernelEvent e;
  e.monotonic_ns = raw.time_ns;
  e.cookie = raw.cookie;
  e.pid = static_cast<pid_t>(raw.pid);
  e.tid = static_cast<pid_t>(raw.tid);
  switch (raw.hook) {
    case BK_HOOK_SOCK_CREATE:
      e.hook = Hook::kSockCreate;
      break;
    case BK_HOOK_CONNECT4:
    case BK_HOOK_CONNECT6:
      e.hook = Hook::kConnect;
      break;
    case BK_HOOK_SENDMSG4:
    case BK_HOOK_SENDMSG6:
      e.hook = Hook::kSendmsg;
      break;
    case BK_HOOK_EGRESS:
      e.hook = Hook::kEgress;
      break;
    case BK_HOOK_SETSOCKOPT:
      e.hook = Hook::kSetsockopt;
      break;
    default:
      e.hook = Hook::kUnknown;
      break;
  }
  switch (raw.action) {
    case BK_ACTION_BOUND:
      e.action = Action::kBound;
      break;
    case BK_ACTION_EXCLUDED:
      e.action = Action::kExcluded;
      break;
    case BK_ACTION_REDIRECTED:
      e.action = Action::kRedirected;
      break;
    case BK_ACTION_DENIED:
      e.action = Action::kDenied;
      break;
    case BK_ACTION_REFUSED:
      e.action = Action::kRefused;
      break;
    case BK_ACTION_DROPPED:
      e.action = Action::kDropped;
      break;
    default:
      e.action = Action::kUnknown;
      break;
  }
  e.family = raw.family == 4 ? AF_INET : raw.family == 6 ? AF_INET6 : 0;
  e.protocol = raw.protocol;
  // A socket hook without an address (sock_create, setsockopt) says only
  // the family: no endpoint then.
  const bool has_destination =
      e.hook == Hook::kConnect || e.hook == Hook::kSendmsg || e.hook == Hook::kEgress;
  if (has_destination) e.destination = EndpointFrom(raw.family, raw.destination);
  e.rewritten = EndpointFrom(raw.rewritten_family, raw.rewritten);
  e.ifindex = raw.ifindex;
  e.error = raw.error;
  if (e.action == Action::kDenied) {
    if (raw.rule == 0) {
      e.rule = "not in --allow";
    } else {
      const size_t index = raw.rule - 1u;
      const auto& rules = raw.rule_deny ? config.deny : config.allow;
      std::string flag = raw.rule_deny ? "--deny " : "--allow ";
      e.rule = index < rules.size() ? flag + rules[index].ToString() : flag + "?";
    }
  }
  e.comm.assign(raw.comm, strnlen(raw.comm, sizeof(raw.comm)));
  return e;
}

const char* HookName(Hook hook) {
  switch (hook) {
    case Hook::kSockCreate:
      return "socket";
    case Hook::kConnect:
      return "connect";
    case Hook::kSendmsg:
      return "sendmsg";
    case Hook::kEgress:
      return "egress";
    case Hook::kSetsockopt:
      return "setsockopt";
    case Hook::kUnknown:
      break;
  }
  return "unknown";
}

const char* ActionName(Action action) {
  switch (action) {
    case Action::kBound:
      return "bound";
    case Action::kExcluded:
      return "excluded";
    case Action::kRedirected:
      return "redirected";
    case Action::kDenied:
      return "denied";
    case Action::kRefused:
      return "refused";
    case Action::kDropped:
      return "dropped";
    case Action::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace bindsup::kernel
