// The engine's splits really run on several threads in this build (OpenMP linked, not silently
// serial): a forward on 2 threads has matmul and attention ranges run by two distinct workers.
#include <bit>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/parallel_split.h"
#include "model_fixture.h"

namespace isc {
namespace {

// Workers that ran each kind of split during one batched prefill + a few decode steps.
std::pair<uint64_t, uint64_t> workers_of_a_forward(int threads) {
  EngineOptions o;
  o.threads = threads;
  std::unique_ptr<Engine> e = Engine::load(test::default_model_path(), o);
  std::vector<SequenceId> seqs;
  std::vector<GenerationJob> jobs;
  for (const char* q : {"Name three colours.", "What is 12 plus 30?", "Describe rain in five words.",
                        "Who painted the Mona Lisa?"}) {
    seqs.push_back(e->new_sequence());
    GenerationJob j;
    j.append = e->tokenizer().encode(e->chat_template().render({{"user", q}}, true, ""), true);
    j.max_new_tokens = 4;
    jobs.push_back(std::move(j));
  }
  kernels::reset_split_workers();
  e->run(seqs, jobs);
  const auto out = std::make_pair(kernels::split_workers(kernels::SplitKind::matmul),
                                  kernels::split_workers(kernels::SplitKind::attention));
  for (SequenceId s : seqs) e->release(s);
  return out;
}

TEST(ParallelSplit, TwoThreadsRunMatmulAndAttentionOnTwoWorkers) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "this machine has one core";
  const auto [matmul, attention] = workers_of_a_forward(2);
  EXPECT_EQ(std::popcount(matmul), 2) << "matmul splits ran on workers " << matmul;
  EXPECT_EQ(std::popcount(attention), 2) << "attention splits ran on workers " << attention;
}

TEST(ParallelSplit, OneThreadRunsEverythingOnWorkerZero) {
  // the control: the record tells one worker from two
  const auto [matmul, attention] = workers_of_a_forward(1);
  EXPECT_EQ(matmul, 1u);
  EXPECT_EQ(attention, 1u);
}

}  // namespace
}  // namespace isc
