#include "supervisor/host/sysctls.h"

#include <fstream>

namespace bindsup {

std::vector<std::string> NonlocalBindEnabled(const std::string& proc_sys) {
  std::vector<std::string> on;
  for (const char* family : {"ipv4", "ipv6"}) {
    std::ifstream in(proc_sys + "/net/" + family + "/ip_nonlocal_bind");
    int value = 0;
    if (in >> value && value != 0) on.push_back(std::string("net.") + family + ".ip_nonlocal_bind");
  }
  return on;
}

}  // namespace bindsup
