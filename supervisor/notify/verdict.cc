#include "supervisor/notify/verdict.h"

#include <cstring>

#include "base/errno_name.h"

namespace bindsup {

std::string Describe(const Verdict& verdict) {
  struct Visitor {
    std::string operator()(const Return& r) const { return "return " + std::to_string(r.value); }
    std::string operator()(const Fail& f) const { return "fail " + ErrnoName(f.error); }
    std::string operator()(const Deferred&) const { return "deferred"; }
    std::string operator()(const KernelReceives&) const { return "kernel receives"; }
    std::string operator()(const KernelRuns& k) const {
      return k.why == KernelRuns::Why::kSoleFdTable ? "kernel runs it (sole user of its fd table)"
                                                    : "kernel runs it";
    }
  };
  return std::visit(Visitor{}, verdict);
}

}  // namespace bindsup
