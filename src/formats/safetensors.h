// Reading Hugging Face *.safetensors weights: a memory-mapped, validated view of one file, and a
// model folder (single file or shards named by model.safetensors.index.json) with lookup by name.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace isc {

// Only F32, F16 and BF16 convert to float; other safetensors dtypes are listed (Other) and rejected
// when converted.
enum class SafetensorsDtype { F32, F16, BF16, Other };

struct SafetensorsTensor {
  std::string name;
  std::string dtype_name;  // as written in the header, e.g. "BF16", "I64"
  SafetensorsDtype dtype = SafetensorsDtype::Other;
  std::vector<int64_t> shape;  // PyTorch order (outermost first)
  const std::byte* data = nullptr;
  size_t nbytes = 0;
  std::string file;  // the file it lives in, for error messages

  int64_t numel() const;
};

// Converts every element to float32 into dst (numel() floats); throws isc::Error naming the
// file and tensor for dtypes other than F32/F16/BF16.
void to_float(const SafetensorsTensor& tensor, float* dst);

class SafetensorsFile {
 public:
  // Maps the file and validates the header: offsets inside the data area, no overlaps, sizes equal
  // to shape x dtype size. Throws isc::Error naming the file (and tensor) on any inconsistency.
  static std::unique_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  // The same checks on a whole file already in memory (tests, fuzzing); `name` stands for the path
  // in errors, and the tensors point into `bytes`, which the returned object keeps alive.
  static std::unique_ptr<SafetensorsFile> from_buffer(std::string name, std::shared_ptr<const std::string> bytes);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }  // in header order
  const SafetensorsTensor* find(const std::string& name) const;               // nullptr if absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  void parse(const unsigned char* base, uint64_t size);  // header of the file at base[0, size)
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::shared_ptr<const std::string> buffer_;  // from_buffer's bytes
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

class SafetensorsModel {
 public:
  // `dir`/model.safetensors.index.json (shards from its weight_map) or else `dir`/model.safetensors.
  static SafetensorsModel open_folder(const std::filesystem::path& dir);
  // A folder as above, or a single .safetensors file.
  static SafetensorsModel open(const std::filesystem::path& path);

  const SafetensorsTensor* find(const std::string& name) const;  // nullptr if absent
  // Like find, but throws isc::Error naming the model and tensor when absent.
  const SafetensorsTensor& at(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  void add_file(std::unique_ptr<SafetensorsFile> file);
  std::string source_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsTensor*> by_name_;
};

}  // namespace isc
