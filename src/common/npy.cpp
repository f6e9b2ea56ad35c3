// NumPy .npy format 1.0 writer: the header dictionary numpy's own parser accepts, padded to a
// 64-byte boundary, then the raw little-endian elements, written to a .part file and renamed.
#include "common/npy.h"

#include <limits>

#include "common/atomic_file.h"
#include "common/error.h"

namespace isc {

namespace {

// Element size of a supported dtype; 0 for anything else. Only little-endian types are offered
// because isc runs on little-endian hosts and writes its memory as is.
size_t dtype_size(const std::string& dtype) {
  if (dtype == "<f2") return 2;
  if (dtype == "<f4" || dtype == "<i4") return 4;
  if (dtype == "<f8" || dtype == "<i8") return 8;
  return 0;
}

// numpy writes the shape as a Python tuple: "()", "(3,)", "(2, 3)".
std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

constexpr size_t kAlignment = 64;       // numpy's ARRAY_ALIGN
constexpr size_t kPreambleSize = 10;    // magic (6) + version (2) + header length (2)

}  // namespace

std::string npy_header(const std::string& dtype, const std::vector<int64_t>& shape) {
  if (dtype_size(dtype) == 0)
    throw Error("npy: unsupported dtype '" + dtype + "' (expected <f2, <f4, <f8, <i4 or <i8)");
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] < 0) throw Error("npy: dimension " + std::to_string(i) + " is negative (" + std::to_string(shape[i]) + ")");
  std::string dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  // Spaces, then the newline numpy requires as the header's last byte, up to the boundary.
  const size_t unpadded = kPreambleSize + dict.size() + 1;
  const size_t total = (unpadded + kAlignment - 1) / kAlignment * kAlignment;
  dict.append(total - unpadded, ' ');
  dict += '\n';
  const size_t header_len = dict.size();
  // Format 1.0 stores the length in 16 bits; only an absurd rank could exceed it.
  if (header_len > std::numeric_limits<uint16_t>::max())
    throw Error("npy: header of " + std::to_string(header_len) + " bytes does not fit format 1.0");
  std::string out = "\x93NUMPY";
  out += static_cast<char>(1);
  out += static_cast<char>(0);
  out += static_cast<char>(header_len & 0xff);
  out += static_cast<char>(header_len >> 8);
  return out + dict;
}

void write_npy(const std::string& path, const std::string& dtype, const std::vector<int64_t>& shape,
               const void* bytes, size_t nbytes) {
  std::string header;
  try {
    header = npy_header(dtype, shape);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  // The element count, checked so a huge shape cannot wrap around to match nbytes.
  size_t expected = dtype_size(dtype);
  for (int64_t d : shape)
    if (__builtin_mul_overflow(expected, static_cast<size_t>(d), &expected))
      throw Error(path + ": npy shape " + std::to_string(shape.size()) + "-D overflows the address space");
  if (expected != nbytes)
    throw Error(path + ": npy data is " + std::to_string(nbytes) + " bytes, shape and dtype " + dtype + " need " +
                std::to_string(expected));
  if (nbytes > 0 && bytes == nullptr) throw Error(path + ": npy data pointer is null");

  write_file_atomically(path, header, std::string_view(static_cast<const char*>(bytes), nbytes));
}

}  // namespace isc
