#include "supervisor/kernel/programs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "supervisor/kernel/bindsup.skel.h"
#include "supervisor/kernel/rule_tables.h"

namespace bindsup::kernel {
namespace {

std::mutex messages_mutex;
std::string messages;  // the tail of libbpf's output

int Print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // One message can be the verifier's whole log.
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string text(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(n));
  std::lock_guard<std::mutex> lock(messages_mutex);
  messages += text;
  if (messages.size() > 65536) messages.erase(0, messages.size() - 65536);
  return n;
}

void InstallPrint() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(Print); });
}

// The verifier's log is long; its reason is in the last lines before the
// end marker (then the program's name in libbpf's next line).
std::string Reason(const std::string& log) {
  size_t end = log.rfind("-- END PROG LOAD LOG --");
  if (end == std::string::npos) {
    return log.size() > 400 ? "..." + log.substr(log.size() - 400) : log;
  }
  size_t start = end;
  for (int lines = 0; lines < 4 && start > 0; ++lines) {
    start = log.rfind('\n', start - 1);
    if (start == std::string::npos) {
      start = 0;
      break;
    }
  }
  std::string out = log.substr(start, end - start);
  size_t failed = log.find("failed to load", end);
  if (failed != std::string::npos) {
    size_t line_start = log.rfind('\n', failed);
    size_t line_end = log.find('\n', failed);
    out += log.substr(line_start == std::string::npos ? 0 : line_start + 1,
                      line_end == std::string::npos ? std::string::npos : line_end - line_start);
  }
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

Error LibbpfError(int code, const std::string& what) {
  std::string reason = Reason(LastLibbpfMessages());
  if (std::getenv("BINDSUP_BPF_LOG")) std::fputs(LastLibbpfMessages().c_str(), stderr);
  return Error{code < 0 ? -code : code, what + (reason.empty() ? "" : " (libbpf: " + reason + ")")};
}

Status FillMaps(bindsup_bpf* skel, const KernelConfig& config) {
  for (const Exclusion& x : config.exclusions) {
    bk_exclusion value{x.ifindex};
    int err;
    if (x.network.base.family == AF_INET) {
      bk_key4 key = Key4(x.network);
      err = bpf_map__update_elem(skel->maps.exclude4, &key, sizeof(key), &value, sizeof(value),
                                 BPF_ANY);
    } else {
      bk_key6 key = Key6(x.network);
      err = bpf_map__update_elem(skel->maps.exclude6, &key, sizeof(key), &value, sizeof(value),
                                 BPF_ANY);
    }
    if (err) return LibbpfError(err, "fill exclude map with " + x.network.ToString());
  }
  for (const IpAddress& a : config.loopback_addresses) {
    __u8 one = 1;
    int err;
    if (a.family == AF_INET) {
      __u32 key = Address4(a);
      err = bpf_map__update_elem(skel->maps.loopback4, &key, sizeof(key), &one, 1, BPF_ANY);
    } else {
      bk_key6 key = Key6(Prefix{a, 128});
      err = bpf_map__update_elem(skel->maps.loopback6, &key, sizeof(key), &one, 1, BPF_ANY);
    }
    if (err) return LibbpfError(err, "fill the loopback map with " + a.ToString());
  }
  auto table = BuildRuleTable(config.allow, config.deny);
  if (!table) return table.error();
  for (const RuleTableEntry& entry : *table) {
    bk_rule_set value{};
    value.count = static_cast<__u32>(entry.rules.size());
    for (size_t i = 0; i < entry.rules.size(); ++i) value.rules[i] = entry.rules[i];
    int err;
    if (entry.network.base.family == AF_INET) {
      bk_key4 key = Key4(entry.network);
      err = bpf_map__update_elem(skel->maps.rules4, &key, sizeof(key), &value, sizeof(value),
                                 BPF_ANY);
    } else {
      bk_key6 key = Key6(entry.network);
      err = bpf_map__update_elem(skel->maps.rules6, &key, sizeof(key), &value, sizeof(value),
                                 BPF_ANY);
    }
    if (err) return LibbpfError(err, "fill rule map with " + entry.network.ToString());
  }
  return {};
}

}  // namespace

std::string LastLibbpfMessages() {
  std::lock_guard<std::mutex> lock(messages_mutex);
  return messages;
}

