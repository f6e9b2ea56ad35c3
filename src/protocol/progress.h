// Progress of a run on stderr: rounds and conversations done, tokens per second, ETA. Redraws in
// place on a terminal; prints a plain line every few seconds otherwise (logs, CI).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace isc::protocol {

class Progress {
 public:
  Progress(std::string label, int64_t total_rounds, int64_t total_conversations, bool enabled);
  void update(int64_t rounds_done, int64_t conversations_done, int64_t tokens);
  void finish();

 private:
  std::string label_;
  int64_t total_rounds_, total_conversations_;
  bool enabled_, tty_;
  int64_t start_rounds_ = -1, start_tokens_ = 0;
  std::chrono::steady_clock::time_point start_, last_print_;
  bool printed_ = false;
};

}  // namespace isc::protocol
