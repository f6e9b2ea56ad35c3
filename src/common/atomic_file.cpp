// write_file_atomically: stdio rather than streams so each failure keeps its errno for the message.
#include "common/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace isc {

void write_file_atomically(const std::string& path, std::string_view head, std::string_view body) {
  const std::string part = path + ".part";
  std::FILE* f = std::fopen(part.c_str(), "wb");
  if (f == nullptr) throw Error(path + ": cannot create " + part + ": " + std::strerror(errno));
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  if (ok && !body.empty()) ok = std::fwrite(body.data(), 1, body.size(), f) == body.size();
  const int write_errno = errno;
  // fclose flushes, so a full disk can first show up here.
  const bool closed = std::fclose(f) == 0;
  const int close_errno = errno;
  if (!ok || !closed) {
    std::remove(part.c_str());
    throw Error(path + ": cannot write " + part + ": " + std::strerror(ok ? close_errno : write_errno));
  }
  if (std::rename(part.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(part.c_str());
    throw Error(path + ": cannot rename " + part + " into place: " + std::strerror(e));
  }
}

}  // namespace isc
