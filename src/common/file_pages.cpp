// release_file_pages: madvise(MADV_DONTNEED) over the page-aligned interior of a range.
#include "common/file_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace isc {

void release_file_pages(const void* data, size_t n) {
  if (data == nullptr || n == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace isc
