// Dropping pages of a read-only file mapping once their bytes have been read (model weights are
// converted to the engine's own layout at load), so they stop counting towards the process's RSS.
#pragma once
#include <cstddef>

namespace isc {

// Asks the kernel to drop the whole pages inside [data, data + n) of a read-only file mapping
// (MADV_DONTNEED: a later read maps them in again from the file, so nothing is lost). Pages shared
// with bytes outside the range are kept. Best effort: errors are ignored, since memory is all it is.
void release_file_pages(const void* data, size_t n);

}  // namespace isc
