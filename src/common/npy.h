// Writes NumPy .npy files (format 1.0, little-endian, C order) so exported arrays load with
// numpy.load and no isc code on the reading side.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace isc {

// dtype: "<f2" (raw fp16 bits), "<f4", "<f8", "<i4", "<i8". `bytes` holds prod(shape) elements in
// C order (nullptr is fine when there are none); shape may have any rank, including 0 (a scalar)
// and 0-length dimensions. The header is padded so the data starts at a multiple of 64 bytes, as
// numpy writes it. Written to path + ".part" and renamed, so a reader never sees half a file.
// Throws isc::Error naming the path on an unknown dtype, a negative dimension, a size mismatch or
// an I/O failure.
void write_npy(const std::string& path, const std::string& dtype, const std::vector<int64_t>& shape,
               const void* bytes, size_t nbytes);

// Typed conveniences over write_npy (dtype taken from the element type).
inline void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& v) {
  write_npy(path, "<f4", shape, v.data(), v.size() * sizeof(float));
}
inline void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<double>& v) {
  write_npy(path, "<f8", shape, v.data(), v.size() * sizeof(double));
}
inline void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<int32_t>& v) {
  write_npy(path, "<i4", shape, v.data(), v.size() * sizeof(int32_t));
}
inline void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<int64_t>& v) {
  write_npy(path, "<i8", shape, v.data(), v.size() * sizeof(int64_t));
}

// The header numpy's format 1.0 expects for dtype and shape, magic included, padded to 64 bytes.
// Exposed for tests; throws isc::Error (without a path) on a bad dtype or dimension.
std::string npy_header(const std::string& dtype, const std::vector<int64_t>& shape);

}  // namespace isc
