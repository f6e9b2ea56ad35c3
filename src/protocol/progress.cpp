// Progress: rates are measured over this session only, so a resumed run shows honest speeds.
#include "protocol/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

namespace isc::protocol {

namespace {
std::string duration_text(double s) {
  if (s < 0 || s > 1e7) return "?";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}
}  // namespace

Progress::Progress(std::string label, int64_t total_rounds, int64_t total_conversations, bool enabled)
    : label_(std::move(label)),
      total_rounds_(total_rounds),
      total_conversations_(total_conversations),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void Progress::update(int64_t rounds_done, int64_t conversations_done, int64_t tokens) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (start_rounds_ < 0) {
    start_rounds_ = rounds_done;
    start_tokens_ = tokens;
  }
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  const bool last = rounds_done >= total_rounds_;
  if (!last && since_print < (tty_ ? 0.2 : 10.0)) return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rounds_rate = elapsed > 0 ? (rounds_done - start_rounds_) / elapsed : 0.0;
  const double tok_rate = elapsed > 0 ? (tokens - start_tokens_) / elapsed : 0.0;
  const double eta = rounds_rate > 0 ? (total_rounds_ - rounds_done) / rounds_rate : -1.0;
  const std::string line = fmt::format(
      "[{}] rounds {}/{} ({:.0f}%) | conversations {}/{} | {:.0f} tok/s | {:.1f} rounds/s | elapsed {} | ETA {}",
      label_, rounds_done, total_rounds_, total_rounds_ ? 100.0 * rounds_done / total_rounds_ : 100.0,
      conversations_done, total_conversations_, tok_rate, rounds_rate, duration_text(elapsed), duration_text(eta));
  if (tty_) {
    fmt::print(stderr, "\r{}\033[K", line);
  } else {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
  printed_ = true;
}

void Progress::finish() {
  if (enabled_ && tty_ && printed_) fmt::print(stderr, "\n");
}

}  // namespace isc::protocol
