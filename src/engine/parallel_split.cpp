// The worker record of parallel_ranges (see parallel_split.h): one relaxed atomic OR per range.
#include "engine/parallel_split.h"

#include <algorithm>
#include <atomic>

namespace isc::kernels {

namespace {
std::atomic<uint64_t> g_workers[2];
}

uint64_t split_workers(SplitKind kind) { return g_workers[static_cast<int>(kind)].load(std::memory_order_relaxed); }

void reset_split_workers() {
  for (auto& w : g_workers) w.store(0, std::memory_order_relaxed);
}

void note_split_worker(SplitKind kind, int worker) {
  const int bit = std::clamp(worker, 0, 63);
  g_workers[static_cast<int>(kind)].fetch_or(uint64_t{1} << bit, std::memory_order_relaxed);
}

}  // namespace isc::kernels
