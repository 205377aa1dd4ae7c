// Facts about a program's thread, read from /proc, for logs and path
// resolution. Best effort: the thread may be gone by the time they are read.
#pragma once

#include <sys/types.h>

#include <string>

namespace bindsup {

// The thread group (process) id of thread `tid`; `tid` itself if unknown.
pid_t ThreadGroupOf(pid_t tid);

// The executable thread `tid` runs ("/usr/bin/curl"); "" if unknown.
std::string ExecutableOf(pid_t tid);

}  // namespace bindsup
