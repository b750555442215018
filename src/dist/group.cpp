// The one file that touches c10d: TCPStore rendezvous and ProcessGroupGloo collectives.
#include "dist/group.h"

#include <chrono>
#include <cstdlib>
#include <exception>

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

#include "util/error.h"

namespace vitc::dist {

// LibTorch 1.13: ProcessGroupGloo derives from c10d::ProcessGroup and its Options from
// ProcessGroup::Options; LibTorch 2.x: both derive from c10d::Backend. The calls used here
// (constructor, Options::create, allreduce/broadcast/barrier returning an intrusive_ptr to a Work
// with wait()) exist with the same signatures in both, so only the includes would differ.
#if TORCH_VERSION_MAJOR < 1 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR < 13)
#error "vitc's distributed layer needs LibTorch 1.13 or later"
#endif
// Torch's CMake package defines USE_C10D_GLOO for builds with Gloo (Debian's, and pip wheels,
// which also ship Gloo's headers under torch/include/gloo); without it the header above is empty.
#ifndef USE_C10D_GLOO
#error "this LibTorch was built without Gloo (USE_C10D_GLOO is not defined); vitc's dist layer needs it"
#endif

namespace {

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

// c10::Error's what() carries a C++ backtrace; the message alone is what a user needs.
std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    return c10_error->what_without_backtrace();
  }
  return e.what();
}

}  // namespace

struct Group::State {
  DistConfig config;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;

  std::string where() const {
    return str_cat("rank ", config.rank, " of ", config.world_size, " (master ", config.master_addr,
                   ":", config.master_port, ", timeout ", config.timeout_seconds, " s)");
  }

  template <typename WorkFn>
  void run(const char* what, WorkFn&& start) {
    try {
      auto work = start();
      work->wait();
    } catch (const std::exception& e) {
      fail(what, " failed at ", where(), ": ", message_of(e),
           " (a peer process died, hangs, or cannot be reached; see its own output)");
    }
  }
};

Group::Group(const DistConfig& config) : state_(std::make_unique<State>()) {
  config.validate();
  state_->config = config;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(config.timeout_seconds * 1000));
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(config.master_port);
    // torchrun's elastic agent may already serve the store at MASTER_ADDR:MASTER_PORT and say so
    // with TORCHELASTIC_USE_AGENT_STORE=True; then rank 0 connects to it like the others.
    const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    const bool use_agent_store = agent_store != nullptr && std::string(agent_store) == "True";
    store_options.isServer = config.rank == 0 && !use_agent_store;
    store_options.numWorkers = static_cast<std::size_t>(config.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    state_->store = c10::make_intrusive<c10d::TCPStore>(config.master_addr, store_options);
  } catch (const std::exception& e) {
    fail("distributed rendezvous failed at ", state_->where(), ": ", message_of(e),
         config.rank == 0 ? " (did all ranks start, with the same --dist-world-size and port? is the "
                            "port free?)"
                          : " (is rank 0 running and reachable at that address?)");
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    const std::string local =
        !config.local_addr.empty() ? config.local_addr
                                   : (is_loopback(config.master_addr) ? std::string("127.0.0.1") : "");
    options->devices.push_back(local.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                             : c10d::ProcessGroupGloo::createDeviceForHostname(local));
    options->threads = 2;
    state_->group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(state_->store, config.rank, config.world_size, options);
  } catch (const std::exception& e) {
    fail("connecting the Gloo process group failed at ", state_->where(), ": ", message_of(e),
         " (did every rank start? with several machines, set --dist-local-addr to an address the "
         "others can reach)");
  }
}

Group::~Group() = default;

int Group::rank() const { return state_->config.rank; }
int Group::world_size() const { return state_->config.world_size; }
const DistConfig& Group::config() const { return state_->config; }

void Group::allreduce_sum(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  state_->run("allreduce", [&] { return state_->group->allreduce(tensors, options); });
}

void Group::broadcast(at::Tensor& tensor, int root) {
  check(root >= 0 && root < world_size(), "broadcast root ", root, " is not a rank of world size ",
        world_size());
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  options.rootTensor = 0;
  state_->run("broadcast", [&] { return state_->group->broadcast(tensors, options); });
}

void Group::barrier() {
  c10d::BarrierOptions options;
  state_->run("barrier", [&] { return state_->group->barrier(options); });
}

}  // namespace vitc::dist
