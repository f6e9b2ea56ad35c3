// The ranks of a run started by `mpirun -np N isc run ...`: which one this process is, and a
// wait for all of them. The only part of isc that sees MPI; a world of one without mpirun.
#pragma once

namespace isc::cli {

class MpiWorld {
 public:
  // Joins MPI when the environment says this process is one of several ranks (Open MPI's
  // OMPI_COMM_WORLD_SIZE, or PMI_SIZE of other launchers); otherwise a world of one, without MPI.
  // Throws isc::Error under a launcher when this isc was built without MPI.
  static MpiWorld& join();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
  ~MpiWorld();

  bool active() const { return size_ > 1; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_size() const { return local_size_; }  // ranks on this host (they share its cores)

  // True when every rank passes true. Waits for the slowest rank sleeping, not spinning, so a rank
  // that is done leaves its cores to those still running.
  bool all_succeeded(bool mine);

 private:
  MpiWorld() = default;
  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool initialised_ = false;
};

}  // namespace isc::cli
