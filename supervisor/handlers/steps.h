// Inside handlers/: the steps the handlers share (handlers.cc) and the
// handler of each call family (one file each). Not for use outside this
// folder: the folder's face is handlers.h.
//
// A handler reads (PrepareSocket, then the arguments from program/), decides
// and binds (ApplyPolicy: policy/ and operations/binding.h), and returns the
// call to perform (WithOperation) or the answer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "supervisor/handlers/handlers.h"
#include "supervisor/net/sockaddr.h"
#include "supervisor/operations/operation.h"
#include "supervisor/operations/receive.h"
#include "supervisor/program/credentials.h"
#include "supervisor/program/socket_info.h"
#include "supervisor/program/target.h"

namespace bindsup::handlers {

// ------------------------------------------------------------ shared steps

// A refusal by bindsup: the call fails with `error`; `warn` logs it without
// -v.
Handling Refuse(int error, std::string detail, bool warn = true);

// A refusal caused by the program's own arguments (EFAULT, EINVAL, ...):
// the kernel's answer, logged only with -v.
Handling ProgramError(const Error& e);

// The program's socket, duplicated, ready to be acted on.
struct PreparedSocket {
  Target target;
  UniqueFd socket;
  SocketInfo info;
  // Set when a call on this (non-internet) socket must be made with the
  // program's credentials.
  std::optional<Credentials> as;
  // Capabilities of bindsup's kept while acting as the program (a mask of
  // CAP_* bits; ScopedCredentials).
  std::uint64_t keep = 0;
  std::vector<UniqueFd> held;
};

using Prepared = std::variant<PreparedSocket, Handling>;

// Takes the program's socket `fd` of notification `n` and inspects it; a
// refusal if it cannot. `as_program`: the call needs the program's credentials whatever the
// socket's family (bind: a low port needs CAP_NET_BIND_SERVICE); by default
// only calls on non-internet sockets do (unix permission checks, peers).
Prepared PrepareSocket(const Notification& n, int fd, HandlerEnv& env, bool as_program = false);

// Binds an internet socket to the interface unless it is bound already (a
// refusal if it is bound elsewhere).
std::optional<Handling> EnsureBound(PreparedSocket& s, HandlerEnv& env, const std::string& what);

// "uplink1", or "#7" for an index that names no interface.
std::string InterfaceName(unsigned index);

// "fd 5 to 10.0.0.1:80", for the log.
std::string Describe(int fd, const SockAddr& to);

// Decides where destination `to` goes and prepares the socket for it: a DNS
// query is redirected (`to` is rewritten, the socket remembered), the socket
// is bound to the decided device, and to the source address.
std::optional<Handling> ApplyPolicy(PreparedSocket& s, HandlerEnv& env, SockAddr& to,
                                    std::string& detail, int fd, bool fresh = false);

// Resolves a unix socket path name in the program's view (with its
// credentials). Returns a refusal, or nullopt on success.
std::optional<Handling> ResolveName(PreparedSocket& s, SockAddr& name);

// Finishes a handling with an operation on the prepared socket.
Handling WithOperation(PreparedSocket& s, std::unique_ptr<Operation> op, std::string detail);

// ------------------------------------------------------- one per call family

Handling Connect(const Notification& n, HandlerEnv& env);     // connect.cc
Handling SendTo(const Notification& n, HandlerEnv& env);      // send.cc
Handling SendMsg(const Notification& n, HandlerEnv& env);     // send.cc
Handling SendMmsg(const Notification& n, HandlerEnv& env);    // send.cc
Handling Listen(const Notification& n, HandlerEnv& env);      // listen.cc
Handling Bind(const Notification& n, HandlerEnv& env);        // bind.cc
Handling Setsockopt(const Notification& n, HandlerEnv& env);  // sockopt.cc
Handling Socket(const Notification& n, HandlerEnv& env);      // socket.cc
Handling Namespace(const Notification& n, HandlerEnv& env);   // namespace.cc
Handling Receive(const Notification& n, HandlerEnv& env,      // receive.cc
                 ReceiveOperation::Kind kind);

}  // namespace bindsup::handlers
