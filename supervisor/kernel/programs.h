// The BPF programs of kernel mode (bpf/bindsup.bpf.c, through the skeleton
// bpftool generates at build time): loaded with a KernelConfig, attached to
// a run's cgroup, and read back (audit events, counters).
//
// The programs are attached with BPF_PROG_ATTACH (BPF_F_ALLOW_MULTI), not
// with bpf_link: a link is detached when the last fd to it closes, so a
// killed bindsup would leave its program running with nothing enforced. An
// attachment stays as long as the cgroup exists; the cgroup cannot be
// removed while a process is in it, and when bindsup (or the next run,
// RemoveStaleCgroups) removes it, the kernel detaches and frees the programs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "supervisor/kernel/bpf/shared.h"
#include "supervisor/kernel/kernel_config.h"

struct bindsup_bpf;
struct ring_buffer;

namespace bindsup::kernel {

class Programs {
 public:
  // Loads the programs (the verifier runs here) and fills their maps.
  // Errors carry libbpf's last message.
  static Result<std::unique_ptr<Programs>> Load(const KernelConfig& config);
  ~Programs();
  Programs(const Programs&) = delete;
  Programs& operator=(const Programs&) = delete;

  // Attaches every program the configuration needs to the cgroup.
  Status Attach(int cgroup_fd);

  // The ring buffer: an epoll fd that is readable when events wait, and a
  // non-blocking read of every waiting event. Returns how many were read.
  int events_fd() const;
  Result<int> ConsumeEvents(const std::function<void(const bk_event&)>& each);

  struct Counters {
    std::uint64_t events_lost = 0;      // the ring buffer was full
    std::uint64_t packets_dropped = 0;  // by the kill switch
  };
  Result<Counters> ReadCounters() const;

 private:
  Programs() = default;
  static int OnEvent(void* self, void* data, std::size_t size);
  bindsup_bpf* skeleton_ = nullptr;
  ring_buffer* ring_ = nullptr;
  KernelConfig config_;
  const std::function<void(const bk_event&)>* each_ = nullptr;
};

// libbpf's messages (warnings and the verifier's log) go here instead of
// stderr; the last few are kept for error reports.
std::string LastLibbpfMessages();

}  // namespace bindsup::kernel
