#include "base/wake_signal.h"

#include <pthread.h>
#include <signal.h>

namespace bindsup {

int WakeSignal() { return SIGRTMIN + 8; }

namespace {
void Nothing(int) {}
}  // namespace

void InstallWakeHandler() {
  struct sigaction wake {};
  wake.sa_handler = Nothing;  // no SA_RESTART
  sigaction(WakeSignal(), &wake, nullptr);
}

void UnblockWakeSignal() {
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, WakeSignal());
  pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
}

}  // namespace bindsup
