// The one way the engine splits work over its threads (at::parallel_for, OpenMP in libtorch), with a
// record of which workers ran each kind of split, so a test can tell a parallel build from a serial one.
#pragma once
#include <cstdint>

#include <ATen/Parallel.h>

namespace isc::kernels {

enum class SplitKind { matmul = 0, attention = 1 };

// Bit w set: worker w (0..63; higher ones share bit 63) ran a range of this kind since the last reset.
uint64_t split_workers(SplitKind kind);
void reset_split_workers();
void note_split_worker(SplitKind kind, int worker);

// Calls f(b, e) on sub-ranges of [begin, end) of at least `grain`, on the engine's threads. The
// split only decides who computes a range, never how, so results do not depend on the thread count.
template <typename F>
void parallel_ranges(SplitKind kind, int64_t begin, int64_t end, int64_t grain, const F& f) {
  at::parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
    note_split_worker(kind, at::get_thread_num());
    f(b, e);
  });
}

}  // namespace isc::kernels
