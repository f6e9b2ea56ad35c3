// MpiWorld on Open MPI (or any MPI): compiled with ISC_HAVE_MPI when CMake finds MPI, else it only
// recognises a launcher's environment, to say that this build cannot join it.
#include "cli/mpi_world.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "common/error.h"

#ifdef ISC_HAVE_MPI
#include <mpi.h>
#endif

namespace isc::cli {

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    return fallback;
  }
}

int launcher_size() { return env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", 1)); }

}  // namespace

MpiWorld& MpiWorld::join() {
  static MpiWorld world;
  static bool joined = false;
  if (joined) return world;
  joined = true;
  if (launcher_size() <= 1) return world;
#ifdef ISC_HAVE_MPI
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw Error("MPI_Init_thread failed under mpirun");
  world.initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank_, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &world.local_size_);
  MPI_Comm_free(&local);
  return world;
#else
  throw Error("started by an MPI launcher, but this isc was built without MPI (install libopenmpi-dev and rebuild, "
              "or run each share with --shard i/N)");
#endif
}

MpiWorld::~MpiWorld() {
#ifdef ISC_HAVE_MPI
  if (initialised_) MPI_Finalize();
#endif
}

bool MpiWorld::all_succeeded(bool mine) {
  if (!active()) return mine;
#ifdef ISC_HAVE_MPI
  int in = mine ? 1 : 0, all = 0, done = 0;
  MPI_Request request;
  MPI_Iallreduce(&in, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &request);
  while (MPI_Test(&request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return all == 1;
#else
  return mine;
#endif
}

}  // namespace isc::cli
