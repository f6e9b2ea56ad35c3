// A dense row-major matrix of doubles (samples × features): the one data type the statistics
// (regressions, correlations) and the concept-direction methods exchange. No linear-algebra library.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace isc::metrics {

struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> data;  // rows * cols, row-major

  Matrix() = default;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), data(static_cast<size_t>(r * c), 0.0) {}
  double& at(int64_t r, int64_t c) { return data[static_cast<size_t>(r * cols + c)]; }
  double at(int64_t r, int64_t c) const { return data[static_cast<size_t>(r * cols + c)]; }
  double* row(int64_t r) { return data.data() + r * cols; }
  const double* row(int64_t r) const { return data.data() + r * cols; }
};

}  // namespace isc::metrics
