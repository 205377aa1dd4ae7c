// Facts about a program's thread, read from /proc: for logs, path
// resolution, credentials and signal state. Best effort where noted: the
// thread may be gone by the time they are read.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace bindsup {

// The whole of /proc/<tid>/status.
Result<std::string> ReadProcStatus(pid_t tid);

// Calls `field(key, value)` for each "Key:\tvalue" line of a status text
// (value as written, leading blanks removed); stops early when it returns
// false. Lines without a colon are skipped.
void ForEachStatusField(std::string_view status,
                        const std::function<bool(std::string_view, std::string_view)>& field);

// The thread group (process) id of thread `tid`; `tid` itself if unknown.
pid_t ThreadGroupOf(pid_t tid);

// The file mode creation mask of thread `tid` (the "Umask" field); an error if
// it cannot be read.
Result<mode_t> UmaskOf(pid_t tid);

// The executable thread `tid` runs ("/usr/bin/curl"), for logs: made
// Printable (base/printable.h); "" if unknown.
std::string ExecutableOf(pid_t tid);

}  // namespace bindsup