Result<std::unique_ptr<Programs>> Programs::Load(const KernelConfig& config) {
  InstallPrint();
  auto bpf_config = BuildBpfConfig(config);
  if (!bpf_config) return bpf_config.error();
  std::unique_ptr<Programs> p(new Programs());
  p->config_ = config;
  p->skeleton_ = bindsup_bpf__open();
  if (!p->skeleton_) return LibbpfError(errno, "open the BPF programs");
  // The const volatile struct in .rodata: copied in before loading, so the
  // verifier sees the configuration as constants.
  *const_cast<bk_config*>(&p->skeleton_->rodata->config) = *bpf_config;
  // Programs the configuration does not attach are not loaded either (the
  // verifier's time is most of the start-up).
  const bool dns = config.dns4 || config.dns6 || config.relay4 || config.relay6;
  auto& progs = p->skeleton_->progs;
  for (bpf_program* unused :
       {progs.recvmsg4, progs.recvmsg6, progs.getpeername4, progs.getpeername6})
    if (!dns) bpf_program__set_autoload(unused, false);
  for (bpf_program* unused : {progs.bind4, progs.bind6})
    if (!config.bind_listeners) bpf_program__set_autoload(unused, false);
  if (int err = bindsup_bpf__load(p->skeleton_)) return LibbpfError(err, "load the BPF programs");
  Status filled = FillMaps(p->skeleton_, config);
  if (!filled) return filled.error();
  // Always: refusals are reported whatever the options (the programs' audit()).
  p->ring_ = ring_buffer__new(bpf_map__fd(p->skeleton_->maps.events), &Programs::OnEvent, p.get(),
                              nullptr);
  if (!p->ring_) return LibbpfError(errno, "open the BPF ring buffer");
  return p;
}

Programs::~Programs() {
  if (ring_) ring_buffer__free(ring_);
  if (skeleton_) bindsup_bpf__destroy(skeleton_);
}

Status Programs::Attach(int cgroup_fd) {
  struct Attachment {
    bpf_program* program;
    bpf_attach_type type;
    bool needed;
  };
  const bool dns = config_.dns4 || config_.dns6 || config_.relay4 || config_.relay6;
  auto& progs = skeleton_->progs;
  const Attachment all[] = {
      // The kill switch first: from here on nothing leaves the other way.
      {progs.egress, BPF_CGROUP_INET_EGRESS, true},
      {progs.sock_create, BPF_CGROUP_INET_SOCK_CREATE, true},
      {progs.connect4, BPF_CGROUP_INET4_CONNECT, true},
      {progs.connect6, BPF_CGROUP_INET6_CONNECT, true},
      {progs.sendmsg4, BPF_CGROUP_UDP4_SENDMSG, true},
      {progs.sendmsg6, BPF_CGROUP_UDP6_SENDMSG, true},
      {progs.setsockopt, BPF_CGROUP_SETSOCKOPT, true},
      {progs.recvmsg4, BPF_CGROUP_UDP4_RECVMSG, dns},
      {progs.recvmsg6, BPF_CGROUP_UDP6_RECVMSG, dns},
      {progs.getpeername4, BPF_CGROUP_INET4_GETPEERNAME, dns},
      {progs.getpeername6, BPF_CGROUP_INET6_GETPEERNAME, dns},
      {progs.bind4, BPF_CGROUP_INET4_BIND, config_.bind_listeners},
      {progs.bind6, BPF_CGROUP_INET6_BIND, config_.bind_listeners},
  };
  for (const Attachment& a : all) {
    if (!a.needed) continue;
    // BPF_F_ALLOW_MULTI is a security choice, not a convenience: a program
    // attached with flags 0 or BPF_F_ALLOW_OVERRIDE can be detached with
    // BPF_PROG_DETACH naming no program by anyone who can open the cgroup's
    // directory, no capability needed (bpf_prog_detach, find_detach_entry;
    // seen on 6.18 as uid 65534). A multi attachment needs the program's fd.
    if (bpf_prog_attach(bpf_program__fd(a.program), cgroup_fd, a.type, BPF_F_ALLOW_MULTI) != 0) {
      return Error::FromErrno(std::string("attach BPF program ") + bpf_program__name(a.program));
    }
  }
  return {};
}

int Programs::events_fd() const { return ring_ ? ring_buffer__epoll_fd(ring_) : -1; }

int Programs::OnEvent(void* self, void* data, std::size_t size) {
  auto* p = static_cast<Programs*>(self);
  if (size < sizeof(bk_event) || !p->each_) return 0;
  (*p->each_)(*static_cast<const bk_event*>(data));
  return 0;
}

Result<int> Programs::ConsumeEvents(const std::function<void(const bk_event&)>& each) {
  if (!ring_) return 0;
  each_ = &each;
  int n = ring_buffer__consume(ring_);
  each_ = nullptr;
  if (n < 0) return LibbpfError(n, "read the BPF ring buffer");
  return n;
}

Result<Programs::Counters> Programs::ReadCounters() const {
  Counters out;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return LibbpfError(cpus, "count CPUs");
  std::vector<__u64> values(static_cast<size_t>(cpus));
  for (__u32 key : {0u, 1u}) {
    if (bpf_map__lookup_elem(skeleton_->maps.counters, &key, sizeof(key), values.data(),
                             values.size() * sizeof(__u64), 0) != 0)
      return LibbpfError(errno, "read the BPF counters");
    std::uint64_t sum = 0;
    for (__u64 v : values) sum += v;
    (key == 0 ? out.events_lost : out.packets_dropped) = sum;
  }
  return out;
}

}  // namespace bindsup::kernel
